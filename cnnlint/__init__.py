"""cnnlint: a pre-flight linter for CNN training code and image datasets."""

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext cnnlint`: the `%cnnlint` magic and the cell hooks (cnnlint.notebook.extension).

    The extension is imported by name, when loaded: importing cnnlint costs nothing extra, and this
    package root, which every module imports for __version__, depends on none of them."""
    import importlib

    importlib.import_module("cnnlint.notebook.extension").load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    import importlib

    importlib.import_module("cnnlint.notebook.extension").unload(ipython)
