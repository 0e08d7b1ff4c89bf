"""The dataset summary: a text section (layout, class bars, sizes, modes, finding counts) and JSON."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from typing import Dict, List, Optional, Sequence

from cnnlint.dataset.aggregate import _plural
from cnnlint.dataset.record import MODE_NAMES
from cnnlint.dataset.inspect import EXTENSIONS
from cnnlint.dataset.layout import Split
from cnnlint.dataset.loaders import LOADERS, OUTCOMES
from cnnlint.dataset.run import DatasetResult
from cnnlint.findings import Finding

MAX_BARS = 24  # classes per split drawn; beyond it the largest and smallest, and a line for the rest


def terminal_width(stream=None) -> int:
    if stream is not None and getattr(stream, "isatty", lambda: False)():
        return max(40, min(shutil.get_terminal_size((80, 24)).columns, 160))
    return 80


def finding_counts(result: DatasetResult, findings: Sequence[Finding]) -> Dict[str, int]:
    """Counts by code of the (kept) findings that lie in this dataset."""
    counts = Counter(f.code for f in findings if result.dataset.contains(f.path))
    return dict(sorted(counts.items()))


def _split_counts(result: DatasetResult, si: int) -> List[tuple]:
    ds, agg = result.dataset, result.aggregate
    return [(ds.class_name(k), agg.counts[k]) for k, (s, _) in enumerate(ds.keys) if s == si]


def _layout_line(result: DatasetResult) -> str:
    ds = result.dataset
    classes = {c for s in ds.splits for c in s.classes}
    if ds.layout == "splits":
        what = f"splits {', '.join(f'{s.name}/' for s in ds.splits)}"
        if classes:
            what += f"; {_plural(len(classes), 'class')}"
    elif ds.layout == "classes":
        what = f"{len(classes)} class folder" + ("s" if len(classes) != 1 else "")
    else:
        what = "one folder of images, no classes"
    rate = result.images / result.seconds if result.seconds > 0 else 0.0
    return (f"Dataset {ds.path.rstrip(os.sep)}/: {what}; {_plural(result.images, 'image')}, "
            f"scanned in {result.seconds:.1f} s ({rate:,.0f} images/s)")


def _bars(rows: List[tuple], width: int) -> List[str]:
    if not rows:
        return []
    shown = rows
    hidden = 0
    if len(rows) > MAX_BARS:
        ranked = sorted(rows, key=lambda r: (-r[1], r[0]))
        shown = ranked[: MAX_BARS // 2] + ranked[-(MAX_BARS // 2):]
        hidden = len(rows) - len(shown)
    name_w = min(max(len(r[0]) for r in shown), 24)
    num_w = max(len(f"{r[1]:,}") for r in shown)
    bar_w = max(width - 4 - name_w - 1 - 1 - num_w, 10)
    top = max(r[1] for r in rows) or 1
    out = []
    for i, (name, n) in enumerate(shown):
        if hidden and i == MAX_BARS // 2:
            out.append(f"    {'':<{name_w}}  ... {hidden:,} more classes between these ...")
        label = name if len(name) <= name_w else name[: name_w - 1] + "~"
        length = round(n / top * bar_w)
        bar = "#" * length if n else ""
        if n and not bar:
            bar = "|"
        out.append(f"    {label:<{name_w}} {bar:<{bar_w}} {n:>{num_w},}")
    return out


def _split_title(split: Split, n: int) -> str:
    return f"  {split.name}/: {_plural(n, 'image')}" if split.name else f"  {_plural(n, 'image')}"


def render_section(results: Sequence[DatasetResult], findings: Sequence[Finding], width: int = 80) -> str:
    blocks = []
    for r in results:
        ds, agg = r.dataset, r.aggregate
        lines = [_layout_line(r)]
        for si, split in enumerate(ds.splits):
            rows = _split_counts(r, si)
            total = sum(n for _, n in rows)
            if split.flat:
                if ds.layout == "splits":
                    lines.append(_split_title(split, total) + " (no class folders)")
                continue
            lines.append(_split_title(split, total) + f" in {_plural(len(rows), 'class')}")
            lines.extend(_bars(rows, width))
        if agg.min_wh is not None and agg.max_wh is not None:
            common = ", ".join(f"{w}x{h} ({c:,})" for w, h, c in agg.most_common_sizes(3))
            lines.append(f"  sizes: width {agg.min_wh[0]}-{agg.max_wh[0]}, height {agg.min_wh[1]}-{agg.max_wh[1]}; "
                         f"most common {common}")
        if agg.modes:
            mix = ", ".join(f"{MODE_NAMES.get(m, m)} {n:,}" for m, n in agg.modes.most_common())
            lines.append(f"  modes: {mix}")
        counts = finding_counts(r, findings)
        if counts:
            lines.append("  findings: " + ", ".join(f"{code} x{n}" for code, n in counts.items()))
        else:
            lines.append("  findings: none")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def to_json(results: Sequence[DatasetResult], findings: Sequence[Finding]) -> List[dict]:
    out = []
    for r in results:
        ds, agg = r.dataset, r.aggregate
        splits = []
        for si, split in enumerate(ds.splits):
            rows = _split_counts(r, si)
            splits.append({
                "name": split.name,
                "role": split.role,
                "path": split.path,
                "images": sum(n for _, n in rows),
                "classes": None if split.flat else {name: n for name, n in rows},
            })
        out.append({
            "path": ds.path,
            "layout": ds.layout,
            "images": r.images,
            "splits": splits,
            "sizes": None if agg.min_wh is None or agg.max_wh is None else {
                "min_width": agg.min_wh[0], "max_width": agg.max_wh[0],
                "min_height": agg.min_wh[1], "max_height": agg.max_wh[1],
                "most_common": [{"width": w, "height": h, "images": c} for w, h, c in agg.most_common_sizes(5)],
            },
            "modes": dict(agg.modes.most_common()),
            "findings": finding_counts(r, findings),
            "loaders": list(r.loaders),
            "files": files_json(r, findings),
            "scan_seconds": round(r.seconds, 3),
            "images_per_second": round(r.images / r.seconds, 1) if r.seconds > 0 else None,
        })
    return out


_OUTCOME = {o[0]: o for o in OUTCOMES}


def files_json(result: DatasetResult, findings: Sequence[Finding]) -> Dict[str, dict]:
    """Each image file with a finding: what each training loader does with it (ok, skipped, fails, altered)."""
    out: Dict[str, dict] = {}
    outcomes = result.aggregate.outcomes
    for f in findings:
        if f.path in out or not result.dataset.contains(f.path):
            continue
        letters = outcomes.get(f.path)
        if letters is None:
            if not _is_file(result, f.path) or EXTENSIONS.get(os.path.splitext(f.path)[1].lower()) is None:
                continue  # a folder, or a stray file that is no image
            letters = "o" * len(LOADERS)
        out[f.path] = {"loaders": {ld: _OUTCOME[c] for ld, c in zip(LOADERS, letters)}}
    return dict(sorted(out.items()))


def _is_file(result: DatasetResult, path: str) -> bool:
    listing = result.dataset.listing  # a bucket's: its objects are listed
    return listing.meta(path) is not None if listing is not None else os.path.isfile(path)


def describe(results: Sequence[DatasetResult]) -> Optional[str]:
    """`1 dataset of 240 images`, for the closing line."""
    if not results:
        return None
    images = sum(r.images for r in results)
    return f"{len(results)} dataset{'s' if len(results) != 1 else ''} of {_plural(images, 'image')}"
