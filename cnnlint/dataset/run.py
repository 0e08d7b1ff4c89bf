"""The dataset scan for one command line: find the datasets, scan their files, aggregate."""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from cnnlint.config import Config
from cnnlint.dataset.aggregate import Aggregate, Thresholds
from cnnlint.dataset.layout import Dataset, find_datasets, iter_files
from cnnlint.dataset.loaders import LOADERS
from cnnlint.dataset.loaders.findings import narrow
from cnnlint.dataset.quality import QualityLimits
from cnnlint.findings import Finding, Severity


@dataclass
class DatasetResult:
    dataset: Dataset
    aggregate: Aggregate
    seconds: float
    findings: List[Finding] = field(default_factory=list)
    loaders: Tuple[str, ...] = LOADERS  # the training loaders its findings speak of

    @property
    def images(self) -> int:
        return self.aggregate.files


def thresholds(config: Config) -> Thresholds:
    return Thresholds(
        min_image_size=config.min_image_size,
        max_aspect_ratio=config.max_aspect_ratio,
        imbalance_ratio=config.imbalance_ratio,
        min_class_size=config.min_class_size,
        near_duplicate_distance=config.near_duplicate_distance,
        quality=QualityLimits(exposure_share=config.exposure_share, blur_ratio=config.blur_ratio,
                              min_entropy=config.min_entropy, min_contrast=config.min_contrast),
    )


def _options(config: Config, quick: bool):
    from cnnlint.dataset.options import ScanOptions

    from cnnlint.dataset.dask_scan import scheduler_address
    from cnnlint.dataset.remote import StorageOptions

    kwargs: Dict[str, Any] = {"quick": quick, "scheduler": scheduler_address(config.dask_scheduler),
              "storage": StorageOptions(endpoint=config.storage_endpoint)}
    if config.max_image_pixels is not None:
        kwargs["max_pixels"] = config.max_image_pixels
    if config.max_decode_memory is not None:
        kwargs["max_decode_memory"] = config.max_decode_memory
    return ScanOptions(**kwargs)


def _cache(config: Config):
    from cnnlint.dataset.cache import ScanCache

    return ScanCache(config.cache_folder())


def forced_errors(forced: Sequence[str]) -> List[Finding]:
    """--data folders that are not there: one CNL001 each."""
    from cnnlint.sources.walk import os_reason, unreadable

    out = []
    for path in forced:
        try:
            st = os.stat(path)
        except OSError as exc:
            out.append(unreadable(path, os_reason(exc), line=0))
            continue
        if not stat.S_ISDIR(st.st_mode):
            out.append(unreadable(path, "not a folder (--data takes the folder that holds the images)", line=0))
    return out


def scan_datasets(
    paths: Sequence[str],
    forced: Sequence[str],
    config: Config,
    *,
    quick: bool = False,
    use_cache: bool = True,
    progress: bool = False,
    excluded: Callable[[str], bool] = lambda path: False,
    found: Optional[List[Dataset]] = None,
    counted: Optional[Dict[str, Tuple[str, ...]]] = None,
) -> List[DatasetResult]:
    """`found`: find_datasets' answer when the caller already has it; `counted`: {dataset real path: the
    loaders the code beside it uses} (cnnlint.crosscheck.loaders_used); others count all four."""
    datasets = find_datasets(paths, forced, excluded) if found is None else found
    if not datasets:
        return []
    from cnnlint.dataset.scan import scan_files

    options = _options(config, quick)
    cache = _cache(config) if use_cache else None
    results = []
    for ds in datasets:
        start = time.perf_counter()
        walk_findings: List[Finding] = []
        agg = Aggregate(ds, thresholds(config))
        loaders = (counted or {}).get(ds.real_path, LOADERS)
        stat = ds.listing.meta if ds.listing is not None else None  # a bucket's: sizes and ETags listed
        for record in scan_files(iter_files(ds, walk_findings, excluded), options, cache, progress, stat):
            narrow(record, loaders)
            agg.add(record)
        findings = walk_findings + agg.finish()
        results.append(DatasetResult(ds, agg, time.perf_counter() - start, findings, loaders))
    if cache is not None:
        cache.close()
    return results


def scan_named_images(
    images: Sequence[Tuple[str, str]], config: Config, *, quick: bool = False, use_cache: bool = True,
) -> List[Finding]:
    """Images named on the command line, each checked as a one-file dataset: the scan's per-file
    findings (corrupt, truncated, bomb, unreadable ...), no dataset-wide ones."""
    if not images:
        return []
    from cnnlint.dataset.scan import scan_files

    cache = _cache(config) if use_cache else None
    findings: List[Finding] = []
    try:
        for record in scan_files(list(images), _options(config, quick), cache):
            findings.extend(record.findings)
            if not record.is_image and not record.findings:
                # named as an image (told by its first bytes): one the scan cannot open is no pass
                findings.append(Finding("CNL501", Severity.ERROR, "not a readable image: its header cannot be read",
                                        record.path, 0, 0, hint="re-export or re-download it, or delete it"))
    finally:
        if cache is not None:
            cache.close()
    return findings


def in_any(results: Sequence[DatasetResult], path: str) -> Optional[DatasetResult]:
    for r in results:
        if r.dataset.contains(path):
            return r
    return None
