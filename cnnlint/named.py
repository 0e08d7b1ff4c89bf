"""Paths named on the command line whose name does not say what they are, and standard input.

The walk (sources/walk.py) classifies by name; a file the user names but whose name says
nothing (`train_script`, `notes.txt`, `env-gpu.yaml`, `photo.jpg`) is told by its content here:
an image (its magic bytes or an image extension) goes to the dataset scan as a one-file
dataset, text goes by its shape (sources/sniff.py), and anything else is refused with one
error line. `-` (standard input) takes the kind its --stdin-filename NAME says, else the
content's.
"""

from __future__ import annotations

import os
from typing import Optional, Tuple

from cnnlint.dataset.inspect import sniff as image_format
from cnnlint.dataset.layout import is_image_name
from cnnlint.sources.read import classify
from cnnlint.sources.sniff import SNIFF_LIMIT, Sniffed, sniff
from cnnlint.sources.walk import Discovery, Target, display_path, os_reason, unreadable


def content_kind(name: str, data: bytes) -> Sniffed:
    """What the bytes are: an image, a kind of text cnnlint reads, or refused."""
    if is_image_name(name) or image_format(data[:64]) is not None:
        return Sniffed("image")
    return sniff(data)


def resolve_named(found: Discovery) -> None:
    """Move each of `found.unknown` to the targets, the images, the errors or the refused."""
    known = {t.real_path for t in found.targets} | {real for _, real in found.images}
    for given in found.unknown:
        real = os.path.abspath(given)
        if real in known:
            continue
        known.add(real)
        shown = display_path(given)
        if is_image_name(given):
            found.images.append((shown, real))
            continue
        try:
            with open(given, "rb") as fh:
                data = fh.read(SNIFF_LIMIT)
        except OSError as exc:
            found.errors.append(unreadable(given, os_reason(exc)))
            continue
        sniffed = content_kind(given, data)
        if sniffed.kind == "image":
            found.images.append((shown, real))
        elif sniffed.kind is not None:
            found.targets.append(Target(shown, real, sniffed.kind))
        else:
            found.refused.append(f"{shown}: {sniffed.reason}")
    found.unknown = []


def stdin_target(data: bytes, name: Optional[str]) -> Tuple[Optional[Target], str]:
    """The target for `-`: shown as NAME (--stdin-filename), of NAME's kind (by content when
    NAME does not say, or without NAME); (None, one-line error) when refused."""
    shown = display_path(name) if name else "-"
    kind = classify(name) if name else None
    if kind is None:
        sniffed = content_kind(name or "-", data)
        if sniffed.kind == "image":
            return None, f"{shown} (standard input): images are scanned from their files; name the file instead of `-`"
        if sniffed.kind is None:
            return None, f"{shown} (standard input): {sniffed.reason}"
        kind = sniffed.kind
    return Target(shown, os.path.abspath(name or "-"), kind, data), ""
