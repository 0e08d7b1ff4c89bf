"""Which scanned dataset (and which split of it) a data path in a script reads.

A path matches a dataset when it is the same folder (beside the script or in
the current folder), when its final folder names are the dataset's (a Colab
`/content/drive/MyDrive/flowers/train` against a local `flowers/` with a
`train/` split), or, failing both, when only one dataset was given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional, Sequence

from cnnlint.dataset.layout import SPLITS, Split
from cnnlint.dataset.urls import is_url

if TYPE_CHECKING:
    from cnnlint.dataset.run import DatasetResult


@dataclass
class Match:
    result: DatasetResult
    split: Optional[Split]  # the split folder read; None: the dataset's own folder
    how: str  # "path" | "name" | "only dataset"

    @property
    def reads_splits_as_classes(self) -> bool:
        """The loader was pointed at a folder of split folders: it takes train/, val/ for classes."""
        return self.split is None and self.result.dataset.layout == "splits" and self.how != "only dataset"

    @property
    def folder(self) -> str:
        """The folder read, as shown to the user (with a trailing slash)."""
        shown = self.split.path if self.split is not None else self.result.dataset.path
        return shown.rstrip(os.sep) + os.sep

    def class_names(self) -> List[str]:
        """The classes the loader sees: the class folders of what it reads."""
        ds = self.result.dataset
        if self.split is not None:
            return [] if self.split.flat else list(self.split.classes)
        if ds.layout == "splits":
            if self.reads_splits_as_classes:
                return [s.name or "" for s in ds.splits]
            train = next((s for s in ds.splits if s.role == "train"), ds.splits[0])
            return [] if train.flat else list(train.classes)
        return [] if ds.splits[0].flat else list(ds.splits[0].classes)

    def split_index(self) -> Optional[int]:
        """The split whose images the loader reads (the training split for a whole-dataset match); None: all."""
        ds = self.result.dataset
        if self.split is not None:
            return ds.splits.index(self.split)
        if ds.layout == "splits" and not self.reads_splits_as_classes:
            for i, s in enumerate(ds.splits):
                if s.role == "train":
                    return i
        return None


def _parts(path: str) -> List[str]:
    return [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]


def _real(path: str) -> str:
    return os.path.realpath(path)


def _by_url(url: str, results: Sequence[DatasetResult]) -> Optional[Match]:
    """A bucket URL in a script (`image_dataset_from_directory("gs://...")`): the scanned bucket prefix itself."""
    url = url.rstrip("/")
    for r in results:
        ds = r.dataset
        if url == ds.real_path:
            return Match(r, ds.splits[0] if ds.layout != "splits" else None, "path")
        for s in ds.splits:
            if s.name is not None and url == s.real_path:
                return Match(r, s, "path")
    return None


def _by_path(path: str, script_real: str, results: Sequence[DatasetResult], cwd: str) -> Optional[Match]:
    if is_url(path):
        return _by_url(path, results)
    expanded = os.path.expanduser(path)
    bases = [expanded] if os.path.isabs(expanded) else [
        os.path.join(os.path.dirname(script_real), expanded), os.path.join(cwd, expanded)
    ]
    for base in bases:
        real = _real(base)
        for r in results:
            ds = r.dataset
            if real == _real(ds.real_path):
                return Match(r, ds.splits[0] if ds.layout != "splits" else None, "path")
            for s in ds.splits:
                if s.name is not None and real == _real(s.real_path):
                    return Match(r, s, "path")
    return None


def _by_name(parts: List[str], results: Sequence[DatasetResult]) -> Optional[Match]:
    found: List[Match] = []
    for r in results:
        ds = r.dataset
        name = os.path.basename(ds.real_path.rstrip(os.sep))
        if parts[-1] == name:
            found.append(Match(r, ds.splits[0] if ds.layout != "splits" else None, "name"))
            continue
        if len(parts) >= 2 and parts[-2] == name:
            for s in ds.splits:
                if s.name is not None and s.name == parts[-1]:
                    found.append(Match(r, s, "name"))
    return found[0] if len(found) == 1 else None


def _only(parts: List[str], role: Optional[str], results: Sequence[DatasetResult]) -> Optional[Match]:
    if len(results) != 1:
        return None
    r = results[0]
    ds = r.dataset
    if ds.layout != "splits":
        return Match(r, ds.splits[0], "only dataset")
    wanted = SPLITS.get(parts[-1].lower()) if parts else None
    for s in ds.splits:
        if parts and s.name == parts[-1]:
            return Match(r, s, "only dataset")
    for s in ds.splits:
        if s.role == (wanted or role) and (wanted or role):
            return Match(r, s, "only dataset")
    return Match(r, None, "only dataset")


def match_path(
    path: Optional[str], exact: bool, role: Optional[str], script_real: str,
    results: Sequence[DatasetResult], cwd: str, given: Optional[Sequence[DatasetResult]] = None,
) -> Optional[Match]:
    """`given`: the datasets named on the command line; only they can be "the only dataset given"
    (a folder of images found while walking a repository says nothing about a script's data)."""
    if not results:
        return None
    if path and exact:
        found = _by_path(path, script_real, results, cwd)
        if found is not None:
            return found
        expanded = os.path.expanduser(path)
        bases = [expanded] if os.path.isabs(expanded) else [
            os.path.join(os.path.dirname(script_real), expanded), os.path.join(cwd, expanded)]
        if any(os.path.isdir(b) for b in bases):
            return None  # an existing folder that is not one of the datasets: not ours to judge
    parts = _parts(path) if path else []
    if parts:
        found = _by_name(parts, results)
        if found is not None:
            return found
    return _only(parts, role, results if given is None else given)
