"""Score cnnlint on the real-world corpus (issue 14): per-rule precision and recall.

    python bench/realworld/rebuild.py            # once: materialise the files
    python bench/realworld/score.py [--folder DIR] [--json] [--save-findings F | --findings F]

cnnlint runs once per repository folder of the rebuilt corpus (so that repository's pins apply),
on that repository's corpus files only. Only (file, code) pairs are scored, for the static codes
CNL1xx-CNL4xx:
- a label is *found* when cnnlint reports its code (after PLACEHOLDERS) in its file; a label whose
  code cnnlint does not have yet is a miss;
- a reported (file, code) pair is a *true alarm* when the file has a label with that code, a *false
  alarm* otherwise (several findings of one code in one file are one pair);
- recall = found labels / labels; precision = true pairs / reported pairs.
Findings in files outside the corpus (manifests copied for context, `-r` files) are ignored.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rebuild import DEFAULT_FOLDER, DEFAULT_PARTS, Entry, load_parts_or_say  # noqa: E402

# Labels written before their rule existed use a placeholder code; map each to the code that
# reports it once there is one (None: no code yet, every such label is a miss).
PLACEHOLDERS: Dict[str, Optional[str]] = {
    # a training DataLoader with shuffle=False and no sampler: CNL105 training-loader-not-shuffled
    "NEW-SHUFFLE": "CNL105",
    # an epoch loop that calls eval() and never train() again: CNL203's third form describes it
    "NEW-TRAIN-AFTER-EVAL": "CNL203",
}
SCORED = re.compile(r"^CNL[1-4]\d\d$")
RUN_TIMEOUT_S = 900


@dataclass(frozen=True)
class Finding:
    file: str  # owner+name/path, as Entry.key
    code: str
    line: Optional[int]  # in a notebook: the line within `cell`
    message: str
    cell: Optional[int] = None

    @property
    def where(self) -> str:
        line = "?" if self.line is None else str(self.line)
        return line if self.cell is None else f"cell {self.cell} line {line}"


@dataclass
class RuleScore:
    code: str
    labels: int = 0
    found: int = 0
    findings: int = 0  # findings of this code in corpus files (several per pair possible)
    pairs: int = 0  # reported (file, code) pairs
    false_alarms: int = 0

    @property
    def missed(self) -> int:
        return self.labels - self.found

    @property
    def precision(self) -> Optional[float]:
        return (self.pairs - self.false_alarms) / self.pairs if self.pairs else None

    @property
    def recall(self) -> Optional[float]:
        return self.found / self.labels if self.labels else None

    def as_dict(self) -> dict:
        d = asdict(self)
        d.update(missed=self.missed, precision=self.precision, recall=self.recall)
        return d


@dataclass(frozen=True)
class Miss:
    file: str
    code: str
    line: Optional[int]  # as labelled: in a notebook, the line in the joined code cells
    why: str
    cell_line: Optional[str] = None  # the same place as cnnlint shows it: "cell 15 line 2"


@dataclass(frozen=True)
class FalseAlarm:
    file: str
    code: str
    lines: Tuple[str, ...]  # where cnnlint reported it: "57", or "cell 8 line 37" in a notebook
    message: str


@dataclass
class Result:
    rules: Dict[str, RuleScore] = field(default_factory=dict)
    misses: List[Miss] = field(default_factory=list)
    false_alarms: List[FalseAlarm] = field(default_factory=list)
    unreadable: List[Finding] = field(default_factory=list)  # CNL001 on a corpus file

    def overall(self) -> RuleScore:
        total = RuleScore(code="overall")
        for r in self.rules.values():
            total.labels += r.labels
            total.found += r.found
            total.findings += r.findings
            total.pairs += r.pairs
            total.false_alarms += r.false_alarms
        return total


def scored_code(code: str) -> str:
    """The code a label is scored under: its placeholder's mapping, or itself."""
    mapped = PLACEHOLDERS.get(code, code)
    return mapped if mapped is not None else code


Locator = Callable[[Entry, int], Optional[str]]


def score(entries: Sequence[Entry], findings: Sequence[Finding], locate: Optional[Locator] = None) -> Result:
    """Score `findings` against the labels; `locate` names a notebook label's cell and line."""
    result = Result()
    corpus = {e.key for e in entries}
    reported: Dict[Tuple[str, str], List[Finding]] = {}
    for f in findings:
        if f.file not in corpus:
            continue
        if f.code == "CNL001":
            result.unreadable.append(f)
        if SCORED.match(f.code):
            reported.setdefault((f.file, f.code), []).append(f)
    labelled: Dict[Tuple[str, str], int] = {}

    def rule(code: str) -> RuleScore:
        return result.rules.setdefault(code, RuleScore(code=code))

    for e in entries:
        for label in e.labels:
            code = scored_code(label.code)
            labelled[(e.key, code)] = labelled.get((e.key, code), 0) + 1
            r = rule(code)
            r.labels += 1
            if (e.key, code) in reported:
                r.found += 1
            else:
                why = label.why
                if code == label.code and label.code in PLACEHOLDERS:
                    why = f"[no code yet] {why}"
                where = locate(e, label.line) if locate is not None and label.line is not None else None
                result.misses.append(Miss(e.key, code, label.line, why, where))
    for (key, code), fs in sorted(reported.items()):
        r = rule(code)
        r.findings += len(fs)
        r.pairs += 1
        if (key, code) not in labelled:
            r.false_alarms += 1
            lines = tuple(dict.fromkeys(f.where for f in sorted(fs, key=lambda f: (f.cell or 0, f.line or 0))))
            result.false_alarms.append(FalseAlarm(key, code, lines, fs[0].message))
    result.rules = dict(sorted(result.rules.items()))
    return result


def _ratio(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.2f}"


def table(result: Result) -> List[str]:
    head = f"{'code':<22} {'labels':>6} {'found':>6} {'missed':>6} {'pairs':>6} {'false':>6} {'prec':>5} {'recall':>6}"
    out = [head, "-" * len(head)]
    rows = list(result.rules.values()) + [result.overall()]
    for i, r in enumerate(rows):
        if i == len(rows) - 1:
            out.append("-" * len(head))
        out.append(
            f"{r.code:<22} {r.labels:>6} {r.found:>6} {r.missed:>6} {r.pairs:>6} {r.false_alarms:>6}"
            f" {_ratio(r.precision):>5} {_ratio(r.recall):>6}"
        )
    return out


def report(result: Result) -> str:
    out = table(result)
    out.append("")
    out.append(f"misses ({len(result.misses)}):")
    for m in result.misses:
        where = "?" if m.line is None else str(m.line)
        if m.cell_line:
            where += f" ({m.cell_line})"
        out.append(f"  {m.file}:{where}: {m.code}: {m.why}")
    out.append(f"false alarms ({len(result.false_alarms)}):")
    for a in result.false_alarms:
        out.append(f"  {a.file}:{', '.join(a.lines) or '?'}: {a.code}: {a.message}")
    if result.unreadable:
        out.append(f"unreadable corpus files, CNL001 ({len(result.unreadable)}):")
        for f in result.unreadable:
            out.append(f"  {f.file}:{f.where}: {f.message}")
    return "\n".join(out)


def as_json(result: Result) -> dict:
    return {
        "rules": [r.as_dict() for r in result.rules.values()],
        "overall": result.overall().as_dict(),
        "misses": [asdict(m) for m in result.misses],
        "false_alarms": [asdict(a) for a in result.false_alarms],
        "unreadable": [asdict(f) for f in result.unreadable],
        "placeholders": PLACEHOLDERS,
    }


def run_cnnlint(entries: Sequence[Entry], folder: str, python: str) -> Tuple[List[Finding], List[str]]:
    """cnnlint's findings on the corpus files, one run per repository folder; and the failures."""
    by_repo: Dict[str, List[Entry]] = {}
    for e in entries:
        by_repo.setdefault(e.folder_name, []).append(e)
    findings: List[Finding] = []
    problems: List[str] = []
    for name, group in sorted(by_repo.items()):
        root = os.path.join(folder, name)
        paths = [os.path.join(root, e.path) for e in group]
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            problems.append(f"{name}: {len(missing)} corpus file(s) not rebuilt, e.g. {missing[0]}")
            paths = [p for p in paths if p not in missing]
            if not paths:
                continue
        cmd = [python, "-m", "cnnlint", "--format", "json", "--no-cache", "--fail-on", "info", *paths]
        try:
            proc = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            problems.append(f"{name}: cnnlint ran past {RUN_TIMEOUT_S} s")
            continue
        if proc.returncode not in (0, 1):
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            problems.append(f"{name}: cnnlint exited {proc.returncode}: {err[-1] if err else ''}")
        try:
            data = json.loads(proc.stdout.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            problems.append(f"{name}: cnnlint printed no JSON report")
            continue
        for f in data.get("findings", []):
            rel = os.path.relpath(os.path.abspath(os.path.join(root, f["path"])), folder).replace(os.sep, "/")
            findings.append(Finding(rel, f["code"], f.get("line"), f.get("message", ""), f.get("cell")))
    return findings, problems


def notebook_locator(folder: str) -> Locator:
    """Names a joined-cells line of a rebuilt notebook as cnnlint shows it ("cell 15 line 2")."""
    maps: Dict[str, Optional[list]] = {}

    def locate(entry: Entry, line: int) -> Optional[str]:
        if entry.kind != "notebook":
            return None
        if entry.key not in maps:
            maps[entry.key] = None
            try:
                from cnnlint.sources.notebook import read_notebook

                with open(os.path.join(folder, entry.key), "rb") as fh:
                    source = read_notebook(entry.path, fh.read())
                maps[entry.key] = source.line_map if source is not None else None
            except Exception:  # noqa: BLE001 - a display aid: any failure just omits the cell
                maps[entry.key] = None
        line_map = maps[entry.key]
        if not line_map or not 1 <= line <= len(line_map):
            return None
        cell, k = line_map[line - 1]
        return f"cell {cell} line {k}"

    return locate


def _read_findings(path: str) -> List[Finding]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return [
        Finding(f["file"], f["code"], f.get("line"), f.get("message", ""), f.get("cell"))
        for f in data["findings"]
    ]


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", default=DEFAULT_FOLDER, help="the rebuilt corpus (rebuild.py --folder)")
    ap.add_argument("--parts", default=DEFAULT_PARTS, help="folder of part files")
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs `-m cnnlint`")
    ap.add_argument("--findings", help="score these saved findings instead of running cnnlint")
    ap.add_argument("--save-findings", help="write cnnlint's findings here (for --findings)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    entries = load_parts_or_say(args.parts, "score")
    if entries is None:
        return 2
    problems: List[str] = []
    if args.findings:
        try:
            findings = _read_findings(args.findings)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"score: cannot read findings {args.findings}: {exc}", file=sys.stderr)
            return 2
    else:
        findings, problems = run_cnnlint(entries, args.folder, args.python)
    if args.save_findings:
        with open(args.save_findings, "w", encoding="utf-8") as fh:
            json.dump({"findings": [asdict(f) for f in findings]}, fh, indent=1)
    result = score(entries, findings, notebook_locator(args.folder))
    print(json.dumps(as_json(result), indent=1) if args.json else report(result))
    for p in problems:
        print(f"score: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
