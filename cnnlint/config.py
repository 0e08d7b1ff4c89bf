"""[tool.cnnlint] in the nearest pyproject.toml, overridden by command-line flags."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from cnnlint.findings import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11
    import tomli as tomllib


class ConfigError(Exception):
    """A configuration problem: reported on one line, exit status 2."""


@dataclass
class Config:
    select: List[str] = field(default_factory=lambda: ["ALL"])
    ignore: List[str] = field(default_factory=list)
    per_file_ignores: Dict[str, List[str]] = field(default_factory=dict)
    exclude: List[str] = field(default_factory=list)
    fail_on: Severity = Severity.WARNING
    respect_gitignore: bool = True
    cache_dir: Optional[str] = None
    max_file_size: int = 1024 * 1024
    # the dataset scan
    min_image_size: int = 32
    max_aspect_ratio: float = 4.0
    imbalance_ratio: float = 10.0
    min_class_size: int = 10
    max_image_pixels: Optional[int] = None  # None: the scanner's default (Pillow's bomb limit)
    max_decode_memory: Optional[int] = None  # bytes per image inspection; None: the scanner's default
    near_duplicate_distance: int = 8  # CNL515/CNL516: differing bits of the 64-bit perceptual hash
    exposure_share: float = 0.9  # CNL517: share of black (or white) pixels
    blur_ratio: float = 8.0  # CNL518: the set's median sharpness over the image's
    min_entropy: float = 1.0  # CNL519: bits
    min_contrast: float = 2.0  # CNL519: luminance standard deviation (0-255)
    dask_scheduler: Optional[str] = None  # tcp://HOST:8786: the dataset scan runs on that Dask cluster
    storage_endpoint: Optional[str] = None  # an S3-compatible store's URL (else AWS_ENDPOINT_URL)
    # the cross-check: the host memory an image set held in memory must fit (a Colab runtime's)
    runtime_memory: int = 12 * 1024**3
    # the folder patterns are relative to (the config file's folder, or the cwd)
    root: str = field(default_factory=os.getcwd)
    path: Optional[str] = None  # the file the settings came from

    def cache_folder(self) -> str:
        """Where the lint and dataset caches live: `cache-dir`, or .cnnlint_cache beside the config."""
        return os.path.abspath(self.cache_dir or os.path.join(self.root, ".cnnlint_cache"))

    def fingerprint(self) -> str:
        """What, besides a file's content, changes its lint result (for the cache)."""
        return f"max_file_size={self.max_file_size}"


_KEYS = {
    "select": "codes",
    "ignore": "codes",
    "per-file-ignores": "per-file",
    "exclude": "strings",
    "fail-on": "severity",
    "respect-gitignore": "bool",
    "cache-dir": "string",
    "max-file-size": "int",
    "min-image-size": "int",
    "max-aspect-ratio": "ratio",
    "imbalance-ratio": "ratio",
    "min-class-size": "int",
    "max-image-pixels": "int",
    "near-duplicate-distance": "bits",
    "exposure-share": "share",
    "blur-ratio": "ratio",
    "min-entropy": "number",
    "min-contrast": "number",
    "runtime-memory": "size",
    "max-decode-memory": "decode-memory",
    "dask-scheduler": "string",
    "storage-endpoint": "string",
}

_UNITS = {"max-file-size": "bytes", "min-image-size": "pixels", "min-class-size": "images",
          "max-image-pixels": "pixels"}


def setting_keys() -> List[str]:
    """The keys [tool.cnnlint] accepts, in the order the README lists them."""
    return list(_KEYS)


def read_table(path: str) -> dict:
    """The [tool.cnnlint] table of `path` (a dedicated cnnlint.toml: the whole file)."""
    return _table(path)


def find_config(start: str) -> Optional[str]:
    """The nearest pyproject.toml with a [tool.cnnlint] table, from `start` upwards."""
    current = os.path.abspath(start)
    if not os.path.isdir(current):
        current = os.path.dirname(current)
    while True:
        candidate = os.path.join(current, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as fh:
                    data = tomllib.load(fh)
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                data = None
                if _mentions_cnnlint(candidate):
                    return candidate  # let load_config report the parse error
            if data is not None and "cnnlint" in (data.get("tool") or {}):
                return candidate
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _mentions_cnnlint(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return b"[tool.cnnlint" in fh.read(1 << 20)
    except OSError:
        return False


def _table(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    tool = data.get("tool")
    if isinstance(tool, dict) and "cnnlint" in tool:
        table = tool["cnnlint"]
    elif os.path.basename(path) == "pyproject.toml":
        table = {}
    else:
        table = data  # a dedicated cnnlint.toml: settings at the top level
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.cnnlint] must be a table")
    return table


def _check_codes(path: str, key: str, values: Sequence[str]) -> List[str]:
    from cnnlint.catalog import check_selectors

    unknown = check_selectors(values)
    if unknown:
        raise ConfigError(f"{path}: {key}: unknown rule code or prefix {', '.join(unknown)}")
    return [v.upper() for v in values]


def _string_list(path: str, key: str, value: object) -> List[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of strings")
    return list(value)


def apply_table(config: Config, table: dict, where: str) -> None:
    for key, value in table.items():
        kind = _KEYS.get(key)
        if kind is None:
            hint = ""
            if key.replace("_", "-") in _KEYS:
                hint = f" (did you mean {key.replace('_', '-')!r}?)"
            raise ConfigError(
                f"{where}: unknown key {key!r} in [tool.cnnlint]{hint}; "
                f"known keys: {', '.join(sorted(_KEYS))}"
            )
        if kind == "codes":
            setattr(config, key, _check_codes(where, key, _string_list(where, key, value)))
        elif kind == "strings":
            config.exclude = _string_list(where, key, value)
        elif kind == "per-file":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: per-file-ignores must be a table of glob = [codes]")
            config.per_file_ignores = {
                glob: _check_codes(where, f"per-file-ignores[{glob!r}]", _string_list(where, key, codes))
                for glob, codes in value.items()
            }
        elif kind == "severity":
            try:
                config.fail_on = Severity.parse(str(value))
            except ValueError as exc:
                raise ConfigError(f"{where}: fail-on: {exc}") from None
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {key} must be true or false")
            config.respect_gitignore = value
        elif kind == "string":
            if not isinstance(value, str):
                raise ConfigError(f"{where}: {key} must be a string")
            setattr(config, key.replace("-", "_"), value)
        elif kind == "int":
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{where}: {key} must be a positive integer ({_UNITS[key]})")
            setattr(config, key.replace("-", "_"), value)
        elif kind == "size":
            from cnnlint.sizes import parse_size

            try:
                config.runtime_memory = parse_size(str(value)) if not isinstance(value, bool) else 0
            except ValueError as exc:
                raise ConfigError(f"{where}: {key}: {exc}") from None
            if config.runtime_memory <= 0:
                raise ConfigError(f"{where}: {key} must be a size such as \"12GiB\"")
        elif kind == "decode-memory":
            config.max_decode_memory = _decode_memory(where, key, value)
        elif kind == "ratio":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 1:
                raise ConfigError(f"{where}: {key} must be a number greater than 1 (e.g. 4 for 4:1)")
            setattr(config, key.replace("-", "_"), float(value))
        else:
            _apply_number(config, key, kind, value, where)


def _apply_number(config: Config, key: str, kind: str, value: object, where: str) -> None:
    """The dataset-quality settings: "bits" 0-24, "share" over 0 up to 1, "number" 0 or more."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bits":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 24:
            raise ConfigError(f"{where}: {key} must be a whole number of bits from 0 to 24 (of the 64-bit hash)")
        setattr(config, key.replace("-", "_"), value)
        return
    if kind == "share" and not (number and 0 < value <= 1):  # type: ignore[operator]
        raise ConfigError(f"{where}: {key} must be a share over 0 and up to 1 (e.g. 0.9)")
    if kind == "number" and not (number and value >= 0):  # type: ignore[operator]
        raise ConfigError(f"{where}: {key} must be a number, 0 or more")
    setattr(config, key.replace("-", "_"), float(value))  # type: ignore[arg-type]


def _decode_memory(where: str, key: str, value: object) -> int:
    """A size such as "512MiB", or a whole number of bytes; at least 16 MiB."""
    from cnnlint.sizes import parse_size

    problem = f"{where}: {key} must be a size of at least 16MiB, such as \"512MiB\" or \"2GiB\""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(problem)
    if isinstance(value, int):
        size = value
    else:
        try:
            size = parse_size(value) if value.strip()[-1:].isalpha() else -1
        except ValueError:
            size = -1
    if size < 16 * 1024 * 1024:
        raise ConfigError(problem)
    return size


def load_config(paths: Sequence[str], config_file: Optional[str] = None) -> Config:
    config = Config()
    if config_file is None:
        start = paths[0] if paths else os.getcwd()
        config_file = find_config(start if os.path.exists(start) else os.getcwd())
    if config_file is not None:
        apply_table(config, _table(config_file), config_file)
        config.path = config_file
        config.root = os.path.dirname(os.path.abspath(config_file))
    return config
