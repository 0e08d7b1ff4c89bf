"""How a dataset scan inspects images: the options every inspection receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from PIL import Image

from cnnlint.dataset.budget import DEFAULT_DECODE_MEMORY

# Pillow's own hard limit (it raises DecompressionBombError above twice MAX_IMAGE_PIXELS)
DEFAULT_MAX_PIXELS = 2 * (Image.MAX_IMAGE_PIXELS or 89478485)


@dataclass
class ScanOptions:
    quick: bool = False  # header, PNG CRC and JPEG end-marker checks only: no full decode
    max_pixels: int = DEFAULT_MAX_PIXELS  # larger images are refused without decoding (CNL513)
    jobs: Optional[int] = None  # worker processes; None or 0: one per available core
    max_decode_memory: int = DEFAULT_DECODE_MEMORY  # bytes one inspection may allocate (CNL513 above)
    storage: Optional[Any] = None  # how buckets are opened (cnnlint.dataset.remote.StorageOptions)
    scheduler: Optional[str] = None  # a Dask scheduler's address: inspect there (cnnlint.dataset.dask_scan)
