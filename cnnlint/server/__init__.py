"""`cnnlint server`: the Language Server Protocol over stdio, for VS Code, Neovim and JupyterLab.

analysis.py lints a document's text in memory (no LSP in it); convert.py turns findings into
diagnostics and fixes into edits; actions.py builds the code actions; hover.py the rule pages;
background.py the save-time checks in a child process; lsp.py wires them to pygls (the `server`
extra: `pip install 'cnnlint[server]'`).
"""
