"""`cnnlint data/` end to end: every planted fault reported with its code and path, clean images never."""

import json
import os
import re

import pytest

from cnnlint.cli import main
from fixtures.datasets import build_clean, build_faulty
from fixtures.images import write_image

SPECIAL = hasattr(os, "mkfifo") and hasattr(os, "symlink")


@pytest.fixture
def faulty(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    expected = build_faulty(str(tmp_path / "data"), special=SPECIAL)
    return [(code, os.path.join("data", rel)) for code, rel in expected]


@pytest.fixture
def clean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build_clean(str(tmp_path / "data"))
    return tmp_path


def _json(argv, capsys):
    status = main(["--no-cache", "--format", "json", *argv])
    return status, json.loads(capsys.readouterr().out)


def test_every_planted_fault_is_reported_with_its_path(faulty, capsys):
    status, doc = _json(["data"], capsys)
    got = sorted((f["code"], f["path"]) for f in doc["findings"])
    assert got == sorted(faulty)
    assert status == 1
    assert all(f["line"] == 0 and f["column"] == 0 for f in doc["findings"])
    # no clean image flagged: only planted paths appear (the originals of the copies included)
    assert not [p for _, p in got if re.fullmatch(r"(cat|dog|bird)(_val)?_\d{3}\.(jpg|png)", os.path.basename(p))]


def test_walking_a_project_finds_the_dataset_and_lints_the_code(faulty, capsys):
    with open("train.py", "w") as fh:
        fh.write("import torch\n")
    status, doc = _json(["."], capsys)
    assert sorted((f["code"], f["path"]) for f in doc["findings"]) == sorted(faulty)
    assert doc["summary"]["files"] == 1 + doc["datasets"][0]["images"]
    assert status == 1


def test_unreadable_paths_are_reported_once_as_cnl514(faulty, capsys):
    if not SPECIAL:
        pytest.skip("needs FIFOs and symbolic links")
    _, doc = _json(["."], capsys)
    paths = [f["path"] for f in doc["findings"] if f["code"] in ("CNL001", "CNL514")]
    assert sorted(paths) == sorted(p for c, p in faulty if c == "CNL514")
    assert not [f for f in doc["findings"] if f["code"] == "CNL001"]


def test_json_datasets_numbers(faulty, capsys):
    _, doc = _json(["data"], capsys)
    (ds,) = doc["datasets"]
    assert ds["path"] == "data" and ds["layout"] == "splits"
    train, val = (s for s in sorted(ds["splits"], key=lambda s: s["name"] != "train"))
    assert train["role"] == "train" and val["role"] == "val"
    assert train["classes"] == {"birds": 1, "cats": 33 if SPECIAL else 32, "dogs": 30 if SPECIAL else 29, "fish": 0}
    assert val["classes"] == {"birds": 1, "cats": 5, "dogs": 5, "fish": 0}
    assert ds["images"] == train["images"] + val["images"]
    assert ds["modes"]["RGB"] > 50 and ds["modes"]["16-bit"] == 1 and ds["modes"]["L"] == 1
    assert ds["sizes"]["min_width"] == 20 and ds["sizes"]["max_width"] == 400
    # scan.tif (64x48) fails in tf.io.decode_image: an error, so it is left out of the size counts
    assert ds["sizes"]["most_common"][0] == {"width": 64, "height": 48, "images": 23}
    assert ds["findings"]["CNL501"] == 5 and ds["findings"]["CNL509"] == 1
    assert sum(ds["findings"].values()) == len(doc["findings"])
    assert ds["scan_seconds"] >= 0


def test_clean_set_passes(clean, capsys):
    status = main(["--no-cache", "data"])
    out, err = capsys.readouterr()
    assert status == 0
    assert "All checks passed (1 dataset of 48 images)." in err
    assert "Dataset data/: splits train/, val/; 3 classes; 48 images" in out
    assert "findings: none" in out


def test_clean_set_with_code_counts_both(clean, capsys):
    (clean / "train.py").write_text("print('hi')\n")
    status = main(["--no-cache", "."])
    _, err = capsys.readouterr()
    assert status == 0 and "All checks passed (1 file, 1 dataset of 48 images)." in err


def test_text_summary_bar_chart(clean, capsys):
    main(["--no-cache", "data"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    start = lines.index("  train/: 36 images in 3 classes")
    bars = lines[start + 1:start + 4]
    assert [b.split()[0] for b in bars] == ["birds", "cats", "dogs"]
    assert all(len(b) == 80 for b in bars), bars  # scaled to the default width of 80
    assert len({b.index("#") for b in bars}) == 1  # names aligned
    assert "  sizes: width 64-96, height 48-96; most common" in out
    assert "  modes: RGB 48" in out


def test_quiet_prints_findings_only(faulty, capsys):
    main(["--no-cache", "-q", "data"])
    out = capsys.readouterr().out
    assert "Dataset data/" not in out
    assert "data/val/cats/leaked.jpg: CNL509 [error] same image as data/train/cats/cat_004.jpg (train/)" in out


@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_path_only_findings_render(faulty, capsys, fmt):
    main(["--no-cache", "--format", fmt, "data"])
    out = capsys.readouterr().out
    if fmt == "github":
        line = [x for x in out.splitlines() if "leaked.jpg" in x][0]
        assert line.startswith("::error file=data/val/cats/leaked.jpg,title=CNL509")
        assert ",line=" not in line
    else:
        doc = json.loads(out)
        results = doc["runs"][0]["results"]
        leak = [r for r in results if r["ruleId"] == "CNL509"][0]
        location = leak["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "data/val/cats/leaked.jpg"
        assert "region" not in location
        assert {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]} >= {"CNL501", "CNL514"}


def test_select_and_ignore(faulty, capsys):
    _, doc = _json(["--select", "CNL509", "data"], capsys)
    assert [(f["code"], f["path"]) for f in doc["findings"]] == [("CNL509", "data/val/cats/leaked.jpg")]
    _, doc = _json(["--ignore", "CNL5", "data"], capsys)
    assert "datasets" not in doc  # nothing selected: no scan
    assert not [f for f in doc["findings"] if f["code"].startswith("CNL5")]


def test_per_file_ignores_and_config_keys(faulty, capsys):
    with open("pyproject.toml", "w") as fh:
        fh.write('[tool.cnnlint]\nmin-class-size = 1\nimbalance-ratio = 50\nmin-image-size = 10\n'
                 'max-aspect-ratio = 12\n[tool.cnnlint.per-file-ignores]\n"data/train/cats/*" = ["CNL501"]\n')
    _, doc = _json(["data"], capsys)
    got = {(f["code"], f["path"]) for f in doc["findings"]}
    assert got == {(c, p) for c, p in faulty
                   if not (c == "CNL501" and p.startswith("data/train/cats/"))
                   and c not in ("CNL505", "CNL506") and p != "data/train/birds"}


@pytest.mark.parametrize("line,message", [
    ("min-image-size = 0", "min-image-size must be a positive integer (pixels)"),
    ("max-aspect-ratio = 1", "max-aspect-ratio must be a number greater than 1"),
    ("imbalance-ratio = 'ten'", "imbalance-ratio must be a number greater than 1"),
    ("min_class_size = 5", "unknown key 'min_class_size' in [tool.cnnlint] (did you mean 'min-class-size'?)"),
])
def test_bad_dataset_config_is_one_line(clean, capsys, line, message):
    (clean / "pyproject.toml").write_text(f"[tool.cnnlint]\n{line}\n")
    status = main(["--no-cache", "data"])
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.count("\n") == 1


def test_baseline_accepts_dataset_findings(faulty, capsys):
    assert main(["--no-cache", "--write-baseline", "base.json", "data"]) == 0
    capsys.readouterr()
    status, doc = _json(["--baseline", "base.json", "data"], capsys)
    assert status == 0 and doc["findings"] == []


def test_forced_data_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for i in range(3):
        write_image(str(tmp_path / "proj" / "pics" / f"p{i}.jpg"), "jpeg", seed=i)
    (tmp_path / "proj" / "pics" / "prep.py").write_text("x = 1\n")
    _, doc = _json(["proj"], capsys)
    assert "datasets" not in doc  # code beside the images: a project folder, not a dataset
    status, doc = _json(["--data", "proj/pics"], capsys)
    assert doc["datasets"][0]["images"] == 3 and doc["datasets"][0]["layout"] == "flat"
    assert status == 1 and [(f["code"], f["path"]) for f in doc["findings"]] == [("CNL510", "proj/pics/prep.py")]
    assert doc["summary"]["files"] == 3  # --data alone lints no code
    status, doc = _json(["--data", "nowhere"], capsys)
    assert status == 1 and [(f["code"], f["path"], f["line"]) for f in doc["findings"]] == [("CNL001", "nowhere", 0)]


def test_imagenet_style_set_is_quiet(tmp_path, monkeypatch, capsys):
    """Varied-size RGB JPEGs with one grayscale picture among 120: nothing worth a finding."""
    monkeypatch.chdir(tmp_path)
    for ci, name in enumerate(("n01440764", "n01443537", "n01484850")):
        for i in range(40):
            size = (120 + (i * 37 + ci * 11) % 280, 100 + (i * 53 + ci * 7) % 200)
            mode = "L" if (ci, i) == (1, 17) else "RGB"
            write_image(str(tmp_path / "imagenet" / "train" / name / f"{name}_{i}.JPEG"), "jpeg",
                        size=size, mode=mode, seed=ci * 100 + i)
    status, doc = _json(["imagenet"], capsys)
    assert doc["findings"] == [] and status == 0
    assert doc["datasets"][0]["modes"] == {"RGB": 119, "L": 1}


def test_quick_skips_the_full_decode(faulty, capsys):
    _, full = _json(["--select", "CNL501", "data"], capsys)
    _, quick = _json(["--quick", "--select", "CNL501", "data"], capsys)
    full_paths = {f["path"] for f in full["findings"]}
    quick_paths = {f["path"] for f in quick["findings"]}
    assert "data/train/cats/garbage.jpg" in full_paths - quick_paths  # only a decode sees mid-stream damage
    assert "data/train/cats/truncated.jpg" in quick_paths  # no end marker: the quick check sees it
