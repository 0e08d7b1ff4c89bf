"""Object-storage URLs (s3://, gs://, az:// ...) among the paths: told apart from local paths."""

from __future__ import annotations

SCHEMES = ("s3", "gs", "gcs", "az", "abfs", "abfss")


def is_url(path: str) -> bool:
    """An object-storage URL, not a local path."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.lower() in SCHEMES
