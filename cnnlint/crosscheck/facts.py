"""What a script says about the data it expects, as plain records the lint cache can store.

The static pass extracts these from each script (`extract.py`); the cross-check
(`check.py`) holds them against the dataset scan. Every fact keeps where the
code says it, so a finding points at that line.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional

from cnnlint.records import as_dict


@dataclass
class Fact:
    value: Any  # JSON: str, int, float, bool, a list of them, a dict, or None (unknown)
    text: str  # the code that says it, shortened: `Dense(5, activation="softmax")`
    line: int = 0
    column: int = 0
    cell: Optional[int] = None
    raw: str = ""  # the whole source line, for suppression comments
    default: bool = False  # the argument was left out: `value` is the API's default

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Fact":
        return cls(**d)


@dataclass
class Loader:
    """One call that reads images from a folder: the folder, and how it reads them."""

    api: str  # flow_from_directory | image_dataset_from_directory | ImageFolder | listdir | glob | ...
    call: Fact  # the call itself; value: the path as written, resolved where possible (None: unknown)
    exact: bool = False  # `call.value` is the whole path (else only its known final part, or None)
    role: Optional[str] = None  # "train" | "val" | "test" | None, from subset=, the path or the variable
    target_size: Optional[Fact] = None  # value [height, width]
    color_mode: Optional[Fact] = None  # value "rgb" | "grayscale" | "rgba"
    class_mode: Optional[Fact] = None  # value "categorical" | "binary" | "sparse" | "int" | "input" | None
    classes: Optional[Fact] = None  # an explicit class list: value = its length
    batch_size: Optional[Fact] = None
    keras: bool = False  # a Keras/TensorFlow loader (its target size is fed to a Keras model)
    feeds: bool = True  # its batches are used (not only `.class_indices` and the like)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Loader":
        d = dict(d)
        for name in ("call", "target_size", "color_mode", "class_mode", "classes", "batch_size"):
            if d.get(name) is not None:
                d[name] = Fact.from_dict(d[name])
        return cls(**d)


# ScriptFacts fields that hold lists of Facts, and what each fact's value is
FACT_LISTS = {
    "input_shapes": "[height, width, channels] the model takes (None where any size goes)",
    "outputs": '{"units": N, "activation": "softmax"|"sigmoid"|"linear"|...} of the final layer',
    "losses": '"cce" | "scce" | "bce" | "torch_ce" | "torch_bce" ...',
    "weighting": "the class weighting the code uses (class_weight=, WeightedRandomSampler, weight=)",
    "training": "the training calls (fit, optimizer.step())",
    "readers": '{"name": reader, "channels": 1|3|4|None (None: not forced)} per-image readers',
    "in_memory": '{"size": [h, w]|None, "channels": N, "bytes": 1|4|8} image sets held in memory (CNL102)',
}


@dataclass
class ScriptFacts:
    loaders: List[Loader] = field(default_factory=list)
    input_shapes: List[Fact] = field(default_factory=list)
    outputs: List[Fact] = field(default_factory=list)
    losses: List[Fact] = field(default_factory=list)
    weighting: List[Fact] = field(default_factory=list)
    training: List[Fact] = field(default_factory=list)
    readers: List[Fact] = field(default_factory=list)
    in_memory: List[Fact] = field(default_factory=list)
    resizes: bool = False  # the script resizes images after loading them (tf.image.resize, Resizing...)
    creates_data: bool = False  # it downloads, unpacks, copies or makes folders: paths may appear at run time
    relabels: bool = False  # labels change after loading (.map, one_hot, target_transform)
    pretrained: bool = False  # it starts from pretrained weights (deliberate upscaling is normal there)

    def empty(self) -> bool:
        return not (self.loaders or self.input_shapes or self.outputs or self.in_memory or self.readers)

    def to_dict(self) -> Dict[str, Any]:
        return as_dict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "ScriptFacts":
        kwargs: Dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in d:
                continue
            v = d[f.name]
            if f.name == "loaders":
                v = [Loader.from_dict(x) for x in v]
            elif f.name in FACT_LISTS:
                v = [Fact.from_dict(x) for x in v]
            kwargs[f.name] = v
        return cls(**kwargs)
