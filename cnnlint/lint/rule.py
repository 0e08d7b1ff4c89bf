"""The rule base class: a rule owns judgement, the engine owns traversal.

A rule declares its code, name, severity and one-line summary as class attributes, the analyses
it reads (`uses`), and either node hooks for local checks — methods named `visit_<ast class>` /
`leave_<ast class>` (CPython's `ast` node classes), called by the engine's one walk of each file —
or `check()` for judgement over the whole file, after the walk. Non-Python inputs come through
`check_shell` (notebook shell commands) and `check_manifest` (requirements, environment.yml).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, ClassVar, Dict, FrozenSet, Optional, Tuple

from cnnlint.findings import Fix, Severity
from cnnlint.lint.context import FileContext, Target

if TYPE_CHECKING:
    from cnnlint.sources.manifest import Manifest
    from cnnlint.sources.model import ShellCommand, SourceFile


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    autofix: ClassVar[bool] = False
    # which inputs the rule looks at: "python" (scripts and notebooks), "manifest"
    inputs: ClassVar[FrozenSet[str]] = frozenset({"python"})
    # filled by __init_subclass__: node class name -> (visit method, leave method)
    node_hooks: ClassVar[Dict[str, Tuple[Optional[str], Optional[str]]]] = {}
    # the analyses (cnnlint.lint.index classes) the rule asks the context for
    uses: ClassVar[Tuple[type, ...]] = ()
    # the rule leaves facts on the context that the cross-check reads (CNL102's in-memory image
    # sets): it runs whenever the cross-check's facts are wanted, its findings kept by the selection
    feeds_facts: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        hooks: Dict[str, Tuple[Optional[str], Optional[str]]] = {}
        for attr in dir(cls):
            for prefix in ("visit_", "leave_"):
                if attr.startswith(prefix):
                    node_name = attr[len(prefix) :]
                    if not isinstance(getattr(ast, node_name, None), type):
                        raise TypeError(f"{cls.__name__}.{attr}: no ast node {node_name}")
                    visit, leave = hooks.get(node_name, (None, None))
                    hooks[node_name] = (attr, leave) if prefix == "visit_" else (visit, attr)
        cls.node_hooks = hooks

    def __init__(self, ctx: "FileContext") -> None:
        self.ctx = ctx

    def report(
        self,
        target: Target,
        message: str,
        hint: str = "",
        *,
        severity: Optional[Severity] = None,
        fix: Optional[Fix] = None,
    ) -> None:
        self.ctx.add(self.code, target, message, hint, severity or self.severity, fix)

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        """Whether the rule can find anything in this file, judged from its text alone.

        A cheap substring test here lets the engine skip the rule, and skip the walk
        altogether when no rule applies (a syntax check still runs).
        """
        return True

    def wants_walk(self) -> bool:
        """Whether this file needs the rule's visit_/leave_ hooks at all.

        A rule whose node hooks can only fire on files that mention some name (a
        cheap text test on self.ctx.source.text) says so here; when no rule wants
        the walk, the engine skips it.
        """
        return True

    # hooks for input that is not Python; the engine calls them when the rule declares the input
    def check_shell(self, command: "ShellCommand") -> None:
        """A notebook shell command (`!pip install x`)."""

    def check_manifest(self, manifest: "Manifest") -> None:
        """A dependency manifest (requirements file, environment.yml)."""

    def check(self) -> None:
        """Called once after the walk (Python inputs only), for judgement over the whole file."""
