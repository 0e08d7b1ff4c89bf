"""Dataset discovery: which folders are datasets, their layout, and the files the scan reads."""

import os

import pytest

from cnnlint.dataset.layout import find_datasets, iter_files
from fixtures.images import write_image


def _images(folder, n, kind="jpeg", ext="jpg", start=0):
    for i in range(n):
        write_image(os.path.join(folder, f"img_{start + i:03d}.{ext}"), kind, seed=start + i)


def _write(path, text="x = 1\n"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def _found(tmp_path, *paths, forced=()):
    return find_datasets([str(tmp_path / p) for p in paths], [str(tmp_path / p) for p in forced])


class TestDetection:
    def test_split_layout(self, tmp_path):
        for split in ("train", "Val"):
            for cls in ("cats", "dogs"):
                _images(tmp_path / "data" / split / cls, 2)
        (found,) = _found(tmp_path, "data")
        assert found.layout == "splits"
        assert [(s.name, s.role, s.classes) for s in found.splits] == [
            ("Val", "val", ["cats", "dogs"]), ("train", "train", ["cats", "dogs"])]
        assert found.splits[1].path == os.path.join(found.path, "train")

    def test_split_names(self, tmp_path):
        for split in ("valid", "validation", "test", "TRAIN"):
            _images(tmp_path / "d" / split / "a", 1)
        (found,) = _found(tmp_path, "d")
        assert sorted(s.role for s in found.splits) == ["test", "train", "val", "val"]

    def test_class_layout_with_empty_class(self, tmp_path):
        _images(tmp_path / "flowers" / "rose", 6)
        _images(tmp_path / "flowers" / "tulip", 6)
        (tmp_path / "flowers" / "daisy").mkdir()
        (found,) = _found(tmp_path, "flowers")
        assert found.layout == "classes"
        assert found.splits[0].classes == ["daisy", "rose", "tulip"]

    def test_flat_folder_named_on_the_command_line(self, tmp_path):
        _images(tmp_path / "pics", 3)
        (found,) = _found(tmp_path, "pics")
        assert found.layout == "flat" and found.splits[0].flat

    def test_found_while_walking_a_project(self, tmp_path):
        _write(str(tmp_path / "train.py"))
        for cls in ("cats", "dogs"):
            _images(tmp_path / "data" / "train" / cls, 3)
        (found,) = _found(tmp_path, ".")
        assert found.real_path == str(tmp_path / "data")
        assert found.layout == "splits"

    def test_class_folders_found_while_walking_need_ten_images(self, tmp_path):
        _write(str(tmp_path / "train.py"))
        for cls in ("cats", "dogs"):
            _images(tmp_path / "images" / cls, 5)
        assert [d.real_path for d in _found(tmp_path, ".")] == [str(tmp_path / "images")]
        for cls in ("a", "b"):
            _images(tmp_path / "other" / "pics" / cls, 2)
        assert [d.real_path for d in _found(tmp_path, ".")] == [str(tmp_path / "images")]

    def test_forced_folder_is_a_dataset_even_with_code(self, tmp_path):
        _images(tmp_path / "stuff", 1)
        _write(str(tmp_path / "stuff" / "make.py"))
        assert _found(tmp_path, "stuff") == []
        (found,) = _found(tmp_path, forced=["stuff"])
        assert found.forced and found.layout == "flat"

    def test_dataset_found_twice_is_scanned_once(self, tmp_path):
        for cls in ("a", "b"):
            _images(tmp_path / "data" / "train" / cls, 6)
        found = find_datasets([str(tmp_path), str(tmp_path / "data" / "train")], [str(tmp_path / "data")])
        assert [d.real_path for d in found] == [str(tmp_path / "data")]


class TestNotADataset:
    """Pictures next to code are documentation, not training data."""

    def test_docs_logo_in_a_code_repo(self, tmp_path):
        _write(str(tmp_path / "setup.py"))
        _write(str(tmp_path / "pkg" / "model.py"))
        write_image(str(tmp_path / "docs" / "img" / "logo.png"), "png")
        write_image(str(tmp_path / "docs" / "img" / "arch.png"), "png")
        _write(str(tmp_path / "docs" / "index.md"), "# docs\n")
        assert _found(tmp_path, ".") == []

    def test_two_images_next_to_scripts(self, tmp_path):
        _write(str(tmp_path / "train.py"))
        _images(tmp_path, 2, kind="png", ext="png")
        assert _found(tmp_path, ".") == []

    def test_notebook_plots_folder(self, tmp_path):
        _write(str(tmp_path / "analysis.ipynb"), "{}")
        for name in ("loss", "accuracy", "confusion", "samples", "lr"):
            write_image(str(tmp_path / "images" / f"{name}.png"), "png")
        assert _found(tmp_path, ".") == []

    def test_assets_folder_beside_code(self, tmp_path):
        _write(str(tmp_path / "app" / "main.py"))
        for sub in ("icons", "backgrounds"):
            _images(tmp_path / "app" / "assets" / sub, 12, kind="png", ext="png")
        assert _found(tmp_path, ".") == []

    def test_class_folder_with_code_is_a_project(self, tmp_path):
        _images(tmp_path / "proj" / "a", 10)
        _images(tmp_path / "proj" / "b", 10)
        _write(str(tmp_path / "proj" / "b" / "convert.py"))
        assert _found(tmp_path, ".") == []

    def test_screenshots_among_markdown(self, tmp_path):
        for i in range(3):
            _write(str(tmp_path / "notes" / f"page{i}.md"), "text\n")
        write_image(str(tmp_path / "notes" / "shot.png"), "png")
        assert _found(tmp_path, "notes") == []

    def test_hidden_and_tool_folders_are_not_searched(self, tmp_path):
        for where in (".git/objects", "node_modules/pkg", ".venv/lib"):
            for cls in ("a", "b"):
                _images(tmp_path / where / cls, 10)
        assert _found(tmp_path, ".") == []


class TestFiles:
    def test_strays_hidden_folders_and_loose_images(self, tmp_path):
        root = tmp_path / "data"
        _images(root / "train" / "cats", 2)
        _images(root / "train" / "dogs", 2)
        write_image(str(root / "train" / "loose.jpg"), "jpeg")
        write_image(str(root / "train" / "cats" / "notes.txt"), "text")
        (root / "train" / ".ipynb_checkpoints").mkdir()
        _write(str(root / "README.md"), "about\n")  # root files are fine
        (ds,) = find_datasets([str(root)])
        findings = []
        files = sorted(os.path.relpath(real, root) for _, real in iter_files(ds, findings))
        assert files == [f"train/{c}/img_{i:03d}.jpg" for c in ("cats", "dogs") for i in range(2)]
        got = sorted((f.code, os.path.relpath(f.path, str(root)), f.line) for f in findings)
        assert got == [("CNL510", "train/.ipynb_checkpoints", 0), ("CNL510", "train/cats/notes.txt", 0),
                       ("CNL510", "train/loose.jpg", 0)]
        loose = [f for f in findings if f.path.endswith("loose.jpg")][0]
        assert "beside the class folders, in no class" in loose.message

    def test_many_strays_in_one_folder_are_one_finding(self, tmp_path):
        root = tmp_path / "data"
        _images(root / "a", 2)
        _images(root / "b", 2)
        for i in range(7):
            write_image(str(root / "a" / f"ann_{i}.xml"), "text")
        (ds,) = find_datasets([str(root)], [str(root)])
        findings = []
        list(iter_files(ds, findings))
        (f,) = findings
        assert f.code == "CNL510" and f.path == ds.class_path(0)
        assert f.message == ("7 entries that are not images in this class folder: "
                             "ann_0.xml, ann_1.xml, ann_2.xml, ann_3.xml, ann_4.xml, ...")

    @pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
    def test_symlink_loop_reported_once(self, tmp_path):
        root = tmp_path / "data"
        _images(root / "a", 2)
        _images(root / "b", 2)
        os.symlink(str(root), str(root / "b" / "again"))
        (ds,) = find_datasets([str(root)])
        findings = []
        assert len(list(iter_files(ds, findings))) == 4
        assert [(f.code, f.message) for f in findings] == [
            ("CNL514", "cannot read: symbolic link loop (links back to a parent folder)")]

    def test_key_of_maps_files_to_classes(self, tmp_path):
        root = tmp_path / "data"
        _images(root / "train" / "a", 1)
        _images(root / "train" / "b", 1)
        _images(root / "test", 1)  # a flat split
        (ds,) = find_datasets([str(root)])
        assert [(s.name, s.flat) for s in ds.splits] == [("test", True), ("train", False)]
        key = ds.key_of(str(root / "train" / "b" / "img_000.jpg"))
        assert ds.class_name(key) == "b" and ds.split_of(key).name == "train"
        assert ds.split_of(ds.key_of(str(root / "test" / "img_000.jpg"))).flat
        assert ds.key_of(str(root / "train" / "loose.jpg")) is None
