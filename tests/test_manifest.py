"""Reading requirements files and environment.yml into positioned entries."""

import os

import pytest

from cnnlint.sources.manifest import (
    CONDA,
    CONSTRAINT,
    EDITABLE,
    INCLUDE,
    REQUIREMENT,
    included_files,
    parse_requirements,
    read_manifest,
)
from cnnlint.sources.model import SourceError
from cnnlint.sources.read import read_source


def entries(text, kind="requirements"):
    manifest = read_manifest("requirements.txt" if kind == "requirements" else "environment.yml", text.encode(), kind)
    return [(e.kind, e.value, e.line, e.column, e.section) for e in manifest.entries]


class TestRequirements:
    def test_requirements_with_positions(self):
        text = "numpy\n  torch>=2.0\npillow ; python_version > '3.8'\nfoo @ https://x.org/foo-1.0.tar.gz\n"
        assert entries(text) == [
            (REQUIREMENT, "numpy", 1, 1, ""),
            (REQUIREMENT, "torch>=2.0", 2, 3, ""),
            (REQUIREMENT, "pillow ; python_version > '3.8'", 3, 1, ""),
            (REQUIREMENT, "foo @ https://x.org/foo-1.0.tar.gz", 4, 1, ""),
        ]

    def test_comments_and_blank_lines(self):
        text = "# a comment\n\n   \nnumpy==1.26.4  # pinned for the C ABI\n#torch\nrequests#not-a-comment\n"
        assert entries(text) == [
            (REQUIREMENT, "numpy==1.26.4", 4, 1, ""),
            (REQUIREMENT, "requests#not-a-comment", 6, 1, ""),
        ]

    def test_url_fragment_is_not_a_comment(self):
        text = "git+https://github.com/a/b.git@main#egg=bee\n"
        assert entries(text) == [(REQUIREMENT, "git+https://github.com/a/b.git@main#egg=bee", 1, 1, "")]

    def test_per_requirement_options_are_not_part_of_the_requirement(self):
        text = "torch==2.1.0 \\\n    --hash=sha256:aaa \\\n    --hash=sha256:bbb\ntimm --config-settings x=y\n"
        assert entries(text) == [
            (REQUIREMENT, "torch==2.1.0", 1, 1, ""),
            (REQUIREMENT, "timm", 4, 1, ""),
        ]

    def test_continuation_keeps_positions_of_each_piece(self):
        manifest = read_manifest("r.txt", b"torch\\\n>=2.0\n", "requirements")
        (entry,) = manifest.entries
        assert entry.value == "torch>=2.0"
        assert entry.position(0) == (1, 1)
        assert entry.position(5) == (2, 1)
        assert entry.span(0, 10) == (1, 1, 2, 6)

    def test_comment_line_ends_a_continuation(self):
        text = "numpy \\\n# a comment \\\ntorch\n"
        assert [e[1] for e in entries(text)] == ["numpy", "torch"]

    def test_options_lines(self):
        text = (
            "-r base.txt\n"
            "--requirement=dev.txt\n"
            "-rother.txt\n"
            "-c constraints.txt\n"
            "--constraint constraints2.txt\n"
            "-e git+https://github.com/a/b.git@abc1234#egg=bee\n"
            "--editable .\n"
            "-i https://pypi.org/simple\n"
            "--extra-index-url https://download.pytorch.org/whl/cu118\n"
            "-f https://data.pyg.org/whl/torch-2.1.0+cu118.html\n"
            "--pre\n"
            "--no-binary :all:\n"
            "--only-binary=:all:\n"
            "--trusted-host example.org\n"
        )
        assert entries(text) == [
            (INCLUDE, "base.txt", 1, 4, ""),
            (INCLUDE, "dev.txt", 2, 15, ""),
            (INCLUDE, "other.txt", 3, 3, ""),
            (CONSTRAINT, "constraints.txt", 4, 4, ""),
            (CONSTRAINT, "constraints2.txt", 5, 14, ""),
            (EDITABLE, "git+https://github.com/a/b.git@abc1234#egg=bee", 6, 4, ""),
            (EDITABLE, ".", 7, 12, ""),
        ]

    def test_crlf_and_bom(self):
        manifest = read_manifest("r.txt", b"\xef\xbb\xbfnumpy\r\ntorch\r\n", "requirements")
        assert [(e.value, e.line, e.column) for e in manifest.entries] == [("numpy", 1, 1), ("torch", 2, 1)]

    def test_empty_file(self):
        assert entries("") == []

    def test_parse_requirements_directly(self):
        assert [e.value for e in parse_requirements("a\nb==1\n")] == ["a", "b==1"]

    def test_non_utf8_is_a_source_error(self):
        with pytest.raises(SourceError) as exc:
            read_manifest("requirements.txt", b"numpy\ntorch # gr\xf6\xdfe\n", "requirements")
        assert exc.value.line == 2
        assert exc.value.column == 11
        assert "must be UTF-8" in exc.value.message

    def test_binary_is_a_source_error(self):
        with pytest.raises(SourceError) as exc:
            read_manifest("requirements.txt", b"PK\x03\x04\x00\x00", "requirements")
        assert exc.value.message == "binary file (contains NUL bytes), not a requirements file"

    def test_unknown_kind(self):
        with pytest.raises(SourceError):
            read_manifest("x.toml", b"", "toml")

    def test_read_source_dispatches_to_manifests(self):
        manifest = read_source("requirements-dev.txt", b"numpy\n")
        assert manifest.kind == "requirements"
        assert manifest.entries[0].value == "numpy"


class TestIncludedFiles:
    def test_include_targets_relative_to_the_manifest(self):
        manifest = read_manifest(
            os.path.join("proj", "requirements.txt"),
            b"-r base.txt\n-r ../shared/common.txt\n-c constraints.txt\n-r https://x.org/r.txt\n-r ${DIR}/x.txt\nnumpy\n",
            "requirements",
        )
        assert included_files(manifest) == [
            os.path.join("proj", "base.txt"),
            os.path.join("shared", "common.txt"),
        ]
        assert included_files(manifest, constraints=True) == [
            os.path.join("proj", "base.txt"),
            os.path.join("shared", "common.txt"),
            os.path.join("proj", "constraints.txt"),
        ]

    def test_absolute_manifest_path_gives_absolute_targets(self, tmp_path):
        manifest = read_manifest(str(tmp_path / "requirements.txt"), b"-r base.txt\n-r base.txt\n", "requirements")
        assert included_files(manifest) == [str(tmp_path / "base.txt")]

    def test_conda_pip_section_includes(self):
        text = "dependencies:\n  - pip:\n    - -r requirements.txt\n"
        manifest = read_manifest("env/environment.yml", text.encode(), "conda")
        assert included_files(manifest) == [os.path.join("env", "requirements.txt")]


class TestConda:
    def test_dependencies_with_positions(self):
        text = (
            "name: train\n"
            "channels:\n"
            "  - conda-forge\n"
            "dependencies:\n"
            "  - python=3.10\n"
            "  - numpy=1.26.4\n"
            "  - 'matplotlib>=3.8'\n"
            '  - "pytorch::pytorch"\n'
            "  - pip\n"
            "  - pip:\n"
            "      - torch==2.1.0  # pinned\n"
            "      - 'timm>=0.9'\n"
            "      - -r requirements.txt\n"
        )
        assert entries(text, "conda") == [
            (CONDA, "python=3.10", 5, 5, ""),
            (CONDA, "numpy=1.26.4", 6, 5, ""),
            (CONDA, "matplotlib>=3.8", 7, 6, ""),
            (CONDA, "pytorch::pytorch", 8, 6, ""),
            (CONDA, "pip", 9, 5, ""),
            (REQUIREMENT, "torch==2.1.0", 11, 9, "pip"),
            (REQUIREMENT, "timm>=0.9", 12, 10, "pip"),
            (INCLUDE, "requirements.txt", 13, 12, "pip"),
        ]

    def test_flow_style_list(self):
        assert entries("dependencies: [numpy, 'scipy=1.11.4']\n", "conda") == [
            (CONDA, "numpy", 1, 16, ""),
            (CONDA, "scipy=1.11.4", 1, 24, ""),
        ]

    def test_non_string_items_are_skipped(self):
        assert entries("dependencies:\n  - 3.9\n  - null\n  - [a, b]\n  - numpy\n", "conda") == [
            (CONDA, "numpy", 5, 5, ""),
        ]

    @pytest.mark.parametrize(
        "text",
        ["", "# nothing\n", "- numpy\n", "name: x\n", "dependencies: numpy\n", "dependencies:\n", "42\n"],
    )
    def test_files_without_a_dependency_list(self, text):
        assert entries(text, "conda") == []

    def test_invalid_yaml_is_a_source_error_with_position(self):
        with pytest.raises(SourceError) as exc:
            read_manifest("environment.yml", b"dependencies:\n  - numpy\n - torch: [\n", "conda")
        assert exc.value.message.startswith("invalid YAML: ")
        assert exc.value.line == 3

    def test_two_documents_are_a_source_error(self):
        with pytest.raises(SourceError):
            read_manifest("environment.yml", b"name: a\n---\nname: b\n", "conda")

    def test_non_utf8_is_a_source_error(self):
        with pytest.raises(SourceError) as exc:
            read_manifest("environment.yml", "name: größe\n".encode("latin-1"), "conda")
        assert "conda environment file must be UTF-8" in exc.value.message
