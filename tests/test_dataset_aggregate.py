"""Aggregates over ImageRecords: modes, sizes, class counts, duplicates, leakage (no image decoding here)."""

import hashlib
import os

from cnnlint.dataset.aggregate import SIZE_KEYS, Aggregate, Thresholds
from cnnlint.dataset.layout import find_datasets
from cnnlint.dataset.record import ImageRecord
from cnnlint.findings import Finding, Severity


def _tree(root, spec):
    """spec: {"train/cats": 5, ...} -> zero-byte image-named files (layout detection reads names only)."""
    for folder, n in spec.items():
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        for i in range(n):
            open(os.path.join(root, folder, f"{i:04d}.jpg"), "wb").close()
    (ds,) = find_datasets([root], [root])
    return ds


def _rec(root, rel, mode="RGB", size=(64, 48), content=None, bits=8, findings=()):
    real = os.path.join(root, rel)
    digest = hashlib.md5((content or rel).encode()).digest()
    return ImageRecord(path=os.path.relpath(real), real_path=real, format="JPEG", mode=mode, bits=bits,
                       width=size[0], height=size[1], digest=digest, decoded=True, findings=list(findings))


def _run(ds, records, **thresholds):
    agg = Aggregate(ds, Thresholds(**thresholds))
    for r in records:
        agg.add(r)
    return agg, agg.finish()


def _codes(findings, root):
    return sorted((f.code, os.path.relpath(os.path.abspath(f.path), root)) for f in findings)


def _fill(root, spec, **odd):
    """One record per file of spec; odd maps a relative path to _rec keyword overrides."""
    out = []
    for folder, n in spec.items():
        for i in range(n):
            rel = f"{folder}/{i:04d}.jpg"
            out.append(_rec(root, rel, **odd.get(rel, {})))
    return out


class TestModes:
    def test_a_few_grayscale_among_many_is_normal(self, tmp_path):
        root = str(tmp_path)
        spec = {"train/a": 150, "train/b": 150}
        ds = _tree(root, spec)
        odd = {"train/a/0000.jpg": {"mode": "L"}, "train/b/0007.jpg": {"mode": "L"}}
        _, findings = _run(ds, _fill(root, spec, **odd))
        assert findings == []

    def test_minority_mode_reported_per_file(self, tmp_path):
        root = str(tmp_path)
        spec = {"train/a": 50, "train/b": 50}
        ds = _tree(root, spec)
        odd = {"train/a/0003.jpg": {"mode": "L"}, "train/b/0001.jpg": {"mode": "RGBA"}}
        _, findings = _run(ds, _fill(root, spec, **odd))
        assert _codes(findings, root) == [("CNL504", "train/a/0003.jpg"), ("CNL504", "train/b/0001.jpg")]
        gray = [f for f in findings if "0003" in f.path][0]
        assert gray.message == "grayscale (L) image: the set is mostly RGB (98 images)"
        assert gray.severity == Severity.WARNING and gray.line == 0

    def test_many_minority_images_are_one_finding_with_counts(self, tmp_path):
        root = str(tmp_path)
        spec = {"train/a": 40, "train/b": 40}
        ds = _tree(root, spec)
        odd = {f"train/a/{i:04d}.jpg": {"mode": "P"} for i in range(8)}
        odd.update({f"train/b/{i:04d}.jpg": {"mode": "P"} for i in range(4)})
        _, findings = _run(ds, _fill(root, spec, **odd))
        (f,) = findings
        assert (f.code, f.path) == ("CNL504", ds.path)
        assert f.message == ("12 of 80 images are palette (P): the set is mostly RGB (68 images); "
                             "in train/a/ 8, train/b/ 4 (e.g. 0000.jpg, 0001.jpg, 0002.jpg)")

    def test_minority_in_one_class_points_at_the_class_folder(self, tmp_path):
        root = str(tmp_path)
        spec = {"a": 30, "b": 30}
        ds = _tree(root, spec)
        odd = {f"b/{i:04d}.jpg": {"mode": "CMYK"} for i in range(12)}
        _, findings = _run(ds, _fill(root, spec, **odd))
        (f,) = findings
        assert f.path == os.path.join(ds.path, "b") and f.message.startswith("12 of 60 images are CMYK")

    def test_sixteen_bit_is_a_mode_like_the_others(self, tmp_path):
        """16-bit images whose loaders clip them have their own per-file CNL503; as a mode they are outliers only
        past the minor share, like any other (a 16-bit RGB PNG reads fine everywhere)."""
        root = str(tmp_path)
        spec = {"a": 300, "b": 300}
        ds = _tree(root, spec)
        odd = {"b/0005.jpg": {"mode": "I;16", "bits": 16}}
        _, findings = _run(ds, _fill(root, spec, **odd))
        assert findings == []
        odd = {f"b/{i:04d}.jpg": {"mode": "RGB", "bits": 16} for i in range(12)}
        _, findings = _run(ds, _fill(root, spec, **odd))
        (f,) = findings
        assert (f.code, f.message) == ("CNL504", "12 of 600 images are 16-bit: the set is mostly RGB (588 images); "
                                                 "in b/ 12 (e.g. 0000.jpg, 0001.jpg, 0002.jpg)")

    def test_file_flagged_for_something_else_gets_no_mode_finding(self, tmp_path):
        root = str(tmp_path)
        spec = {"a": 20, "b": 20}
        ds = _tree(root, spec)
        anim = Finding("CNL511", Severity.WARNING, "animated", "x", 0, 0)
        odd = {"a/0000.jpg": {"mode": "P", "findings": [anim]}}
        agg, findings = _run(ds, _fill(root, spec, **odd))
        assert [f.code for f in findings] == ["CNL511"]
        assert agg.modes == {"RGB": 39, "P": 1}


class TestSizes:
    def test_tiny_and_elongated_outliers(self, tmp_path):
        root = str(tmp_path)
        spec = {"a": 20, "b": 20}
        ds = _tree(root, spec)
        odd = {"a/0001.jpg": {"size": (20, 16)}, "b/0002.jpg": {"size": (400, 40)}}
        _, findings = _run(ds, _fill(root, spec, **odd))
        assert _codes(findings, root) == [("CNL505", "a/0001.jpg"), ("CNL505", "b/0002.jpg")]
        tiny, wide = sorted(findings, key=lambda f: f.path)
        assert tiny.message == "image is 20x16 px, under the minimum of 32 px on a side (most images here are 64x48)"
        assert wide.message.startswith("image is 400x40 px, aspect ratio 10.0:1 (over 4:1)")

    def test_a_set_of_small_images_is_its_own_format(self, tmp_path):
        root = str(tmp_path)
        spec = {"0": 30, "1": 30}
        ds = _tree(root, spec)
        odd = {f"{c}/{i:04d}.jpg": {"size": (28, 28)} for c in "01" for i in range(30)}
        _, findings = _run(ds, _fill(root, spec, **odd))
        assert findings == []

    def test_thresholds_are_configurable(self, tmp_path):
        root = str(tmp_path)
        spec = {"a": 20, "b": 20}
        ds = _tree(root, spec)
        odd = {"a/0001.jpg": {"size": (60, 48)}, "b/0002.jpg": {"size": (300, 60)}}
        _, findings = _run(ds, _fill(root, spec, **odd), min_image_size=50, max_aspect_ratio=6)
        assert findings == []
        _, findings = _run(ds, _fill(root, spec, **odd), min_image_size=64, max_aspect_ratio=4)
        # every image is under 64 px high now, so small is the set's format; only the 5:1 one stands out
        assert _codes(findings, root) == [("CNL505", "b/0002.jpg")]

    def test_size_counter_stays_bounded(self, tmp_path):
        root = str(tmp_path)
        ds = _tree(root, {"a": 1, "b": 1})
        agg = Aggregate(ds)
        for i in range(SIZE_KEYS * 3):
            agg._size(100 + i, 100)
        assert len(agg.sizes) <= SIZE_KEYS + 1
        assert agg.min_wh == (100, 100) and agg.max_wh == (100 + SIZE_KEYS * 3 - 1, 100)


class TestClasses:
    def test_imbalance_message(self, tmp_path):
        root = str(tmp_path)
        spec = {"train/cat": 412, "train/dog": 3, "val/cat": 10, "val/dog": 10}
        ds = _tree(root, spec)
        _, findings = _run(ds, _fill(root, spec), min_class_size=1)
        (f,) = findings
        assert (f.code, f.path) == ("CNL506", os.path.join(ds.path, "train"))
        assert f.message == "class 'dog' has 3 images, 'cat' has 412 (ratio 137:1) in train/"

    def test_ratio_at_the_threshold_is_fine(self, tmp_path):
        root = str(tmp_path)
        spec = {"a": 100, "b": 10}
        ds = _tree(root, spec)
        assert _run(ds, _fill(root, spec))[1] == []
        assert [f.code for f in _run(ds, _fill(root, spec), imbalance_ratio=5)[1]] == ["CNL506"]

    def test_empty_and_tiny_classes(self, tmp_path):
        root = str(tmp_path)
        spec = {"train/a": 12, "train/b": 4, "val/a": 3, "val/b": 2}
        ds = _tree(root, spec)
        for split in ("train", "val"):
            os.makedirs(os.path.join(root, split, "c"))
        (ds,) = find_datasets([root])
        _, findings = _run(ds, _fill(root, spec))
        got = sorted((f.code, f.severity.value, os.path.relpath(os.path.abspath(f.path), root)) for f in findings)
        # val/ classes are checked for emptiness only
        assert got == [("CNL507", "error", "train/c"), ("CNL507", "error", "val/c"), ("CNL507", "warning", "train/b")]
        tiny = [f for f in findings if f.severity == Severity.WARNING][0]
        assert tiny.message == "class 'b' has only 4 images in train/ (minimum 10)"
        empty = [f for f in findings if f.path.endswith(os.path.join("train", "c"))][0]
        assert empty.message.startswith("class folder 'c' in train/ has no images: Keras still counts it as a class (3 classes")


class TestDuplicates:
    def test_within_class_across_classes_and_splits(self, tmp_path):
        root = str(tmp_path)
        spec = {"train/a": 12, "train/b": 12, "val/a": 3, "val/b": 3}
        ds = _tree(root, spec)
        same = {"content": "X"}
        odd = {"train/a/0001.jpg": same, "train/a/0005.jpg": same,  # within class
               "train/b/0002.jpg": {"content": "Y"}, "train/a/0009.jpg": {"content": "Y"},  # two labels
               "val/b/0000.jpg": {"content": "Z"}, "train/b/0011.jpg": {"content": "Z"}}  # leakage
        records = _fill(root, spec, **odd)
        forward = _run(ds, records)[1]
        backward = _run(ds, list(reversed(records)))[1]
        assert forward == backward  # the order the workers finish in changes nothing
        got = sorted((f.code, f.severity.value, os.path.relpath(os.path.abspath(f.path), root)) for f in forward)
        assert got == [("CNL508", "info", "train/a/0005.jpg"), ("CNL508", "warning", "train/b/0002.jpg"),
                       ("CNL509", "error", "val/b/0000.jpg")]
        leak = [f for f in forward if f.code == "CNL509"][0]
        assert leak.message.startswith(f"same image as {os.path.relpath(os.path.join(root, 'train/b/0011.jpg'))} (train/)")

    def test_corrupt_files_are_not_duplicates(self, tmp_path):
        root = str(tmp_path)
        spec = {"a": 12, "b": 12}
        ds = _tree(root, spec)
        bad = [Finding("CNL501", Severity.ERROR, "empty file", "x", 0, 0)]
        odd = {"a/0001.jpg": {"content": "X", "findings": bad}, "b/0001.jpg": {"content": "X", "findings": bad}}
        assert [f.code for f in _run(ds, _fill(root, spec, **odd))[1]] == ["CNL501", "CNL501"]

    def test_a_warning_on_the_file_does_not_hide_leakage(self, tmp_path):
        root = str(tmp_path)
        spec = {"train/a": 12, "train/b": 12, "val/a": 3, "val/b": 3}
        ds = _tree(root, spec)
        rotated = [Finding("CNL512", Severity.WARNING, "EXIF orientation 6", "x", 0, 0)]
        odd = {"train/a/0001.jpg": {"content": "X", "findings": rotated},
               "val/a/0001.jpg": {"content": "X", "findings": rotated}}
        codes = sorted(f.code for f in _run(ds, _fill(root, spec, **odd))[1])
        assert codes == ["CNL509", "CNL512", "CNL512"]


class TestRepeatedPerFileFindings:
    MSG = "Keras image_dataset_from_directory and Keras flow_from_directory silently skip .webp files"

    def _webp(self, root, rel):
        f = Finding("CNL503", Severity.WARNING, self.MSG, os.path.relpath(os.path.join(root, rel)), 0, 0, hint="convert")
        return {"findings": [f]}

    def test_up_to_ten_files_are_reported_one_by_one(self, tmp_path):
        root = str(tmp_path)
        spec = {"a": 12, "b": 12}
        ds = _tree(root, spec)
        odd = {f"a/{i:04d}.jpg": self._webp(root, f"a/{i:04d}.jpg") for i in range(3)}
        _, findings = _run(ds, _fill(root, spec, **odd))
        assert _codes(findings, root) == [("CNL503", "a/0000.jpg"), ("CNL503", "a/0001.jpg"), ("CNL503", "a/0002.jpg")]
        assert {f.message for f in findings} == {self.MSG}

    def test_more_share_one_finding_at_their_folder(self, tmp_path):
        root = str(tmp_path)
        spec = {"a": 12, "b": 12}
        ds = _tree(root, spec)
        odd = {f"a/{i:04d}.jpg": self._webp(root, f"a/{i:04d}.jpg") for i in range(12)}
        _, findings = _run(ds, _fill(root, spec, **odd))
        assert _codes(findings, root) == [("CNL503", "a")]
        (f,) = findings
        assert f.message == f"12 files: {self.MSG}; in a/ 12 (e.g. 0000.jpg, 0001.jpg, 0002.jpg)"
        assert f.severity is Severity.WARNING and f.hint == "convert"
