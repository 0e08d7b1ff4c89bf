"""Record, or compare against a record, everything the static side says about known code.

The refactor of issue 13 (the static rules moved from libcst to CPython's ast) must not change
behaviour. This script snapshots, as JSON:

* ``corpus``: the findings on the 500-file benchmark corpus (bench/corpus.py, fixed seed);
* ``fixtures``: the findings on every script and notebook under fixtures/;
* ``pages``: the findings on every example of every rules/*.md page;
* ``crosscheck``: the findings of the tutorials in fixtures/tutorials run beside their datasets
  (the cross-check's facts come from the same analyses);
* ``fix``: a digest of every file after ``--fix`` on a copy of the corpus and of fixtures/;
* ``snippets``: every lint made while the static rules' test files run (each test snippet's
  text digest, path and selection -> its findings and the cross-check's facts), through a pytest
  plugin in this file.

Usage::

    python bench/findings_snapshot.py record bench/out/findings_before.json
    python bench/findings_snapshot.py compare bench/out/findings_before.json

``compare`` exits 1 and lists every difference (code, path, line, column, message, hint, fix).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

SNIPPET_TESTS = [
    "tests/test_input_pipeline.py", "tests/test_training_loop.py", "tests/test_model_config.py",
    "tests/test_augmentation.py", "tests/test_training_hygiene.py", "tests/test_removed_apis.py",
    "tests/test_dependencies.py", "tests/test_engine.py", "tests/test_hostile_code.py",
    "tests/test_crosscheck.py", "tests/test_crosscheck_negatives.py", "tests/test_fix.py",
    "tests/test_rule_pages.py", "tests/test_sources.py", "tests/test_crosscheck_fixtures.py",
    "tests/test_bad_input.py", "tests/test_formats.py",
]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _cnnlint_json(args: List[str], cwd: str) -> List[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "cnnlint", "--format", "json", "--no-cache", "--fail-on", "info", *args],
        cwd=cwd, env=_env(), capture_output=True, text=True, timeout=3600,
    )
    if out.returncode not in (0, 1):
        raise SystemExit(f"cnnlint {' '.join(args)} exited {out.returncode}: {out.stderr[-2000:]}")
    report = json.loads(out.stdout)
    findings = report["findings"] if isinstance(report, dict) else report
    return sorted(findings, key=lambda f: json.dumps(f, sort_keys=True))


def _digest_tree(root: str) -> Dict[str, str]:
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = hashlib.sha256(fh.read()).hexdigest()
    return dict(sorted(out.items()))


def _corpus(work: str) -> str:
    from bench import corpus as corpus_mod

    target = os.path.join(work, "corpus")
    corpus_mod.generate_corpus(target, 500, corpus_mod.DEFAULT_SEED)
    return target


def _pages(work: str) -> Dict[str, List[dict]]:
    from cnnlint.lint.api import lint_text
    from cnnlint.lint.pages import examples, notebook_from_cells, write_project

    out: Dict[str, List[dict]] = {}
    rules_dir = os.path.join(ROOT, "rules")
    for name in sorted(os.listdir(rules_dir)):
        if not (name.startswith("CNL") and name.endswith(".md")):
            continue
        with open(os.path.join(rules_dir, name), encoding="utf-8") as fh:
            text = fh.read()
        for n, ex in enumerate(examples(text)):
            code = notebook_from_cells(ex.code) if ex.language == "notebook" else ex.code
            path = ex.path
            if ex.language == "project":
                target = write_project(code, os.path.join(work, "pages", f"{name}-{n}"))
                with open(target, encoding="utf-8") as fh:
                    code = fh.read()
                path = target
            found = lint_text(code, path)
            key = f"{name}:{ex.line}"
            out[key] = [_relative(f.to_dict(), work) for f in found]
    return json.loads(json.dumps(out))  # tuples as lists, as a record read back has them


def _relative(d: dict, work: str) -> dict:
    d = dict(d)
    if isinstance(d.get("path"), str) and d["path"].startswith(work):
        d["path"] = os.path.relpath(d["path"], work)
    return d


def _crosscheck(work: str) -> Dict[str, List[dict]]:
    from fixtures import crosscheck

    out = {}
    for name in sorted(crosscheck.TUTORIALS):
        root = os.path.join(work, "tutorials", name)
        script = crosscheck.write_tutorial(name, root)
        found = _cnnlint_json([os.path.basename(script), "."], cwd=root)
        out[name] = [_relative(f, root) for f in found]
    return out


def _fixed(tree: str, work: str, name: str) -> Dict[str, str]:
    copy = os.path.join(work, "fix", name)
    shutil.copytree(tree, copy)
    subprocess.run([sys.executable, "-m", "cnnlint", "--fix", "--no-cache", "-q", "."], cwd=copy,
                   env=_env(), capture_output=True, timeout=3600)
    return _digest_tree(copy)


def _snippets(work: str) -> Dict[str, List[dict]]:
    record = os.path.join(work, "snippets.jsonl")
    env = _env()
    env["CNNLINT_SNAPSHOT_OUT"] = record
    env.setdefault("CI", "true")
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "bench.findings_snapshot",
         "-x", "--no-header", "-o", "addopts=", *SNIPPET_TESTS],
        cwd=ROOT, env=env, timeout=3600, stdout=subprocess.DEVNULL,
    )
    out: Dict[str, List[dict]] = {}
    if os.path.exists(record):
        with open(record, encoding="utf-8") as fh:
            for line in fh:
                entry = json.loads(line)
                out[entry["key"]] = entry["findings"] + ([{"facts": entry["facts"]}] if entry.get("facts") else [])
    return dict(sorted(out.items()))


# ---- pytest plugin (-p bench.findings_snapshot): records every in-process lint of a Python source

_TMP = re.compile(r"/tmp/pytest-of-[^/]+/pytest-\d+/|/tmp/tmp[A-Za-z0-9_]+/")


def _untmp(text: str) -> str:
    """The text without the per-run temporary folders tests write to."""
    return _TMP.sub("<tmp>/", text)



def pytest_configure(config) -> None:  # noqa: ANN001 - pytest's hook
    target = os.environ.get("CNNLINT_SNAPSHOT_OUT")
    if not target:
        return
    from cnnlint.lint import engine

    original = engine.lint_source

    def recording(source, rule_classes, real_path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        result = original(source, rule_classes, real_path, *args, **kwargs)
        text = _untmp(getattr(source, "text", ""))
        ignored = set(filter(None, os.environ.get("CNNLINT_SNAPSHOT_IGNORE", "").split(",")))
        codes = ",".join(sorted(c for c in (getattr(c, "code", "?") for c in rule_classes) if c not in ignored))
        name = os.path.basename(source.path)
        key = hashlib.sha256(f"{name}\0{codes}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()
        findings = [f.to_dict() for f in result.findings if f.code not in ignored]
        for d in findings:
            d.pop("path", None)  # tests write to tmp folders
        entry = json.loads(_untmp(json.dumps({"key": key, "findings": findings, "facts": result.facts}, sort_keys=True)))
        entry["findings"].sort(key=lambda d: json.dumps(d, sort_keys=True))
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, sort_keys=True) + "\n")
        return result

    engine.lint_source = recording
    try:
        from cnnlint.lint import api

        api.lint_source = recording  # imported by name there
    except ImportError:
        pass


def record() -> dict:
    work = tempfile.mkdtemp(prefix="cnnlint-snapshot-")
    try:
        corpus = _corpus(work)
        fixtures_copy = os.path.join(work, "fixtures")
        shutil.copytree(os.path.join(ROOT, "fixtures"), fixtures_copy,
                        ignore=shutil.ignore_patterns("__pycache__"))
        return {
            "corpus": _cnnlint_json(["."], cwd=corpus),
            "fixtures": _cnnlint_json(["."], cwd=fixtures_copy),
            "pages": _pages(work),
            "crosscheck": _crosscheck(work),
            "fix": {"corpus": _fixed(corpus, work, "corpus"), "fixtures": _fixed(fixtures_copy, work, "fixtures")},
            "snippets": _snippets(work),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _without(found: object, codes: set) -> object:
    """The record without the findings of `codes`, and without their rules' pages."""
    if not codes:
        return found
    if isinstance(found, dict):
        return {k: _without(v, codes) for k, v in found.items()
                if not (isinstance(k, str) and k.split(".md:")[0] in codes)}
    if isinstance(found, list):
        return [_without(x, codes) for x in found if not (isinstance(x, dict) and x.get("code") in codes)]
    return found


def _differences(before: object, after: object, where: str, out: List[str]) -> None:
    if type(before) is not type(after):
        out.append(f"{where}: {json.dumps(before)[:300]} -> {json.dumps(after)[:300]}")
    elif isinstance(before, dict):
        for key in sorted(set(before) | set(after)):
            if key not in after:
                out.append(f"{where}/{key}: only before: {json.dumps(before[key])[:300]}")
            elif key not in before:
                out.append(f"{where}/{key}: only after: {json.dumps(after[key])[:300]}")
            else:
                _differences(before[key], after[key], f"{where}/{key}", out)
    elif isinstance(before, list):
        if len(before) != len(after):
            missing = [x for x in before if x not in after]
            extra = [x for x in after if x not in before]
            out.extend(f"{where}: only before: {json.dumps(x)[:400]}" for x in missing)
            out.extend(f"{where}: only after: {json.dumps(x)[:400]}" for x in extra)
            if not missing and not extra:
                out.append(f"{where}: {len(before)} items -> {len(after)}")
        else:
            for i, (a, b) in enumerate(zip(before, after)):
                _differences(a, b, f"{where}[{i}]", out)
    elif before != after:
        out.append(f"{where}: {json.dumps(before)[:300]} -> {json.dumps(after)[:300]}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=["record", "compare"])
    ap.add_argument("file")
    ap.add_argument("--only", help="comma-separated parts to compare (corpus,fixtures,pages,crosscheck,fix,snippets)")
    ap.add_argument("--ignore-codes", default="",
                    help="codes added since the record (new rules): left out of the findings compared")
    args = ap.parse_args(argv)
    os.environ["CNNLINT_SNAPSHOT_IGNORE"] = args.ignore_codes
    now = _without(record(), set(filter(None, args.ignore_codes.split(","))))
    if args.action == "record":
        os.makedirs(os.path.dirname(os.path.abspath(args.file)), exist_ok=True)
        with open(args.file, "w", encoding="utf-8") as fh:
            json.dump(now, fh, indent=1, sort_keys=True)
        counts = {k: (len(v) if not isinstance(v, dict) or k == "fix" else sum(len(x) for x in v.values()))
                  for k, v in now.items()}
        print(f"recorded {args.file}: {counts}")
        return 0
    with open(args.file, encoding="utf-8") as fh:
        before = json.load(fh)
    parts = args.only.split(",") if args.only else sorted(before)
    diffs: List[str] = []
    for part in parts:
        _differences(before.get(part), now.get(part), part, diffs)
    for line in diffs:
        print(line)
    print(f"{len(diffs)} difference(s) in {', '.join(parts)}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
