"""CNL401 unpinned-dependency: a package installed or declared without an exact version.

The same judgement runs on four kinds of input:

- notebook shell commands (`!pip install x`, `%pip install x`, `%%bash` lines), which the engine
  hands over as ShellCommand records;
- `pip install` run from Python: `subprocess.run/call/check_call/check_output/Popen`,
  `os.system`, `os.popen`, `get_ipython().system(...)`, `get_ipython().run_line_magic("pip",
  ...)`, `pip.main([...])`, with literal arguments only (cnnlint/lint/pip/python_calls.py);
- requirements files, and the `-r` files a pip command installs;
- conda environment.yml (conda specs, and pip requirements in `- pip:`).

What a requirement pins: cnnlint/lint/dependencies.py; the shell, commands, files, messages
and fixes: cnnlint/lint/pip/.
"""

from __future__ import annotations

import ast
import os
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple

from cnnlint.findings import Fix, Severity
from cnnlint.lint.dependencies import PINNED, RANGE, Verdict, constrain, judge_conda, judge_editable, judge_requirement, merge
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import call_tail, string_value
from cnnlint.lint.index.snippets import is_one_literal
from cnnlint.lint.pip.commands import Problem, analyze_install, parse_command
from cnnlint.lint.pip.messages import fix_at, hint_for, manifest_fix, message_for, word_pin
from cnnlint.lint.pip.python_calls import CALL_TAILS, call_commands
from cnnlint.lint.pip.requirement_files import is_local_entry, load_constraints
from cnnlint.lint.pip.shell import split_shell
from cnnlint.lint.rule import Rule, Target
from cnnlint.sources.manifest import CONDA, CONSTRAINT, EDITABLE, REQUIREMENT, Manifest
from cnnlint.sources.model import ShellCommand

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext
    from cnnlint.sources.model import SourceFile


class UnpinnedDependency(Rule):
    code = "CNL401"
    name = "unpinned-dependency"
    severity = Severity.WARNING
    autofix = True
    summary = "Package installed or declared without an exact version"
    inputs = frozenset({"python", "manifest"})
    uses = (ImportTable,)

    def __init__(self, ctx: "FileContext") -> None:
        super().__init__(ctx)
        # every install command names pip, conda or mamba: skip the calls of files that never do
        text = getattr(self.ctx.source, "text", "") or ""
        self._scan_calls = "pip" in text or "conda" in text or "mamba" in text
        # findings inside Python strings, placed on the package once positions are known
        self._in_strings: List[Tuple[ast.Constant, Problem, Severity, str, str]] = []

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        text = getattr(source, "text", "")
        return bool(getattr(source, "shell", None)) or "pip" in text or "conda" in text or "mamba" in text

    # -- Python code

    def wants_walk(self) -> bool:
        return self._scan_calls

    def visit_Call(self, node: ast.Call) -> None:
        imports = self.ctx.get(ImportTable)
        if call_tail(node) not in CALL_TAILS:
            func = node.func
            if not isinstance(func, ast.Name):
                return
            imported = imports.aliases.get(func.id)  # `from subprocess import run as sh`
            if imported is None or imported.rsplit(".", 1)[-1] not in CALL_TAILS:
                return
        for words in call_commands(node, imports):
            install = parse_command(words)
            if install is not None:
                for problem in analyze_install(install, self.ctx.read_related):
                    self._report_python(problem, install.tool)

    def _report_python(self, problem: Problem, tool: str) -> None:
        severity, message, hint = self._describe(problem, tool, "script")
        word = problem.word
        anchor = word.anchor
        syntax = self.ctx.syntax
        if (isinstance(anchor, ast.Constant) and isinstance(anchor.value, str) and syntax is not None
                and is_one_literal(syntax, anchor)):
            self._in_strings.append((anchor, problem, severity, message, hint))
        elif isinstance(anchor, ast.AST):
            self.report(anchor, message, hint, severity=severity)

    def check(self) -> None:
        syntax = self.ctx.syntax
        if not self._in_strings or syntax is None:
            return
        for node, problem, severity, message, hint in self._in_strings:
            target: Target = node
            fix = None
            start, end = problem.word.start, problem.word.end
            span = syntax.span(node)
            written = syntax.segment(node)
            prefix = len(written) - len(written.lstrip("rRbBuUfF"))
            quote = 3 if written[prefix : prefix + 3] in ('"""', "'''") else 1
            body = written[prefix + quote : len(written) - quote]
            if "\\" not in body and "\n" not in body and body == string_value(node):
                line, column = span[0], span[1] + prefix + quote
                target = (line, column + start, line, column + end)
                edit = word_pin(body, problem)
                if edit is not None:
                    fix = fix_at(line, column, edit, problem)
            self.report(target, message, hint, severity=severity, fix=fix)
        self._in_strings = []

    # -- notebook shell commands

    def check_shell(self, command: ShellCommand) -> None:
        text = command.text
        if "install" not in text and "create" not in text:
            return
        locate = self._shell_locator(command)
        for words in split_shell(text):
            install = parse_command(words)
            if install is None:
                continue
            for problem in analyze_install(install, self.ctx.read_related):
                what = "script" if getattr(self.ctx.source, "kind", "") == "python" else "notebook"
                severity, message, hint = self._describe(problem, install.tool, what)
                line, column = locate(problem.word.start)
                end_line, end_column = locate(max(problem.word.start, problem.word.end - 1))
                fix = self._shell_fix(command, problem, line, column)
                self.report((line, column, end_line, end_column + 1), message, hint, severity=severity, fix=fix)

    def _shell_fix(self, command: ShellCommand, problem: Problem, line: int, column: int) -> Optional[Fix]:
        """The pin, when the word lies on one line of the cell as written."""
        edit = word_pin(command.text, problem)
        if edit is None:
            return None
        raw_line = getattr(self.ctx.source, "raw_line", None)
        start = problem.word.start
        written = command.text[start : start + edit[1]]
        if raw_line is None or raw_line(line)[column - 1 : column - 1 + len(written)] != written:
            return None  # the word is split by a `\` continuation, or not as written
        return fix_at(line, column - start, edit, problem)

    def _shell_locator(self, command: ShellCommand) -> Callable[[int], Tuple[int, int]]:
        """Offset in command.text -> (line, column) in the parsed text, across `\\` continuations."""
        segments = [(0, command.line, command.column)]
        source = self.ctx.source
        if command.end_line > command.line and getattr(source, "cells", None):
            segments = self._continuation_segments(command) or segments

        def locate(offset: int) -> Tuple[int, int]:
            start, line, column = segments[0]
            for seg in segments:
                if seg[0] <= offset:
                    start, line, column = seg
            return line, column + offset - start

        return locate

    def _continuation_segments(self, command: ShellCommand) -> Optional[List[Tuple[int, int, int]]]:
        source = self.ctx.source
        segments: List[Tuple[int, int, int]] = []
        offset = 0
        for line in range(command.line, command.end_line + 1):
            cell, cell_line = source.locate(line)
            lines = source.cells.get(cell) if cell is not None and source.cells is not None else None
            if not lines or not 0 < cell_line <= len(lines):
                return None
            raw = lines[cell_line - 1]
            first = line == command.line
            piece = raw[command.column - 1 :] if first else raw
            piece = piece.rstrip()
            if piece.endswith("\\"):
                piece = piece[:-1].rstrip()
            stripped = piece.strip()
            if not stripped:
                continue
            column = command.column if first else len(piece) - len(piece.lstrip()) + 1
            if command.text[offset : offset + len(stripped)] != stripped:
                return None
            segments.append((offset, line, column))
            offset += len(stripped) + 1
        return segments or None

    # -- requirements files and environment.yml

    def check_manifest(self, manifest: Manifest) -> None:
        filename = os.path.basename(manifest.path) or manifest.path
        constraints = self._manifest_constraints(manifest)
        # computed once: per entry they made a large file quadratic
        lines = manifest.text.split("\n")
        hashes = "--hash" in manifest.text
        for entry in manifest.entries:
            if entry.kind == CONDA:
                verdict = judge_conda(entry.value)
            elif entry.kind == REQUIREMENT:
                verdict = judge_requirement(entry.value)
            elif entry.kind == EDITABLE:
                verdict = judge_editable(entry.value)
            else:
                continue
            if verdict is None:
                continue
            if not verdict.conda:
                if constraints is None:
                    continue  # constraints we cannot read may pin it
                verdict = constrain(verdict, constraints)
            if verdict.status == PINNED:
                continue
            where = f"the pip section of {filename}" if entry.section == "pip" else filename
            message = message_for(verdict, place=where)
            severity = Severity.INFO if verdict.status == RANGE else self.severity
            value = entry.value
            name_at = value.rfind("::") + 2 if verdict.conda and "::" in value else 0
            if verdict.status == RANGE:
                end = len(value.split(";")[0].rstrip())
            elif value.startswith(verdict.name, name_at):
                end = name_at + len(verdict.name)
            else:
                end = len(value)
            fix = None
            if entry.kind == REQUIREMENT and not verdict.conda and not hashes:
                fix = manifest_fix(lines, entry, verdict)
            self.report(entry.span(0, max(1, end)), message, hint_for(verdict), severity=severity, fix=fix)

    def _manifest_constraints(self, manifest: Manifest) -> Optional[Dict[str, Verdict]]:
        constraints: Dict[str, Verdict] = {}
        read = set()  # a file named on 40,000 lines is read once
        for entry in manifest.entries:
            if entry.kind != CONSTRAINT or entry.value in read:
                continue
            read.add(entry.value)
            if not is_local_entry(entry):
                return None
            found = load_constraints(self.ctx.read_related, entry.value)
            if found is None:
                return None
            for verdict in found.values():
                merge(constraints, verdict)
        return constraints

    # -- shared

    def _describe(self, problem: Problem, tool: str, what: str) -> Tuple[Severity, str, str]:
        if problem.verdict is None:
            names = [f"`{v.name}`" for v in problem.loose]
            listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            loose_only = all(v.status == RANGE for v in problem.loose)
            if loose_only:
                message = f"{problem.file} (installed here with -r) gives only version ranges for {listed}"
            else:
                message = f"{problem.file} (installed here with -r) leaves {listed} unpinned"
            hint = f"pin every package in {problem.file} to the version you tested with (`pip freeze` prints them)"
            return (Severity.INFO if loose_only else self.severity), message, hint
        verdict = problem.verdict
        severity = Severity.INFO if verdict.status == RANGE else self.severity
        if problem.redirect:
            cut = problem.word.cut
            message = (
                f"`{problem.word.text}{cut}` is not quoted: the shell reads `{cut}` as an output "
                f"redirect, so `{tool}` installs the newest `{verdict.name}`"
            )
            return self.severity, message, hint_for(verdict, tool, redirect=True)
        consequence = f"a new release can break this {what}"
        message = message_for(verdict, tool=tool, consequence=consequence, upgrade=problem.upgrade)
        return severity, message, hint_for(verdict, tool)
