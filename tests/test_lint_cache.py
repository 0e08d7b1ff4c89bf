"""The lint cache: a warm run right after the run that filled it re-lints nothing."""

import os

from cnnlint.cli import main
from cnnlint.lint import runner
from cnnlint.lint.cache import file_hash, listing_hash, project_listing


def _project(root):
    (root / "pyproject.toml").write_text("[tool.cnnlint]\n")
    loop = "for x, y in loader:\n    loss = model(x)\n    loss.backward()\n    opt.step()\n"
    (root / "train.py").write_text("import torch\n\n" + loop)
    (root / "util.py").write_text("import os\n")


def test_the_first_warm_run_after_a_cache_fill_relints_nothing(tmp_path, monkeypatch, capsys):
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    linted = []
    real = runner.lint_one

    def spy(target, *args):
        linted.append(os.path.basename(target.path))
        return real(target, *args)

    monkeypatch.setattr(runner, "lint_one", spy)
    first = main(["."])
    out_first = capsys.readouterr().out
    assert sorted(linted) == ["train.py", "util.py"]
    assert os.path.isdir(tmp_path / ".cnnlint_cache")
    linted.clear()
    assert main(["."]) == first == 1
    assert capsys.readouterr().out == out_first
    assert linted == []  # CNL403 depends on the project folder's listing, which gained .cnnlint_cache


def test_a_folders_listing_ignores_cache_folders_but_not_new_files(tmp_path):
    (tmp_path / "train.py").write_text("")
    before = file_hash(str(tmp_path))
    (tmp_path / ".cnnlint_cache").mkdir()
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    assert project_listing(str(tmp_path)) == ["train.py"]
    assert file_hash(str(tmp_path)) == before == listing_hash(["train.py"])
    (tmp_path / "requirements.txt").write_text("torch==2.3.1\n")
    assert file_hash(str(tmp_path)) != before


def test_a_folders_listing_looks_for_cache_tags_in_folders_and_links_to_folders(tmp_path):
    (tmp_path / "data").mkdir()  # a folder without a tag stays
    (tmp_path / "tagged").mkdir()
    (tmp_path / "tagged" / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    os.symlink(tmp_path / "tagged", tmp_path / "link_to_tagged")  # a link to a cache folder goes too
    os.symlink(tmp_path / "missing", tmp_path / "dangling")  # a dangling link stays
    (tmp_path / "CACHEDIR.TAG").write_text("")  # a file of that name in the folder itself stays
    assert project_listing(str(tmp_path)) == ["CACHEDIR.TAG", "dangling", "data"]


def test_a_selection_runs_only_its_rules_and_the_cache_keeps_selections_apart(tmp_path, monkeypatch, capsys):
    from cnnlint.lint import engine

    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    ran = []
    real = engine.lint_source

    def spy(source, rule_classes, *args, **kwargs):
        ran.append(sorted(cls.code for cls in rule_classes))
        return real(source, rule_classes, *args, **kwargs)

    monkeypatch.setattr(engine, "lint_source", spy)
    assert main(["--select", "CNL201", "-q", "train.py"]) == 1
    assert ran == [["CNL201"]]
    assert capsys.readouterr().out.count("CNL201") == 1
    ran.clear()
    assert main(["--select", "CNL403", "-q", "train.py"]) == 0  # info only; not the cached CNL201-only result
    assert ran == [["CNL403"]]
    out = capsys.readouterr().out
    assert "CNL403" in out and "CNL201" not in out
    ran.clear()
    assert main(["--select", "CNL201", "-q", "train.py"]) == 1
    assert ran == []  # each selection's result is cached
    assert capsys.readouterr().out.count("CNL201") == 1



def test_the_cross_checks_memory_facts_do_not_depend_on_selecting_cnl102():
    """CNL102 leaves the in-memory image sets the cross-check estimates memory from: it runs for the
    facts when it is not selected, and its findings stay out."""
    from cnnlint.lint.discovery import rule_classes
    from cnnlint.lint.engine import lint_python
    from cnnlint.sources.model import SourceFile

    text = ("import cv2\nimport numpy as np\nfrom tensorflow import keras\n\nimages = []\n"
            "for p in paths:\n    images.append(cv2.imread(p))\nx = np.array(images)\n"
            "model = keras.Sequential([keras.layers.Dense(2)])\nmodel.fit(x, y)\n")
    source = SourceFile(path="t.py", kind="python", text=text)
    cnl102 = [cls for cls in rule_classes() if cls.code == "CNL102"]
    everything = lint_python(source, cnl102, "t.py")
    assert [f.code for f in everything.findings] == ["CNL102"]
    assert len(everything.facts["in_memory"]) == 1
    alone = lint_python(source, [], "t.py", fact_rules=cnl102)
    assert alone.findings == []
    assert alone.facts["in_memory"] == everything.facts["in_memory"]
    assert lint_python(source, [], "t.py").facts["in_memory"] == []


IN_MEMORY = ("import cv2\nimport numpy as np\nfrom tensorflow import keras\n\nimages = []\n"
             "for p in paths:\n    images.append(cv2.imread(p))\nx = np.array(images)\n"
             "model = keras.Sequential([keras.layers.Dense(2)])\nmodel.fit(x, y)\n")


def test_a_selection_of_static_rules_extracts_no_facts_and_the_cache_keeps_it_apart(tmp_path, monkeypatch, capsys):
    from cnnlint.crosscheck import extract
    from cnnlint.lint import engine

    (tmp_path / "pyproject.toml").write_text("[tool.cnnlint]\n")
    (tmp_path / "train.py").write_text(IN_MEMORY)
    monkeypatch.chdir(tmp_path)
    ran, extracted = [], []
    real_lint, real_facts = engine.lint_source, extract.facts_dict

    def spy_lint(source, rule_classes, *args, **kwargs):
        ran.append(sorted(cls.code for cls in rule_classes))
        return real_lint(source, rule_classes, *args, **kwargs)

    def spy_facts(*args, **kwargs):
        extracted.append(1)
        return real_facts(*args, **kwargs)

    monkeypatch.setattr(engine, "lint_source", spy_lint)
    monkeypatch.setattr(extract, "facts_dict", spy_facts)
    # CNL102 alone: its rule runs, nothing for the cross-check (no fact-only rule, no extraction)
    assert main(["--select", "CNL102", "-q", "train.py"]) == 1
    assert (ran, extracted) == ([["CNL102"]], [])
    assert capsys.readouterr().out.count("CNL102") == 1
    ran.clear()
    # CNL201 with the cross-check's codes: the facts are extracted, CNL102 runs to feed them (its
    # findings stay out), and the facts-less result cached above is not reused
    assert main(["--select", "CNL201,CNL6", "-q", "train.py"]) == 0
    assert (ran, extracted) == ([["CNL201"]], [1])
    assert "CNL102" not in capsys.readouterr().out
    ran.clear()
    extracted.clear()
    assert main(["--select", "CNL102", "-q", "train.py"]) == 1
    assert (ran, extracted) == ([], [])  # the first result, from the cache
