"""The codes this capability reports, for `cnnlint rules`, `explain` and --select."""

from __future__ import annotations

from typing import List

from cnnlint.findings import Severity
from cnnlint.catalog import RuleInfo

E, W = Severity.ERROR, Severity.WARNING

CODES: List[RuleInfo] = [
    RuleInfo("CNL601", "output-units-vs-classes", E, "Output layer units differ from the number of class folders"),
    RuleInfo("CNL602", "target-size-vs-input-shape", E, "Loader image size or channels differ from the model's input shape"),
    RuleInfo("CNL603", "channels-vs-images", W, "The script's channel handling does not fit the images' modes"),
    RuleInfo("CNL604", "label-mode-vs-classes", E, "class_mode/label_mode does not fit the loss or the number of classes"),
    RuleInfo("CNL605", "imbalance-not-weighted", W,
             "Imbalanced dataset trained without class weights, a weighted sampler or loss"),
    RuleInfo("CNL606", "data-path-missing", W, "A data path in the script does not exist and no dataset was given for it"),
    RuleInfo("CNL607", "in-memory-too-large", E, "The images read into memory would need more than the runtime has"),
    RuleInfo("CNL608", "upscaled-images", W, "Most images are far smaller than the size the loader resizes them to"),
]
