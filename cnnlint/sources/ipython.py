"""IPython syntax in a line of code: `!cmd`, `%magic`, `x = !cmd`, `obj?`, and automagic
(`pip install x` in a one-line cell).

A magic line is replaced by `pass` at its indentation (its continuation lines by
blank lines), so line numbers survive and the rest parses; the shell command it
runs is kept as a ShellCommand for the rules. Notebooks (cnnlint.sources.notebook)
and scripts holding magics (cnnlint.sources.python) share this.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from cnnlint.sources.model import ShellCommand

# line magics that run a shell command (the magic name is kept: `%pip install x` -> "pip install x")
_SHELL_LINE_MAGICS = {"pip", "conda", "mamba", "uv"}
_SHELL_LINE_MAGICS_BARE = {"sx", "system"}
# IPython's own line magics and shell aliases, which automagic runs without their `%`
AUTOMAGICS = frozenset(
    _SHELL_LINE_MAGICS
    | _SHELL_LINE_MAGICS_BARE
    | {
        "alias", "autoawait", "autocall", "autoindent", "automagic", "autoreload", "aimport", "bookmark",
        "cat", "cd", "clear", "colors", "config", "cp", "debug", "dhist", "dirs", "doctest_mode", "ed",
        "edit", "env", "gui", "hist", "history", "killbgscripts", "ldir", "less", "lf", "lk", "ll",
        "load", "load_ext", "loadpy", "logoff", "logon", "logstart", "logstate", "logstop", "ls", "lsmagic",
        "lx", "macro", "magic", "man", "matplotlib", "mkdir", "more", "mv", "notebook", "page", "pastebin",
        "pdb", "pdef", "pdoc", "pfile", "pinfo", "pinfo2", "popd", "pprint", "precision", "prun", "psearch",
        "psource", "pushd", "pwd", "pycat", "pylab", "quickref", "recall", "rehashx", "reload_ext", "rerun",
        "reset", "reset_selective", "rm", "rmdir", "run", "save", "sc", "set_env", "store", "tb",
        "tensorflow_version", "time", "timeit", "unalias", "unload_ext", "who", "who_ls", "whos", "xdel",
        "xmode",
    }
)

# the target ends at a character that is not a space: with `[\w.,\[\]\s]+?` a long run of spaces
# was tried as part of the target and of the `\s*` after it, in every split (quadratic)
_ASSIGN_MAGIC = re.compile(r"^(?P<target>[\w.,\[\]\s]*[\w.,\[\]])\s*=\s*(?P<sigil>!!?|%)(?P<rest>.*)$")
_HELP = re.compile(r"^(\?\??[\w.]+|[\w.]+\?\??)$")
_FIRST_WORD = re.compile(r"[A-Za-z_]\w*")


def _shell_from_magic(body: str) -> Optional[Tuple[str, int]]:
    """For a line magic body (after `%`), the shell command it runs and its offset in body."""
    name, _, rest = body.partition(" ")
    if name in _SHELL_LINE_MAGICS:
        return body, 0
    if name in _SHELL_LINE_MAGICS_BARE:
        stripped = rest.lstrip()
        return stripped, len(body) - len(stripped)
    return None


def _magic_body(body: str, at: int) -> Tuple[Optional[str], int]:
    found = _shell_from_magic(body)
    return (None, 0) if found is None else (found[0], at + found[1])


def magic_line(line: str, automagic: bool = False) -> Optional[Tuple[Optional[str], int]]:
    """None for a line of Python; for IPython syntax, the shell command the line runs (None when
    it runs none) and the command's 0-based column. `automagic`: read the line as a `%` magic."""
    stripped = line.lstrip()
    indent = len(line) - len(stripped)
    if automagic:
        return _magic_body(stripped, indent)
    if stripped.startswith("!"):
        bang = 2 if stripped.startswith("!!") else 1
        return stripped[bang:], indent + bang
    if stripped.startswith("%"):
        return _magic_body(stripped[1:], indent + 1)
    if _HELP.match(stripped.rstrip()):
        return None, 0
    m = _ASSIGN_MAGIC.match(stripped)
    if m is None or stripped.startswith("#"):
        return None
    at = indent + m.start("rest")
    if m.group("sigil").startswith("!"):
        return m.group("rest"), at
    return _magic_body(m.group("rest"), at)


def is_python(code: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def automagic_line(src_lines: List[str]) -> Optional[int]:
    """The index of the line IPython runs as a magic without its `%` (automagic), or None.

    IPython does so only for a cell of one line (after leading blank lines) whose first word
    names a line magic or shell alias; a line that is valid Python is left to Python here.
    """
    first = next((i for i, line in enumerate(src_lines) if line.strip()), None)
    if first is None or first != len(src_lines) - 1:
        return None
    stripped = src_lines[first].strip()
    word = _FIRST_WORD.match(stripped)
    if word is None or word.group() not in AUTOMAGICS:
        return None
    after = stripped[word.end() : word.end() + 1]
    if after and not after.isspace():
        return None  # `pip.main(...)`, `cd..`: not the magic's name alone
    return None if is_python(stripped) else first


def continued(lines: List[str], i: int) -> int:
    """Index of the last line of a magic starting at i (lines ending in a backslash continue)."""
    j = i
    while lines[j].rstrip().endswith("\\") and j + 1 < len(lines):
        j += 1
    return j


def join_continuation(lines: List[str]) -> str:
    parts = [ln.rstrip() for ln in lines]
    parts = [p[:-1].rstrip() if p.endswith("\\") else p for p in parts]
    return " ".join(p.strip() for p in parts if p.strip())


def replace_magic(
    src_lines: List[str], i: int, first_line: int, automagic: bool = False
) -> Optional[Tuple[List[str], Optional[ShellCommand]]]:
    """For a magic at src_lines[i]: the Python lines for it and its continuation lines (`pass`,
    then blanks) and the shell command it runs; None when the line is Python.

    first_line: the line number of src_lines[0] in the text the positions are for.
    """
    line = src_lines[i]
    magic = magic_line(line, automagic)
    if magic is None:
        return None
    body, offset = magic
    j = continued(src_lines, i)
    command = None
    if body is not None:
        leading = len(body) - len(body.lstrip())
        text = join_continuation([body] + src_lines[i + 1 : j + 1])
        if text:
            command = ShellCommand(
                line=first_line + i,
                column=offset + leading + 1,
                text=text,
                end_line=first_line + j,
                end_column=len(src_lines[j].rstrip()) + 1,
            )
    # a one-line cell loses its indentation in IPython: `pass` alone there
    indent = "" if automagic else line[: len(line) - len(line.lstrip())]
    return [indent + "pass"] + [""] * (j - i), command


# ---------------------------------------------------------------- scripts holding IPython syntax

# a line that may be IPython syntax (cheap test before any parsing)
_MAY_BE_MAGIC = re.compile(r"^[ \t]*(?:[!%?]|[\w.]+\?|[\w.,\[\] \t]*[\w.,\[\]][ \t]*=[ \t]*[!%])", re.MULTILINE)
_MAGIC_CHARS = re.compile(r"[!%?]")


def may_be_magic(text: str) -> bool:
    """Some line reads like an IPython magic. Only the lines holding `!`, `%` or `?` are tried: the
    pattern searched from every line start cost 0.42 CPU s on the 500-file benchmark corpus, this
    0.02 s."""
    at = 0
    while True:
        found = _MAGIC_CHARS.search(text, at)
        if found is None:
            return False
        if _MAY_BE_MAGIC.match(text, text.rfind("\n", 0, found.start()) + 1):
            return True
        end = text.find("\n", found.end())
        if end < 0:
            return False
        at = end + 1


# characters of source CPython parses per script while looking for magics, all tries together
# (a 1 MiB script: two magics); a larger script is not searched
_PARSE_BUDGET = 2 * 1024 * 1024
_MAX_TRIES = 256


@dataclass
class ScriptMagics:
    """A script with its IPython lines replaced as in notebooks."""

    text: str  # the script, each magic line `pass` (its continuation lines blank)
    shell: List[ShellCommand] = field(default_factory=list)
    lines: List[int] = field(default_factory=list)  # 1-based first lines of the magics, in order


def _syntax_error_line(text: str) -> Optional[int]:
    """The line CPython's parser stops at; None when the text parses (or it cannot say)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as err:
        return err.lineno or None
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


def script_magics(text: str) -> Optional[ScriptMagics]:
    """The script read the way IPython would (`%matplotlib inline`, `!pip install x`), when
    plain Python rejects it at such a line; None otherwise.

    Only lines where CPython's parser stops are replaced, one at a time, so a `%` or `!` inside a
    string or continuing an expression stays as it is; the parsing is bounded per file.
    """
    tries = min(_MAX_TRIES, _PARSE_BUDGET // max(len(text), 1))
    if not tries or not may_be_magic(text):
        return None
    lines = text.split("\n")
    found = ScriptMagics(text)
    lineno = _syntax_error_line(text)
    for _ in range(tries):
        i = (lineno or 0) - 1
        replaced = replace_magic(lines, i, 1) if 0 <= i < len(lines) else None
        if replaced is None:
            break
        new, command = replaced
        candidate = "\n".join(lines[:i] + new + lines[i + len(new) :])
        after = _syntax_error_line(candidate)
        if after is not None and after <= i + 1:
            break  # the parser still stops there (a `%` continuing an expression): not a magic
        lines[i : i + len(new)] = new
        found.lines.append(i + 1)
        if command is not None:
            found.shell.append(command)
        found.text, lineno = candidate, after
    return found if found.lines else None
