"""Literal values, sizes and paths a script writes, followed through simple assignments.

`img_height, img_width = 150, 150`, `IMG_SHAPE = IMG_SIZE + (3,)`, `os.path.join(BASE, "train")`:
anything the code computes at run time stays unknown (None).
"""

from __future__ import annotations

import ast
import re
from typing import Any, List, Optional, Tuple

from cnnlint.lint.index.bindings import Bindings, arithmetic
from cnnlint.lint.index.names import string_value

_GLOB_STOP = re.compile(r"[*?\[{]")

PathValue = Tuple[Optional[str], bool]  # (path, exact)


class Values:
    """Values of expressions in one file, on its `Bindings`."""

    def __init__(self, bindings: Bindings) -> None:
        self.f = bindings

    def value(self, expr: Optional[ast.AST], depth: int = 0) -> Any:
        """A literal value: number, string, bool, None-literal as the string "None", or a list of values."""
        if expr is None or depth > 10:
            return None
        if isinstance(expr, ast.Constant):
            v = expr.value
            if v is None:
                return "None"
            if isinstance(v, (bool, str)) or type(v) in (int, float):
                return v
            return None
        if isinstance(expr, (ast.Tuple, ast.List)):
            items: List[Any] = []
            for e in expr.elts:
                if isinstance(e, ast.Starred):  # (*IMG_SIZE, 3)
                    inner = self.value(e.value, depth + 1)
                    if not isinstance(inner, list):
                        return None
                    items.extend(inner)
                else:
                    items.append(self.value(e, depth + 1))
            return items
        if isinstance(expr, ast.Name):
            return self.value(self.bound(expr), depth + 1)
        if isinstance(expr, ast.BinOp):
            a, b = self.value(expr.left, depth + 1), self.value(expr.right, depth + 1)
            op = expr.op
            if isinstance(op, ast.Add) and isinstance(a, list) and isinstance(b, list):
                return a + b
            if isinstance(op, ast.Add) and isinstance(a, str) and isinstance(b, str):
                return a + b
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
                v = arithmetic(op, a, b)
                return int(v) if isinstance(v, float) and v.is_integer() else v
        return None

    def bound(self, name: ast.Name) -> Optional[ast.AST]:
        """The expression a name is bound to where it is used; tuple unpacking followed."""
        b = self.f.binding(name.id, name)
        if b is None or b.value is None or b.conditional:
            return None
        if b.unpack is None:
            return b.value
        value = b.value
        if isinstance(value, (ast.Tuple, ast.List)) and not any(
            isinstance(e, (ast.Starred, ast.Tuple, ast.List)) for e in value.elts
        ):
            if b.unpack < len(value.elts):
                return value.elts[b.unpack]
        return None

    def size(self, expr: Optional[ast.AST]) -> Optional[List[int]]:
        """(height, width) written as a pair of ints (or one int for a square)."""
        v = self.value(expr)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return [v, v]
        if isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v):
            return [int(v[0]), int(v[1])]
        return None

    def path(self, expr: Optional[ast.AST], depth: int = 0) -> PathValue:
        """(path, exact): the whole path when every part is known, else its known final part."""
        if expr is None or depth > 10:
            return None, False
        s = string_value(expr)
        if s is not None:
            return s, True
        if isinstance(expr, ast.Name):
            bound = self.bound(expr)
            return self.path(bound, depth + 1) if bound is not None else (None, False)
        if isinstance(expr, ast.JoinedStr):
            parts: List[PathValue] = []
            for p in expr.values:
                if isinstance(p, ast.Constant) and isinstance(p.value, str):
                    parts.append((p.value, True))
                elif isinstance(p, ast.FormattedValue) and p.format_spec is None and p.conversion == -1:
                    parts.append(self.path(p.value, depth + 1))
                else:
                    parts.append((None, False))
            return concat(parts)
        if isinstance(expr, ast.BinOp):
            left, right = self.path(expr.left, depth + 1), self.path(expr.right, depth + 1)
            if isinstance(expr.op, ast.Add):
                return concat([left, right])
            if isinstance(expr.op, ast.Div):  # pathlib: Path(a) / "b"
                return join([left, right])
            return None, False
        if isinstance(expr, ast.Call):
            return self._call_path(expr, depth)
        return None, False

    def _call_path(self, expr: ast.Call, depth: int) -> PathValue:
        q = self.f.q(expr.func)
        tail = q.rsplit(".", 1)[-1]
        args = [a for a in expr.args if not isinstance(a, ast.Starred)]
        plain = len(args) == len(expr.args) and not expr.keywords
        if q in ("os.path.join", "posixpath.join", "ntpath.join") and args and plain:
            return join([self.path(a, depth + 1) for a in args])
        if tail in ("Path", "PurePath", "PosixPath") and plain:
            return join([self.path(a, depth + 1) for a in args]) if args else (None, False)
        if q in ("str", "os.fspath", "os.path.normpath", "os.path.expanduser") and len(args) == 1:
            return self.path(args[0], depth + 1)
        if isinstance(expr.func, ast.Attribute) and tail == "joinpath":
            base = self.path(expr.func.value, depth + 1)
            return join([base] + [self.path(a, depth + 1) for a in args])
        return None, False


def glob_root(pattern: str) -> Tuple[str, str]:
    """'data/train/*/*.jpg' -> ('data/train', '*/*.jpg')."""
    parts = pattern.replace("\\", "/").split("/")
    for i, part in enumerate(parts):
        if _GLOB_STOP.search(part):
            return "/".join(parts[:i]) or ".", "/".join(parts[i:])
    return pattern, ""


def concat(parts: List[PathValue]) -> PathValue:
    """String concatenation: the text after the last unknown part (exact when none is unknown)."""
    known = ""
    exact = True
    for text, ex in parts:
        if text is None:
            known, exact = "", False
            continue
        if not ex:
            known, exact = text, False
            continue
        known += text
    if not exact:
        known = known.lstrip("/\\")
        return (known or None), False
    return known, True


def join(parts: List[PathValue]) -> PathValue:
    """os.path.join / pathlib: parts after the last unknown one (an absolute part restarts)."""
    out: List[str] = []
    exact = True
    for text, ex in parts:
        if text is None:
            out, exact = [], False
            continue
        if not ex:
            out, exact = [text], False
            continue
        if text.startswith("/"):
            out = [text]
        else:
            out.append(text)
    joined = "/".join(p.rstrip("/") for p in out if p) if out else None
    if exact and out and out[0].startswith("/") and joined is not None and not joined.startswith("/"):
        joined = "/" + joined
    return (joined or None), exact
