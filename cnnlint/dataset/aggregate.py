"""Dataset-wide findings from the stream of ImageRecords: modes, sizes, class counts, duplicates.

Memory grows with the number of classes (counters, a few example paths per
class and finding) plus one digest -> (class, path) entry per image.
"""

from __future__ import annotations

import bisect
import os
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from cnnlint.dataset.layout import ROLE_ORDER, Dataset
from cnnlint.dataset.quality import QualityLimits
from cnnlint.dataset.record import MODE_NAMES, ImageRecord
from cnnlint.dataset.similar import Looks
from cnnlint.findings import Finding, Severity

# per-file findings of the inspection that whole sets can share: grouped past PER_FILE files
GROUPED = frozenset({"CNL502", "CNL503", "CNL511", "CNL512"})
PER_FILE = 10  # up to this many offenders: one finding per file; more: one finding for the group
MINOR_SHARE = 0.01  # a channel mode under this share of the set is normal noise (ImageNet has some)
SIZE_KEYS = 4096  # distinct (width, height) pairs kept for "most common sizes"

@dataclass
class Thresholds:
    min_image_size: int = 32
    max_aspect_ratio: float = 4.0
    imbalance_ratio: float = 10.0
    min_class_size: int = 10
    near_duplicate_distance: int = 8  # CNL515/CNL516: differing bits of the 64-bit perceptual hash
    quality: QualityLimits = field(default_factory=QualityLimits)  # CNL517-CNL519


def mode_label(rec: ImageRecord) -> str:
    mode = rec.mode or "?"
    if (rec.bits or 8) > 8 or mode.startswith("I") or mode == "F":
        return "16-bit"
    return mode


class _Examples:
    """The `limit` smallest paths seen (deterministic whatever order the workers finish in)."""

    def __init__(self, limit: int = PER_FILE) -> None:
        self.limit = limit
        self.count = 0
        self.items: List[Tuple[str, tuple]] = []
        self.per_class: Counter = Counter()

    def add(self, path: str, key: int, info: tuple = ()) -> None:
        self.count += 1
        self.per_class[key] += 1
        if len(self.items) < self.limit or path < self.items[-1][0]:
            bisect.insort(self.items, (path, info))
            del self.items[self.limit:]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else ('es' if word.endswith('s') else 's')}"


@dataclass
class Aggregate:
    dataset: Dataset
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        n = len(self.dataset.keys)
        self.counts = [0] * n  # image-named files per class
        self.files = 0
        self.usable = 0
        self.modes: Counter = Counter()
        self.mode_examples: Dict[str, _Examples] = {}
        self.sizes: Counter = Counter()
        # every usable image's width and height (2 bytes each), for the cross-check's size questions
        self.widths = array("H")
        self.heights = array("H")
        self.image_keys = array("I")  # each one's class key (an index into dataset.keys)
        self.colour: "Counter[bool]" = Counter()  # RGB images by content: True colour, False grey stored as RGB
        self.min_wh: Optional[Tuple[int, int]] = None
        self.max_wh: Optional[Tuple[int, int]] = None
        self.small = _Examples()
        self.elongated = _Examples()
        self.first: Dict[bytes, Tuple[int, str]] = {}
        self.dups: Dict[bytes, List[Tuple[int, str]]] = {}
        self.findings: List[Finding] = []
        # per-file findings that many files share (a set of WebP files, of phone photos): grouped
        self.repeated: Dict[Tuple[str, str], _Examples] = {}
        # each loader's outcome for the files a loader has trouble with or that have a finding: path ->
        # one letter per loader of LOADERS (o ok, s skipped, f fails, a altered), for the JSON
        self.outcomes: Dict[str, str] = {}
        # perceptual hashes and statistics: near-duplicates and quality outliers (CNL515-CNL519)
        self.looks = Looks(self.dataset, self.thresholds.near_duplicate_distance, self.thresholds.quality)

    def add(self, rec: ImageRecord) -> None:
        key = self.dataset.key_of(rec.real_path)
        if rec.effects or rec.findings:
            self.outcomes[rec.path] = "".join(o[0] for o in rec.loaders().values())
        for f in rec.findings:
            if f.code in GROUPED and key is not None:
                group = self.repeated.get((f.code, f.message))
                if group is None:
                    group = self.repeated[(f.code, f.message)] = _Examples(limit=PER_FILE)
                group.add(rec.path, key, (f,))
            else:
                self.findings.append(f)
        if key is None:
            return
        self.files += 1
        self.counts[key] += 1
        if not rec.usable:
            return
        self.usable += 1
        label = mode_label(rec)
        self.modes[label] += 1
        w, h = rec.width or 0, rec.height or 0
        self._size(w, h)
        self.widths.append(min(w, 65535))
        self.heights.append(min(h, 65535))
        self.image_keys.append(key)
        if rec.colour is not None:
            self.colour[rec.colour] += 1
        if rec.digest is not None:  # a warning (EXIF orientation, WebP) does not hide a duplicate
            seen = self.first.get(rec.digest)
            if seen is None:
                self.first[rec.digest] = (key, rec.path)
            else:
                self.dups.setdefault(rec.digest, []).append((key, rec.path))
        self.looks.add(key, rec.path, rec.phash, rec.digest, rec.stats, rec.layout)
        if rec.findings:
            return  # counted in the mix, but a file already flagged gets no mode or size finding
        ex = self.mode_examples.get(label)
        if ex is None:
            ex = self.mode_examples[label] = _Examples(limit=PER_FILE)
        ex.add(rec.path, key)
        t = self.thresholds
        if w and h:
            if min(w, h) < t.min_image_size:
                self.small.add(rec.path, key, (w, h))
            if max(w, h) / min(w, h) > t.max_aspect_ratio:
                self.elongated.add(rec.path, key, (w, h))

    def _size(self, w: int, h: int) -> None:
        self.sizes[(w, h)] += 1
        if len(self.sizes) > SIZE_KEYS:  # keep the common ones: drop the singletons
            for k in [k for k, c in self.sizes.items() if c == 1]:
                del self.sizes[k]
        lo, hi = self.min_wh, self.max_wh
        if lo is None or hi is None:
            self.min_wh = self.max_wh = (w, h)
            return
        if w < lo[0] or h < lo[1]:
            self.min_wh = (min(lo[0], w), min(lo[1], h))
        if w > hi[0] or h > hi[1]:
            self.max_wh = (max(hi[0], w), max(hi[1], h))

    # ---- findings --------------------------------------------------------------------------

    def finish(self) -> List[Finding]:
        out = list(self.findings)
        out += self._repeated_findings()
        out += self._mode_findings()
        out += self._size_findings()
        out += self._class_findings()
        out += self._duplicate_findings()
        out += self.looks.finish()
        return sorted(out, key=Finding.sort_key)

    def _where(self, ex: _Examples) -> str:
        parts = []
        for key, n in sorted(ex.per_class.items(), key=lambda kv: (-kv[1], kv[0]))[:5]:
            parts.append(f"{self._class_label(key)} {n:,}")
        more = len(ex.per_class) - 5
        return ", ".join(parts) + (f" and {more} more folders" if more > 0 else "")

    def _class_label(self, key: int) -> str:
        path = self.dataset.class_path(key)
        rel = os.path.relpath(path, self.dataset.path)
        return (self.dataset.path if rel == os.curdir else rel).rstrip("/") + "/"

    def _group_path(self, ex: _Examples) -> str:
        """The class folder when all offenders are in one, else the dataset."""
        if len(ex.per_class) == 1:
            return self.dataset.class_path(next(iter(ex.per_class)))
        return self.dataset.path

    def _examples(self, ex: _Examples, n: int = 3) -> str:
        return ", ".join(os.path.basename(p) for p, _ in ex.items[:n])

    def _repeated_findings(self) -> List[Finding]:
        """The same per-file finding on up to PER_FILE files: each; on more: one for their folder."""
        out: List[Finding] = []
        for (code, message), ex in sorted(self.repeated.items()):
            if ex.count <= PER_FILE:
                out += [info[0] for _, info in ex.items]
                continue
            first = ex.items[0][1][0]
            msg = f"{ex.count:,} files: {message}; in {self._where(ex)} (e.g. {self._examples(ex)})"
            out.append(Finding(code, first.severity, msg, self._group_path(ex), 0, 0, hint=first.hint))
        return out

    def _mode_findings(self) -> List[Finding]:
        total = sum(self.modes.values())
        if not total:
            return []
        order = sorted(self.modes.items(), key=lambda kv: (-kv[1], kv[0] != "RGB", kv[0]))
        dominant, dominant_n = order[0]
        out = []
        for label, n in order:
            if label == dominant:
                continue
            elif n < MINOR_SHARE * total:
                continue  # a few odd ones among thousands: every standard loader converts them
            else:
                what = MODE_NAMES.get(label, label)
                why = f"the set is mostly {MODE_NAMES.get(dominant, dominant)} ({_plural(dominant_n, 'image')})"
                hint = ("convert them once (Image.open(p).convert('RGB').save(p)), or make sure the loader converts "
                        "every image (ImageFolder and Keras color_mode='rgb' do; a custom loader that stacks arrays "
                        "fails on mixed channel counts)")
            ex = self.mode_examples.get(label)
            if ex is None:
                continue  # only files flagged for something else
            n = ex.count
            sev = Severity.WARNING
            if n <= PER_FILE:
                for path, _ in ex.items:
                    out.append(Finding("CNL504", sev, f"{what} image: {why}", path, 0, 0, hint=hint))
            else:
                msg = (f"{n:,} of {total:,} images are {what}: {why}; "
                       f"in {self._where(ex)} (e.g. {self._examples(ex)})")
                out.append(Finding("CNL504", sev, msg, self._group_path(ex), 0, 0, hint=hint))
        return out

    def _size_findings(self) -> List[Finding]:
        total = sum(self.modes.values())
        t = self.thresholds
        common = self.most_common_sizes(1)
        typical = f" (most images here are {common[0][0]}x{common[0][1]})" if common else ""
        out = []
        for ex, kind in ((self.small, "small"), (self.elongated, "aspect")):
            if not ex.count or ex.count * 2 > total:
                continue  # most of the set is like this: it is the set's own format, not an outlier
            it = "it" if ex.count <= PER_FILE else "them"
            if kind == "small":
                hint = (f"drop {it} or use a larger original; upscaling a tiny image feeds the model blur "
                        f"(min-image-size sets the limit, now {t.min_image_size})")
            else:
                hint = (f"crop or pad {it} before resizing, or drop {it} "
                        f"(max-aspect-ratio sets the limit, now {t.max_aspect_ratio:g}:1)")
            if ex.count <= PER_FILE:
                for path, (w, h) in ex.items:
                    if kind == "small":
                        msg = f"image is {w}x{h} px, under the minimum of {t.min_image_size} px on a side{typical}"
                    else:
                        msg = (f"image is {w}x{h} px, aspect ratio {max(w, h) / min(w, h):.1f}:1 "
                               f"(over {t.max_aspect_ratio:g}:1): resizing to the input shape distorts it")
                    out.append(Finding("CNL505", Severity.WARNING, msg, path, 0, 0, hint=hint))
            else:
                what = (f"smaller than {t.min_image_size} px on a side" if kind == "small"
                        else f"more elongated than {t.max_aspect_ratio:g}:1")
                msg = f"{ex.count:,} of {total:,} images are {what}: in {self._where(ex)} (e.g. {self._examples(ex)})"
                out.append(Finding("CNL505", Severity.WARNING, msg, self._group_path(ex), 0, 0, hint=hint))
        return out

    def _class_findings(self) -> List[Finding]:
        ds, t = self.dataset, self.thresholds
        out = []
        for si, split in enumerate(ds.splits):
            if split.flat:
                continue
            keys = [k for k, (s, _) in enumerate(ds.keys) if s == si]
            where = f" in {split.name}/" if split.name else ""
            unseen = sum(1 for k in keys if not self.counts[k])
            never = "one never seen" if unseen == 1 else f"{unseen} never seen"
            for k in keys:
                n, name = self.counts[k], ds.class_name(k)
                if n == 0:
                    out.append(Finding(
                        "CNL507", Severity.ERROR,
                        f"class folder '{name}'{where} has no images: Keras still counts it as a class "
                        f"({len(keys)} classes, {never}) and torchvision's ImageFolder raises FileNotFoundError",
                        ds.class_path(k), 0, 0, hint="add its images or delete the folder"))
                elif n < t.min_class_size and split.role in ("train", None):
                    out.append(Finding(
                        "CNL507", Severity.WARNING,
                        f"class '{name}' has only {_plural(n, 'image')}{where} (minimum {t.min_class_size})",
                        ds.class_path(k), 0, 0,
                        hint="collect more images, merge the class into another, or lower min-class-size"))
            filled = [k for k in keys if self.counts[k]]
            if len(filled) < 2:
                continue
            big = max(filled, key=lambda k: (self.counts[k], -k))
            small = min(filled, key=lambda k: (self.counts[k], k))
            ratio = self.counts[big] / self.counts[small]
            if ratio > t.imbalance_ratio:
                out.append(Finding(
                    "CNL506", Severity.WARNING,
                    f"class '{ds.class_name(small)}' has {_plural(self.counts[small], 'image')}, "
                    f"'{ds.class_name(big)}' has {self.counts[big]:,} (ratio {ratio:.0f}:1){where}",
                    split.path, 0, 0,
                    hint="collect more of the small classes, or weight them (class_weight= in Keras, "
                         "a weighted loss or WeightedRandomSampler in PyTorch)"))
        return out

    def _duplicate_findings(self) -> List[Finding]:
        ds = self.dataset
        out = []
        for digest, extra in self.dups.items():
            members = sorted([self.first[digest]] + extra,
                             key=lambda m: (ROLE_ORDER.get(ds.split_of(m[0]).role, 1), m[1]))
            orig_key, orig = members[0]
            orig_split = ds.keys[orig_key][0]
            for key, path in members[1:]:
                split = ds.split_of(key)
                if ds.keys[key][0] != orig_split:
                    first = ds.split_of(orig_key)
                    out.append(Finding(
                        "CNL509", Severity.ERROR,
                        f"same image as {orig} ({first.name}/): the {split.name}/ split holds a picture the "
                        f"model trains on, so its scores are inflated",
                        path, 0, 0, hint=f"remove it from {split.name}/ (or from {first.name}/)"))
                elif key != orig_key:
                    out.append(Finding(
                        "CNL508", Severity.WARNING,
                        f"same image as {orig}: one picture with two labels, "
                        f"'{ds.class_name(orig_key)}' and '{ds.class_name(key)}'",
                        path, 0, 0, hint="keep it only in the folder of its true class"))
                else:
                    out.append(Finding(
                        "CNL508", Severity.INFO,
                        f"same image as {orig} in the same class: it counts twice in training",
                        path, 0, 0, hint="delete one copy"))
        return out

    # ---- numbers for the report ------------------------------------------------------------

    def most_common_sizes(self, n: int = 3) -> List[Tuple[int, int, int]]:
        return [(w, h, c) for (w, h), c in sorted(self.sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
