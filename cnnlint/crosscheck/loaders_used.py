"""Which of the four modelled training loaders the code beside a dataset uses.

Asked before the scan, so that the scan's per-file findings name only those
loaders: a script's `image_dataset_from_directory`, `flow_from_directory` and
`ImageFolder` calls, and listdir/glob/list_files loops that decode with
TensorFlow, each matched to a dataset as the cross-check matches them. A
dataset no script is tied to counts all four.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Set, Tuple

from cnnlint.crosscheck.facts import ScriptFacts
from cnnlint.crosscheck.match import match_path
from cnnlint.dataset.layout import Dataset
from cnnlint.dataset.loaders import KERAS_DATASET, KERAS_FLOW, LOADERS, TF_DECODE, TORCHVISION
from cnnlint.dataset.run import DatasetResult

API_LOADERS = {"image_dataset_from_directory": KERAS_DATASET, "flow_from_directory": KERAS_FLOW,
               "ImageFolder": TORCHVISION, "DatasetFolder": TORCHVISION}
_TF_DECODERS = ("decode_image", "decode_jpeg", "decode_png", "decode_bmp", "decode_gif")
_TF_ROOTS = ("tf", "tensorflow", "keras")


def _decodes_with_tensorflow(facts: ScriptFacts) -> bool:
    for fact in facts.readers:
        name = fact.value.get("name", "") if isinstance(fact.value, dict) else ""
        parts = str(name).split(".")
        if parts[-1] in _TF_DECODERS and parts[0] in _TF_ROOTS:
            return True
    return False


def loaders_used(scripts: Sequence[Tuple[str, ScriptFacts]], datasets: Sequence[Dataset],
                 given: Optional[Sequence[Dataset]] = None, cwd: Optional[str] = None) -> Dict[str, Tuple[str, ...]]:
    """{dataset real path: the loaders that count}, for datasets some script reads with a known loader.

    `scripts`: (real path, facts); `given`: the datasets named on the command line (None: all)."""
    cwd = cwd or os.getcwd()
    results = [DatasetResult(ds, None, 0.0) for ds in datasets]  # type: ignore[arg-type]  # matching reads folders only
    given_results: Optional[List[DatasetResult]] = None
    if given is not None:
        given_results = [r for r in results if any(r.dataset is g for g in given)]
    used: Dict[str, Set[str]] = {}
    for real, facts in scripts:
        tf_reads = _decodes_with_tensorflow(facts)
        for loader in facts.loaders:
            key = API_LOADERS.get(loader.api) or (TF_DECODE if tf_reads else None)
            if key is None:
                continue
            m = match_path(loader.call.value, loader.exact, loader.role, real, results, cwd, given_results)
            if m is not None:
                used.setdefault(m.result.dataset.real_path, set()).add(key)
    return {path: tuple(ld for ld in LOADERS if ld in keys) for path, keys in used.items()}
