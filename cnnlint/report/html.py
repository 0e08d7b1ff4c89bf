"""--format html: one self-contained page (no external URL, font, script or style) for people to look at.

Per dataset: class balance per split, image sides and modes as inline SVG charts,
thumbnails of the flagged images grouped by finding, near-duplicate pairs side by
side with their distance; then every finding with its hint, and the code
findings with their source line. Rendered with Jinja2 with autoescape on: every
path and message is escaped. Bounded whatever the set's size: thumbnails are
capped per group and in all, and the findings table is capped.
"""

from __future__ import annotations

import os
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from cnnlint import __version__
from cnnlint.findings import Finding
from cnnlint.report.formats import Report, register
from cnnlint.report.charts import BarChart, bar_chart, side_histogram
from cnnlint.report.paths import escape_text
from cnnlint.report.summary import summarize
from cnnlint.report.thumbs import thumbnail
from cnnlint.sources.lines import SourceLines

PER_GROUP = 24  # thumbnails per finding code and dataset
PAIRS = 40  # near-duplicate pairs shown per dataset
MAX_THUMBS = 1200  # thumbnails in the whole page (each about 3-6 KB)
MAX_ROWS = 5000  # rows of the findings table
NO_THUMB = ("CNL501", "CNL513", "CNL514")  # files not to open again: corrupt, bombs, unreadable


@dataclass
class Shot:
    path: str
    message: str
    src: Optional[str]  # data: URI, or None: shown as its path only


@dataclass
class Group:
    code: str
    name: str
    count: int
    shots: List[Shot] = field(default_factory=list)


@dataclass
class PairView:
    code: str
    severity: str
    distance: int
    copy: Shot
    original: Shot


@dataclass
class DatasetView:
    path: str
    summary: str
    charts: List[BarChart]
    groups: List[Group]
    pairs: List[PairView]
    more_pairs: int


@dataclass
class Row:
    code: str
    severity: str
    location: str
    message: str
    hint: str
    snippet: Optional[str]


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def shot(self, path: str, message: str, code: str = "") -> Shot:
        src = None
        if self.left > 0 and code not in NO_THUMB:
            src = thumbnail(os.path.abspath(path))
            if src is not None:
                self.left -= 1
        return Shot(path, message, src)


def _names() -> Dict[str, str]:
    from cnnlint.catalog import catalog

    return {info.code: info.name for info in catalog()}


def _charts(result) -> List[BarChart]:
    ds, agg = result.dataset, result.aggregate
    charts = []
    for si, split in enumerate(ds.splits):
        if split.flat:
            continue
        rows = [(ds.class_name(k), agg.counts[k]) for k, (s, _) in enumerate(ds.keys) if s == si]
        title = f"{split.name}/: images per class" if split.name else "images per class"
        charts.append(bar_chart(title, rows))
    longer = [max(w, h) for w, h in zip(agg.widths, agg.heights)]
    shorter = [min(w, h) for w, h in zip(agg.widths, agg.heights)]
    if longer:
        charts.append(bar_chart("longer side (pixels)", side_histogram(longer), keep_order=True))
        charts.append(bar_chart("shorter side (pixels)", side_histogram(shorter), keep_order=True))
    if agg.modes:
        from cnnlint.dataset.record import MODE_NAMES

        charts.append(bar_chart("modes", [(MODE_NAMES.get(m, m), n) for m, n in agg.modes.most_common()],
                                keep_order=True))
    return charts


def _groups(result, findings: Sequence[Finding], names: Dict[str, str], budget: _Budget) -> List[Group]:
    ds, looks = result.dataset, result.aggregate.looks
    items: "OrderedDict[str, OrderedDict[str, str]]" = OrderedDict()
    counts: Counter = Counter()
    for f in findings:
        if not f.code.startswith("CNL5") or not ds.contains(f.path):
            continue
        counts[f.code] += 1
        if os.path.isfile(f.path):
            items.setdefault(f.code, OrderedDict()).setdefault(f.path, f.message)
    for code, path, message in looks.outliers:  # every outlier, also those a grouped finding counts
        items.setdefault(code, OrderedDict()).setdefault(path, message)
    groups = []
    for code in sorted(set(counts) | set(items)):
        paths = items.get(code, OrderedDict())
        shots = [budget.shot(p, m, code) for p, m in list(paths.items())[:PER_GROUP]]
        groups.append(Group(code, names.get(code, ""), max(counts[code], len(paths)), shots))
    return groups


def _pairs(result, budget: _Budget) -> List[PairView]:
    out = []
    for p in result.aggregate.looks.pairs[:PAIRS]:
        out.append(PairView(p.code, p.severity.value, p.distance,
                            budget.shot(p.copy, ""), budget.shot(p.original, "")))
    return out


def _summary_line(result) -> str:
    ds = result.dataset
    splits = ", ".join(s.name + "/" for s in ds.splits if s.name)
    classes = len({c for s in ds.splits for c in s.classes})
    parts = [f"splits {splits}" if splits else "", f"{classes:,} classes" if classes else "",
             f"{result.images:,} images", f"scanned in {result.seconds:.1f} s"]
    return "; ".join(p for p in parts if p)


def _dataset_view(result, findings, names, budget) -> DatasetView:
    pairs = result.aggregate.looks.pairs
    return DatasetView(result.dataset.path, _summary_line(result), _charts(result),
                       _groups(result, findings, names, budget), _pairs(result, budget),
                       max(0, len(pairs) - PAIRS))


def _rows(findings: Sequence[Finding]) -> List[Row]:
    lines = SourceLines()
    rows = []
    for f in findings[:MAX_ROWS]:
        snippet = None
        if f.line > 0:
            src = lines.get(f)
            if src is not None and src.strip():
                snippet = f"{f.line:>5} | {src.rstrip()}"
        rows.append(Row(f.code, f.severity.value, f.location(), f.message, f.hint or "", snippet))
    return rows


def render_html(findings: List[Finding], files: int, datasets: Sequence = ()) -> str:
    import jinja2

    names = _names()
    budget = _Budget(MAX_THUMBS)
    views = [_dataset_view(r, findings, names, budget) for r in datasets]
    in_data = [any(r.dataset.contains(f.path) for r in datasets) for f in findings]
    code_rows = _rows([f for f, d in zip(findings, in_data) if not d])
    data_rows = _rows([f for f, d in zip(findings, in_data) if d])
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), "templates")),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    # a file name that is not UTF-8 shows its bytes as octal escapes (bad\377.jpg), as text output does
    return escape_text(env.get_template("report.html.j2").render(
        version=__version__, summary=summarize(findings, files), total=len(findings), datasets=views,
        code_rows=code_rows, data_rows=data_rows, max_rows=MAX_ROWS,
        code_more=max(0, sum(1 for d in in_data if not d) - MAX_ROWS),
        data_more=max(0, sum(1 for d in in_data if d) - MAX_ROWS),
    ))


@register
class HtmlFormat:
    name = "html"
    help = "one self-contained page with charts and thumbnails, for -o report.html"

    def render(self, report: Report) -> str:
        return render_html(report.findings, report.files, report.datasets)
