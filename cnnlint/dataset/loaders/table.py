"""The outcome table: for one file, what each of the four loaders does with it.

The TensorFlow side comes from header facts (`bmp`, `gif`, `png`, `webp`) and,
for damage inside the compressed data, from the scan's Pillow decode (both
libraries inflate the same PNG/JPEG/GIF data); the Pillow side from the scan's
Pillow open and first-frame decode. Costs header parsing, never a decode of
its own (except inflating a PNG's IDAT when Pillow refused the file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional

from cnnlint.dataset.loaders import (ALTERED, FAILS, KERAS_DATASET, LISTS, LOADERS, SKIPPED, TENSORFLOW, Effect, bmp,
                                     gif, listed, png, webp)

TF_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "JXL")
_FORMAT_NAMES = {"WEBP": "WebP", "JPEG2000": "JPEG 2000", "PPM": "PPM/PGM", "JXL": "JPEG XL"}
CLIPPED = ("Pillow's convert('RGB') clips 16-bit grey values instead of scaling them: values up to 255 pass "
           "unchanged, every brighter one turns white")
FIRST_FRAME = "first frame only"
UNROTATED = "orientation tag not applied"
_LISTED_BY_ALL = tuple(e for e in LISTS[KERAS_DATASET] if all(e in exts for exts in LISTS.values()))


@dataclass
class Seen:
    """What the scan learnt about one file, as the table needs it."""

    name: str  # the file name (its extension decides what the directory loaders list)
    fmt: Optional[str]  # by content (Pillow's format names); None: not an image
    data: bytes  # the file's bytes (its first 64 for files too big to read whole)
    size: int
    pil_error: Optional[str] = None  # why Pillow's open or first-frame decode failed
    later_error: Optional[str] = None  # why decoding a later frame failed (giflib reads them all)
    mode: Optional[str] = None
    frames: int = 1  # Pillow's frame count
    orientation: Optional[int] = None
    partial: bool = False  # data is the file's head only, its end seen intact (--quick on a bucket): PNG CRCs of the head


def effects(seen: Seen) -> List[Effect]:
    tf = _tensorflow(seen)
    pil = _pillow(seen)
    lname = seen.name.lower()
    if not tf and not pil and lname.endswith(_LISTED_BY_ALL):
        return []  # the common case, a clean .jpg or .png: nothing to say
    out: List[Effect] = []
    ext = os.path.splitext(lname)[1]
    skip_reason = f"{ext} files" if ext else "files without an extension"
    for loader in LOADERS:
        if not listed(loader, lname):
            out.append(Effect(loader, SKIPPED, "CNL503", skip_reason))
            continue
        for outcome, code, reason in (tf if loader in TENSORFLOW else pil):
            out.append(Effect(loader, outcome, code, reason))
    return out


def fmt_name(fmt: str) -> str:
    return _FORMAT_NAMES.get(fmt, fmt)


def _tensorflow(s: Seen) -> list:
    """[(outcome, code, reason)] for tf.io.decode_image(channels=3, expand_animations=False)."""
    fmt = s.fmt
    if fmt is None:
        return [(FAILS, "CNL501", s.pil_error or "not an image")]
    if fmt not in TF_FORMATS:
        return [(FAILS, "CNL503", f"TensorFlow decodes only JPEG, PNG, GIF, BMP, WebP and JPEG XL, not {fmt_name(fmt)}")]
    fail = altered = None
    code = "CNL503"
    frames = 1
    if fmt == "BMP":
        bmp_facts = bmp.facts(s.data)
        if bmp_facts is not None:
            fail, altered = bmp.tensorflow(bmp_facts, s.size)
            if fail is not None and fail.endswith("(cut short)"):
                code = "CNL501"  # a damaged file, not an unsupported kind
    elif fmt == "GIF":
        gif_facts = gif.facts(s.data)
        if gif_facts is not None:
            fail, altered = gif.tensorflow(gif_facts)
            frames = gif_facts.frames
        if fail is None and (s.pil_error or s.later_error):
            fail, code = s.pil_error or s.later_error, "CNL501"
    elif fmt == "PNG":
        # only the head of a huge file: nothing; of a ranged bucket object: the chunks in it
        png_facts = png.facts(s.data, partial=True) if s.partial else png.facts(s.data) if len(s.data) >= s.size else None
        if png_facts is not None:
            fail = png_facts.critical_error
            frames = png_facts.frames if png_facts.animation_valid else 1
            if fail is None and s.pil_error and not png.idat_decodes(s.data):
                fail = s.pil_error
        code = "CNL501"
    elif fmt == "WEBP":
        webp_facts = webp.facts(s.data)
        if webp_facts is not None:
            fail, altered = webp.tensorflow(webp_facts)
        if fail is None and s.pil_error:
            fail, code = s.pil_error, "CNL501"
    elif fmt == "JPEG" and s.pil_error:  # libjpeg both (JPEG XL: Pillow's verdict says nothing of TensorFlow's)
        fail, code = s.pil_error, "CNL501"
    if fail is not None:
        return [(FAILS, code, fail)]
    out = []
    if altered is not None:
        out.append((ALTERED, "CNL503", altered))
    if frames > 1:
        out.append((ALTERED, "CNL511", FIRST_FRAME))
    if s.orientation is not None and 2 <= s.orientation <= 8:
        out.append((ALTERED, "CNL512", UNROTATED))
    return out


def _pillow(s: Seen) -> list:
    """[(outcome, code, reason)] for Image.open(f).convert("RGB")."""
    if s.pil_error is not None or s.fmt is None:
        return [(FAILS, "CNL501", s.pil_error or "not an image")]
    out = []
    mode = s.mode or ""
    if mode.startswith("I") or mode == "F":
        out.append((ALTERED, "CNL503", CLIPPED))
    frames = s.frames
    if s.fmt == "PNG" and frames > 1:  # Pillow counts acTL's frames; a broken sequence plays only the first
        facts = png.facts(s.data, crc=False)
        frames = facts.frames if facts is not None and facts.animation_valid else 1
    if frames > 1:
        out.append((ALTERED, "CNL511", FIRST_FRAME))
    if s.orientation is not None and 2 <= s.orientation <= 8:
        out.append((ALTERED, "CNL512", UNROTATED))
    return out

