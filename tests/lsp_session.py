"""A real LSP client (pygls's LanguageClient) talking to `python -m cnnlint server` over stdio,
for the end-to-end tests of the language server and the latency benchmark."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Callable, Dict, List, Optional

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

Diagnostics = List[types.Diagnostic]


class Session:
    """One server process; `diagnostics[uri]` is what it last published for `uri`, `published[uri]`
    the time (time.perf_counter) it came."""

    def __init__(self, root: str, options: Optional[dict] = None, watch_registration: bool = False) -> None:
        self.root = root
        self.watch_registration = watch_registration  # the client lets servers register file watchers
        self.registrations: List[types.Registration] = []
        self.options = dict({"debounce": 0}, **(options or {}))
        self.client = LanguageClient("cnnlint-tests", "1")
        self.diagnostics: Dict[str, Diagnostics] = {}
        self.published: Dict[str, float] = {}
        self.counts: Dict[str, int] = {}
        self.messages: List[str] = []

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            self.published[params.uri] = time.perf_counter()
            self.counts[params.uri] = self.counts.get(params.uri, 0) + 1

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(params: types.LogMessageParams) -> None:
            self.messages.append(params.message)

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def on_register(params: types.RegistrationParams) -> None:
            self.registrations.extend(params.registrations)

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def on_show(params: types.ShowMessageParams) -> None:
            self.messages.append(params.message)

    async def start(self) -> None:
        env = dict(os.environ)
        await self.client.start_io(sys.executable, "-m", "cnnlint", "server", cwd=self.root, env=env)
        caps = types.ClientCapabilities(
            notebook_document=types.NotebookDocumentClientCapabilities(
                synchronization=types.NotebookDocumentSyncClientCapabilities()),
            text_document=types.TextDocumentClientCapabilities(
                publish_diagnostics=types.PublishDiagnosticsClientCapabilities()),
            workspace=types.WorkspaceClientCapabilities(did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=self.watch_registration)))
        await self.client.initialize_async(types.InitializeParams(
            capabilities=caps, root_uri=from_fs_path(self.root), initialization_options=self.options))
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    def uri(self, name: str) -> str:
        return from_fs_path(os.path.join(self.root, name))

    def open(self, name: str, text: str, language: str = "python") -> str:
        uri = self.uri(name)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))
        return uri

    def change(self, uri: str, version: int, text: str,
               rng: Optional[types.Range] = None) -> None:
        """Replace the whole text (or, with `rng`, that range of it) with `text`."""
        if rng is None:
            change: object = types.TextDocumentContentChangeWholeDocument(text=text)
        else:
            change = types.TextDocumentContentChangePartial(range=rng, text=text)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[change]))  # type: ignore[list-item]

    async def wait_for(self, uri: str, predicate: Callable[[Diagnostics], bool], timeout: float = 30.0,
                       after: int = 0) -> Diagnostics:
        """The diagnostics of `uri` once a publication (the `after`-th or later) satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.counts.get(uri, 0) > after and predicate(self.diagnostics.get(uri, [])):
                return self.diagnostics[uri]
            await asyncio.sleep(0.005)
        raise AssertionError(f"timed out waiting for the diagnostics of {uri}; last: {self.diagnostics.get(uri)}; "
                             f"messages: {self.messages}")


def codes(diags: Diagnostics) -> List[str]:
    return sorted(str(d.code) for d in diags)


def run_session(root: str, scenario, options: Optional[dict] = None, watch_registration: bool = False):
    """Start a server in `root`, run `await scenario(session)`, stop the server; its result."""

    async def main():
        session = Session(root, options, watch_registration)
        await session.start()
        try:
            return await scenario(session)
        finally:
            await asyncio.wait_for(session.stop(), 30)

    return asyncio.run(main())
