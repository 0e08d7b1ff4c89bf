"""`%load_ext cnnlint`: the `%cnnlint` line magic and the cell hooks, on IPython 7.34 (Colab) and later.

- `%cnnlint [PATH ...] [flags]`: the executed cells (and the paths) checked, the report shown;
- `%cnnlint on [--strict] [flags]` / `%cnnlint off`: each cell checked before it runs (pre_run_cell);
  --strict stops a cell with an error-level finding (an AST transformer raises InputRejected);
- after each cell (post_run_cell), while the checks are on, the live facts are read from the namespace.

The hooks take the event's argument or none (IPython < 7 calls pre_run_cell without one) and read
only `raw_cell` from it (`cell_id` arrived in IPython 8.3; Colab has 7.34).
"""

from __future__ import annotations

import shlex
import sys
from typing import Any, Optional

from cnnlint.notebook.render import Shown
from cnnlint.notebook.session import Kernel, Session, UsageProblem

_SESSIONS: dict = {}  # id(shell) -> (Session, hooks): one per shell


def _publish(shell: Any, shown: Optional[Shown]) -> None:
    if shown is not None:
        shell.display_pub.publish(data=shown.bundle(), metadata={})


class _Gate:
    """The AST transformer of --strict: refuses the cell the pre_run_cell check blocked."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def visit(self, node: Any) -> Any:
        message, self.session.blocked = self.session.blocked, None
        if message:
            from IPython.core.error import InputRejected

            raise InputRejected(message)
        return node


class _Hooks:
    def __init__(self, shell: Any, session: Session) -> None:
        self.shell, self.session = shell, session
        self.gate = _Gate(session)

    def pre_run_cell(self, info: Any = None) -> None:
        text = getattr(info, "raw_cell", None)
        if text is None or not self.session.enabled:
            return
        number = len(self.shell.history_manager.input_hist_raw)  # the count this cell is stored under
        try:
            shown = self.session.before_cell(text, number)
        except Exception as exc:  # noqa: BLE001 - a cnnlint bug must never stop the user's cell
            print(f"cnnlint: internal error while checking the cell: {type(exc).__name__}: {exc}", file=sys.stderr)
            return
        _publish(self.shell, shown)

    def post_run_cell(self, result: Any = None) -> None:
        if not self.session.enabled:
            return  # `%cnnlint` reads the namespace itself: nothing to keep while the checks are off
        try:
            self.session.after_cell(getattr(result, "execution_count", None))
        except Exception as exc:  # noqa: BLE001 - as above
            print(f"cnnlint: internal error while reading the namespace: {type(exc).__name__}: {exc}", file=sys.stderr)

    def magic(self, line: str) -> None:
        from IPython.core.error import UsageError

        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%cnnlint: {exc}") from None
        try:
            _publish(self.shell, self._run(words))
        except UsageProblem as exc:
            raise UsageError(f"%cnnlint: {exc}") from None

    def _run(self, words: list) -> Shown:
        from cnnlint.cli import parse_request

        if words[:1] == ["off"]:
            self._gate(False)
            return self.session.turn_off()
        on = words[:1] == ["on"]
        strict = on and "--strict" in words
        flags = [w for w in words[1:] if w != "--strict"] if on else words
        try:
            request = parse_request(flags)
        except SystemExit as exc:  # argparse printed the usage or the help
            if exc.code in (0, None):
                return Shown("cnnlint: usage above")
            raise UsageProblem("bad arguments (usage above)") from None
        if not on:
            return self.session.report(request)
        shown = self.session.turn_on(request, strict)
        self._gate(strict)
        return shown

    def _gate(self, on: bool) -> None:
        transformers = self.shell.ast_transformers
        if on and self.gate not in transformers:
            transformers.append(self.gate)
        elif not on and self.gate in transformers:
            transformers.remove(self.gate)


def load(shell: Any) -> None:
    if id(shell) in _SESSIONS:
        return
    kernel = Kernel(history=lambda: shell.history_manager.input_hist_raw, namespace=lambda: shell.user_ns,
                    hidden=lambda: getattr(shell, "user_ns_hidden", {}))
    session = Session(kernel)
    hooks = _Hooks(shell, session)
    shell.register_magic_function(hooks.magic, "line", "cnnlint")
    shell.events.register("pre_run_cell", hooks.pre_run_cell)
    shell.events.register("post_run_cell", hooks.post_run_cell)
    _SESSIONS[id(shell)] = (session, hooks)


def unload(shell: Any) -> None:
    entry = _SESSIONS.pop(id(shell), None)
    if entry is None:
        return
    _, hooks = entry
    hooks._gate(False)
    shell.events.unregister("pre_run_cell", hooks.pre_run_cell)
    shell.events.unregister("post_run_cell", hooks.post_run_cell)
    shell.magics_manager.magics["line"].pop("cnnlint", None)


def session_of(shell: Any) -> Optional[Session]:
    entry = _SESSIONS.get(id(shell))
    return entry[0] if entry else None
