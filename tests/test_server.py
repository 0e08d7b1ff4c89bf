"""`cnnlint server` end to end: a real LSP client (pygls's LanguageClient) starts
`python -m cnnlint server` and talks to it over stdio (issue 21's acceptance)."""

import asyncio

import pytest

pytest.importorskip("pygls")

from lsprotocol import types  # noqa: E402

from conftest import LOOP  # noqa: E402
from lsp_session import codes, run_session  # noqa: E402

CNL201_RANGE = types.Range(types.Position(4, 4), types.Position(4, 19))  # `loss.backward()`, line 5
FIXED = LOOP.replace("for x, y in loader:\n", "for x, y in loader:\n    optimizer.zero_grad()\n")


def offset(text, position):
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[:position.line]) + position.character


def apply_edits(text, edits):
    """The text with LSP text edits applied (ASCII text: UTF-16 units are characters)."""
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(text, edit.range.start)] + edit.new_text + text[offset(text, edit.range.end):]
    return text


async def _actions(session, uri, diags):
    return await session.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diags[0].range,
        context=types.CodeActionContext(diagnostics=diags)))


def test_missing_zero_grad_is_cnl201_at_the_backward_call(tmp_path):
    async def scenario(session):
        uri = session.open("train.py", LOOP)
        return await session.wait_for(uri, lambda d: True)

    [diag] = run_session(str(tmp_path), scenario)
    assert (diag.code, diag.source, diag.severity) == ("CNL201", "cnnlint", types.DiagnosticSeverity.Error)
    assert diag.range == CNL201_RANGE
    assert diag.message.startswith("`optimizer.step()` runs every iteration of this loop, but `optimizer`'s gradients")
    assert diag.message.endswith("\nhint: call `optimizer.zero_grad()` at the top of the loop body "
                                 "(or right before `loss.backward()`)")


def test_the_fix_action_inserts_zero_grad_and_the_diagnostic_goes(tmp_path):
    async def scenario(session):
        uri = session.open("train.py", LOOP)
        diags = await session.wait_for(uri, lambda d: bool(d))
        actions = await _actions(session, uri, diags)
        titles = [a.title for a in actions]
        text = apply_edits(LOOP, actions[0].edit.changes[uri])
        session.change(uri, 2, text)
        after = await session.wait_for(uri, lambda d: not d, after=1)
        return titles, actions[0], text, after

    titles, fix, text, after = run_session(str(tmp_path), scenario)
    assert titles == ["cnnlint: insert `optimizer.zero_grad()` at the top of the loop body (CNL201)",
                      "cnnlint: suppress CNL201 on this line (# noqa)"]
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    assert text == FIXED
    assert after == []


def test_the_noqa_action_suppresses(tmp_path):
    async def scenario(session):
        uri = session.open("train.py", LOOP)
        diags = await session.wait_for(uri, lambda d: bool(d))
        [noqa] = [a for a in await _actions(session, uri, diags) if "noqa" in a.title]
        text = apply_edits(LOOP, noqa.edit.changes[uri])
        session.change(uri, 2, text)
        return text, await session.wait_for(uri, lambda d: not d, after=1)

    text, after = run_session(str(tmp_path), scenario)
    assert text.splitlines()[4] == "    loss.backward()  # noqa: CNL201"
    assert after == []


def test_requirements_pin_action(tmp_path):
    async def scenario(session):
        # pytest: installed wherever the tests run, so the pin has a version to offer
        uri = session.open("requirements.txt", "pytest\n", language="pip-requirements")
        diags = await session.wait_for(uri, lambda d: bool(d))
        actions = await _actions(session, uri, diags)
        return diags, actions

    diags, actions = run_session(str(tmp_path), scenario)
    assert codes(diags) == ["CNL401"]
    assert diags[0].range == types.Range(types.Position(0, 0), types.Position(0, 6))
    fix = actions[0]
    assert fix.title == f"cnnlint: pin `pytest=={pytest.__version__}` (CNL401)" and fix.title.endswith("` (CNL401)")
    [edit] = fix.edit.changes[diags and fix.edit.changes and list(fix.edit.changes)[0]]
    assert edit.range == types.Range(types.Position(0, 6), types.Position(0, 6))
    assert edit.new_text == f"=={pytest.__version__}"


def _notebook_params(tmp_path, cells):
    nb_uri = (tmp_path / "explore.ipynb").as_uri()
    cell_uris = [f"vscode-notebook-cell:{tmp_path / 'explore.ipynb'}#cell{i}" for i in range(len(cells))]
    notebook = types.NotebookDocument(uri=nb_uri, notebook_type="jupyter-notebook", version=1, cells=[
        types.NotebookCell(kind=types.NotebookCellKind.Code if code else types.NotebookCellKind.Markup, document=uri)
        for uri, (code, _) in zip(cell_uris, cells)])
    items = [types.TextDocumentItem(uri=uri, language_id="python" if code else "markdown", version=1, text=text)
             for uri, (code, text) in zip(cell_uris, cells)]
    return types.DidOpenNotebookDocumentParams(notebook_document=notebook, cell_text_documents=items), cell_uris


NOTEBOOK_CELLS = [
    (True, "import torch\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"),
    (False, "# Training\nThe loop below uses the optimizer above."),
    (True, "for x, y in loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    optimizer.step()\n"),
]


def test_notebook_diagnostics_per_cell_with_the_whole_notebook_as_context(tmp_path):
    async def scenario(session):
        params, cell_uris = _notebook_params(tmp_path, NOTEBOOK_CELLS)
        session.client.notebook_document_did_open(params)
        loop_cell = await session.wait_for(cell_uris[2], lambda d: bool(d))
        others = [await session.wait_for(uri, lambda d: True) for uri in cell_uris[:2]]
        # the fix in the loop's cell: its diagnostics go
        session.client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(version=2, uri=params.notebook_document.uri),
            change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
                types.NotebookDocumentCellContentChanges(
                    document=types.VersionedTextDocumentIdentifier(uri=cell_uris[2], version=2),
                    changes=[types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(1, 0), types.Position(1, 0)),
                        text="    optimizer.zero_grad()\n")])]))))
        after = await session.wait_for(cell_uris[2], lambda d: not d, after=1)
        return loop_cell, others, after

    loop_cell, others, after = run_session(str(tmp_path), scenario)
    [diag] = loop_cell
    assert diag.code == "CNL201"
    assert diag.range == types.Range(types.Position(2, 4), types.Position(2, 19))  # the cell's own line 3
    assert others == [[], []]
    assert after == []


def test_a_pyproject_change_to_ignore_updates_the_diagnostics(tmp_path):
    tmp_path = tmp_path / "my project"  # a space: the URIs the client sends are quoted (%20)
    tmp_path.mkdir()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.cnnlint]\nignore = []\n")

    async def scenario(session):
        uri = session.open("train.py", LOOP)
        before = await session.wait_for(uri, lambda d: True)
        pyproject.write_text('[tool.cnnlint]\nignore = ["CNL201"]\n')
        session.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]))
        after = await session.wait_for(uri, lambda d: not d, after=1)
        pyproject.write_text("[tool.cnnlint]\nignore = []\n")
        session.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)]))
        again = await session.wait_for(uri, lambda d: bool(d), after=2)
        return before, after, again

    before, after, again = run_session(str(tmp_path), scenario)
    assert codes(before) == ["CNL201"] and after == [] and codes(again) == ["CNL201"]


def test_a_broken_pyproject_is_reported_and_the_defaults_lint(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.cnnlint]\nignore = ["CNL999"]\n')

    async def scenario(session):
        uri = session.open("train.py", LOOP)
        diags = await session.wait_for(uri, lambda d: True)
        await asyncio.sleep(0.2)
        return diags, session.messages

    diags, messages = run_session(str(tmp_path), scenario)
    assert codes(diags) == ["CNL201"]
    assert messages == [f"cnnlint: {tmp_path / 'pyproject.toml'}: ignore: unknown rule code or prefix CNL999 "
                        "(linting with the defaults)"]


def test_a_syntax_error_mid_typing_is_cnl001_and_the_server_lives_on(tmp_path):
    async def scenario(session):
        uri = session.open("train.py", LOOP)
        await session.wait_for(uri, lambda d: bool(d))
        # typing `print(` on a new line 7: the file does not parse for a moment
        end = types.Range(types.Position(6, 0), types.Position(6, 0))
        session.change(uri, 2, "print(", end)
        broken = await session.wait_for(uri, lambda d: codes(d) == ["CNL001"], after=1)
        session.change(uri, 3, ")\n", types.Range(types.Position(6, 6), types.Position(6, 6)))
        healed = await session.wait_for(uri, lambda d: codes(d) == ["CNL201"], after=2)
        hover = await session.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(4, 8)))
        return broken, healed, hover

    broken, healed, hover = run_session(str(tmp_path), scenario)
    [diag] = broken
    assert diag.severity == types.DiagnosticSeverity.Error
    assert diag.message.startswith("syntax error: ")
    assert diag.range.start.line == 6  # the `(` (3.10+) or the end of the text (3.9)
    assert healed[0].range == CNL201_RANGE
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert hover.contents.value.startswith("# CNL201: gradients-never-cleared\n")


def test_hover_outside_a_diagnostic_is_nothing(tmp_path):
    async def scenario(session):
        uri = session.open("train.py", LOOP)
        await session.wait_for(uri, lambda d: bool(d))
        return await session.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(0, 3)))

    assert run_session(str(tmp_path), scenario) is None


def test_changes_while_linting_end_in_the_latest_text(tmp_path):
    """Ten changes in a burst: the last diagnostics are those of the last text."""
    async def scenario(session):
        uri = session.open("train.py", LOOP)
        await session.wait_for(uri, lambda d: bool(d))
        for version in range(2, 11):
            session.change(uri, version, LOOP if version % 2 else FIXED)
        session.change(uri, 11, FIXED)
        await session.wait_for(uri, lambda d: not d, after=1)
        await asyncio.sleep(0.5)
        return session.diagnostics[uri], session.counts[uri]

    diags, count = run_session(str(tmp_path), scenario, options={"debounce": 20})
    assert diags == []
    assert count < 11  # debounced: not one lint per change


def test_on_save_the_cross_check_runs_in_the_background(tmp_path):
    """CNL601 needs the data: it comes after a save (in a child process), not while typing."""
    from test_crosscheck import build, classes, keras_flow

    build(tmp_path, classes("train", [f"c{i}" for i in range(7)], 4))
    script = keras_flow(units=5)
    (tmp_path / "train.py").write_text(script)

    async def scenario(session):
        uri = session.open("train.py", script)
        typing = await session.wait_for(uri, lambda d: True)
        session.client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        saved = await session.wait_for(uri, lambda d: "CNL601" in codes(d), timeout=120, after=1)
        folder = session.uri("data/train/c0")
        dataset = await session.wait_for(folder, lambda d: True, timeout=5)
        return typing, saved, dataset

    typing, saved, dataset = run_session(str(tmp_path), scenario)
    assert "CNL601" not in codes(typing)
    [cnl601] = [d for d in saved if d.code == "CNL601"]
    assert cnl601.range.start == types.Position(9, 4)
    assert codes(dataset) == ["CNL507"]


def test_the_server_asks_to_watch_the_configuration_files(tmp_path):
    async def scenario(session):
        uri = session.open("train.py", LOOP)
        await session.wait_for(uri, lambda d: True)
        return session.registrations

    [registration] = run_session(str(tmp_path), scenario, watch_registration=True)
    assert registration.method == "workspace/didChangeWatchedFiles"
    options = registration.register_options
    watchers = options["watchers"] if isinstance(options, dict) else options.watchers
    globs = [w["globPattern"] if isinstance(w, dict) else w.glob_pattern for w in watchers]
    assert globs == ["**/pyproject.toml", "**/cnnlint.toml"]
