"""A real IPython InteractiveShell driven cell by cell, for the notebook extension's tests: what it
displays and prints is recorded in order; `snapshot` says whether a namespace was left as it was."""

from __future__ import annotations

import io
import os
import sys
from typing import Any, Dict, List, Tuple


class _Stdout(io.StringIO):
    def __init__(self, log: List[Tuple[str, Any]]) -> None:
        super().__init__()
        self.log = log

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self.log.append(("stdout", line))
        return len(text)


class NotebookShell:
    """A fresh InteractiveShell (the singleton, cleared on exit) with an in-memory history."""

    def __init__(self, folder: Any) -> None:
        self.folder = str(folder)
        self.log: List[Tuple[str, Any]] = []

    def __enter__(self) -> "NotebookShell":
        from IPython.core.displaypub import DisplayPublisher
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        os.environ["IPYTHONDIR"] = os.path.join(self.folder, ".ipython")
        config = Config()
        config.HistoryManager.hist_file = ":memory:"
        InteractiveShell.clear_instance()
        self.sh = InteractiveShell.instance(config=config)
        log = self.log

        class Recorder(DisplayPublisher):
            def publish(self, data, metadata=None, source=None, **kwargs):  # noqa: ANN001 - IPython's signature
                log.append(("display", dict(data)))

        self.sh.display_pub = Recorder(parent=self.sh)
        return self

    def __exit__(self, *exc: Any) -> None:
        from IPython.core.interactiveshell import InteractiveShell

        from cnnlint.notebook.extension import unload

        unload(self.sh)
        self.sh.history_manager.end_session()
        InteractiveShell.clear_instance()

    @property
    def ns(self) -> Dict[str, Any]:
        return self.sh.user_ns

    def run(self, cell: str) -> Any:
        saved, sys.stdout = sys.stdout, _Stdout(self.log)
        try:
            return self.sh.run_cell(cell, store_history=True)
        finally:
            sys.stdout = saved

    def shown(self) -> List[Any]:
        """The reports of `%cnnlint`, in order (the session's Shown objects, rebuilt from the bundles)."""
        from cnnlint.notebook.extension import session_of

        session = session_of(self.sh)
        return session.reports if session is not None else []

    def shown_text(self) -> List[str]:
        return [data["text/plain"] for kind, data in self.log if kind == "display"]


def snapshot(namespace: Dict[str, Any]) -> Dict[str, Tuple[int, Any]]:
    """Each user name's object identity and a copy of what it holds (arrays' bytes, generators' positions)."""
    import numpy as np

    out: Dict[str, Tuple[int, Any]] = {}
    for name, obj in namespace.items():
        if name.startswith("_") or name in ("In", "Out", "exit", "quit", "get_ipython"):
            continue
        if isinstance(obj, np.ndarray):
            content: Any = (obj.dtype.str, obj.shape, obj.tobytes())
        elif hasattr(obj, "class_indices") and hasattr(obj, "batch_index"):
            content = (obj.batch_index, obj.total_batches_seen, dict(obj.class_indices),
                       getattr(obj, "index_array", None) is None)
        elif type(obj).__name__ == "Tensor" and hasattr(obj, "numpy"):
            content = obj.detach().cpu().numpy().tobytes()
        else:
            content = type(obj).__name__
        out[name] = (id(obj), content)
    return out
