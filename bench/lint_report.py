"""The lint-speed benchmark's report (bench/lint_speed.py): tables, ratios, issue 13's targets and the earlier ones.

Every function here takes the results dict that lint_speed.py fills: key -> a row as made by its
``summary`` (``status`` "ok", ``best_s``, ``best_cpu_s``, ``runs_s``, ``runs_cpu_s``, ...), or a
row with ``status`` "would not run" / "timed out".
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence


def log(msg: str = "") -> None:
    print(msg, flush=True)


def ok(d: Optional[dict]) -> bool:
    return bool(d) and d.get("status") == "ok"


def fmt_s(d: Optional[dict], key: str = "best_s") -> str:
    if not d:
        return "-"
    if d.get("status") == "ok":
        return f"{d[key]:.2f}"
    if d.get("status") == "timed out":
        return f">{d['lower_bound_s']:.0f}" if key == "best_s" else "-"
    return "n/a"


def ratio(a: Optional[dict], b: Optional[dict], key: str = "best_s") -> Optional[dict]:
    """a / b with the bound direction when one side timed out (wall time only)."""
    if not a or not b:
        return None
    if ok(a) and ok(b):
        return {"value": a[key] / b[key], "bound": "="}
    if a.get("status") == "timed out" and ok(b) and key == "best_s":
        return {"value": a["lower_bound_s"] / b[key], "bound": ">"}
    return None


def fmt_ratio(r: Optional[dict]) -> str:
    if not r:
        return "n/a"
    return f"{'>' if r['bound'] == '>' else ''}{r['value']:.2f}x"


def print_rows(rows: List[Sequence[str]]) -> None:
    """Columns padded to the widest cell; the last column is left ragged."""
    k = len(rows[0]) - 1
    widths = [max(len(r[i]) for r in rows) for i in range(k)]
    for i, r in enumerate(rows):
        log("  " + "  ".join(r[j].ljust(widths[j]) for j in range(k)) + "  " + r[k])
        if i == 0:
            log("  " + "-" * (sum(widths) + 2 * k + 10))


def print_table(results: dict, order: Sequence[str]) -> None:
    rows = [("tool", "files", "N", "CPU s", "wall s", "files/CPU s", "runs CPU s", "runs wall s", "notes")]
    for key in order:
        d = results.get(key)
        if not d:
            continue
        if ok(d):
            rows.append((d["tool"], str(d["files"]), str(d["n_runs"]), fmt_s(d, "best_cpu_s"), fmt_s(d),
                         f"{d['files_per_cpu_s']:.1f}", " ".join(f"{x:.2f}" for x in d["runs_cpu_s"]),
                         " ".join(f"{x:.2f}" for x in d["runs_s"]), d.get("note", "")))
        elif d.get("status") == "timed out":
            rows.append((d["tool"], str(d["files"]), "1", "-", fmt_s(d), "-", "-", "-", d.get("note", "")))
        else:
            reason = " | ".join(x.strip() for x in d.get("reason", "").splitlines() if x.strip())
            rows.append((d["tool"], "-", "-", "n/a", "n/a", "-", "-", "-", "would not run: " + reason[:160]))
    print_rows(rows)


def print_issue13(results: dict) -> None:
    log("issue 13 measurements (CPU s: user + system of the whole process tree, best of N; wall s beside)")
    print_table(results, ["cnnlint_cold", "cnnlint_select", "libcst_subprocess", "libcst_subprocess_gc"])
    for key in ("libcst_subprocess", "libcst_subprocess_gc"):
        d = results.get(key)
        if ok(d):
            log(f"  {d['tool']}, the parse loop alone timed inside the process: {d['inprocess_best_cpu_s']:.2f} CPU s,"
                f" {d['inprocess_best_s']:.2f} s wall (import libcst {d['import_libcst_s']:.2f} s)")
    cold = results.get("cnnlint_cold")
    if ok(cold):
        p = cold["peak_rss_kb"]
        log(f"  peak RSS, cnnlint cold: worker {p.get('worker', 0) / 1024:.0f} MB ({cold['workers_seen']} workers), "
            f"main process {p.get('main', 0) / 1024:.0f} MB, fork server {p.get('forkserver', 0) / 1024:.0f} MB; "
            + ", ".join(f"{results[k]['tool']} {results[k]['peak_rss_kb']['main'] / 1024:.0f} MB"
                        for k in ("libcst_subprocess", "libcst_subprocess_gc") if ok(results.get(k))))
        log("  CPU that /usr/bin/time (wait4 on cnnlint alone) would report for the cold runs: "
            + " ".join(f"{x:.2f}" for x in cold["cpu_main_tree_s"])
            + " s (the fork server and its workers are orphans)")
    warm = results.get("cnnlint_warm")
    if ok(warm):
        f, w = warm["cache_fill"], warm["first_warm"]
        log(f"  warm: cache fill {f['cpu_s']:.2f} CPU s ({f['s']:.2f} s wall); first warm run right after "
            f"{w['cpu_s']:.2f} CPU s ({w['s']:.2f} s wall, same findings as the fill: {w['same_findings_as_fill']}); "
            f"best of {warm['n_runs']} more {warm['best_cpu_s']:.2f} CPU s ({warm['best_s']:.2f} s wall)")
    sizes = results.get("sizes") or {}
    if sizes.get("startup"):
        rows = [("file", "N", "CPU s", "wall s", "- start-up CPU s", "CPU us/line", "wall us/line", "peak RSS MB")]
        for key, d in sizes.items():
            if not ok(d):
                rows.append((key, "-", "n/a", "n/a", "-", "-", "-", "would not run: " + d.get("reason", "")[:160]))
                continue
            rows.append((d["tool"], str(d["n_runs"]), fmt_s(d, "best_cpu_s"), fmt_s(d),
                         f"{d['lint_cpu_s']:.2f}" if "lint_cpu_s" in d else "-",
                         f"{d['cpu_us_per_line']:.1f}" if "cpu_us_per_line" in d else "-",
                         f"{d['wall_us_per_line']:.1f}" if "wall_us_per_line" in d else "-",
                         f"{d['peak_rss_kb']['main'] / 1024:.0f}"))
        log("  single files, cnnlint cold on each alone:")
        print_rows(rows)


def _target(n: int, text: str, value: Optional[float], passed: bool, shown: str, detail: str) -> dict:
    if value is None:
        return {"n": n, "target": text, "result": "SKIP", "value": None, "shown": "n/a", "detail": detail}
    return {"n": n, "target": text, "result": "PASS" if passed else "FAIL", "value": round(value, 4),
            "shown": shown, "detail": detail}


def issue13_targets(results: dict, sizes: Sequence[int]) -> List[dict]:
    R = results.get
    cold, sel, warm = R("cnnlint_cold"), R("cnnlint_select"), R("cnnlint_warm")
    cst = [d for d in (R("libcst_subprocess"), R("libcst_subprocess_gc")) if ok(d)]
    out = []
    text = "cnnlint cold <= 0.5x libcst's parse alone, CPU (aim 0.25x)"
    if ok(cold) and cst:
        base = min(cst, key=lambda d: d["best_cpu_s"])  # the cheaper libcst variant: the stricter bar
        v = cold["best_cpu_s"] / base["best_cpu_s"]
        each = "; ".join(f"{d['tool']} {d['best_cpu_s']:.2f} s: {cold['best_cpu_s'] / d['best_cpu_s']:.2f}x"
                         f" (wall {cold['best_s'] / d['best_s']:.2f}x)" for d in cst)
        out.append(_target(1, text, v, v <= 0.5, f"{v:.2f}x",
                           f"cnnlint {cold['best_cpu_s']:.2f} CPU s against {each}; aim 0.25x: "
                           + ("met" if v <= 0.25 else "not met")))
    else:
        out.append(_target(1, text, None, False, "", "needs --tools cnnlint,libcst"))
    text = "--select CNL201 <= 0.7x all rules, cold, CPU"
    if ok(cold) and ok(sel):
        v = sel["best_cpu_s"] / cold["best_cpu_s"]
        out.append(_target(2, text, v, v <= 0.7, f"{v:.2f}x", f"{sel['best_cpu_s']:.2f} / {cold['best_cpu_s']:.2f} "
                           f"CPU s (wall {sel['best_s']:.2f} / {cold['best_s']:.2f} s)"))
    else:
        out.append(_target(2, text, None, False, "", "needs --tools cnnlint"))
    text = "peak RSS per lint worker <= the libcst parse alone"
    if ok(cold) and cst:
        role = "worker" if cold["workers_seen"] else "main"
        mine = cold["peak_rss_kb"].get(role, 0)
        base = min(d["peak_rss_kb"]["main"] for d in cst)
        where = (f"largest of {cold['workers_seen']} workers over {cold['n_runs']} runs" if role == "worker"
                 else "no worker pool: the main process, which linted every file")
        out.append(_target(3, text, mine / base, mine <= base, f"{mine / 1024:.0f} MB vs {base / 1024:.0f} MB",
                           f"{mine / base:.2f}x; {where}; libcst: the smaller of its two variants' peaks"))
    else:
        out.append(_target(3, text, None, False, "", "needs --tools cnnlint,libcst"))
    text = "CPU per line on single files of " + ", ".join(f"{n:,}" for n in sizes) + " lines varies < 25%"
    sz = R("sizes") or {}
    per = [sz[str(n)].get("cpu_us_per_line") for n in sizes if ok(sz.get(str(n)))]
    if len(sizes) >= 2 and len(per) == len(sizes) and all(p and p > 0 for p in per):
        v = max(per) / min(per) - 1
        out.append(_target(4, text, v, v < 0.25, f"{100 * v:.0f}%", "max/min - 1 of " + " / ".join(
            f"{p:.1f}" for p in per) + " CPU us/line (start-up, a one-line file's run, subtracted)"))
    else:
        out.append(_target(4, text, None, False, "", "needs --tools cnnlint and at least two --sizes"))
    text = "a warm run right after a cache fill re-lints nothing: first warm <= 2x best warm, CPU"
    if ok(warm):
        first, best = warm["first_warm"]["cpu_s"], warm["best_cpu_s"]
        v = first / best
        out.append(_target(5, text, v, v <= 2.0, f"{v:.2f}x",
                           f"fill {warm['cache_fill']['cpu_s']:.2f}, first warm {first:.2f}, best warm {best:.2f} "
                           f"CPU s" + ("" if v <= 2.0 else " -- FLAG: the first warm run re-linted files")))
    else:
        out.append(_target(5, text, None, False, "", "needs --tools cnnlint"))
    return out


def earlier_targets(ratios: dict) -> List[dict]:
    def target(name, r, good):
        if r is None:
            return {"target": name, "result": "SKIP", "detail": "missing measurement"}
        return {"target": name, "result": "PASS" if good(r["value"]) else "FAIL", "detail": fmt_ratio(r)}

    return [
        target("cnnlint cold <= libcst parsing alone in one process (subprocess figure)",
               ratios["cnnlint_cold / libcst_parse_subprocess"], lambda v: v <= 1.0),
        target("  same, against libcst with cnnlint's GC setting",
               ratios["cnnlint_cold / libcst_parse_subprocess_gc_tuned"], lambda v: v <= 1.0),
        target("cnnlint cold at least 5x faster than Fixit (Fixit / cnnlint cold >= 5)",
               ratios["fixit / cnnlint_cold"], lambda v: v >= 5.0),
        target("  same, like-for-like on the .py files only",
               ratios["fixit / cnnlint_cold_py (like-for-like .py)"], lambda v: v >= 5.0),
        target("cnnlint warm <= 2x Ruff --select ALL --no-cache", ratios["cnnlint_warm / ruff_nocache"],
               lambda v: v <= 2.0),
        target("cnnlint warm <= 2x Ruff --select ALL with its cache", ratios["cnnlint_warm / ruff_cached"],
               lambda v: v <= 2.0),
    ]


RATIOS = {  # name: (numerator, denominator)
    "cnnlint_cold / libcst_parse_subprocess": ("cnnlint_cold", "libcst_subprocess"),
    "cnnlint_cold / libcst_parse_subprocess_gc_tuned": ("cnnlint_cold", "libcst_subprocess_gc"),
    "cnnlint_select_CNL201 / cnnlint_cold": ("cnnlint_select", "cnnlint_cold"),
    "fixit / cnnlint_cold": ("fixit", "cnnlint_cold"),
    "fixit / cnnlint_cold_py (like-for-like .py)": ("fixit", "cnnlint_cold_py"),
    "cnnlint_warm / ruff_nocache": ("cnnlint_warm", "ruff_nocache"),
    "cnnlint_warm / ruff_cached": ("cnnlint_warm", "ruff_cached"),
    "pylint_dslinter / cnnlint_cold_py (like-for-like .py)": ("pylint", "cnnlint_cold_py"),
    "pylint_dslinter / cnnlint_cold": ("pylint", "cnnlint_cold"),
}


def loadavg() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def tool_versions(results: dict, python: str, cnnlint_version: str) -> dict:
    versions = {"python": sys.version.split()[0], "cnnlint_python": python, "cnnlint": cnnlint_version}
    for key, field, name in (("libcst_subprocess", "libcst_version", "libcst"), ("fixit", "version", "fixit"),
                             ("ruff_nocache", "version", "ruff"), ("pylint", "versions", "pylint_env")):
        if (results.get(key) or {}).get(field):
            versions[name] = results[key][field]
    return versions


def write_json(path: str, head: dict, results: dict, ratios: dict, ratios_cpu: dict, earlier: List[dict],
               issue13: List[dict], elapsed: float) -> None:
    """head: when, where and what was measured (generated_at, git_at_start, machine, versions, corpus)."""
    def rounded(rs):
        return {k: (None if r is None else {"value": round(r["value"], 3), "bound": r["bound"]}) for k, r in rs.items()}

    report = dict(head, results=results, ratios=rounded(ratios), ratios_cpu=rounded(ratios_cpu), targets=earlier,
                  issue13_targets=issue13, benchmark_wall_s=round(elapsed, 1))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1, default=str)
        fh.write("\n")
    log(f"wrote {path}")
