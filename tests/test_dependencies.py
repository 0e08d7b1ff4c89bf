"""CNL401 unpinned-dependency: notebook commands, pip from Python, requirements files, environment.yml."""

import json

import pytest

from cnnlint.lint import dependencies
from cnnlint.lint.api import lint_text
from cnnlint.lint.dependencies import (
    PINNED,
    RANGE,
    UNPINNED,
    judge_conda,
    judge_requirement,
)
from cnnlint.lint.pip.commands import parse_command
from cnnlint.lint.pip.shell import split_shell
from cnnlint.lint.pages import notebook_from_cells

INSTALLED = {"tensorflow": "2.15.0", "torch": "2.1.0", "numpy": "1.26.4"}


@pytest.fixture(autouse=True)
def fake_environment(monkeypatch):
    """Versions "installed where cnnlint runs", so hints do not depend on this machine."""
    monkeypatch.setattr(dependencies, "installed_version", lambda name: INSTALLED.get(name.lower()))


def run(code, path="nb.ipynb", real_path=None):
    if path.endswith(".ipynb"):
        code = notebook_from_cells(code)
    return [f for f in lint_text(code, path, real_path=real_path) if f.code == "CNL401"]


def where(findings):
    return [(f.cell, f.line, f.column, f.end_column, f.severity.value) for f in findings]


def messages(findings):
    return [f.message for f in findings]


def names(code, path="nb.ipynb", **kw):
    """The packages reported, as the message's first back-quoted word."""
    return [f.message.split("`")[1] for f in run(code, path, **kw)]


# ---------------------------------------------------------------- notebooks


class TestNotebookCommands:
    def test_bang_pip_install_without_version(self):
        (f,) = run("!pip install tensorflow\n")
        assert (f.code, f.severity.value, f.cell, f.line, f.column, f.end_line, f.end_column) == (
            "CNL401", "warning", 1, 1, 14, 1, 24,
        )
        assert f.message == (
            "`tensorflow` is installed without a version by `pip install`; "
            "a new release can break this notebook"
        )
        assert f.hint == "pin it: `tensorflow==2.15.0`"

    def test_hint_when_package_is_not_installed_here(self):
        (f,) = run("%pip install albumentations\n")
        assert f.hint == "pin it to the version you tested with: `albumentations==X.Y.Z`"
        assert (f.line, f.column) == (1, 14)

    def test_second_cell_and_indented_command(self):
        found = run("import os\n# %%\nif True:\n    !pip install opencv-python\n")
        assert where(found) == [(2, 2, 18, 31, "warning")]

    def test_one_finding_per_package_on_its_token(self):
        found = run("!pip install -q timm tensorflow==2.15.0 albumentations\n")
        assert names("!pip install -q timm tensorflow==2.15.0 albumentations\n") == ["timm", "albumentations"]
        assert [(f.column, f.end_column) for f in found] == [(17, 21), (41, 55)]

    def test_range_is_info(self):
        (f,) = run('!pip install "torch>=2.0"\n')
        assert (f.severity.value, f.column) == ("info", 14)
        assert f.message == "`torch>=2.0` does not reproduce: `pip install` takes the newest version that matches"
        assert f.hint == "pin the version you tested with: `torch==2.1.0`"

    def test_range_hint_does_not_suggest_a_version_outside_the_range(self):
        (f,) = run("!pip install 'torch>=2.5,<3'\n")
        assert f.severity.value == "info"
        assert f.hint == "pin the exact version you tested with: `torch==X.Y.Z`"

    @pytest.mark.parametrize(
        "spec", ["numpy<2", "'numpy<2'", "'numpy!=1.25.0'", "'numpy~=1.26'", "'numpy==1.*'", "'numpy>1,<=1.26.4'"]
    )
    def test_ranges(self, spec):
        found = run(f"!pip install {spec}\n")
        if spec == "numpy<2":
            assert found == []  # unquoted `<`: the shell reads a file named 2 and the command fails
        else:
            assert [f.severity.value for f in found] == ["info"]

    def test_unquoted_greater_than_is_a_redirect(self):
        (f,) = run("!pip install torch>=2.0\n")
        assert (f.severity.value, f.column, f.end_column) == ("warning", 14, 19)
        assert f.message == (
            "`torch>=2.0` is not quoted: the shell reads `>=2.0` as an output redirect, "
            "so `pip install` installs the newest `torch`"
        )
        assert f.hint == 'quote the requirement and pin it: `pip install "torch==2.1.0"`'

    def test_redirect_of_the_output_is_not_a_pin(self):
        assert names("!pip install timm > /dev/null 2>&1\n") == ["timm"]
        assert names("!pip install timm==0.9.16 >> log.txt\n") == []

    @pytest.mark.parametrize("flag", ["-U", "--upgrade", "-qU", "-Uq"])
    def test_upgrade(self, flag):
        (f,) = run(f"!pip install {flag} kaleido\n")
        assert f.message == (
            "`kaleido` is installed with --upgrade and no version; --upgrade installs whatever is newest, "
            "so a new release can break this notebook"
        )
        assert f.severity.value == "warning"

    def test_upgrade_with_pin_is_fine(self):
        assert run("!pip install -U tensorflow==2.15.0\n") == []

    @pytest.mark.parametrize(
        "command",
        [
            "!pip install -q tensorflow==2.15.0",
            "%pip install -q tensorflow==2.15.0",
            "!pip install tensorflow==2.15.0 -q",
            "!pip install 'tensorflow[and-cuda]==2.15.0'",
            "!pip install torch==2.1.0+cu118 --index-url https://download.pytorch.org/whl/cu118",
            "!pip install 'torch==2.1.0; python_version >= \"3.8\"'",
            "!pip install scikit-learn~=1.3.2",
            "!pip install foo===1.0-custom",
            "!pip install tensorflow==2.15.0 # pinned",
        ],
    )
    def test_pinned(self, command):
        assert run(command + "\n") == []

    def test_extras_are_kept_in_the_hint(self):
        (f,) = run("!pip install 'tensorflow[and-cuda]'\n")
        assert f.message.startswith("`tensorflow` is installed without a version")
        assert f.hint == "pin it: `tensorflow[and-cuda]==2.15.0`"

    @pytest.mark.parametrize(
        "command",
        [
            "!pip list",
            "!pip show tensorflow",
            "!pip freeze > requirements.txt",
            "!pip download tensorflow",
            "!pip uninstall -y tensorflow",
            "!pip --version",
            "!echo pip install tensorflow",
            "!apt-get install -y ffmpeg",
            "!sudo apt install -y libgl1",
            "!pip install -e .",
            "!pip install .",
            "!pip install -e '.[dev]'",
            "!pip install ./third_party/mylib",
            "!pip install /content/drive/MyDrive/pkg",
            "!pip install dist/mylib-0.1.0-py3-none-any.whl",
            "!pip install mylib-0.1.0.tar.gz",
            "!pip install --upgrade pip setuptools wheel",
            "!python -m pip install -U pip",
            "!pip install {pkg}",
            "!pip install $PACKAGE",
            "!pip install tensorflow=={tf_version}",
            "!pip install $(cat deps.txt)",
            "!pip install `cat deps.txt`",
            "!pip",
            "!pip install",
            "!python train.py --install timm",
            "!python setup.py install",
            "!python xxpip install timm",
            "!conda env create -f environment.yml",
            "!git clone https://github.com/ultralytics/yolov5 && cd yolov5 && pip install -r requirements.txt",
            "!ls",
            "!pip install --no-index --find-links=/kaggle/input/wheels timm",
            "!pip install timm --no-index -f ../input/pkgs",
        ],
    )
    def test_not_reported(self, command):
        assert run(command + "\n") == []

    def test_option_values_are_not_packages(self):
        code = (
            "!pip install --index-url https://download.pytorch.org/whl/cu118 -i https://x.org/simple "
            "--extra-index-url https://y.org -f https://data.pyg.org/whl/torch-2.1.0+cu118.html "
            "--progress-bar off --root-user-action=ignore --no-deps --no-cache-dir -q "
            "--trusted-host example.org --target /tmp/t --upgrade-strategy only-if-needed "
            "--no-binary :all: --only-binary=:none: --platform manylinux2014_x86_64 torch-scatter\n"
        )
        assert names(code) == ["torch-scatter"]

    def test_unknown_option_swallows_its_value(self):
        assert names("!pip install --frobnicate value timm==0.9.16\n") == []
        assert names("!pip install --frobnicate --quiet timm\n") == ["timm"]
        assert names("!pip install --no-dep timm\n") == ["timm"]  # a unique prefix of --no-deps

    def test_global_options_before_install(self):
        assert names("!pip -q install timm\n") == ["timm"]
        assert names("!pip --disable-pip-version-check --log /tmp/log install timm\n") == ["timm"]

    def test_chained_commands(self):
        code = "!pip install a && pip install b==1; python x.py || pip install c | tee log; pip3 install d\n"
        found = run(code)
        assert names(code) == ["a", "c", "d"]
        assert [f.column for f in found] == [14, 64, 90]

    @pytest.mark.parametrize(
        "command,tool",
        [
            ("!python -m pip install timm", "pip install"),
            ("!python3 -m pip install timm", "pip install"),
            ("!python3.10 -m pip install timm", "pip install"),
            ("!/usr/bin/python3 -m pip install timm", "pip install"),
            ("!{sys.executable} -m pip install timm", "pip install"),
            ('!"{sys.executable}" -m pip install timm', "pip install"),
            ("!pip3 install timm", "pip install"),
            ("!pip3.11 install timm", "pip install"),
            ("!sudo pip install timm", "pip install"),
            ("!PIP_NO_CACHE_DIR=1 pip install timm", "pip install"),
            ("!uv pip install --system timm", "uv pip install"),
            ("%uv pip install timm", "uv pip install"),
            ("!yes | pip install timm", "pip install"),
        ],
    )
    def test_installers(self, command, tool):
        (f,) = run(command + "\n")
        assert f.message == f"`timm` is installed without a version by `{tool}`; a new release can break this notebook"

    def test_bash_cell(self):
        code = "%%bash\nset -e\npip install keras\npip install numpy==1.26.4\necho pip install x\n"
        found = run(code)
        assert where(found) == [(1, 3, 13, 18, "warning")]
        assert found[0].message.startswith("`keras` is installed without a version")

    def test_continuation_lines_point_at_each_package(self):
        code = "!pip install \\\n    torch \\\n    numpy==1.26.4 \\\n    --no-deps pandas\n"
        assert where(run(code)) == [(1, 2, 5, 10, "warning"), (1, 4, 15, 21, "warning")]

    def test_noqa_on_the_command_line(self):
        assert run("!pip install timm  # noqa: CNL401\n") == []
        assert run("!pip install timm  # cnnlint: ignore[CNL401]\n") == []
        assert len(run("!pip install timm  # noqa: CNL101\n")) == 1

    def test_assignment_capture(self):
        assert names("out = !pip install timm\n") == ["timm"]


class TestVcsAndUrls:
    def test_git_without_ref(self):
        (f,) = run("!pip install git+https://github.com/facebookresearch/detectron2.git\n")
        assert f.message == (
            "`detectron2` is installed from git without a commit or tag by `pip install`; "
            "every install gets whatever the default branch holds then"
        )
        assert f.hint == "pin it to a commit: append `@<commit sha>` (or a release tag) to the URL"
        assert (f.severity.value, f.column, f.end_column) == ("warning", 14, 68)

    def test_git_branch(self):
        (f,) = run("!pip install -q git+https://github.com/openai/CLIP.git@main\n")
        assert f.message == (
            "`CLIP` is installed from the `main` branch of its git repository by `pip install`; "
            "every install gets whatever the branch holds then"
        )
        assert f.hint == "pin it to a commit: `@<commit sha>` (or a release tag) in place of `@main`"

    def test_egg_name_wins(self):
        assert names("!pip install 'git+https://github.com/a/repo.git#egg=nicename&subdirectory=py'\n") == [
            "nicename"
        ]

    def test_name_at_url(self):
        assert names("!pip install 'segment_anything @ git+https://github.com/facebookresearch/segment-anything.git'\n") == [
            "segment_anything"
        ]

    @pytest.mark.parametrize(
        "url",
        [
            "git+https://github.com/facebookresearch/detectron2.git@8c4a333ceb8df05348759443d0206302485890e0",
            "git+https://github.com/a/b.git@1a2b3c4",
            "git+https://github.com/a/b.git@v1.2.0",
            "git+https://github.com/a/b.git@0.4.1",
            "git+https://github.com/a/b.git@release-1.2",
            "git+ssh://git@github.com/a/b.git@v1.0#egg=b",
            "git+https://user@github.com/a/b.git@abcdef1234",
            "https://github.com/a/b/archive/refs/tags/v1.0.zip",
            "https://github.com/a/b/archive/8c4a333ceb8df05348759443d0206302485890e0.zip",
            "https://files.pythonhosted.org/packages/x/torch-2.1.0-cp310-cp310-manylinux1_x86_64.whl",
            "https://download.pytorch.org/whl/cu118/torch-2.0.0%2Bcu118-cp310-cp310-linux_x86_64.whl",
            "file:///tmp/dist/mylib-1.0.tar.gz",
        ],
    )
    def test_pinned_references(self, url):
        assert run(f"!pip install {url}\n") == []

    @pytest.mark.parametrize(
        "url,name",
        [
            ("https://github.com/a/b/archive/master.zip", "b"),
            ("https://github.com/a/b/archive/refs/heads/dev.tar.gz", "b"),
            ("https://codeload.github.com/a/b/zip/refs/heads/main", "b"),
            ("https://gitlab.com/a/b/-/archive/main/b-main.zip", "b"),
        ],
    )
    def test_branch_archives(self, url, name):
        (f,) = run(f"!pip install {url}\n")
        assert f.message.startswith(f"`{name}` is installed from an archive of the ")

    def test_editable_vcs(self):
        assert names("!pip install -e git+https://github.com/a/b.git@main#egg=bee\n") == ["bee"]
        assert names("!pip install -e git+https://github.com/a/b.git@1a2b3c4d#egg=bee\n") == []
        assert names("!pip install --editable=git+https://github.com/a/b.git#egg=bee\n") == ["bee"]

    def test_unknown_url_is_quiet(self):
        assert run("!pip install https://example.org/some/page\n") == []


class TestRequirementsFromCommands:
    def write(self, tmp_path, files):
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return str(tmp_path / "nb.ipynb")

    def test_unpinned_packages_in_the_file(self, tmp_path):
        real = self.write(tmp_path, {"requirements.txt": "torch\nnumpy>=1.2\ntimm==0.9.16\n"})
        (f,) = run("!pip install -r requirements.txt\n", real_path=real)
        assert (f.severity.value, f.line, f.column, f.end_column) == ("warning", 1, 17, 33)
        assert f.message == "requirements.txt (installed here with -r) leaves `torch`, `numpy` unpinned"
        assert f.hint == "pin every package in requirements.txt to the version you tested with (`pip freeze` prints them)"

    def test_only_ranges_is_info(self, tmp_path):
        real = self.write(tmp_path, {"req/base.txt": "torch>=2.0\n"})
        (f,) = run("%pip install -q -r req/base.txt\n", real_path=real)
        assert f.severity.value == "info"
        assert f.message == "req/base.txt (installed here with -r) gives only version ranges for `torch`"

    def test_all_pinned(self, tmp_path):
        real = self.write(tmp_path, {"requirements.txt": "# pinned\ntorch==2.1.0\n\nnumpy==1.26.4 --hash=sha256:abc\n"})
        assert run("!pip install -r requirements.txt\n", real_path=real) == []

    def test_missing_file_is_skipped(self, tmp_path):
        real = self.write(tmp_path, {})
        assert run("!pip install -r requirements.txt\n", real_path=real) == []

    def test_nested_includes_and_constraints(self, tmp_path):
        real = self.write(
            tmp_path,
            {
                "requirements.txt": "-r sub/more.txt\n-c constraints.txt\ntorch\n",
                "sub/more.txt": "numpy\npandas\n",
                "constraints.txt": "torch==2.1.0\nnumpy==1.26.4\n",
            },
        )
        (f,) = run("!pip install -r requirements.txt\n", real_path=real)
        assert f.message == "requirements.txt (installed here with -r) leaves `pandas` unpinned"

    def test_unreadable_nested_file_is_quiet(self, tmp_path):
        real = self.write(tmp_path, {"requirements.txt": "-r missing.txt\ntorch\n"})
        assert run("!pip install -r requirements.txt\n", real_path=real) == []

    def test_many_names_are_shortened(self, tmp_path):
        real = self.write(tmp_path, {"r.txt": "".join(f"p{i}\n" for i in range(8))})
        (f,) = run("!pip install -rr.txt\n", real_path=real)
        assert f.message == "r.txt (installed here with -r) leaves `p0`, `p1`, `p2`, `p3`, `p4` and 3 more unpinned"
        assert (f.column, f.end_column) == (16, 21)

    def test_constraints_file_pins(self, tmp_path):
        real = self.write(tmp_path, {"constraints.txt": "torch==2.1.0\ntimm>=0.9\n"})
        assert run("!pip install -c constraints.txt torch\n", real_path=real) == []
        assert names("!pip install --constraint=constraints.txt torch timm numpy\n", real_path=real) == [
            "timm>=0.9", "numpy",
        ]

    def test_unreadable_constraints_silence_the_command(self, tmp_path):
        real = self.write(tmp_path, {})
        assert run("!pip install -c constraints.txt torch\n", real_path=real) == []
        assert run("!pip install -c {constraints} torch\n", real_path=real) == []
        assert run("!pip install -c$CONSTRAINTS torch\n", real_path=real) == []

    def test_related_files_are_recorded_for_the_cache(self, tmp_path):
        from cnnlint.lint.engine import lint_python
        from cnnlint.lint.registry import active_rules
        from cnnlint.sources.read import read_source

        real = self.write(tmp_path, {"requirements.txt": "torch\n"})
        source = read_source(real, notebook_from_cells("!pip install -r requirements.txt\n").encode())
        result = lint_python(source, active_rules(["CNL401"], []), real)
        assert list(result.related) == [str(tmp_path / "requirements.txt")]


class TestConda:
    @pytest.mark.parametrize(
        "spec,status",
        [
            ("numpy=1.26.4", PINNED),
            ("numpy==1.26.4", PINNED),
            ("numpy==1.26", PINNED),
            ("numpy=1.26.4=py311h64a7726_0", PINNED),
            ("conda-forge::numpy=1.26.4", PINNED),
            ("numpy 1.26.4", PINNED),
            ("numpy[version='1.26.4']", PINNED),
            ("numpy=1.26", RANGE),
            ("numpy=1.26.*", RANGE),
            ("numpy>=1.26", RANGE),
            ("numpy>=1.26,<2", RANGE),
            ("numpy", UNPINNED),
            ("conda-forge::numpy", UNPINNED),
            ("pytorch::pytorch", UNPINNED),
        ],
    )
    def test_judge_conda(self, spec, status):
        assert judge_conda(spec).status == status

    @pytest.mark.parametrize("spec", ["python=3.10", "python", "pip", "setuptools", "${PKG}", "", "::"])
    def test_judge_conda_skips(self, spec):
        assert judge_conda(spec) is None

    def test_conda_install_command(self):
        code = "!conda install -c conda-forge -c pytorch -y numpy=1.26 pandas scipy=1.11.4 python=3.10\n"
        found = run(code)
        assert names(code) == ["numpy=1.26", "pandas"]
        assert where(found) == [(1, 1, 45, 55, "info"), (1, 1, 56, 62, "warning")]
        assert found[0].message == "`numpy=1.26` does not reproduce: `conda install` takes the newest version that matches"
        assert found[1].message == "`pandas` is installed without a version by `conda install`; a new release can break this notebook"
        assert found[1].hint == "pin it to the version you tested with: `pandas=X.Y.Z`"

    def test_conda_hint_maps_pytorch_to_torch(self):
        (f,) = run("!mamba install -y pytorch\n")
        assert f.hint == "pin it: `pytorch=2.1.0`"

    def test_conda_create_and_file(self):
        assert names("!conda create -y -n env python=3.10 numpy\n") == ["numpy"]
        assert run("!conda install --file requirements.txt\n") == []
        assert run("!conda install -p /opt/env --name x numpy=1.26.4\n") == []


# ---------------------------------------------------------------- Python scripts


class TestPythonCalls:
    def test_subprocess_list_with_sys_executable(self):
        code = 'import subprocess, sys\nsubprocess.check_call([sys.executable, "-m", "pip", "install", "timm"])\n'
        (f,) = run(code, "train.py")
        assert (f.line, f.column, f.end_line, f.end_column, f.cell) == (2, 65, 2, 69, None)
        assert f.message == "`timm` is installed without a version by `pip install`; a new release can break this script"

    @pytest.mark.parametrize("func", ["run", "call", "check_call", "check_output", "Popen"])
    def test_subprocess_functions(self, func):
        code = f'import subprocess\nsubprocess.{func}(["pip", "install", "timm"])\n'
        assert names(code, "train.py") == ["timm"]

    def test_from_import_and_alias(self):
        code = 'from subprocess import check_call as cc\ncc(["pip3", "install", "-U", "timm"])\n'
        assert names(code, "train.py") == ["timm"]

    def test_shell_string(self):
        code = 'import subprocess\nsubprocess.run("pip install  albumentations==1.3.0 opencv-python", shell=True)\n'
        (f,) = run(code, "train.py")
        assert (f.line, f.column, f.end_column) == (2, 52, 65)
        assert f.message.startswith("`opencv-python` is installed without a version")

    def test_os_system(self):
        code = "import os\nos.system('pip install -q transformers')\n"
        (f,) = run(code, "train.py")
        assert (f.line, f.column, f.end_column) == (2, 27, 39)

    def test_args_keyword_and_split(self):
        code = 'import subprocess\nsubprocess.run(args="pip install timm".split())\nsubprocess.run("pip install tqdm".split())\n'
        found = run(code, "train.py")
        assert [(f.line, f.column) for f in found] == [(2, 34), (3, 29)]

    def test_shlex_split(self):
        code = "import shlex, subprocess\nsubprocess.run(shlex.split('pip install timm'))\n"
        assert names(code, "train.py") == ["timm"]

    def test_get_ipython_forms(self):
        code = (
            "get_ipython().system('pip install -q kaggle')\n"
            "get_ipython().run_line_magic('pip', 'install wandb')\n"
            "get_ipython().run_line_magic('conda', 'install -y seaborn')\n"
            "get_ipython().run_cell_magic('bash', '', 'pip install lightning\\necho ok\\n')\n"
            "get_ipython().system('pip install {pkg}')\n"
        )
        found = run(code, "train.py")
        assert [(f.line, f.column, f.message.split("`")[1]) for f in found] == [
            (1, 38, "kaggle"),
            (2, 46, "wandb"),
            (3, 51, "seaborn"),
            (4, 42, "lightning"),  # an escaped body: the whole string
        ]

    def test_pip_main(self):
        code = "import pip\npip.main(['install', 'timm'])\n"
        assert names(code, "train.py") == ["timm"]

    def test_fstring_with_sys_executable(self):
        code = 'import os, sys\nos.system(f"{sys.executable} -m pip install timm")\n'
        (f,) = run(code, "train.py")
        assert (f.line, f.column) == (2, 11)

    def test_multiline_string_is_located_at_the_string(self):
        code = 'import os\nos.system("""pip install \\\n  timm""")\n'
        (f,) = run(code, "train.py")
        assert (f.line, f.column) == (2, 11)

    @pytest.mark.parametrize(
        "code",
        [
            'print("pip install tensorflow")',
            'msg = "run: pip install tensorflow"',
            'import logging\nlogging.info("pip install tensorflow")',
            'import os\nos.system(f"pip install {pkg}")',
            'import os\nos.system("pip install %s" % pkg)',
            'import os\nos.system("pip install {}".format(pkg))',
            'import os\nos.system("pip install " + pkg)',
            'import subprocess, sys\nsubprocess.check_call([sys.executable, "-m", "pip", "install", package])',
            'import subprocess\nsubprocess.run(["pip", "install", *pkgs])',
            'import subprocess\nsubprocess.run(cmd, shell=True)',
            'import subprocess\nsubprocess.run(["pip", "list"])',
            'import subprocess\nsubprocess.run(["pip", "install", "-r", req_file])',
            'import subprocess\nsubprocess.run(["pip", "install", "timm==0.9.16"])',
            'system("pip install tensorflow")',
            'ip = get_ipython()\nip.system("pip install tensorflow")',
            'import os\nos.system("echo pip install tensorflow")',
            'import os\nos.system("pip freeze > requirements.txt")',
            "# !pip install tensorflow",
            'import subprocess\nsubprocess.run(["apt-get", "install", "-y", "ffmpeg"])',
            'get_ipython().run_line_magic("matplotlib", "inline")',
            'get_ipython().run_line_magic("pip", line)',
            'get_ipython().system()',
            'import subprocess\nsubprocess.run()',
            'import os\nos.system()',
        ],
    )
    def test_not_reported(self, code):
        assert run(code + "\n", "train.py") == []

    def test_dynamic_word_is_not_a_package_but_literal_neighbours_are(self):
        code = 'import subprocess\nsubprocess.run(["pip", "install", pkg, "seaborn"])\n'
        assert names(code, "train.py") == ["seaborn"]

    @pytest.mark.parametrize(
        "code",
        [
            "",
            "f = lambda *a, **k: a\n",
            "def outer():\n    def inner(*args):\n        return subprocess.run(*args)\n    return inner\n",
            "async def f(xs):\n    async for x in xs:\n        await x\n",
            "if (n := 3) > 2:\n    pass\n",
            "match cmd:\n    case ['pip', 'install', *rest]:\n        pass\n    case _:\n        pass\n",
            "import os\nos.system(*args)\nos.system(**kw)\n",
            "import subprocess\nsubprocess.run([])\nsubprocess.run([''])\nsubprocess.run(['pip'])\n",
            "get_ipython().run_cell_magic('bash', '')\n",
            "import subprocess\nsubprocess.run(b'pip install x')\n",
            "x = get_ipython\nx().system\n(lambda: 1)().system('pip install x')\n",
        ],
    )
    def test_odd_code_does_not_crash(self, code):
        assert run(code, "train.py") == []


# ---------------------------------------------------------------- manifests


class TestRequirementsFile:
    def test_findings_with_positions(self):
        text = (
            "# training deps\n"
            "numpy\n"
            "torch>=2.0\n"
            "torchvision==0.16.0 \\\n"
            "    --hash=sha256:0123\n"
            "\n"
            "requests  # http\n"
            "  pillow ; python_version > '3.8'\n"
            "scipy~=1.11\n"
            "scikit-learn~=1.3.2\n"
        )
        found = run(text, "requirements.txt")
        assert [(f.line, f.column, f.end_line, f.end_column, f.severity.value) for f in found] == [
            (2, 1, 2, 6, "warning"),
            (3, 1, 3, 11, "info"),
            (7, 1, 7, 9, "warning"),
            (8, 3, 8, 9, "warning"),
            (9, 1, 9, 12, "info"),
        ]
        assert found[0].message == "`numpy` has no version in requirements.txt; a new release can break the next install"
        assert found[0].hint == "pin it: `numpy==1.26.4`"
        assert found[1].message == (
            "`torch>=2.0` in requirements.txt does not reproduce: each install takes the newest version that matches"
        )
        assert found[1].hint == "pin the version you tested with: `torch==2.1.0`"
        assert found[2].hint == "pin it to the version you tested with: `requests==X.Y.Z`"

    def test_file_name_in_the_message(self):
        (f,) = run("timm\n", "requirements-dev.txt")
        assert f.message == "`timm` has no version in requirements-dev.txt; a new release can break the next install"

    def test_clean_file(self):
        text = (
            "# comment\n\n"
            "--index-url https://pypi.org/simple\n"
            "--extra-index-url https://download.pytorch.org/whl/cu118\n"
            "-f https://data.pyg.org/whl/torch-2.1.0+cu118.html\n"
            "--pre\n--trusted-host example.org\n--only-binary :all:\n"
            "-r other.txt\n"
            "-e .\n"
            ".\n./vendor/lib\n"
            "torch==2.1.0+cu118 --hash=sha256:abc --hash=sha256:def\n"
            "tensorflow[and-cuda]==2.15.0 ; sys_platform == 'linux'\n"
            "pip>=23\nsetuptools\nwheel\n"
            "detectron2 @ git+https://github.com/facebookresearch/detectron2.git@8c4a333\n"
            "-e git+https://github.com/a/b.git@v1.0#egg=b\n"
            "https://download.pytorch.org/whl/cu118/torch-2.0.0%2Bcu118-cp310-cp310-linux_x86_64.whl\n"
            "${LOCAL_WHEEL}\n"
            "numpy==1.26.4  # noqa\n"
        )
        assert run(text, "requirements.txt") == []

    def test_vcs_lines(self):
        text = "-e git+https://github.com/a/b.git@main#egg=bee\nfoo @ git+https://github.com/a/foo\n"
        found = run(text, "requirements.txt")
        assert [(f.line, f.column, f.severity.value) for f in found] == [(1, 4, "warning"), (2, 1, "warning")]
        assert found[0].message == (
            "`bee` in requirements.txt is installed from the `main` branch of its git repository; "
            "every install gets whatever the branch holds then"
        )
        assert found[1].message == (
            "`foo` in requirements.txt is installed from git without a commit or tag; "
            "every install gets whatever the default branch holds then"
        )

    def test_continued_requirement(self):
        (f,) = run("torch\\\n>=2.0\n", "requirements.txt")
        assert (f.line, f.column, f.end_line, f.end_column) == (1, 1, 2, 6)

    def test_noqa(self):
        assert run("timm  # noqa: CNL401\n", "requirements.txt") == []

    def test_constraints_file_relative_to_the_file(self, tmp_path):
        (tmp_path / "deps").mkdir()
        (tmp_path / "deps" / "constraints.txt").write_text("torch==2.1.0\n-c more.txt\n")
        (tmp_path / "deps" / "more.txt").write_text("numpy==1.26.4\npandas<3\n")
        real = str(tmp_path / "deps" / "requirements.txt")
        text = "-c constraints.txt\ntorch\nnumpy>=1.2\npandas\ntimm\n"
        found = run(text, "requirements.txt", real_path=real)
        assert [(f.line, f.severity.value, f.message.split("`")[1]) for f in found] == [
            (4, "info", "pandas<3"),
            (5, "warning", "timm"),
        ]

    def test_unreadable_constraints_silence_the_file(self, tmp_path):
        real = str(tmp_path / "requirements.txt")
        assert run("-c constraints.txt\ntorch\n", "requirements.txt", real_path=real) == []
        assert run("-c https://x.org/c.txt\ntorch\n", "requirements.txt", real_path=real) == []
        (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00")
        assert run("-c bad.txt\ntorch\n", "requirements.txt", real_path=real) == []

    def test_include_line_is_not_reported_here(self, tmp_path):
        (tmp_path / "base.txt").write_text("torch\n")
        assert run("-r base.txt\n", "requirements.txt", real_path=str(tmp_path / "requirements.txt")) == []

    def test_binary_file_is_cnl001(self):
        found = lint_text("numpy\x00torch\n", "requirements.txt")
        assert [(f.code, f.message) for f in found] == [
            ("CNL001", "cannot read: binary file (contains NUL bytes), not a requirements file")
        ]


class TestEnvironmentYml:
    TEXT = (
        "name: train\n"
        "channels:\n"
        "  - pytorch\n"
        "  - conda-forge\n"
        "dependencies:\n"
        "  - python=3.10\n"
        "  - numpy\n"
        "  - pandas=2.1\n"
        "  - conda-forge::scipy=1.11.4\n"
        "  - 'matplotlib>=3.8'\n"
        "  - pytorch::pytorch\n"
        "  - cudatoolkit=11.8.0\n"
        "  - pip\n"
        "  - pip:\n"
        "    - torch==2.1.0\n"
        "    - timm\n"
        '    - "albumentations>=1.3"\n'
        "    - -e .\n"
    )

    def test_findings(self):
        found = run(self.TEXT, "environment.yml")
        assert [(f.line, f.column, f.end_column, f.severity.value) for f in found] == [
            (7, 5, 10, "warning"),
            (8, 5, 15, "info"),
            (10, 6, 21, "info"),
            (11, 5, 21, "warning"),
            (16, 7, 11, "warning"),
            (17, 8, 27, "info"),
        ]
        assert found[0].message == "`numpy` has no version in environment.yml; a new release can break the next install"
        assert found[0].hint == "pin it: `numpy=1.26.4`"
        assert found[1].message == (
            "`pandas=2.1` in environment.yml does not reproduce: each install takes the newest version that matches"
        )
        assert found[4].message == (
            "`timm` has no version in the pip section of environment.yml; a new release can break the next install"
        )
        assert found[4].hint == "pin it to the version you tested with: `timm==X.Y.Z`"

    def test_pinned_environment(self):
        text = (
            "dependencies:\n"
            "  - python=3.11\n  - pip\n  - numpy=1.26.4\n  - pytorch::pytorch==2.1.0\n"
            "  - libgcc-ng=13.2.0=h807b86a_5\n"
            "  - pip:\n      - timm==0.9.16\n      - -r requirements.txt\n      - --extra-index-url https://x.org\n"
        )
        assert run(text, "environment.yml") == []

    def test_invalid_yaml_is_cnl001(self):
        found = lint_text("dependencies:\n  - numpy\n - torch: [\n", "environment.yml")
        assert [(f.code, f.line) for f in found] == [("CNL001", 3)]
        assert found[0].message.startswith("cannot read: invalid YAML: ")


class TestJudgeRequirement:
    @pytest.mark.parametrize(
        "text,status",
        [
            ("torch==2.1.0", PINNED),
            ("torch===2.1.0", PINNED),
            ("Torch_Vision == 0.16.0", PINNED),
            ("torch==2.*", RANGE),
            ("torch==2.1.*", RANGE),
            ("torch~=2.1.0", PINNED),
            ("torch~=2.1", RANGE),
            ("torch>=2.0,<3", RANGE),
            ("torch!=2.0.1", RANGE),
            ("torch<=2.1.0", RANGE),
            ("torch>=2.0,==2.1.0", PINNED),
            ("torch", UNPINNED),
            ("torch[cuda]", UNPINNED),
            ("torch ; python_version > '3.8'", UNPINNED),
        ],
    )
    def test_status(self, text, status):
        assert judge_requirement(text).status == status

    @pytest.mark.parametrize("text", ["", ".", "./x", "../x", "~/x", "x.whl", "torch=2.0", "pip", "wheel==0.40", "${X}"])
    def test_nothing_to_judge(self, text):
        assert judge_requirement(text) is None


class TestShellLexer:
    def texts(self, line):
        return [[(w.text, w.dynamic) for w in cmd] for cmd in split_shell(line)]

    def test_quotes_escapes_and_operators(self):
        assert self.texts("pip install 'a b' \"c\\\"d\" e\\ f && echo x;ls|wc") == [
            [("pip", False), ("install", False), ("a b", False), ('c"d', False), ("e f", False)],
            [("echo", False), ("x", False)],
            [("ls", False)],
            [("wc", False)],
        ]

    def test_dynamic_words(self):
        assert self.texts("pip install $X ${Y} {z} `w` $(v) \"{q}\" ok") == [
            [("pip", False), ("install", False), ("$X", True), ("${Y}", True), ("{z}", True),
             ("`w`", True), ("$(v)", True), ("{q}", True), ("ok", False)]
        ]

    def test_sys_executable(self):
        assert self.texts("{sys.executable} -m pip") == [[("python", False), ("-m", False), ("pip", False)]]
        assert self.texts("{sys.executable}x") == [[("pythonx", True)]]

    def test_redirections(self):
        (cmd,) = split_shell("pip install a>=1 b 2>&1 >log c &>/dev/null")
        assert [(w.text, w.cut) for w in cmd] == [("pip", ""), ("install", ""), ("a", ">=1"), ("b", ""), ("c", "")]

    def test_line_continuation_between_words(self):
        assert self.texts("pip install \\\n  timm") == [[("pip", False), ("install", False), ("timm", False)]]

    def test_comments_and_unterminated_quotes(self):
        assert self.texts("pip install a # b c") == [[("pip", False), ("install", False), ("a", False)]]
        assert self.texts("pip install 'abc") == [[("pip", False), ("install", False), ("abc", False)]]
        assert self.texts("") == []

    def test_word_offsets(self):
        (cmd,) = split_shell('pip  install "torch>=2"')
        assert [(w.start, w.end) for w in cmd] == [(0, 3), (5, 12), (13, 23)]

    def test_parse_command_rejects_non_installs(self):
        for line in ("pip uninstall x", "python -c 'import pip'", "python -m venv x", "uv add x", "conda list"):
            assert parse_command(split_shell(line)[0]) is None, line


def test_real_notebook_json(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["!pip install nothing\n"], "metadata": {}},
            {"cell_type": "code", "source": ["%%capture\n", "!pip install -q keras-cv\n"], "metadata": {},
             "outputs": [], "execution_count": None},
        ],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    found = [f for f in lint_text(json.dumps(nb), "colab.ipynb") if f.code == "CNL401"]
    assert [(f.cell, f.line, f.column) for f in found] == [(2, 2, 17)]


CONDA_EXPORT = (
    "# This file may be used to create an environment using:\n"
    "# $ conda create --name <env> --file <this file>\n"
    "# platform: linux-64\n"
    "_libgcc_mutex=0.1=main\n"
    "keras=2.12.0=py38_0\n"
    "tensorflow=2.12.0=mkl_py38h1a2b3c4_0\n"
)


def test_conda_export_line_in_requirements_is_a_pin():
    verdict = judge_requirement("keras=2.12.0=py38_0")
    assert (verdict.status, verdict.key, verdict.specifier) == (PINNED, "keras", "==2.12.0.*")  # conda: 2.12.0 and its builds
    # still no pin: not a conda export line, and not a valid requirement either
    assert judge_requirement("keras=2.12.0") is None
    assert judge_requirement("keras==2.12.0=py38") is None


def test_conda_export_saved_as_requirements_records_the_versions(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text(CONDA_EXPORT)
    script = tmp_path / "train.py"
    code = "import tensorflow as tf\nfrom tensorflow import keras\n"
    script.write_text(code)
    assert lint_text(code, str(script), select=("CNL403",)) == []
    manifest = lint_text(CONDA_EXPORT, str(tmp_path / "requirements.txt"), select=("CNL401",))
    assert manifest == []


SETUP_WITH_CONSTANTS = (
    "from setuptools import setup\n"
    "REQUIRED = {required}\n"
    "{more}"
    "setup(name='x', install_requires=REQUIRED, extras_require={{'vis': ['pillow']}})\n"
)


def _cnl403_with_setup(tmp_path, required, more=""):
    (tmp_path / "setup.py").write_text(SETUP_WITH_CONSTANTS.format(required=required, more=more))
    script = tmp_path / "train.py"
    code = "import tensorflow as tf\n"
    script.write_text(code)
    return [(f.code, f.line) for f in lint_text(code, str(script), select=("CNL403",))]


def test_setup_py_constant_list_is_read(tmp_path):
    # the list names no tensorflow: nothing records its version
    assert _cnl403_with_setup(tmp_path, "['absl-py', 'pyyaml']") == [("CNL403", 1)]


@pytest.mark.parametrize("required,more", [
    ("['tensorflow==2.15.0', 'pyyaml']", ""),  # the constant records it
    ("['pyyaml']", "REQUIRED += ['tensorflow==2.15.0']\n"),  # changed later: cannot tell
    ("['pyyaml']", "REQUIRED.append('tensorflow==2.15.0')\n"),
    ("read_requirements('requirements.in')", ""),  # computed: cannot tell
    ("['pyyaml']", "REQUIRED = ['tensorflow']\n"),  # bound twice
])
def test_setup_py_constants_that_record_or_hide_a_version(tmp_path, required, more):
    assert _cnl403_with_setup(tmp_path, required, more) == []


def _project(tmp_path, manifests):
    (tmp_path / ".git").mkdir()
    (tmp_path / "train.py").write_text("import tensorflow as tf\nmodel = tf.keras.Sequential()\n")
    for name, text in manifests.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def _found(tmp_path, capsys, monkeypatch):
    from conftest import run_cli

    monkeypatch.chdir(tmp_path)
    _, out, _ = run_cli(["--no-cache", "--output-format", "json", "--select", "CNL401,CNL403", "."], capsys)
    return sorted((f["path"], f["code"], f["line"]) for f in json.loads(out)["findings"])


def test_requirement_txt_singular_is_the_projects_requirements_file(tmp_path, capsys, monkeypatch):
    # `requirement.txt` is a common misspelling; pip reads any name given to -r
    _project(tmp_path, {"requirement.txt": "# deps\ntensorflow>=2.12,<3.0\nnumpy==1.26.4\n"})
    assert _found(tmp_path, capsys, monkeypatch) == [("requirement.txt", "CNL401", 2)]


@pytest.mark.parametrize("name", ["requirement_notes.txt", "my_requirement.txt", "requirement.md"])
def test_other_names_with_requirement_are_not_requirements_files(tmp_path, capsys, monkeypatch, name):
    # prose about requirements is not read as one (and records no version: CNL403 stays)
    _project(tmp_path, {name: "The project needs tensorflow>=2.12 and a GPU.\n"})
    assert _found(tmp_path, capsys, monkeypatch) == [("train.py", "CNL403", 1)]
