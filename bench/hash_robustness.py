#!/usr/bin/env python3
"""Which perceptual hash survives re-encoding, resizing, cropping and brightness changes, and at what radius.

Real photographs the machine can reach: the photographs that scikit-image ships in
skimage/data and scikit-learn in sklearn/datasets/images (read from the wheels:
`pip download --no-deps scikit-image scikit-learn`, then unzip), plus the JPEG/PNG
wallpapers of Debian's gnome-backgrounds when installed (/usr/share/backgrounds).

* base images: every photograph, and up to four 256 px crops of each, those with a luminance standard
  deviation under 12 left out (flat sky or gradient: near-constant, see CNL519);
* distinct images: crops at several sizes with a stride of 3/4 of the crop side (so
  two crops share at most a quarter of either), near-constant crops (luminance
  standard deviation under 12) left out: those are CNL519's, not distinct pictures;
* each base image goes through each transformation; both files are decoded the way
  the scan decodes them (inspect_file, JPEG draft decoding included), and the share of
  pairs within the radius is printed, for dHash and pHash, at radii 4-12;
* false matches: every pair of distinct images within the radius, over all pairs.

    python bench/hash_robustness.py --photos DIR [DIR ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image, ImageEnhance

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnnlint.dataset.inspect import inspect_file  # noqa: E402
from cnnlint.dataset.phash import dhash, grey_thumbnail, same_layout  # noqa: E402
from cnnlint.dataset.scan import ScanOptions  # noqa: E402

SKIP = {"chessboard_GRAY", "chessboard_RGB", "phantom", "logo", "text", "page", "horse", "color",
        "motorcycle_right", "microaneurysms", "lily", "eagle"}  # drawings, and the right half of a stereo pair
RADII = (4, 6, 8, 10, 12)


def _sources(dirs: List[str]) -> List[Path]:
    """Image files, one per Plasma wallpaper folder (its largest: the others are the same picture)."""
    picked: Dict[str, Path] = {}
    for d in dirs:
        for p in sorted(Path(d).rglob("*")):
            if p.suffix.lower() not in (".jpg", ".jpeg", ".png") or p.stem in SKIP or "/gnome/" in str(p):
                continue
            key = str(p.parent.parent.parent) if p.parent.name == "images" and p.parent.parent.name == "contents" \
                else str(p)
            if key not in picked or p.stat().st_size > picked[key].stat().st_size:
                picked[key] = p
    return sorted(picked.values())


def photographs(dirs: List[str]) -> List[Tuple[str, Image.Image]]:
    out = []
    seen: List[int] = []
    for p in _sources(dirs):
        if True:
            try:
                im = Image.open(p)
                im.load()
            except Exception:
                continue
            if min(im.size) < 256:
                continue
            im = im.convert("RGB")
            if max(im.size) > 1024:  # wallpapers: work on 1024 px versions
                im.thumbnail((1024, 1024), Image.LANCZOS)
            from cnnlint.dataset.quality import pixel_facts

            h = pixel_facts(im)[0]
            if any(bin(h ^ o).count("1") <= 16 for o in seen):
                continue  # the same wallpaper in another package or a light/dark variant
            seen.append(h)
            out.append((p.stem, im))
    return out


def crops(im: Image.Image, side: int, stride: int):
    w, h = im.size
    for y in range(0, h - side + 1, stride):
        for x in range(0, w - side + 1, stride):
            yield im.crop((x, y, x + side, y + side))


def _jpeg(im, q):
    b = io.BytesIO()
    im.save(b, "JPEG", quality=q)
    return b.getvalue(), ".jpg"


def _png(im):
    b = io.BytesIO()
    im.save(b, "PNG")
    return b.getvalue(), ".png"


def _resize(im, f):
    return im.resize((max(8, round(im.size[0] * f)), max(8, round(im.size[1] * f))), Image.LANCZOS)


def _crop(im, share):
    w, h = im.size
    dx, dy = round(w * share / 2), round(h * share / 2)
    return im.crop((dx, dy, w - dx, h - dy))


# transformation name -> (original's bytes, copy's bytes)
TRANSFORMS = {
    "JPEG q30": lambda im: (_png(im), _jpeg(im, 30)),
    "JPEG q50": lambda im: (_png(im), _jpeg(im, 50)),
    "JPEG q75": lambda im: (_png(im), _jpeg(im, 75)),
    "JPEG q95": lambda im: (_png(im), _jpeg(im, 95)),
    "resize 0.5x": lambda im: (_jpeg(im, 90), _jpeg(_resize(im, 0.5), 90)),
    "resize 2x": lambda im: (_jpeg(im, 90), _jpeg(_resize(im, 2.0), 90)),
    "PNG -> JPEG": lambda im: (_png(im), _jpeg(im, 85)),
    "JPEG -> PNG": lambda im: (_jpeg(im, 85), _png(Image.open(io.BytesIO(_jpeg(im, 85)[0])).convert("RGB"))),
    "crop 5%": lambda im: (_jpeg(im, 90), _jpeg(_crop(im, 0.05), 90)),
    "crop 10%": lambda im: (_jpeg(im, 90), _jpeg(_crop(im, 0.10), 90)),
    "brightness +10%": lambda im: (_jpeg(im, 90), _jpeg(ImageEnhance.Brightness(im).enhance(1.1), 90)),
    "brightness -10%": lambda im: (_jpeg(im, 90), _jpeg(ImageEnhance.Brightness(im).enhance(0.9), 90)),
}


class Hasher:
    """Writes the bytes to a file and runs the scan's own inspection on it."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.options = ScanOptions()
        self.n = 0

    def __call__(self, data_ext) -> Tuple[int, int, bytes]:
        data, ext = data_ext
        self.n += 1
        path = os.path.join(self.folder, f"f{self.n % 4}{ext}")
        with open(path, "wb") as fh:
            fh.write(data)
        rec = inspect_file(path, path, self.options)
        grey = rec_grey(path)
        return rec.phash, dhash(grey), rec.layout


def rec_grey(path: str) -> np.ndarray:
    """The thumbnail the scan hashes (the same draft decoding as inspect._decode) for the dHash column."""
    from cnnlint.dataset.phash import draft_size

    im = Image.open(path)
    if im.format == "JPEG":
        im.draft(None, draft_size(im.size))
    im.load()
    return grey_thumbnail(im)


def popcount(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x) if hasattr(np, "bitwise_count") else np.array([bin(int(v)).count("1") for v in x])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", nargs="+", required=True)
    ap.add_argument("--json")
    args = ap.parse_args()
    photos = photographs(args.photos)
    print(f"{len(photos)} photographs: {', '.join(n for n, _ in photos)}")
    base: List[Image.Image] = [im for _, im in photos]
    for _, im in photos:
        base += list(crops(im, 256, 256))[:4]
    flat = [im for im in base if np.asarray(im.convert("L"), dtype=np.float32).std() < 12]
    base = [im for im in base if np.asarray(im.convert("L"), dtype=np.float32).std() >= 12]
    print(f"{len(flat)} near-flat base images left out (luminance standard deviation under 12)")
    distinct: List[Image.Image] = []
    for _, im in photos:
        for side in (96, 128, 192, 256, 384):
            for c in crops(im, side, side * 3 // 4):
                if np.asarray(c.convert("L"), dtype=np.float32).std() >= 12:
                    distinct.append(c)
    distinct = distinct[:: max(1, len(distinct) // 6000)][:7000]
    print(f"{len(base)} base images, {len(distinct)} distinct images")
    results: Dict[str, Dict[str, Dict[int, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        h = Hasher(tmp)
        for name, fn in TRANSFORMS.items():
            dist = {"pHash": [], "dHash": [], "pHash+layout": []}
            for im in base:
                a, b = fn(im)
                (pa, da, la), (pb, db, lb) = h(a), h(b)
                dist["pHash"].append(bin(pa ^ pb).count("1"))
                dist["dHash"].append(bin(da ^ db).count("1"))
                # the scan's pair check: a pair whose low coefficients do not correlate is no pair at any radius
                dist["pHash+layout"].append(dist["pHash"][-1] if same_layout(la, lb) else 65)
            results[name] = {k: {r: float(np.mean(np.array(v) <= r)) for r in RADII} for k, v in dist.items()}
            print(f"{name:16s} " + "  ".join(
                f"{k} " + " ".join(f"r{r}:{results[name][k][r]:.3f}" for r in RADII) for k in dist), flush=True)
        ph, dh, lay = [], [], []
        for im in distinct:
            p, d, lo = h(_jpeg(im, 90))
            ph.append(p)
            dh.append(d)
            lay.append(lo)
    n = len(distinct)
    pairs = n * (n - 1) // 2
    false = {}
    for k, hs in (("pHash", ph), ("dHash", dh)):
        arr = np.array(hs, dtype=np.uint64)
        counts = {r: 0 for r in RADII}
        for i in range(n - 1):
            d = popcount(arr[i + 1:] ^ arr[i])
            for r in RADII:
                counts[r] += int((d <= r).sum())
        false[k] = {r: counts[r] / pairs for r in RADII}
        if k == "pHash":
            kept = {r: 0 for r in RADII}
            for i in range(n - 1):
                d = popcount(arr[i + 1:] ^ arr[i])
                for j in np.flatnonzero(d <= max(RADII)):
                    if same_layout(lay[i], lay[i + 1 + int(j)]):
                        for r in RADII:
                            kept[r] += int(d[j] <= r)
            false["pHash+layout"] = {r: kept[r] / pairs for r in RADII}
            print("false matches pHash+layout: " + " ".join(
                f"r{r}: {kept[r]} ({kept[r] / pairs * 1e4:.3f} per 10k)" for r in RADII))
        print(f"false matches {k}: " + " ".join(f"r{r}: {counts[r]} ({counts[r] / pairs * 1e4:.3f} per 10k)"
                                                 for r in RADII))
    print(f"{n} distinct images, {pairs:,} pairs")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"photographs": [nm for nm, _ in photos], "base": len(base), "distinct": n,
                       "pairs": pairs, "found": results, "false": false}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
