"""Live facts from a kernel's namespace: Keras models, generators and datasets, torch modules,
datasets and loaders, NumPy arrays and tensors.

Read-only and cheap: the objects are recognised by the names of their classes (no framework is
imported here), then read through attributes and bounded samples only. Nothing is iterated, called
for its effect, copied whole or moved off a GPU: an array's range comes from at most SAMPLE values
picked at even steps, a tensor on a GPU is not sampled at all.
"""

from __future__ import annotations

from typing import Any, Container, Iterable, List, Mapping, Optional, Tuple

from cnnlint.crosscheck.live_facts import LiveArray, LiveFacts, LiveLoader, LiveModel

SAMPLE = 65_536  # values read per array for its min and max
MAX_NAMES = 5_000  # namespace entries looked at after a cell
MAX_LAYERS = 2_000  # layers or submodules walked per model
_SKIP = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
_KERAS_ROOTS = ("keras", "tf_keras", "tensorflow.python.keras", "tensorflow.keras")
_LABELS = {"categorical": "onehot", "sparse": "int", "binary": "binary"}


def _mro(obj: Any) -> List[Tuple[str, str]]:
    return [(getattr(c, "__module__", "") or "", c.__name__) for c in type(obj).__mro__]


def _kind(obj: Any) -> Optional[str]:
    """What the object is, from its classes' names and modules."""
    for module, name in _mro(obj):
        root = module.split(".")[0]
        if module == "numpy" and name == "ndarray":
            return "numpy"
        if root == "torch":
            if name == "Tensor" and module in ("torch", "torch._tensor"):
                return "torch_tensor"
            if name == "Module" and module == "torch.nn.modules.module":
                return "torch_module"
            if name == "DataLoader":
                return "torch_loader"
            if name == "Dataset" and module == "torch.utils.data.dataset":
                return "torch_dataset"
        if module.startswith(_KERAS_ROOTS) or root == "tensorflow":
            if name in ("DirectoryIterator", "DataFrameIterator"):
                return "keras_iterator"
            if name == "Model" and module.startswith(_KERAS_ROOTS + ("tensorflow",)):
                return "keras_model"
            if name == "DatasetV2" and module == "tensorflow.python.data.ops.dataset_ops":
                return "tf_dataset"
            if name == "EagerTensor":
                return "tf_tensor"
    return None


def read_namespace(namespace: Mapping[str, Any], hidden: Container[str] = (), cell: Optional[int] = None) -> LiveFacts:
    """The live facts of a namespace (user_ns), skipping IPython's own names and `_private` ones."""
    facts = LiveFacts(cell=cell)
    for i, (name, obj) in enumerate(list(namespace.items())):
        if i >= MAX_NAMES:
            break
        if not isinstance(name, str) or name.startswith("_") or name in _SKIP or name in hidden:
            continue
        try:
            _read_one(facts, name, obj)
        except Exception:  # noqa: BLE001 - an object that resists reading says nothing; the user's code goes on
            continue
    return facts


def _read_one(facts: LiveFacts, name: str, obj: Any) -> None:
    kind = _kind(obj)
    if kind is None:
        return
    if kind in ("numpy", "torch_tensor", "tf_tensor"):
        array = _array(name, obj, kind)
        if array is not None:
            facts.arrays[name] = array
    elif kind == "keras_model":
        facts.models[name] = _keras_model(name, obj)
    elif kind == "torch_module":
        model = _torch_module(name, obj)
        if model is not None:
            facts.models[name] = model
    elif kind == "keras_iterator":
        facts.loaders[name] = _keras_iterator(name, obj)
    elif kind == "tf_dataset":
        facts.loaders[name] = _tf_dataset(name, obj)
    elif kind in ("torch_dataset", "torch_loader"):
        facts.loaders[name] = _torch_data(name, obj, kind)


# ---- arrays and tensors


def _range(values: Any, size: int) -> Tuple[Optional[float], Optional[float], int]:
    """(min, max, values read) of an ndarray, from at most SAMPLE values at even steps (no copy of the
    array: `flat` with an index array reads only the chosen values)."""
    import numpy as np

    if size == 0 or values.dtype.kind not in "iuf":
        return None, None, 0
    if size > SAMPLE:
        values = values.flat[np.linspace(0, size - 1, SAMPLE).astype(np.int64)]
    with np.errstate(all="ignore"):
        low, high = np.nanmin(values), np.nanmax(values)
    if not (np.isfinite(low) and np.isfinite(high)):
        return None, None, 0
    return float(low), float(high), int(min(size, SAMPLE))


def _array(name: str, obj: Any, kind: str) -> Optional[LiveArray]:
    if kind == "numpy":
        shape = [int(d) for d in obj.shape]
        low, high, n = _range(obj, int(obj.size))
        return LiveArray(name, "numpy", str(obj.dtype), shape, int(obj.nbytes), int(obj.itemsize), low, high, n, int(obj.size))
    if kind == "torch_tensor":
        shape = [int(d) for d in obj.shape]
        size, itemsize = int(obj.numel()), int(obj.element_size())
        array = LiveArray(name, "torch", str(obj.dtype).replace("torch.", ""), shape, size * itemsize, itemsize, size=size)
        if obj.device.type == "cpu" and str(obj.layout) == "torch.strided" and array.dtype != "bfloat16":
            array.low, array.high, array.sampled = _range(obj.detach().numpy(), size)  # a view: no copy
        return array
    shape = [int(d) for d in obj.shape]
    dtype = obj.dtype
    size = 1
    for d in shape:
        size *= d
    array = LiveArray(name, "tensorflow", dtype.name, shape, size * dtype.size, dtype.size, size=size)
    if "GPU" not in (obj.device or "").upper() and size <= SAMPLE:
        array.low, array.high, array.sampled = _range(obj.numpy(), size)  # small: its copy is bounded
    return array


# ---- models


def _flat_layers(model: Any) -> List[Any]:
    """The model's layers, nested models' layers in their place (bounded)."""
    out: List[Any] = []
    stack = list(reversed(list(getattr(model, "layers", None) or [])))
    while stack and len(out) < MAX_LAYERS:
        layer = stack.pop()
        inner = getattr(layer, "layers", None) if _kind(layer) == "keras_model" else None
        if inner:
            stack.extend(reversed(list(inner)))
        else:
            out.append(layer)
    return out


def _name_of(fn: Any) -> Optional[str]:
    if fn is None:
        return None
    if isinstance(fn, str):
        return fn
    name = getattr(fn, "name", None) or getattr(fn, "__name__", None)
    return name if isinstance(name, str) else None


def _image_shape(shape: Iterable[Any]) -> Optional[List[Optional[int]]]:
    """[h, w, c] of a batched image shape (None, h, w, c)."""
    dims = [None if d is None else int(d) for d in shape]
    return dims[1:] if len(dims) == 4 else None


def _keras_model(name: str, model: Any) -> LiveModel:
    live = LiveModel(name, "keras")
    try:
        inputs = model.inputs  # raises while a Sequential model has no input yet
    except Exception:  # noqa: BLE001 - not built: no input shape to read
        inputs = None
    if inputs and len(inputs) == 1:
        live.input_shape = _image_shape(inputs[0].shape)
    layers = _flat_layers(model)
    kinds = [type(layer).__name__ for layer in layers]
    live.scales = any(k in ("Rescaling", "Normalization") for k in kinds)
    live.unknown_layers = any(k in ("Lambda", "TFOpLambda") for k in kinds)
    live.embeds = "Embedding" in kinds
    for layer, k in zip(reversed(layers), reversed(kinds)):
        if k in ("Softmax", "Activation") and live.activation is None:
            live.activation = "softmax" if k == "Softmax" else _name_of(getattr(layer, "activation", None))
            continue
        units = getattr(layer, "units", None)
        if isinstance(units, int):
            live.units = units
            if live.activation is None:
                live.activation = _name_of(getattr(layer, "activation", None))
            break
        if k not in ("Dropout", "Flatten", "Reshape", "GaussianNoise", "ActivityRegularization"):
            break  # another layer last: its output is not a Dense layer's
    live.loss = _name_of(getattr(model, "loss", None))
    return live


def _torch_module(name: str, module: Any) -> Optional[LiveModel]:
    """A module with a Linear layer: its last Linear's out_features, its first Conv2d's channels."""
    live = LiveModel(name, "torch")
    stack = [module]
    seen = 0
    last = None
    while stack and seen < MAX_LAYERS:
        node = stack.pop()
        seen += 1
        kind = type(node).__name__
        if kind == "Linear":
            live.units = int(node.out_features)
        elif kind == "Conv2d" and live.input_shape is None:
            live.input_shape = [None, None, int(node.in_channels)]
        children = getattr(node, "_modules", None) or {}
        stack.extend(reversed([c for c in children.values() if c is not None]))
        last = kind
    if live.units is None:
        return None
    live.activation = {"Softmax": "softmax", "Sigmoid": "sigmoid"}.get(last or "", "linear")
    return live


# ---- loaders


def _keras_iterator(name: str, it: Any) -> LiveLoader:
    indices = getattr(it, "class_indices", None) or {}
    classes = [c for c, _ in sorted(indices.items(), key=lambda kv: kv[1])] if isinstance(indices, dict) else None
    shape = getattr(it, "image_shape", None)
    mode = getattr(it, "class_mode", None)
    gen = getattr(it, "image_data_generator", None)
    rescale = getattr(gen, "rescale", None)
    return LiveLoader(
        name, "keras_iterator", classes=classes or None,
        image_shape=[int(d) for d in shape] if shape is not None else None,
        batch_size=getattr(it, "batch_size", None), label_mode=_LABELS.get(mode or ""), class_mode=mode,
        rescale=float(rescale) if isinstance(rescale, (int, float)) and rescale else None,
        directory=getattr(it, "directory", None),
    )


def _tf_dataset(name: str, ds: Any) -> LiveLoader:
    live = LiveLoader(name, "tf_dataset")
    names = getattr(ds, "class_names", None)
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        live.classes = names
    spec = ds.element_spec
    if isinstance(spec, tuple) and len(spec) == 2:
        x, y = spec
        dims = list(getattr(x, "shape", None) or [])
        live.image_shape = _image_shape(dims)
        if len(dims) == 4 and dims[0] is not None:
            live.batch_size = int(dims[0])
        y_dims = list(getattr(y, "shape", None) or [])
        floating = getattr(getattr(y, "dtype", None), "is_floating", False)
        if len(y_dims) == 2 and floating:
            live.label_mode = "binary" if y_dims[1] == 1 else "onehot"
        elif len(y_dims) == 1:
            live.label_mode = "int"
    return live


def _torch_data(name: str, obj: Any, kind: str) -> LiveLoader:
    live = LiveLoader(name, kind)
    dataset = obj
    if kind == "torch_loader":
        size = getattr(obj, "batch_size", None)
        live.batch_size = int(size) if isinstance(size, int) else None
        dataset = getattr(obj, "dataset", None)
    for _ in range(4):  # Subset(ImageFolder(...)): the classes of the dataset inside
        if dataset is None or hasattr(dataset, "classes"):
            break
        dataset = getattr(dataset, "dataset", None)
    classes = getattr(dataset, "classes", None)
    if isinstance(classes, (list, tuple)) and classes and all(isinstance(c, str) for c in classes):
        live.classes = list(classes)
        live.label_mode = "int"
    transform = getattr(dataset, "transform", None)
    if transform is not None:
        live.transform = " ".join(repr(transform).split())[:200]
    root = getattr(dataset, "root", None)
    live.directory = str(root) if root is not None else None
    return live
