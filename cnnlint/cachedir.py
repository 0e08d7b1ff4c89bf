"""What every cache folder of cnnlint shares: its marker files and the stamp of the code that wrote it."""

from __future__ import annotations

import os
from typing import Optional

from cnnlint import __version__


def code_stamp() -> str:
    """cnnlint's version plus its sources' modification times (editable installs change code)."""
    global _STAMP
    if _STAMP is None:
        package = os.path.dirname(os.path.abspath(__file__))
        newest = 0.0
        for folder, _, files in os.walk(package):
            for name in files:
                if name.endswith(".py"):
                    try:
                        newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
                    except OSError:
                        pass
        _STAMP = f"{__version__}:{newest}"
    return _STAMP


_STAMP: Optional[str] = None


def write_markers(folder: str) -> None:
    """.gitignore and CACHEDIR.TAG in the cache folder, created only where nothing is (not even a
    dangling symbolic link, which a plain open would follow)."""
    for name, text in ((".gitignore", "# Automatically created by cnnlint.\n*\n"),
                       ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# cnnlint cache\n")):
        try:
            with open(os.path.join(folder, name), "x", encoding="utf-8") as fh:
                fh.write(text)
        except FileExistsError:
            pass
