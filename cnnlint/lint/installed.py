"""The version of a package installed where cnnlint runs: what CNL401's hints and fixes pin."""

from __future__ import annotations

import functools
import os
import sys
from typing import Dict, Optional, Tuple

from packaging.utils import canonicalize_name

# after this many names, one pass over the installed distributions answers the rest: each lookup
# by name scans sys.path again, which made a requirements file of 400,000 packages take minutes
_LOOKUPS_BEFORE_INDEX = 256
_lookups = [0]


@functools.lru_cache(maxsize=1)
def _installed_index() -> Dict[str, str]:
    """Canonical name -> version of every installed distribution (the first on sys.path wins)."""
    from importlib import metadata

    index: Dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name, version = dist.metadata["Name"], dist.version
        except Exception:  # noqa: BLE001 - broken metadata
            continue
        if isinstance(name, str) and isinstance(version, str):
            index.setdefault(canonicalize_name(name), version)
    return index


@functools.lru_cache(maxsize=None)
def _listing(folder: str) -> Tuple[str, ...]:
    try:
        return tuple(os.listdir(folder))
    except OSError:
        return ()


def _from_folder_names(name: str) -> Optional[str]:
    """The version in the first `<name>-<version>.dist-info` folder on sys.path (what pip and other
    installers write, the name normalized to underscores), without importing importlib.metadata and
    reading every distribution's metadata: a one-file lint paid a few hundredths of a second for
    that. None when not found that way, or when an `.egg-info` of the name comes first (then the
    metadata lookup decides, as before)."""
    wanted = canonicalize_name(name).replace("-", "_")
    for folder in sys.path:
        for entry in _listing(folder or "."):
            stem, dot, suffix = entry.rpartition(".")
            if not dot or suffix not in ("dist-info", "egg-info"):
                continue
            dist, _, version = stem.partition("-")
            if canonicalize_name(dist).replace("-", "_") != wanted:
                continue
            return version if suffix == "dist-info" and version else None
    return None


@functools.lru_cache(maxsize=4096)
def installed_version(name: str) -> Optional[str]:
    """The version of `name` installed in the running environment, if any."""
    from importlib import metadata

    quick = _from_folder_names(name)
    if quick is not None:
        return quick
    _lookups[0] += 1
    if _lookups[0] > _LOOKUPS_BEFORE_INDEX:
        return _installed_index().get(canonicalize_name(name))
    for candidate in dict.fromkeys((name, canonicalize_name(name), canonicalize_name(name).replace("-", "_"))):
        try:
            return metadata.version(candidate)
        except Exception:  # noqa: BLE001 - not installed, or broken metadata
            continue
    return None
