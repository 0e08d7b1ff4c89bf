"""Near-duplicates (CNL515, CNL516) and quality outliers (CNL517-519) of one dataset, from the records' pixel facts.

`Looks` keeps, per decoded image, its class key, path, perceptual hash, the first
8 bytes of its content digest, its six statistics and its 63-byte layout (about 120 bytes beside the
path). `finish` judges the statistics against the set (quality.judge), then finds
every pair within the Hamming radius (neardup.near_pairs) among the images that are
not blank or black (their hash means nothing), leaves out byte-identical pairs
(CNL508/CNL509 report those) and pairs whose low DCT coefficients do not correlate
(phash.same_layout: hashes that agree by chance), and reports each pair once: across splits CNL515,
within a split CNL516.
"""

from __future__ import annotations

import os
from array import array
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from cnnlint.dataset.layout import ROLE_ORDER, Dataset
from cnnlint.dataset.neardup import near_pairs
from cnnlint.dataset.phash import same_layout
from cnnlint.dataset.record import LAYOUT_BYTES
from cnnlint.dataset.quality import Outlier, QualityLimits, judge
from cnnlint.findings import Finding, Severity

PER_FILE = 10  # up to this many: one finding each; more: one finding for the group
EXAMPLES = 3

_QUALITY_HINTS = {
    "CNL517": "look at it: re-take or re-expose it, or delete it if it shows nothing "
              "(exposure-share sets the share of black or white pixels)",
    "CNL518": "look at it: replace it with a sharp copy or delete it (blur-ratio sets how much blurrier "
              "than the set's median it must be)",
    "CNL519": "delete it if it is a blank frame or a placeholder (min-entropy and min-contrast set the limits)",
}


@dataclass
class NearPair:
    copy: str  # the path reported: the later split (val/test), or the later path
    original: str
    distance: int
    code: str  # CNL515 or CNL516
    severity: Severity
    copy_key: int
    original_key: int


@dataclass
class Looks:
    dataset: Dataset
    radius: int = 8
    limits: QualityLimits = field(default_factory=QualityLimits)

    def __post_init__(self) -> None:
        self.keys = array("I")
        self.paths: List[str] = []
        self.hashes = array("Q")
        self.digests = array("Q")
        self.stats = array("f")
        self.layouts = bytearray()  # LAYOUT_BYTES an image; zeros: unknown
        self.pairs: List[NearPair] = []  # after finish: every near pair reported, for the HTML report
        self.outliers: List[Tuple[str, str, str]] = []  # after finish: (code, path, message)

    def add(self, key: int, path: str, phash: Optional[int], digest: Optional[bytes], stats,
            layout: Optional[bytes] = None) -> None:
        if phash is None or stats is None:
            return
        self.keys.append(key)
        self.paths.append(path)
        self.hashes.append(phash)
        self.digests.append(int.from_bytes(digest[:8], "big") if digest else len(self.paths))
        self.stats.extend(stats.as_tuple())
        self.layouts += layout if layout is not None and len(layout) == LAYOUT_BYTES else bytes(LAYOUT_BYTES)

    def finish(self) -> List[Finding]:
        n = len(self.paths)
        if not n:
            return []
        stats = np.frombuffer(self.stats, dtype=np.float32).reshape(n, 6)
        flagged = judge(stats, self.limits)
        self.outliers = [(o.code, self.paths[o.index], o.message) for o in flagged]
        meaningless = {o.index for o in flagged if o.code in ("CNL517", "CNL519")}
        out = self._quality_findings(flagged)
        self.pairs = self._near_pairs(meaningless)
        out += self._pair_findings()
        return out

    # ---- quality -----------------------------------------------------------------------------

    def _quality_findings(self, flagged: List[Outlier]) -> List[Finding]:
        out: List[Finding] = []
        by_code: Dict[str, List[Outlier]] = {}
        for o in flagged:
            by_code.setdefault(o.code, []).append(o)
        for code, items in sorted(by_code.items()):
            items.sort(key=lambda o: self.paths[o.index])
            if len(items) <= PER_FILE:
                out += [Finding(code, Severity.WARNING, o.message, self.paths[o.index], 0, 0, hint=_QUALITY_HINTS[code])
                        for o in items]
                continue
            what = {"CNL517": "almost black or blown out", "CNL518": "far blurrier than the set",
                    "CNL519": "blank or nearly so"}[code]
            examples = ", ".join(os.path.basename(self.paths[o.index]) for o in items[:EXAMPLES])
            out.append(Finding(code, Severity.WARNING, f"{len(items):,} images are {what} (e.g. {examples})",
                               self._common_folder([o.index for o in items]), 0, 0,
                               hint=_QUALITY_HINTS[code].replace(" it", " them").replace("them is", "them are")))
        return out

    # ---- near-duplicates ---------------------------------------------------------------------

    def _near_pairs(self, meaningless) -> List[NearPair]:
        n = len(self.paths)
        keep = np.ones(n, dtype=bool)
        if meaningless:
            keep[list(meaningless)] = False
        index = np.flatnonzero(keep)
        hashes = np.frombuffer(self.hashes, dtype=np.uint64)[index]
        digests = np.frombuffer(self.digests, dtype=np.uint64)[index]
        found = near_pairs(hashes, self.radius)
        pairs = []
        for i, j, d in found:
            if digests[i] == digests[j]:
                continue  # byte-identical: CNL508 or CNL509
            if not same_layout(self._layout(int(index[i])), self._layout(int(index[j]))):
                continue  # the hashes agree by chance, the low frequencies do not: two pictures
            pairs.append(self._classify(int(index[i]), int(index[j]), int(d)))
        pairs.sort(key=lambda p: (p.code, p.copy, p.original))
        return pairs

    def _layout(self, i: int) -> bytes:
        return bytes(self.layouts[i * LAYOUT_BYTES:(i + 1) * LAYOUT_BYTES])

    def _classify(self, a: int, b: int, distance: int) -> NearPair:
        ds = self.dataset
        ka, kb = self.keys[a], self.keys[b]
        rank = lambda k, i: (ROLE_ORDER.get(ds.split_of(k).role, 1), self.paths[i])  # noqa: E731
        if rank(kb, b) < rank(ka, a):
            a, b, ka, kb = b, a, kb, ka
        if ds.keys[ka][0] != ds.keys[kb][0]:
            code, sev = "CNL515", Severity.ERROR
        elif ka != kb:
            code, sev = "CNL516", Severity.WARNING
        else:
            code, sev = "CNL516", Severity.INFO
        return NearPair(self.paths[b], self.paths[a], distance, code, sev, kb, ka)

    def _pair_message(self, p: NearPair) -> Tuple[str, str]:
        ds = self.dataset
        near = f"near-duplicate of {p.original} ({p.distance} of 64 hash bits differ)"
        if p.code == "CNL515":
            copy, orig = ds.split_of(p.copy_key), ds.split_of(p.original_key)
            return (f"{near}: the {copy.name}/ split holds a re-encoded, resized or cropped copy of a picture "
                    f"in {orig.name}/, so its scores are inflated",
                    f"remove it from {copy.name}/ (or from {orig.name}/)")
        if p.severity is Severity.WARNING:
            return (f"{near} under another label: one picture labelled '{ds.class_name(p.original_key)}' "
                    f"and '{ds.class_name(p.copy_key)}'", "keep it only in the folder of its true class")
        return f"{near} in the same class: it counts twice in training", "delete one copy"

    def _pair_findings(self) -> List[Finding]:
        out: List[Finding] = []
        groups: Dict[Tuple[str, Severity], List[NearPair]] = {}
        for p in self.pairs:
            groups.setdefault((p.code, p.severity), []).append(p)
        for (code, sev), items in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
            if len(items) <= PER_FILE:
                for p in items:
                    message, hint = self._pair_message(p)
                    out.append(Finding(code, sev, message, p.copy, 0, 0, hint=hint))
                continue
            examples = "; ".join(f"{os.path.basename(p.copy)} ~ {p.original} ({p.distance})" for p in items[:EXAMPLES])
            message, hint = self._pair_message(items[0])
            if code == "CNL515":
                what = "near-duplicates of pictures in another split"
            elif sev is Severity.WARNING:
                what = "near-duplicates of pictures under another label"
            else:
                what = "near-duplicates of pictures in the same class"
            hint = hint.replace(" it ", " them ").replace("one copy", "one copy of each")
            out.append(Finding(code, sev, f"{len(items):,} images are {what} (within {self.radius} of 64 hash bits), "
                                          f"e.g. {examples}",
                               self._common_folder_paths([p.copy for p in items]), 0, 0, hint=hint))
        return out

    def _common_folder(self, indices: List[int]) -> str:
        return self._common_folder_paths([self.paths[i] for i in indices])

    def _common_folder_paths(self, paths: List[str]) -> str:
        try:
            folder = os.path.commonpath([os.path.dirname(p) for p in paths])
        except ValueError:  # no paths, or absolute and relative mixed
            return self.dataset.path
        return folder if folder and self.dataset.contains(folder) else self.dataset.path
