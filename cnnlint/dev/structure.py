"""The shape of a Python package, read from its sources: import cycles (imports inside functions
and under `if TYPE_CHECKING` included), imports of another module's `_private` names, modules over
a number of lines, functions over a number of lines. `tests/test_structure.py` holds cnnlint to it.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Set, Tuple, Union

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]


@dataclass
class Structure:
    cycles: List[List[str]] = field(default_factory=list)  # each sorted
    private: List[Tuple[str, str]] = field(default_factory=list)  # (importer, imported module.name)
    module_lines: Dict[str, int] = field(default_factory=dict)
    function_lines: Dict[str, int] = field(default_factory=dict)  # "module:Class.function" -> lines

    def violations(self, max_module: int = 800, max_function: int = 80) -> Dict[str, str]:
        """One line per violation, keyed by a name that survives edits elsewhere in the file."""
        found: Dict[str, str] = {}
        for cycle in self.cycles:
            found["cycle " + " <-> ".join(cycle)] = "import cycle"
        for importer, name in self.private:
            found[f"private {importer} -> {name}"] = "imports another module's private name"
        for module, n in self.module_lines.items():
            if n > max_module:
                found[f"big-module {module}"] = f"{n} lines (max {max_module})"
        for function, n in self.function_lines.items():
            if n > max_function:
                found[f"long-function {function}"] = f"{n} lines (max {max_function})"
        return found


def modules(root: str) -> Dict[str, str]:
    """Dotted module name -> file, for the package in folder `root`."""
    found: Dict[str, str] = {}
    parent = os.path.dirname(os.path.abspath(root))
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, parent)[:-3].replace(os.sep, ".")
                found[dotted[: -len(".__init__")] if dotted.endswith(".__init__") else dotted] = path
    return found


def _imports(node: ast.AST, module: str, is_package: bool, known: Dict[str, str]) -> List[Tuple[str, Optional[str]]]:
    """(imported module, imported name or None) for one import statement."""
    if isinstance(node, ast.Import):
        return [(alias.name, None) for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([base] if base else []))
    return [(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base, a.name) for a in node.names]


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[Tuple[str, FunctionNode]]:
    """Every function with its qualified name (Class.method, outer.inner)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + child.name, child
            yield from _functions(child, prefix + child.name + ".")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, prefix + child.name + ".")
        else:
            yield from _functions(child, prefix)


def _owner(module: str, is_package: bool) -> str:
    return module if is_package else module.rsplit(".", 1)[0]


def _read_module(module: str, path: str, known: Dict[str, str], result: Structure, edges: Dict[str, Set[str]]) -> None:
    package = module.split(".")[0]
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    tree = ast.parse(source)
    result.module_lines[module] = source.count("\n")
    for name, fn in _functions(tree):
        result.function_lines[f"{module}:{name}"] = (fn.end_lineno or fn.lineno) - fn.lineno + 1
    is_package = path.endswith("__init__.py")
    for node in ast.walk(tree):
        for target, imported in _imports(node, module, is_package, known):
            while target and target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target not in known or target == module or target.split(".")[0] != package:
                continue
            edges[module].add(target)
            home = _owner(module, is_package)
            private = imported is not None and imported.startswith("_") and not imported.startswith("__")
            if private and target.rsplit(".", 1)[0] != home and target != home:
                result.private.append((module, f"{target}.{imported}"))


def strongly_connected(edges: Dict[str, Set[str]]) -> List[List[str]]:
    """The cycles of a graph: its strongly connected components of two nodes or more (Tarjan's
    algorithm, iterative so no recursion limit is reached)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def read_structure(root: str) -> Structure:
    """The structure of the package in folder `root`."""
    known = modules(root)
    result = Structure()
    edges: Dict[str, Set[str]] = {m: set() for m in known}
    for module, path in sorted(known.items()):
        _read_module(module, path, known, result, edges)
    result.cycles = strongly_connected(edges)
    return result
