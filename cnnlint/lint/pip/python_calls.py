"""The commands Python code runs (`subprocess.run([...])`, `os.system("...")`,
`get_ipython().system(...)`, `get_ipython().run_line_magic("pip", ...)`, `pip.main([...])`), as
shell words, from literal arguments only: a variable, an f-string hole or a `{var}` IPython
expansion is unknown (a dynamic word)."""

from __future__ import annotations

import ast
import re
from typing import List, Optional

from cnnlint.lint.index.call_args import arguments, plain_positional
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import call_tail, keyword, string_value
from cnnlint.lint.pip.shell import DYNAMIC, SYS_EXECUTABLE, Word, split_shell

_SUBPROCESS = {
    "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
    "subprocess.Popen",
}
_SHELL_FUNCS = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"}
_PIP_MAIN = {"pip.main", "pip._internal.main", "pip._internal.cli.main.main"}
_IPYTHON_SHELL = {"system", "getoutput", "system_piped", "system_raw"}
CALL_TAILS = frozenset(
    {"run", "call", "check_call", "check_output", "Popen", "system", "popen", "getoutput",
     "getstatusoutput", "system_piped", "system_raw", "run_line_magic", "run_cell_magic", "main"}
)
_LINE_MAGICS = {"pip", "conda", "mamba", "uv"}


def _shell_text(expr: ast.AST, imports: ImportTable) -> Optional[str]:
    """The text of a string expression, unknown parts replaced by a dynamic marker."""
    value = string_value(expr)
    if value is not None:
        return value
    if isinstance(expr, ast.JoinedStr):
        parts = []
        for part in expr.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
            elif isinstance(part, ast.FormattedValue):
                qualified = imports.qualify(part.value)
                parts.append(SYS_EXECUTABLE if qualified == "sys.executable" else DYNAMIC)
        return "".join(parts)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left = _shell_text(expr.left, imports)
        right = _shell_text(expr.right, imports)
        if left is None and right is None:
            return None
        return (left if left is not None else DYNAMIC) + (right if right is not None else DYNAMIC)
    return None


def _shell_commands(expr: Optional[ast.AST], imports: ImportTable) -> List[List[Word]]:
    text = _shell_text(expr, imports) if expr is not None else None
    if text is None:
        return []
    commands = split_shell(text)
    for words in commands:
        for word in words:
            word.anchor = expr
    return commands


def _list_words(expr: ast.AST, imports: ImportTable) -> Optional[List[Word]]:
    """Words of a subprocess argument list: literal strings, sys.executable, or unknown."""
    if isinstance(expr, (ast.List, ast.Tuple)):
        words = []
        for element in expr.elts:
            if isinstance(element, ast.Starred):
                words.append(Word("*", dynamic=True))
                continue
            value = string_value(element)
            if value is not None:
                words.append(Word(value, 0, len(value), anchor=element))
            elif imports.qualify(element) == "sys.executable":
                words.append(Word("python"))
            else:
                words.append(Word("?", dynamic=True))
        return words
    # "pip install x".split()
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "split"
        and not expr.args
        and not expr.keywords
    ):
        value = string_value(expr.func.value)
        if value is None:
            return None
        return [
            Word(m.group(0), m.start(), m.end(), anchor=expr.func.value) for m in re.finditer(r"\S+", value)
        ]
    return None


def _is_get_ipython(expr: ast.AST, imports: ImportTable) -> bool:
    if not isinstance(expr, ast.Call):
        return False
    name = imports.qualify(expr.func) or ""
    return name.split(".")[-1] == "get_ipython"


def _ipython_commands(call: ast.Call, imports: ImportTable) -> List[List[Word]]:
    """`get_ipython().system(...)`, `.run_line_magic("pip", ...)`, `.run_cell_magic("bash", ...)`."""
    tail = call_tail(call)
    first = plain_positional(call, 0)
    if first is None:
        return []
    if tail in _IPYTHON_SHELL:
        return _shell_commands(first, imports)
    second = plain_positional(call, 1)
    name = string_value(first)
    if tail == "run_line_magic" and second is not None:
        if name in _LINE_MAGICS:
            return [[Word(name)] + cmd for cmd in _shell_commands(second, imports)]  # type: ignore[arg-type]
        if name in ("system", "sx"):
            return _shell_commands(second, imports)
    if tail == "run_cell_magic" and name in ("bash", "sh"):
        return _shell_commands(plain_positional(call, 2), imports)
    return []


def _value_of(call: ast.Call, index: int, *names: str) -> Optional[ast.expr]:
    """The index-th plain positional argument, or the first of the keyword arguments named."""
    found = plain_positional(call, index)
    for name in names:
        if found is not None:
            break
        kw = keyword(call, name)
        found = kw.value if kw is not None else None
    return found


def call_commands(call: ast.Call, imports: ImportTable) -> List[List[Word]]:
    """The commands a call runs, as words, for the calls that run commands; [] otherwise."""
    func = call.func
    if isinstance(func, ast.Attribute) and _is_get_ipython(func.value, imports):
        return _ipython_commands(call, imports)
    qualified = imports.qualify(func)
    if qualified in _SUBPROCESS:
        arg = _value_of(call, 0, "args")
        if arg is None:
            return []
        words = _list_words(arg, imports)
        if words is not None:
            return [words]
        if (
            isinstance(arg, ast.Call)
            and imports.qualify(arg.func) == "shlex.split"
            and (arg.args or arg.keywords)
        ):
            return _shell_commands(arguments(arg)[0], imports)
        return _shell_commands(arg, imports)
    if qualified in _SHELL_FUNCS:
        return _shell_commands(_value_of(call, 0, "command", "cmd"), imports)
    if qualified in _PIP_MAIN:
        arg = _value_of(call, 0, "args")
        words = _list_words(arg, imports) if arg is not None else None
        return [[Word("pip")] + words] if words else []
    return []
