"""Findings from a file's loader effects, for the loaders that count (CNL501, CNL503, CNL511, CNL512).

Each finding names the loaders and what they do: which fail, which skip the
file, which read it altered; a loader that does not count (the code beside the
data uses others) is never named, and a file no counted loader has trouble
with gets no finding.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Tuple

from cnnlint.dataset.loaders import ALTERED, FAILS, LOADERS, NAMES, SKIPPED, Effect
from cnnlint.dataset.loaders.table import CLIPPED, fmt_name
from cnnlint.findings import Finding, Severity

CODES = ("CNL501", "CNL503", "CNL511", "CNL512")  # the codes made here: replaced when the counted loaders change
FIX_CORRUPT = "re-export or re-download it, or delete it from the data set"

ORIENTATIONS = {
    2: "mirrored left to right",
    3: "upside down (rotated 180°)",
    4: "mirrored top to bottom",
    5: "mirrored and on its side",
    6: "on its side (viewers rotate it 90° clockwise)",
    7: "mirrored and on its side",
    8: "on its side (viewers rotate it 90° counter-clockwise)",
}


def join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _names(loaders: Sequence[str]) -> str:
    return join([NAMES[ld] for ld in LOADERS if ld in loaders])


def _verb(loaders: Sequence[str], singular: str, plural: str) -> str:
    return f"{_names(loaders)} {singular if len(loaders) == 1 else plural}"


def _groups(effects: Sequence[Effect], outcome: str, code: str) -> List[Tuple[str, List[str]]]:
    """(reason, loaders) for one kind of effect, in the order the loaders are listed."""
    out: Dict[str, List[str]] = {}
    for e in effects:
        if e.outcome == outcome and e.code == code and e.loader not in out.get(e.reason, []):
            out.setdefault(e.reason, []).append(e.loader)
    return list(out.items())


def counted_effects(effects: Sequence[Effect], counted: Sequence[str]) -> List[Effect]:
    """The effects of counted loaders; a loader that skips the file does nothing else to it."""
    skipping = {e.loader for e in effects if e.outcome == SKIPPED}
    return [e for e in effects if e.loader in counted and (e.outcome == SKIPPED or e.loader not in skipping)]


def loader_findings(path: str, fmt: Optional[str], frames: int, orientation: Optional[int],
                    effects: Sequence[Effect], counted: Sequence[str] = LOADERS) -> List[Finding]:
    if not effects:
        return []
    eff = counted_effects(effects, counted)
    out: List[Finding] = []
    readers = sorted({e.loader for e in eff if e.outcome != SKIPPED} | {ld for ld in counted if not any(
        e.loader == ld for e in eff)})
    corrupt = _groups(eff, FAILS, "CNL501")
    if corrupt:
        failing = {e.loader for e in eff if e.outcome == FAILS}  # for this reason or another (an unsupported format)
        parts = [f"{reason}: {_verb(lds, 'fails on it', 'fail on it')}" for reason, lds in corrupt]
        fine = [ld for ld in readers if ld not in failing]
        message = "; ".join(parts) + (f" ({_verb(fine, 'reads it', 'read it')})" if fine else "")
        out.append(Finding("CNL501", Severity.ERROR, message, path, 0, 0, hint=FIX_CORRUPT))
    out += _unsupported(path, fmt, eff)
    animated = _groups(eff, ALTERED, "CNL511")
    if animated:
        lds = animated[0][1]
        out.append(Finding("CNL511", Severity.WARNING,
                           f"{_animation(fmt, frames)}: {_verb(lds, 'reads', 'read')} the first "
                           f"{'page' if fmt == 'TIFF' else 'frame'} only",
                           path, 0, 0, hint="keep one frame (Image.open(p).convert('RGB').save(...)) or remove it"))
    rotated = _groups(eff, ALTERED, "CNL512")
    if rotated and orientation in ORIENTATIONS:
        lds = rotated[0][1]
        out.append(Finding("CNL512", Severity.WARNING,
                           f"EXIF orientation {orientation}: the stored picture is {ORIENTATIONS[orientation]}; "
                           f"image viewers apply the tag but {_verb(lds, 'does', 'do')} not, "
                           f"so the model sees it unrotated",
                           path, 0, 0, hint="apply the rotation to the pixels: ImageOps.exif_transpose(Image.open(p)).save(p)"))
    return out


def _unsupported(path: str, fmt: Optional[str], eff: Sequence[Effect]) -> List[Finding]:
    fails = _groups(eff, FAILS, "CNL503")
    skips = _groups(eff, SKIPPED, "CNL503")
    altered = _groups(eff, ALTERED, "CNL503")
    parts = [f"{_verb(lds, 'fails on it', 'fail on it')}: {reason}" for reason, lds in fails]
    parts += [f"{_verb(lds, 'silently skips', 'silently skip')} {reason}" for reason, lds in skips]
    parts += [f"{_verb(lds, 'reads it altered', 'read it altered')}: {reason}" for reason, lds in altered]
    if not parts:
        return []
    stem = os.path.splitext(os.path.basename(path))[0]
    if any(reason == CLIPPED for reason, _ in altered):
        hint = "scale it to 8 bits once (Image.fromarray((np.asarray(im) >> 8).astype('uint8')).save(p))"
    elif not fails and not altered and fmt in ("JPEG", "PNG"):
        hint = f"rename it with a .{'png' if fmt == 'PNG' else 'jpg'} extension"
    else:
        hint = f"convert it to PNG or JPEG (e.g. Image.open(p).convert('RGB').save('{stem}.png'))"
    severity = Severity.ERROR if fails else Severity.WARNING
    return [Finding("CNL503", severity, "; ".join(parts), path, 0, 0, hint=hint)]


def _animation(fmt: Optional[str], frames: int) -> str:
    if fmt == "TIFF":
        return f"multi-page TIFF ({frames} pages)"
    return f"animated {fmt_name(fmt or 'image')} ({frames} frames)"


def narrow(rec, counted: Sequence[str]) -> None:
    """Rebuild a record's loader findings for the loaders that count (the scan made them for all four)."""
    if not rec.effects or tuple(counted) == LOADERS:
        return
    hints = {f.code: f.hint for f in rec.findings if f.code == "CNL501"}
    kept = [f for f in rec.findings if f.code not in CODES]
    new = loader_findings(rec.path, rec.format, rec.frames, rec.orientation, rec.effects, counted)
    for f in new:
        f.hint = hints.get(f.code, f.hint)
    rec.findings = kept + new
