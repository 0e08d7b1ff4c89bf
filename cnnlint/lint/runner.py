"""Lint many files: cache lookups, then the misses in parallel across cores."""

from __future__ import annotations

import contextlib
import gc
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from cnnlint import workers
from cnnlint.findings import Finding, Severity
from cnnlint.lint.cache import LintCache, content_key
from cnnlint.sources.walk import Target

READ_LIMIT = 256 * 1024 * 1024
_MAX_CHUNK = 4  # files per pool task


@dataclass
class LintRun:
    findings: List[Finding] = field(default_factory=list)
    files: int = 0
    internal_errors: List[str] = field(default_factory=list)
    # the scripts' pipeline facts for the cross-check: (target, ScriptFacts dict)
    facts: List[Tuple[Target, dict]] = field(default_factory=list)


def _too_large(target: Target, size: int, limit: int) -> Finding:
    return Finding(
        code="CNL001",
        severity=Severity.WARNING,
        message=f"file too large to lint ({size / 2**20:.1f} MiB of code; max-file-size is {limit / 2**20:.1f} MiB)",
        path=target.path,
        hint="exclude generated files, or raise max-file-size in [tool.cnnlint]",
    )


Result = Tuple[List[dict], Dict[str, Optional[str]], Optional[str], Optional[dict]]


def lint_one(target: Target, data: bytes, max_size: int, fact_positions: bool = True,
             codes: Optional[Tuple[str, ...]] = None, with_facts: bool = True) -> Result:
    """(finding dicts, related files, internal error, pipeline facts) for one file, with the static
    rules of `codes` (None: all of them). Runs in workers; the editor's server calls it with
    with_facts=False (no cross-check facts while typing)."""
    from cnnlint.lint.engine import lint_source, source_error
    from cnnlint.lint.discovery import rule_classes
    from cnnlint.sources.model import SourceError
    from cnnlint.sources.read import read_source

    try:
        try:
            source = read_source(target.path, data, target.kind)
        except SourceError as exc:
            return [dict(source_error(target.path, exc).to_dict(), path="")], {}, None, None
        if source is None:
            return [], {}, None, None
        if target.kind in ("python", "notebook"):
            size = len(source.text.encode("utf-8", "surrogateescape"))
            if size > max_size:
                return [dict(_too_large(target, size, max_size).to_dict(), path="")], {}, None, None
        rules = rule_classes() if codes is None else [cls for cls in rule_classes() if cls.code in codes]
        for_facts = [cls for cls in rule_classes() if with_facts and cls.feeds_facts and cls not in rules]
        result = lint_source(source, rules, target.real_path, fact_positions, for_facts, with_facts)
        own = [dict(f.to_dict(), path="") if f.path == target.path else f.to_dict() for f in result.findings]
        facts = getattr(result, "facts", None)
        return own, result.related, "\n".join(result.internal_errors) or None, facts
    except RecursionError:
        finding = Finding("CNL001", Severity.ERROR, "cannot parse: too deeply nested", "")
        return [finding.to_dict()], {}, None, None
    except Exception as exc:  # noqa: BLE001 - a rule bug must not stop the run
        return [], {}, f"{target.path}: internal error: {type(exc).__name__}: {exc}", None


Item = Tuple[int, Target, bytes, int, bool, Optional[Tuple[str, ...]], bool]


def _work(item: Item) -> Tuple[int, List[dict], Dict[str, Optional[str]], Optional[str], Optional[dict]]:
    index, target, data, max_size, fact_positions, codes, with_facts = item
    findings, related, error, facts = lint_one(target, data, max_size, fact_positions, codes, with_facts)
    return index, findings, related, error, facts


def _lint_pending(pending: List[Item], jobs: int) -> list:
    if jobs > 1 and len(pending) >= 4:
        pending.sort(key=lambda item: -len(item[2]))
        # a few files per task: each task costs the pool's threads a round of wake-ups in this
        # process (about a third of a CPU second per 500 files, one by one); the files go largest
        # first, so the last tasks are the smallest and the workers still finish together
        chunk = max(1, min(_MAX_CHUNK, len(pending) // (jobs * 4)))
        with _pool(min(jobs, len(pending))) as pool:
            return list(pool.imap_unordered(_work, pending, chunksize=chunk))
    return [_work(item) for item in pending]


def _read(target: Target) -> Tuple[Optional[bytes], Optional[Finding]]:
    from cnnlint.sources.walk import unreadable, os_reason

    if target.data is not None:  # standard input, read once
        return target.data, None
    try:
        with open(target.real_path, "rb") as fh:
            return fh.read(READ_LIMIT), None
    except OSError as exc:
        return None, unreadable(target.path, os_reason(exc))


# a lint builds many small objects per file (tree nodes, analyses' records) and frees them by
# reference counting; with the default thresholds the cyclic
# collector runs thousands of times for nothing, costing about a fifth of the time.
_GC_THRESHOLD = (200_000, 50, 1000)


@contextlib.contextmanager
def _fewer_gc_passes():
    old = gc.get_threshold()
    gc.set_threshold(*_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _worker_init() -> None:
    gc.set_threshold(*_GC_THRESHOLD)


def lint_preload() -> Tuple[str, ...]:
    """What the lint pool's fork server imports: the runner's modules and every rule module."""
    from cnnlint.lint.discovery import rule_module_names

    return workers.LINT_PRELOAD + tuple(rule_module_names())


def _pool(jobs: int):
    # never fork(): the workers come from a single-threaded fork server (cnnlint.workers says why)
    return workers.context(lint_preload()).Pool(processes=jobs, initializer=_worker_init)


def lint_targets(
    targets: Sequence[Target],
    fingerprint: str,
    max_size: int,
    cache: Optional[LintCache],
    jobs: Optional[int] = None,
    fact_positions: bool = True,
    codes: Optional[Sequence[str]] = None,
    with_facts: bool = True,
) -> LintRun:
    """`fact_positions`: place the cross-check facts (see crosscheck.extract.extract). `codes`: the
    static rules to run (None: all); only their analyses are built, and the cache keeps the results
    of each selection apart. `with_facts=False`: no cross-check facts (no dataset or cross-check code is
    selected), so neither their extraction nor the rules that only feed them run."""
    run = LintRun()
    pending: List[Item] = []
    if not with_facts:
        fingerprint += "\0no-facts"
    elif not fact_positions:
        fingerprint += "\0facts-unplaced"
    selected = None if codes is None else tuple(sorted(set(codes)))
    if selected is not None:
        fingerprint += "\0rules=" + ",".join(selected)
    keys: Dict[int, str] = {}
    per_file: Dict[int, List[dict]] = {}
    facts: Dict[int, dict] = {}
    for index, target in enumerate(targets):
        run.files += 1
        data, error = _read(target)
        if error is not None:
            run.findings.append(error)
            continue
        assert data is not None
        key = content_key(target.kind, target.real_path, data, fingerprint)
        keys[index] = key
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            per_file[index] = hit[0]
            if hit[2] is not None:
                facts[index] = hit[2]
        else:
            pending.append((index, target, data, max_size, fact_positions, selected, with_facts))

    jobs = jobs or os.cpu_count() or 1
    if pending:
        with _fewer_gc_passes():
            results = _lint_pending(pending, jobs)
        for index, findings, related, error, file_facts in results:
            per_file[index] = findings
            if file_facts is not None:
                facts[index] = file_facts
            if error is not None:
                run.internal_errors.extend(error.splitlines())
            elif cache is not None:
                cache.put(keys[index], findings, related, file_facts)

    for index in sorted(per_file):
        target = targets[index]
        for d in per_file[index]:
            finding = Finding.from_dict(d)
            if not finding.path:
                finding.path = target.path
            run.findings.append(finding)
    run.facts = [(targets[index], facts[index]) for index in sorted(facts)]
    if cache is not None:
        cache.save()
    return run
