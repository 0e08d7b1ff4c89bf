"""What a running kernel holds, as plain records: the live side of the cross-check.

`cnnlint.notebook.namespace` reads these from the objects of a notebook's namespace (attributes and
bounded samples only); `cnnlint.crosscheck.live` holds them against the code of the executed cells.
Nothing here imports a framework: the records are names, numbers and strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional


@dataclass
class LiveModel:
    """A Keras model or a torch module."""

    name: str
    framework: str  # "keras" | "torch"
    input_shape: Optional[List[Optional[int]]] = None  # [height, width, channels] of an image input
    units: Optional[int] = None  # outputs of the last layer that has units (Dense, Linear)
    activation: Optional[str] = None  # the last layer's activation ("softmax", "sigmoid", "linear", ...)
    loss: Optional[str] = None  # the compiled loss, as its Keras name ("categorical_crossentropy", ...)
    scales: bool = False  # a Rescaling or Normalization layer: it scales its own input
    unknown_layers: bool = False  # a Lambda or custom layer first: it may scale, so CNL101 stays quiet
    embeds: bool = False  # an Embedding layer: integer inputs are token ids, not pixels


@dataclass
class LiveLoader:
    """A Keras generator, a tf.data dataset, a torch dataset or loader."""

    name: str
    kind: str  # "keras_iterator" | "tf_dataset" | "torch_dataset" | "torch_loader"
    classes: Optional[List[str]] = None  # class names in label order (class_indices, class_names, classes)
    image_shape: Optional[List[Optional[int]]] = None  # [height, width, channels] of one image
    batch_size: Optional[int] = None
    label_mode: Optional[str] = None  # "onehot" | "int" | "binary" | None (no labels, or unknown)
    class_mode: Optional[str] = None  # the argument as given (Keras iterators): "categorical", "sparse", ...
    rescale: Optional[float] = None  # an ImageDataGenerator's rescale (None: none)
    directory: Optional[str] = None
    transform: Optional[str] = None  # a torch dataset's transform, as its repr's first line


@dataclass
class LiveArray:
    """A NumPy array or a tensor: its dtype, shape and the range of a bounded sample."""

    name: str
    framework: str  # "numpy" | "torch" | "tensorflow"
    dtype: str
    shape: List[int]
    nbytes: int
    itemsize: int
    low: Optional[float] = None  # min and max of the sample (None: not sampled, e.g. on a GPU)
    high: Optional[float] = None
    sampled: int = 0  # values read for low/high
    size: int = 0  # values in all


@dataclass
class LiveFacts:
    """The namespace after one cell ran (`cell`: its execution count)."""

    cell: Optional[int] = None
    models: Dict[str, LiveModel] = field(default_factory=dict)
    loaders: Dict[str, LiveLoader] = field(default_factory=dict)
    arrays: Dict[str, LiveArray] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.models or self.loaders or self.arrays)
