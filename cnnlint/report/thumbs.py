"""Small JPEG thumbnails as data: URIs, for the HTML report: bounded in size, never an error."""

from __future__ import annotations

import base64
import io
import os
import warnings
from typing import Optional

SIDE = 128  # pixels on the longer side
QUALITY = 70
MAX_BYTES = 64 * 1024 * 1024  # files over this are not opened for a thumbnail
MAX_PIXELS = 100_000_000  # nor images over this many pixels (decompression bombs)


def thumbnail(real_path: str, side: int = SIDE) -> Optional[str]:
    """`data:image/jpeg;base64,...` of the image at real_path, or None when it cannot be shown."""
    from PIL import Image

    try:
        if not os.path.isfile(real_path) or os.path.getsize(real_path) > MAX_BYTES:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(real_path) as im:
                if im.size[0] * im.size[1] > MAX_PIXELS:
                    return None
                if im.format == "JPEG":
                    im.draft("RGB", (side, side))
                im.thumbnail((side, side))
                rgb = im.convert("RGB")
        buf = io.BytesIO()
        rgb.save(buf, "JPEG", quality=QUALITY)
    except Exception:  # noqa: BLE001 - a corrupt or odd file simply has no thumbnail
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
