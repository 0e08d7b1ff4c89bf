"""The language server: pygls's LanguageServer with cnnlint's features.

Each open script, requirements or environment file, and each open notebook (LSP notebook sync:
its cells linted together, as one notebook, and the diagnostics published per cell) is linted
on open, on change and on save. Changes are debounced: a lint starts `debounce` seconds after
the last change, runs in a worker thread (the server keeps reading messages), and a change that
arrives while it runs is linted right after it (the latest text, once). On save the save-time
checks (dataset scan, cross-check) run in a child process in the background. A pyproject.toml
that changes (workspace/didChangeWatchedFiles, or saved in the editor) is read again and every
open document linted again.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from cnnlint import __version__
from cnnlint.findings import Finding
from cnnlint.server import analysis
from cnnlint.server.actions import code_actions
from cnnlint.server.convert import Positions, diagnostics
from cnnlint.server.hover import hover

DEBOUNCE = 0.025  # seconds after the last change (initializationOptions: {"debounce": milliseconds})
CONFIG_NAMES = ("pyproject.toml", "cnnlint.toml")


@dataclass
class Snapshot:
    """What one lint needs, copied on the server's thread (the worker never reads the workspace)."""

    path: str
    uris: List[str]  # the document's, or each cell's
    texts: List[str]
    lines: List[List[str]]
    codecs: List[Any]
    code_cells: List[bool] = field(default_factory=list)  # notebooks only
    notebook: bool = False


def path_of(uri: str) -> str:
    """The file a document URI names (an untitled buffer: its name, linted by its extension)."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return path or uri.rsplit("/", 1)[-1]


class CnnlintServer(LanguageServer):
    def __init__(self) -> None:
        sync = types.NotebookDocumentSyncOptions(
            notebook_selector=[types.NotebookDocumentFilterWithCells(
                cells=[types.NotebookCellLanguage(language="python")], notebook="*")],
            save=True)
        super().__init__("cnnlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         notebook_document_sync=sync)
        self.configs = analysis.Configs()
        self.debounce = DEBOUNCE
        self.save_checks = True
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cnnlint-lint")
        self.timers: Dict[str, asyncio.TimerHandle] = {}
        self.running: Set[str] = set()
        self.again: Set[str] = set()
        self.published: Dict[str, List[types.Diagnostic]] = {}  # uri -> what the client shows, for hover
        self.saved: Dict[str, List[Finding]] = {}  # path -> the save-time checks' findings
        self.checking: Set[str] = set()
        self.told: Set[str] = set()  # configuration errors already shown

    # ----------------------------------------------------------------- what to lint
    def snapshot(self, key: str) -> Optional[Snapshot]:
        notebook = self.workspace.get_notebook_document(notebook_uri=key)
        if notebook is None:
            doc = self.workspace.text_documents.get(unquote(key))
            if doc is None or analysis.kind_of(path_of(key)) is None:
                return None
            return Snapshot(path_of(key), [key], [doc.source], [list(doc.lines)], [doc.position_codec])
        snap = Snapshot(path_of(key), [], [], [], [], notebook=True)
        for cell in notebook.cells:
            doc = self.workspace.text_documents.get(unquote(cell.document))
            if doc is None:
                continue
            snap.uris.append(cell.document)
            snap.texts.append(doc.source)
            snap.lines.append(list(doc.lines))
            snap.codecs.append(doc.position_codec)
            snap.code_cells.append(cell.kind == types.NotebookCellKind.Code and doc.language_id in ("python", ""))
        return snap

    def compute(self, snap: Snapshot) -> Dict[str, List[types.Diagnostic]]:
        """Diagnostics per URI (runs in the worker thread)."""
        settings = self.configs.for_path(snap.path)
        saved = self.saved.get(os.path.abspath(snap.path), [])
        if not snap.notebook:
            findings = analysis.lint_buffer(snap.path, snap.texts[0], settings.config)
            findings += [f for f in saved if f.cell is None]
            return {snap.uris[0]: diagnostics(findings, Positions(snap.lines[0], snap.codecs[0]))}
        cells = list(zip(snap.code_cells, snap.texts))
        per_cell = analysis.lint_cells(snap.path, cells, settings.config)
        for finding in saved:
            if finding.cell is not None and 0 < finding.cell <= len(cells):
                per_cell[finding.cell - 1].append(finding)
        return {uri: diagnostics(per_cell[i], Positions(snap.lines[i], snap.codecs[i]))
                for i, uri in enumerate(snap.uris)}

    # ----------------------------------------------------------------- when to lint
    def schedule(self, key: str, delay: Optional[float] = None) -> None:
        """Lint `key` (a document's or a notebook's URI) after the debounce; once more after a running lint."""
        if key in self.running:
            self.again.add(key)
            return
        timer = self.timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self.timers[key] = loop.call_later(self.debounce if delay is None else delay,
                                           lambda: asyncio.ensure_future(self.lint(key)))

    async def lint(self, key: str) -> None:
        self.timers.pop(key, None)
        snap = self.snapshot(key)
        if snap is None:
            return
        self.running.add(key)
        try:
            found = await asyncio.get_running_loop().run_in_executor(self.worker, self.compute, snap)
        except Exception as exc:  # noqa: BLE001 - a bug costs this lint, never the server
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"cnnlint: {path_of(key)}: "
                                                           f"internal error: {type(exc).__name__}: {exc}"))
            found = {}
        finally:
            self.running.discard(key)
        self.tell_config_error(snap.path)
        for uri, diags in found.items():
            if unquote(uri) in self.workspace.text_documents:  # not closed meanwhile
                self.publish(uri, diags)
        if key in self.again:
            self.again.discard(key)
            self.schedule(key, 0)

    def publish(self, uri: str, diags: List[types.Diagnostic]) -> None:
        self.published[uri] = diags
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diags))

    def tell_config_error(self, path: str) -> None:
        error = self.configs.for_path(path).error
        if error and error not in self.told:
            self.told.add(error)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Warning,
                                                             f"cnnlint: {error} (linting with the defaults)"))

    def relint_all(self) -> None:
        """Every open document and notebook, by the URIs the client sent (the workspace keys them unquoted)."""
        notebooks = self.workspace.notebook_documents.values()
        keys = {nb.uri for nb in notebooks}
        in_notebooks = {unquote(cell.document) for nb in notebooks for cell in nb.cells}
        keys |= {doc.uri for key, doc in self.workspace.text_documents.items() if key not in in_notebooks}
        for key in keys:
            self.schedule(key, 0)

    def config_changed(self) -> None:
        self.configs.forget()
        self.told.clear()
        self.relint_all()

    # ----------------------------------------------------------------- on save, in the background
    def saved_document(self, key: str) -> None:
        path = path_of(key)
        if os.path.basename(path) in CONFIG_NAMES:
            self.config_changed()
            return
        self.schedule(key, 0)
        if self.save_checks and key.startswith("file:") and analysis.kind_of(path) in ("python", "notebook"):
            asyncio.ensure_future(self.check_on_save(key, os.path.abspath(path)))

    async def check_on_save(self, key: str, path: str) -> None:
        from cnnlint.server.background import run_save_checks

        if path in self.checking:
            return
        self.checking.add(path)
        try:
            config = self.configs.for_path(path).config
            found = await run_save_checks(path, config.root, analysis.enabled_codes(config))
        except Exception as exc:  # noqa: BLE001 - the background check is a bonus; say why it failed
            self.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"cnnlint: {exc}"))
            return
        finally:
            self.checking.discard(path)
        self.saved[path] = found.pop(path, [])
        for other, findings in found.items():  # dataset findings: on their own files
            self.publish(from_fs_path(other), diagnostics(findings, Positions([])))
        self.schedule(key, 0)


def _options(ls: CnnlintServer, params: types.InitializeParams) -> None:
    options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    if isinstance(options.get("debounce"), (int, float)) and options["debounce"] >= 0:
        ls.debounce = options["debounce"] / 1000.0
    if isinstance(options.get("saveChecks"), bool):
        ls.save_checks = options["saveChecks"]


def _watch_config(ls: CnnlintServer) -> None:
    """Ask the client to report changes of configuration files (when it lets servers register)."""
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps is not None else None
    if watched is None or not watched.dynamic_registration:
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_NAMES])
    ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
        id="cnnlint-config", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)]))


def build_server() -> CnnlintServer:
    ls = CnnlintServer()
    _document_features(ls)
    _notebook_features(ls)
    _editor_features(ls)
    return ls


def _document_features(ls: CnnlintServer) -> None:
    @ls.feature(types.INITIALIZE)
    def initialize(ls: CnnlintServer, params: types.InitializeParams) -> None:
        _options(ls, params)

    @ls.feature(types.INITIALIZED)
    def initialized(ls: CnnlintServer, params: types.InitializedParams) -> None:
        _watch_config(ls)

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CnnlintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CnnlintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CnnlintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.saved_document(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CnnlintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.published.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(params.text_document.uri, []))

    @ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: CnnlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(path_of(change.uri).endswith(CONFIG_NAMES) for change in params.changes):
            ls.config_changed()


def _notebook_features(ls: CnnlintServer) -> None:
    @ls.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def nb_open(ls: CnnlintServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri, 0)

    @ls.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def nb_change(ls: CnnlintServer, params: types.DidChangeNotebookDocumentParams) -> None:
        structure = params.change.cells.structure if params.change.cells is not None else None
        for closed in (structure.did_close or []) if structure is not None else []:
            ls.publish(closed.uri, [])
        ls.schedule(params.notebook_document.uri)

    @ls.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def nb_save(ls: CnnlintServer, params: types.DidSaveNotebookDocumentParams) -> None:
        ls.saved_document(params.notebook_document.uri)

    @ls.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def nb_close(ls: CnnlintServer, params: types.DidCloseNotebookDocumentParams) -> None:
        for cell in params.cell_text_documents:
            ls.published.pop(cell.uri, None)
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(cell.uri, []))


def _editor_features(ls: CnnlintServer) -> None:
    kinds = types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])

    @ls.feature(types.TEXT_DOCUMENT_CODE_ACTION, kinds)
    def actions(ls: CnnlintServer, params: types.CodeActionParams) -> List[types.CodeAction]:
        uri = params.text_document.uri
        doc = ls.workspace.text_documents.get(unquote(uri))
        if doc is None:
            return []
        return code_actions(uri, params.context.diagnostics, Positions(list(doc.lines), doc.position_codec))

    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: CnnlintServer, params: types.HoverParams) -> Optional[types.Hover]:
        return hover(ls.published.get(params.text_document.uri, []), params.position)


def serve(start: Callable[[CnnlintServer], None] = lambda ls: ls.start_io()) -> None:
    start(build_server())
