"""CNL1xx: the input pipeline in code.

CNL101 missing-normalization: pixel data reaches training unscaled.
CNL102 no-data-generator: a whole image set is read into memory and handed to
training instead of being streamed from disk.

Both rules judge the whole file, so they run in `finish`. A cheap text
pre-filter skips files that mention none of the APIs involved; for the others
one shared index (`_Index`) is built with a single walk of the tree and reused by
both rules. The index is a small flow-insensitive-with-dominance data-flow
model: every binding of a name (assignment, tuple unpacking, loop target, `with`
target, walrus, `.append`/`.extend`/`x[i] = ...` into a container, augmented
assignment) is recorded with its walk order, its scope, the conditional blocks
and the loops around it. A use of a name sees the bindings before it, starting
from the last unconditional plain assignment, which is enough for notebook and
script code written top to bottom (notebook cells are joined into one module, so
a definition in an earlier cell is visible).

On top of the index, `_taint` follows image data: a loader call (`cv2.imread`,
`Image.open`, `load_img`, ...) is one image; accumulating one image per loop
iteration (append in a loop, comprehension, `map(loader, paths)`) makes an image
*set*; numpy/torch/tf conversions, slicing, arithmetic, `train_test_split` and
functions defined in the file carry the taint along; any call we do not know
drops it (precision first). The taint also records whether the pixels were
scaled on the way (a division, `preprocess_input`, centring, ...).

`_pipeline` walks a Keras `fit` argument backwards through tf.data methods,
`ImageDataGenerator.flow*` and `image_dataset_from_directory` to where pixels
enter, noting any scaling `map` on the way.
"""

from __future__ import annotations

import re
import weakref
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import libcst as cst

from cnnlint.findings import Severity
from cnnlint.lint.rule import Rule
from cnnlint.lint.tree import (
    all_params,
    ImportTable,
    call_tail,
    children,
    dotted_name,
    has_star_kwargs,
    is_falsy_literal,
    keyword,
    positional,
    walk,
)

_INF = 1 << 60
_MAX_DEPTH = 40

# text pre-filters: a file that mentions none of these cannot trigger the rule
_LOADER_KEYS = ("imread", "Image.open", "load_img", "read_image", "read_file", "imdecode")
_KEYS_101 = (
    "ImageDataGenerator", "image_dataset_from_directory", "Compose", "load_data", "decode_",
) + _LOADER_KEYS
_KEYS_102 = _LOADER_KEYS

# --------------------------------------------------------------------------- names

_LOADERS = {
    "cv2.imread", "cv2.imdecode", "PIL.Image.open", "Image.open", "imageio.imread",
    "imageio.v2.imread", "imageio.v3.imread", "matplotlib.pyplot.imread",
    "matplotlib.image.imread", "plt.imread", "mpimg.imread", "skimage.io.imread",
    "tensorflow.io.read_file", "tf.io.read_file", "torchvision.io.read_image",
    "scipy.misc.imread", "scipy.ndimage.imread", "tifffile.imread", "imread",
}
# loaders whose result may already be float in [0, 1] (PNG through matplotlib, TIFF)
_FLOAT_LOADERS = {
    "matplotlib.pyplot.imread", "matplotlib.image.imread", "plt.imread", "mpimg.imread",
    "tifffile.imread",
}
_KERAS_IMAGE_DATASETS = {"mnist", "fashion_mnist", "cifar10", "cifar100"}

_NP_CARRY = {
    "array", "asarray", "asanyarray", "stack", "vstack", "hstack", "dstack", "concatenate",
    "expand_dims", "reshape", "squeeze", "transpose", "float32", "float64", "float16", "uint8",
    "moveaxis", "rollaxis", "swapaxes", "flip", "fliplr", "flipud", "copy", "ascontiguousarray",
    "append", "rot90", "clip", "array_split", "split", "take", "repeat", "tile", "pad",
}
_CV2_NOT_IMAGE = {
    "imwrite", "imshow", "waitKey", "destroyAllWindows", "findContours", "boundingRect",
    "countNonZero", "mean", "minMaxLoc", "calcHist", "moments", "contourArea", "imencode",
    "compareHist", "HuMoments", "arcLength", "matchTemplate", "namedWindow", "putText",
    "rectangle", "circle", "line", "drawContours",
}
_TORCH_CARRY = {
    "tensor", "from_numpy", "as_tensor", "stack", "cat", "concat", "Tensor", "FloatTensor",
    "ByteTensor", "permute", "unsqueeze", "reshape", "squeeze", "flip",
}
_TF_CARRY = {
    "convert_to_tensor", "constant", "stack", "concat", "cast", "expand_dims", "reshape",
    "transpose", "squeeze", "resize", "resize_with_pad", "resize_with_crop_or_pad",
    "rgb_to_grayscale", "grayscale_to_rgb", "decode_jpeg", "decode_png", "decode_image",
    "decode_bmp", "decode_gif", "flip_left_right", "img_to_array", "smart_resize",
    "central_crop", "Variable",
}
# calls that return their (image) argument scaled or centred
_SCALING_CALLS = {
    "preprocess_input", "convert_image_dtype", "per_image_standardization", "normalize",
    "img_as_float", "img_as_float32", "img_as_float64", "rescale_intensity", "rgb2gray",
    "standardize", "scale", "minmax_scale", "robust_scale",
}
_SKIMAGE_CARRY = {
    "resize", "rescale", "rotate", "resize_local_mean", "warp", "img_as_ubyte", "equalize_hist",
    "adjust_gamma", "gray2rgb", "rgba2rgb", "crop", "pad",
}
_BUILTIN_CARRY = {"list", "tuple", "zip", "sorted", "reversed"}
_METHOD_CARRY = {
    "reshape", "astype", "copy", "transpose", "squeeze", "unsqueeze", "resize", "convert",
    "crop", "rotate", "flatten", "ravel", "numpy", "float", "double", "half", "cuda", "cpu",
    "to", "permute", "view", "contiguous", "swapaxes", "tolist", "clip", "repeat", "type",
    "__array__", "filter", "transpose_", "thumbnail",
}
_METHOD_SCALE = {"div", "div_", "true_divide", "sub", "sub_", "fit_transform", "transform", "normalize"}

_DS_PASSTHROUGH = {
    "batch", "shuffle", "prefetch", "cache", "repeat", "take", "skip", "unbatch", "filter",
    "with_options", "shard", "rebatch", "padded_batch", "concatenate", "apply_options",
    "ignore_errors", "assert_cardinality",
}
_IDG_NORMALIZING = {
    "rescale", "preprocessing_function", "featurewise_center", "samplewise_center",
    "featurewise_std_normalization", "samplewise_std_normalization", "zca_whitening",
}
_IDG_FLOWS = {"flow", "flow_from_directory", "flow_from_dataframe"}
_BUILTIN_RESCALING = re.compile(r"^(EfficientNet|ConvNeXt|MobileNetV3|RegNet|ResNetRS)")
_DECODERS = {"decode_jpeg", "decode_png", "decode_image", "decode_bmp", "decode_gif", "decode_and_crop_jpeg"}
_KNOWN_LIBS = {
    "tensorflow", "tf", "keras", "numpy", "np", "math", "random", "os", "cv2", "PIL",
    "torch", "torchvision", "tf_keras", "tensorflow_addons", "skimage", "scipy",
}
_MODEL_UNKNOWN = {"load_model", "model_from_json", "model_from_yaml", "model_from_config", "from_preset", "from_pretrained", "TFSMLayer"}

_TV_UINT8 = {"PILToTensor", "ToImage", "ToImageTensor"}
_TORCH_SCALING_CALLS = {
    "Normalize", "normalize", "ToTensor", "to_tensor", "ConvertImageDtype", "convert_image_dtype",
    "to_dtype", "ToDtype",
}
_TV_DATASET_NAMES = {
    "ImageFolder", "DatasetFolder", "CIFAR10", "CIFAR100", "MNIST", "FashionMNIST", "STL10",
    "SVHN", "Food101", "Flowers102", "OxfordIIITPet", "StanfordCars", "Caltech101", "ImageNet",
    "EMNIST", "KMNIST", "QMNIST", "FGVCAircraft", "DTD", "GTSRB", "EuroSAT", "CelebA",
}

_HINT_101_IDG = "add rescale=1./255 (or preprocessing_function=preprocess_input for a pretrained model)"
_HINT_101_MODEL = (
    "add layers.Rescaling(1./255) as the model's first layer or map the dataset with "
    "lambda x, y: (x / 255., y) (preprocess_input for a pretrained model)"
)
_HINT_101_ARRAY = "divide the array by 255. (or call preprocess_input for a pretrained model) before fit"
_HINT_102 = "stream from disk: image_dataset_from_directory / tf.data / a Dataset with __getitem__ / flow_from_directory"

_PLAIN = frozenset({"assign", "unpack", "for", "with", "walrus", "def", "class", "import", "param"})
_ACCUMULATE = frozenset({"append", "subassign", "aug", "mutcall"})

Taint = Tuple[int, bool, Optional["_Origin"]]  # (0 none | 1 one image | 2 image set, scaled, origin)
_NONE: Taint = (0, False, None)


class _Origin:
    """Where image data came from: the loader call and the loop that accumulated it."""

    __slots__ = ("kind", "call", "name", "acc")

    def __init__(self, kind: str, call: cst.CSTNode, name: str, acc: Optional[cst.CSTNode]) -> None:
        self.kind = kind  # "loader" (read from files) | "dataset" (keras.datasets)
        self.call = call
        self.name = name
        self.acc = acc


def _join(a: Taint, b: Taint) -> Taint:
    if not a[0]:
        return b
    if not b[0]:
        return a
    oa, ob = a[2], b[2]
    if oa is None:
        origin = ob
    elif ob is None:
        origin = oa
    elif (oa.kind == "loader") != (ob.kind == "loader"):
        origin = oa if oa.kind == "loader" else ob
    elif b[0] > a[0]:
        origin = ob
    else:
        origin = oa
    return (max(a[0], b[0]), a[1] or b[1], origin)


def _scaled(t: Taint) -> Taint:
    return (t[0], True, t[2]) if t[0] else t


def _element(t: Taint) -> Taint:
    """One element of a collection with taint t."""
    if t[0] == 2:
        return (1, t[1], t[2])
    return _NONE


def _promote(t: Taint, acc: cst.CSTNode) -> Taint:
    if not t[0]:
        return t
    o = t[2]
    if o is not None and o.acc is None:
        o = _Origin(o.kind, o.call, o.name, acc)
    return (2, t[1], o)


def _is_true(expr: Optional[cst.CSTNode]) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "True"


def _number(expr: cst.CSTNode) -> Optional[float]:
    if isinstance(expr, (cst.Integer, cst.Float)):
        try:
            return float(expr.value.replace("_", ""))
        except ValueError:
            return None
    return None


def _is_scale_op(node: cst.BinaryOperation) -> bool:
    """`x / k`, `x * (1/255)`, `x * 0.0039`, `x - mean`: an operation that scales or centres."""
    op = node.operator
    if isinstance(op, cst.Divide):
        return True
    if isinstance(op, cst.Multiply):
        for side in (node.left, node.right):
            n = _number(side)
            if n is not None and 0 < n < 1:
                return True
            if isinstance(side, cst.BinaryOperation) and isinstance(side.operator, cst.Divide):
                return True
    return False


def _pixel_scale_op(node: cst.BinaryOperation) -> bool:
    """A division or multiplication that reads like pixel scaling: `/ 255`, `* (1/255)`, `(x - m) / s`."""
    op = node.operator
    if isinstance(op, cst.Divide):
        n = _number(node.right)
        if n is not None and n >= 100:
            return True
        left = node.left
        return isinstance(left, cst.BinaryOperation) and isinstance(left.operator, cst.Subtract)
    if isinstance(op, cst.Multiply):
        for side in (node.left, node.right):
            n = _number(side)
            if n is not None and 0 < n < 0.1:
                return True
            if isinstance(side, cst.BinaryOperation) and isinstance(side.operator, cst.Divide):
                d = _number(side.right)
                if d is not None and d >= 100:
                    return True
    return False


def _names_in(expr: cst.CSTNode) -> Set[str]:
    return {n.value for n in walk(expr) if isinstance(n, cst.Name)}


# --------------------------------------------------------------------------- index


class _Scope:
    __slots__ = ("node", "parent", "kind", "defs", "globals", "returns", "has_yield")

    def __init__(self, node: cst.CSTNode, parent: Optional["_Scope"], kind: str) -> None:
        self.node = node
        self.parent = parent
        self.kind = kind  # module | function | lambda | class | comp
        self.defs: Dict[str, List[_Def]] = {}
        self.globals: Set[str] = set()
        # (value, order, blocks) of each `return value` (a lambda's body)
        self.returns: List[Tuple[cst.CSTNode, int, tuple]] = []
        self.has_yield = False


class _Def:
    __slots__ = ("name", "kind", "value", "path", "order", "scope", "blocks", "loops", "op", "node")

    def __init__(self, name, kind, value, path, order, scope, blocks, loops, op=None, node=None):
        self.name = name
        self.kind = kind
        self.value = value
        self.path = path
        self.order = order
        self.scope = scope  # where the binding statement runs (to evaluate `value`)
        self.blocks = blocks
        self.loops = loops
        self.op = op
        self.node = node


class _CallRec:
    __slots__ = ("node", "scope", "order", "blocks", "loops")

    def __init__(self, node, scope, order, blocks, loops):
        self.node = node
        self.scope = scope
        self.order = order
        self.blocks = blocks
        self.loops = loops


def _target_paths(target: cst.CSTNode, path: tuple = ()) -> Iterable[Tuple[str, tuple, cst.CSTNode]]:
    """(name, index path, node) for each plain name an unpacking target binds."""
    if isinstance(target, cst.Name):
        yield target.value, path, target
    elif isinstance(target, (cst.Tuple, cst.List)):
        for i, el in enumerate(target.elements):
            value = el.value
            if isinstance(el, cst.StarredElement) or isinstance(value, cst.StarredElement):
                continue
            yield from _target_paths(value, path + (i,))


def _root_name(expr: cst.CSTNode) -> Optional[str]:
    """`X` for `X`, `X[i]`, `X[i][j]`; None for attributes and anything else."""
    while isinstance(expr, cst.Subscript):
        expr = expr.value
    return expr.value if isinstance(expr, cst.Name) else None


_COMPS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
_TRY_NODES = tuple(t for t in (getattr(cst, "Try", None), getattr(cst, "TryStar", None)) if isinstance(t, type))

class _CompEnd:
    """Walk marker: popped once a comprehension's subtree is done."""

    __slots__ = ("comp",)

    def __init__(self, comp: cst.CSTNode) -> None:
        self.comp = comp


class _Index:
    """One walk of the module: scopes, bindings, calls and a few file-wide facts."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.module: cst.Module = ctx.module
        self.imports: ImportTable = ctx.imports
        self.calls: List[_CallRec] = []
        self.fn_scope: Dict[int, _Scope] = {}
        self.comp_scope: Dict[int, _Scope] = {}
        self.loop_parents: Dict[int, tuple] = {}
        # id(loop or comprehension) -> the scope it runs in
        self.loop_scope: Dict[int, _Scope] = {}
        # id(comprehension) -> the last walk order inside it (walrus targets bound in it are seen)
        self.comp_end: Dict[int, int] = {}
        self.divisions: List[Tuple[cst.BinaryOperation, _Scope, Optional[cst.ClassDef]]] = []
        self.aug_divisions: List[cst.AugAssign] = []
        self.preprocess_refs: List[cst.CSTNode] = []
        self.attr_assigns: Set[str] = set()
        # `self.x = value` in methods: (target, value, method scope, order, blocks)
        self.self_assigns: List[Tuple[cst.Attribute, cst.CSTNode, _Scope, int, tuple]] = []
        # id(call) -> the names `x = call(...)` / `a, b = call(...)` binds
        self.call_targets: Dict[int, List[str]] = {}
        self._qual: Dict[int, Optional[str]] = {}
        self._memo: Dict[tuple, Taint] = {}
        self._busy: Set[tuple] = set()
        self.module_scope = _Scope(self.module, None, "module")
        self._pending: List[_Def] = []
        self._build()

    # ---- building

    def _bind(self, scope: _Scope, d: _Def) -> None:
        if d.kind in _ACCUMULATE:
            self._pending.append(d)
            return
        target = scope
        if d.name in scope.globals:
            target = self.module_scope
        elif d.kind == "walrus":
            while target.kind == "comp" and target.parent is not None:
                target = target.parent
        target.defs.setdefault(d.name, []).append(d)

    def _binding_scope(self, name: str, scope: _Scope) -> _Scope:
        s: Optional[_Scope] = scope
        first = True
        while s is not None:
            if s.kind == "class" and not first:
                s = s.parent
                continue
            if name in s.defs:
                return s
            first = False
            s = s.parent
        return self.module_scope

    def _build(self) -> None:
        order = 0
        Stack = List[Tuple[cst.CSTNode, _Scope, tuple, tuple, Optional[cst.ClassDef]]]
        stack: Stack = [(self.module, self.module_scope, (), (), None)]
        pop = stack.pop
        push = stack.append
        while stack:
            node, scope, blocks, loops, klass = pop()
            order += 1
            t = type(node)
            if t is _CompEnd:
                self.comp_end[id(node.comp)] = order
                continue
            if t is cst.Call:
                self.calls.append(_CallRec(node, scope, order, blocks, loops))
                func = node.func
                if isinstance(func, cst.Attribute) and func.attr.value in ("append", "extend", "insert"):
                    name = _root_name(func.value)
                    args = [a for a in node.args if not a.star]
                    if name is not None and args:
                        self._bind(scope, _Def(name, "append", args[-1].value, (), order, scope, blocks, loops, node=node))
            elif t is cst.Name:
                if node.value == "preprocess_input":
                    self.preprocess_refs.append(node)
                continue
            elif t is cst.Attribute:
                if node.attr.value == "preprocess_input":
                    self.preprocess_refs.append(node)
            elif t is cst.BinaryOperation:
                if _is_scale_op(node):
                    self.divisions.append((node, scope, klass))
            elif t is cst.Assign:
                for target in node.targets:
                    self._bind_target(target.target, node.value, order, scope, blocks, loops, node)
            elif t is cst.AnnAssign:
                if node.value is not None:
                    self._bind_target(node.target, node.value, order, scope, blocks, loops, node)
            elif t is cst.AugAssign:
                name = _root_name(node.target)
                if name is not None:
                    self._bind(scope, _Def(name, "aug", node.value, (), order, scope, blocks, loops, op=node.operator, node=node))
                if isinstance(node.operator, (cst.DivideAssign, cst.MultiplyAssign)):
                    self.aug_divisions.append(node)
            elif t is cst.NamedExpr:
                if isinstance(node.target, cst.Name):
                    self._bind(scope, _Def(node.target.value, "walrus", node.value, (), order, scope, blocks, loops, node=node))
            elif t is cst.Global:
                for item in node.names:
                    if isinstance(item.name, cst.Name):
                        scope.globals.add(item.name.value)
                continue
            elif t in (cst.Import, cst.ImportFrom):
                names = node.names if not isinstance(node.names, cst.ImportStar) else ()
                for alias in names:
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        local = alias.asname.name.value
                    else:
                        local = (dotted_name(alias.name) or "").split(".")[0]
                    if local:
                        self._bind(scope, _Def(local, "import", None, (), order, scope, blocks, loops))
                continue
            elif t is cst.Expr:
                call = node.value
                if isinstance(call, cst.Call) and isinstance(call.func, cst.Name):
                    # `normalize(X)` as a statement may change X in place
                    for a in call.args:
                        if isinstance(a.value, cst.Name) and not a.star:
                            self._bind(scope, _Def(a.value.value, "mutcall", call, (), order, scope, blocks, loops, node=call))
            elif t is cst.Return:
                if node.value is not None:
                    fs = scope
                    while fs.kind == "comp" and fs.parent is not None:
                        fs = fs.parent
                    fs.returns.append((node.value, order, blocks))
            elif t is cst.Yield:
                fs = scope
                while fs.kind == "comp" and fs.parent is not None:
                    fs = fs.parent
                fs.has_yield = True
            elif t is cst.FunctionDef:
                self._bind(scope, _Def(node.name.value, "def", node, (), order, scope, blocks, loops))
                inner = _Scope(node, scope, "function")
                self.fn_scope[id(node)] = inner
                self._bind_params(node.params, inner, order)
                for dec in reversed(node.decorators):
                    push((dec, scope, blocks, loops, klass))
                push((node.body, inner, (), (), klass))
                continue
            elif t is cst.Lambda:
                inner = _Scope(node, scope, "lambda")
                self.fn_scope[id(node)] = inner
                self._bind_params(node.params, inner, order)
                inner.returns.append((node.body, order, ()))
                push((node.body, inner, (), (), klass))
                continue
            elif t is cst.ClassDef:
                self._bind(scope, _Def(node.name.value, "class", node, (), order, scope, blocks, loops))
                inner = _Scope(node, scope, "class")
                push((node.body, inner, (), (), node))
                for base in reversed(node.bases):
                    push((base.value, scope, blocks, loops, klass))
                continue
            elif t is cst.For:
                for name, path, _ in _target_paths(node.target):
                    self._bind(scope, _Def(name, "for", node.iter, path, order, scope, blocks, loops, node=node))
                self.loop_parents[id(node)] = loops
                self.loop_scope[id(node)] = scope
                inner_loops = loops + (node,)
                if node.orelse is not None:
                    push((node.orelse, scope, blocks + (id(node.orelse),), loops, klass))
                push((node.body, scope, blocks + (id(node.body),), inner_loops, klass))
                push((node.iter, scope, blocks, loops, klass))
                continue
            elif t is cst.While:
                self.loop_parents[id(node)] = loops
                self.loop_scope[id(node)] = scope
                if node.orelse is not None:
                    push((node.orelse, scope, blocks + (id(node.orelse),), loops, klass))
                push((node.body, scope, blocks + (id(node.body),), loops + (node,), klass))
                push((node.test, scope, blocks, loops, klass))
                continue
            elif t is cst.If:
                if node.orelse is not None:
                    push((node.orelse, scope, blocks + (id(node.orelse),), loops, klass))
                push((node.body, scope, blocks + (id(node.body),), loops, klass))
                push((node.test, scope, blocks, loops, klass))
                continue
            elif t in _TRY_NODES:
                for part in reversed([node.body, *node.handlers, node.orelse, node.finalbody]):
                    if part is not None:
                        push((part, scope, blocks + (id(part),), loops, klass))
                continue
            elif t is cst.MatchCase:
                push((node.body, scope, blocks + (id(node.body),), loops, klass))
                continue
            elif t is cst.WithItem:
                if node.asname is not None:
                    for name, path, _ in _target_paths(node.asname.name):
                        kind = "with" if not path else "unpack"
                        self._bind(scope, _Def(name, kind, node.item, path, order, scope, blocks, loops, node=node))
            elif t in _COMPS:
                inner = _Scope(node, scope, "comp")
                self.comp_scope[id(node)] = inner
                self.loop_parents[id(node)] = loops
                self.loop_scope[id(node)] = scope
                inner_loops = loops + (node,)
                for_in = node.for_in
                while isinstance(for_in, cst.CompFor):
                    for name, path, _ in _target_paths(for_in.target):
                        inner.defs.setdefault(name, []).append(
                            _Def(name, "for", for_in.iter, path, order, inner, blocks, inner_loops, node=node)
                        )
                    for_in = for_in.inner_for_in
                push((_CompEnd(node), scope, blocks, loops, klass))
                kids = children(node)
                for kid in reversed(kids):
                    push((kid, inner, blocks, inner_loops, klass))
                continue
            kids = children(node)
            for kid in reversed(kids):
                push((kid, scope, blocks, loops, klass))
        for d in self._pending:
            target = self._binding_scope(d.name, d.scope)
            if d.name in d.scope.globals:
                target = self.module_scope
            target.defs.setdefault(d.name, []).append(d)
        self._pending = []
        self._sort(self.module_scope)
        for s in list(self.fn_scope.values()) + list(self.comp_scope.values()):
            self._sort(s)

    def _sort(self, scope: _Scope) -> None:
        for defs in scope.defs.values():
            defs.sort(key=lambda d: d.order)

    def _bind_params(self, params: cst.Parameters, scope: _Scope, order: int) -> None:
        for p in all_params(params):
            scope.defs.setdefault(p.name.value, []).append(_Def(p.name.value, "param", p, (), order, scope, (), ()))

    def _bind_target(self, target, value, order, scope, blocks, loops, node) -> None:
        if isinstance(value, cst.Call) and isinstance(target, (cst.Name, cst.Tuple, cst.List)):
            self.call_targets[id(value)] = [n for n, _, _ in _target_paths(target)]
        if isinstance(target, cst.Name):
            self._bind(scope, _Def(target.value, "assign", value, (), order, scope, blocks, loops, node=node))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for name, path, _ in _target_paths(target):
                self._bind(scope, _Def(name, "unpack", value, path, order, scope, blocks, loops, node=node))
        elif isinstance(target, cst.Subscript):
            name = _root_name(target)
            if name is not None:
                self._bind(scope, _Def(name, "subassign", value, (), order, scope, blocks, loops, node=node))
        elif isinstance(target, cst.Attribute):
            self.attr_assigns.add(target.attr.value)
            if isinstance(target.value, cst.Name) and target.value.value == "self" and scope.kind == "function":
                self.self_assigns.append((target, value, scope, order, blocks))

    # ---- names

    def qualify(self, expr: cst.CSTNode) -> Optional[str]:
        key = id(expr)
        if key not in self._qual:
            self._qual[key] = self.imports.qualify(expr)
        return self._qual[key]

    def is_imported_head(self, expr: cst.CSTNode, scope: Optional[_Scope] = None) -> bool:
        """`np.array`, `cv2.resize`: a name path that starts at an import, not at a local value."""
        name = dotted_name(expr)
        if name is None:
            return False
        head = name.split(".")[0]
        if head not in self.imports.aliases:
            return False
        if scope is not None:
            r = self.reaching(head, scope, _INF, ())
            if r is not None and any(d.kind != "import" for d in r[1]):
                return False
        return True

    def reaching(
        self, name: str, scope: _Scope, pos: int, blocks: tuple, mutcalls: bool = False,
        outer: Optional[Tuple[int, int, tuple]] = None,
    ) -> Optional[Tuple[_Scope, List[_Def]]]:
        """The bindings of `name` a use at (scope, pos, blocks) can see, or None if unbound here.

        `f(name)` statements (possible in-place changes) are left out unless `mutcalls`.
        A name bound in an enclosing scope is seen as it is at the end of the file, unless
        `outer` = (id(scope), pos, blocks) says where the function was called from in that
        scope: then the bindings before that call count (`X = []; def f(): X.append(..);
        return X` seen from `X = f()`).
        """
        s: Optional[_Scope] = scope
        same = True
        first = True
        while s is not None:
            if s.kind == "class" and not first:
                s = s.parent
                continue
            if name in s.defs:
                break
            if s.kind != "comp":
                same = False
            first = False
            s = s.parent
        if s is None:
            return None
        defs = s.defs[name]
        if not mutcalls:
            defs = [d for d in defs if d.kind != "mutcall"]
        if s.kind == "comp":
            return s, list(defs)
        if not same:
            if outer is not None and outer[0] == id(s):
                pos, blocks = outer[1], outer[2]
            else:
                pos, blocks = _INF, ()
        cands = [d for d in defs if d.order < pos]
        dom = None
        for d in reversed(cands):
            if d.kind in _PLAIN and d.blocks == blocks[: len(d.blocks)]:
                dom = d
                break
        if dom is not None:
            cands = [d for d in cands if d.order >= dom.order]
        return s, cands

    def local_function(self, name: str, scope: _Scope, pos: int, blocks: tuple) -> Optional[cst.FunctionDef]:
        r = self.reaching(name, scope, pos, blocks)
        if r is None:
            return None
        plain = [d for d in r[1] if d.kind in _PLAIN]
        if plain and all(d.kind == "def" for d in plain):
            return plain[-1].value
        return None

    def is_local(self, name: str, scope: _Scope) -> bool:
        r = self.reaching(name, scope, _INF, ())
        return r is not None and any(d.kind != "import" for d in r[1])

    def local_class(self, name: str, scope: _Scope) -> Optional[cst.ClassDef]:
        r = self.reaching(name, scope, _INF, ())
        if r is None:
            return None
        plain = [d for d in r[1] if d.kind in _PLAIN]
        if plain and plain[-1].kind == "class":
            return plain[-1].value
        return None

    # ---- image data taint

    def is_loader(self, q: Optional[str]) -> bool:
        if not q:
            return False
        if q in _LOADERS:
            return True
        tail = q.rsplit(".", 1)[-1]
        if tail == "load_img":
            return True
        if tail == "imread" and q.split(".")[0] in ("cv2", "imageio", "matplotlib", "skimage", "scipy", "tifffile"):
            return True
        return False

    def taint(self, expr: cst.CSTNode, scope: _Scope, pos: int, blocks: tuple, env: tuple = (), depth: int = 0) -> Taint:
        if depth > _MAX_DEPTH:
            return _NONE
        key = (id(expr), id(scope), pos, blocks, env)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        if key in self._busy:
            return _NONE
        self._busy.add(key)
        try:
            result = self._taint(expr, scope, pos, blocks, env, depth + 1)
        finally:
            self._busy.discard(key)
        self._memo[key] = result
        return result

    def _taint(self, expr, scope, pos, blocks, env, depth) -> Taint:
        T = self.taint
        if isinstance(expr, cst.Name):
            return self.name_taint(expr.value, scope, pos, blocks, env, depth)
        if isinstance(expr, cst.Call):
            return self.call_taint(expr, scope, pos, blocks, env, depth)
        if isinstance(expr, cst.BinaryOperation):
            left = T(expr.left, scope, pos, blocks, env, depth)
            right = T(expr.right, scope, pos, blocks, env, depth)
            if not left[0] and not right[0]:
                return _NONE
            if isinstance(expr.operator, cst.MatrixMultiply):
                return _NONE
            t = _join(left, right)
            if left[0] and (_is_scale_op(expr) or isinstance(expr.operator, cst.Subtract)):
                t = _scaled(t)
            if isinstance(expr.operator, cst.Multiply) and left[0] and not right[0] and not isinstance(expr.right, cst.Integer):
                t = _scaled(t)
            return t
        if isinstance(expr, cst.Subscript):
            t = T(expr.value, scope, pos, blocks, env, depth)
            if t[0] == 2 and len(expr.slice) == 1:
                inner = expr.slice[0].slice
                if isinstance(inner, cst.Index) and isinstance(inner.value, (cst.Integer, cst.UnaryOperation)):
                    return _element(t)
            return t
        if isinstance(expr, cst.Attribute):
            if expr.attr.value == "T":
                return T(expr.value, scope, pos, blocks, env, depth)
            return _NONE
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            out = _NONE
            for el in expr.elements:
                out = _join(out, T(el.value, scope, pos, blocks, env, depth))
            return out
        if isinstance(expr, cst.Dict):
            out = _NONE
            for el in expr.elements:
                if isinstance(el, cst.DictElement):
                    out = _join(out, T(el.value, scope, pos, blocks, env, depth))
            return out
        if isinstance(expr, _COMPS):
            inner = self.comp_scope.get(id(expr))
            if inner is None:
                return _NONE
            elt = expr.value if isinstance(expr, cst.DictComp) else expr.elt
            t = T(elt, inner, max(pos, self.comp_end.get(id(expr), pos)), blocks, env, depth)
            return _promote(t, expr) if t[0] else _NONE
        if isinstance(expr, cst.IfExp):
            return _join(T(expr.body, scope, pos, blocks, env, depth), T(expr.orelse, scope, pos, blocks, env, depth))
        if isinstance(expr, cst.UnaryOperation):
            return T(expr.expression, scope, pos, blocks, env, depth)
        if isinstance(expr, (cst.NamedExpr, cst.Await)):
            inner_expr = expr.value if isinstance(expr, cst.NamedExpr) else expr.expression
            return T(inner_expr, scope, pos, blocks, env, depth)
        if isinstance(expr, cst.StarredElement):
            return T(expr.value, scope, pos, blocks, env, depth)
        return _NONE

    def name_taint(self, name, scope, pos, blocks, env, depth) -> Taint:
        outer = env[2] if len(env) > 2 and env[0] == id(scope) else None
        r = self.reaching(name, scope, pos, blocks, mutcalls=True, outer=outer)
        if r is None:
            return _NONE
        binding_scope, defs = r
        out = _NONE
        scale_after = False
        for d in defs:
            if d.kind == "aug" and isinstance(d.op, (cst.DivideAssign, cst.SubtractAssign, cst.MultiplyAssign)):
                if not (isinstance(d.op, cst.MultiplyAssign) and isinstance(d.value, cst.Integer)):
                    scale_after = True
                continue
            if d.kind == "mutcall":
                scale_after = scale_after or self._may_scale_in_place(d.value, d.scope)
                continue
            out = _join(out, self.def_taint(d, binding_scope, env, depth))
        return _scaled(out) if scale_after else out

    def _may_scale_in_place(self, call: cst.Call, scope: _Scope) -> bool:
        """`f(X)` as a statement: could f scale X in place? Library calls and builtins: no."""
        func = call.func
        if not isinstance(func, cst.Name):
            return False
        fn = self.local_function(func.value, scope, _INF, ())
        if fn is not None:
            for n in walk(fn.body):
                if isinstance(n, cst.AugAssign) and isinstance(n.operator, (cst.DivideAssign, cst.SubtractAssign, cst.MultiplyAssign)):
                    return True
                if isinstance(n, cst.BinaryOperation) and _is_scale_op(n):
                    return True
                if isinstance(n, cst.Call) and (call_tail(n) or "") in _SCALING_CALLS:
                    return True
            return False
        if self.reaching(func.value, scope, _INF, ()) is not None:
            return False  # imported from a library, or a local value
        return func.value not in __builtins_names__ and func.value not in ("display", "exec")

    def _env_for(self, scope: _Scope, env: tuple) -> dict:
        if env and env[0] == id(scope):
            return dict(env[1])
        return {}

    def def_taint(self, d: _Def, binding_scope: _Scope, env: tuple, depth: int) -> Taint:
        T = self.taint
        kind = d.kind
        if kind in ("assign", "walrus", "with"):
            t = T(d.value, d.scope, d.order, d.blocks, env, depth)
            if t[0] and d.loops and d.name in _names_in(d.value):
                acc = self._acc_loop(d, binding_scope)
                if acc is not None:
                    t = _promote(t, acc)
            return t
        if kind == "unpack":
            return self.elem_taint(d.value, d.path, d.scope, d.order, d.blocks, env, depth)
        if kind == "for":
            return self._for_taint(d.value, d.path, d.scope, d.order, d.blocks, env, depth)
        if kind in ("append", "subassign") or (kind == "aug" and isinstance(d.op, cst.AddAssign)):
            value = d.value
            t = T(value, d.scope, d.order, d.blocks, env, depth)
            if kind == "aug" and not isinstance(value, (cst.List, cst.Tuple)):
                return t  # `total += img` is arithmetic, not accumulation into a container
            if t[0]:
                acc = self._acc_loop(d, binding_scope)
                if acc is not None:
                    return _promote(t, acc)
            return t
        if kind == "param":
            bound = self._env_for(d.scope, env)
            return bound.get(d.name, _NONE)
        return _NONE

    def _acc_loop(self, d: _Def, binding_scope: _Scope) -> Optional[cst.CSTNode]:
        """The innermost loop around `d` that does not also enclose the container's creation."""
        if not d.loops:
            return None
        init = None
        same = binding_scope is d.scope or (d.scope.kind == "comp")
        for other in reversed(binding_scope.defs.get(d.name, [])):
            if other.order < d.order and other.kind in _PLAIN and other is not d:
                if not same or other.blocks == d.blocks[: len(other.blocks)]:
                    init = other
                    break
        if init is None or init.scope is not d.scope:
            return d.loops[-1]
        candidates = [lp for lp in d.loops if all(lp is not il for il in init.loops)]
        return candidates[-1] if candidates else None

    def _for_taint(self, it, path, scope, pos, blocks, env, depth) -> Taint:
        if path and isinstance(it, cst.Call) and isinstance(it.func, cst.Name):
            fname = it.func.value
            if fname == "zip" and not self.is_local(fname, scope):
                arg = positional(it, path[0])
                if arg is None:
                    return _NONE
                return self._for_taint(arg.value, path[1:], scope, pos, blocks, env, depth)
            if fname == "enumerate" and not self.is_local(fname, scope):
                arg = positional(it, 0)
                if path[0] != 1 or arg is None:
                    return _NONE
                return self._for_taint(arg.value, path[1:], scope, pos, blocks, env, depth)
        return _element(self.taint(it, scope, pos, blocks, env, depth))

    def _function_alias(self, name: str, scope, pos, blocks) -> Optional[str]:
        """`prep = tf.keras.applications.vgg16.preprocess_input`: the qualified name `prep` stands for."""
        r = self.reaching(name, scope, pos, blocks)
        if r is None or len(r[1]) != 1:
            return None
        d = r[1][0]
        if d.kind != "assign" or not isinstance(d.value, (cst.Name, cst.Attribute)):
            return None
        if isinstance(d.value, cst.Name) and self.is_local(d.value.value, d.scope):
            return None
        return self.qualify(d.value)

    def _is_transform_object(self, name: str, scope, pos, blocks) -> bool:
        """`tf = transforms.Compose([...])`: calling `tf(img)` gives the image back as a tensor."""
        r = self.reaching(name, scope, pos, blocks)
        if r is None or not r[1]:
            return False
        for d in r[1]:
            if d.kind != "assign" or not isinstance(d.value, cst.Call):
                return False
            func = d.value.func
            q = self.qualify(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
            if not q or not q.startswith("torchvision.transforms."):
                return False
        return True

    def elem_taint(self, expr, path, scope, pos, blocks, env, depth) -> Taint:
        if not path:
            return self.taint(expr, scope, pos, blocks, env, depth)
        if depth > _MAX_DEPTH:
            return _NONE
        if isinstance(expr, (cst.Tuple, cst.List)):
            els = expr.elements
            if any(isinstance(e, cst.StarredElement) for e in els):
                return self.taint(expr, scope, pos, blocks, env, depth)
            if path[0] < len(els):
                return self.elem_taint(els[path[0]].value, path[1:], scope, pos, blocks, env, depth + 1)
            return _NONE
        if isinstance(expr, cst.Call):
            q = self.qualify(expr.func) or ""
            tail = q.rsplit(".", 1)[-1]
            if isinstance(expr.func, cst.Name) and self.is_local(expr.func.value, scope):
                fn = self.local_function(expr.func.value, scope, pos, blocks)
                if fn is None:
                    return _NONE
                return self._fn_return(fn, expr, scope, pos, blocks, env, depth, path)
            if tail == "train_test_split":
                arg = positional(expr, path[0] // 2)
                return self.elem_taint(arg.value, path[1:], scope, pos, blocks, env, depth + 1) if arg else _NONE
            if tail == "shuffle" and (q.startswith("sklearn") or q == "shuffle"):
                arg = positional(expr, path[0])
                return self.elem_taint(arg.value, path[1:], scope, pos, blocks, env, depth + 1) if arg else _NONE
            if self.is_keras_image_dataset(q):
                if len(path) == 2 and path[1] == 0:
                    return (2, False, _Origin("dataset", expr, dotted_name(expr.func) or "load_data", None))
                return _NONE
            return self.taint(expr, scope, pos, blocks, env, depth)
        if isinstance(expr, cst.Name):
            r = self.reaching(expr.value, scope, pos, blocks)
            if r is None:
                return _NONE
            out = _NONE
            for d in r[1]:
                if d.kind == "unpack":
                    out = _join(out, self.elem_taint(d.value, d.path + tuple(path), d.scope, d.order, d.blocks, env, depth + 1))
                elif d.kind in ("assign", "walrus"):
                    out = _join(out, self.elem_taint(d.value, path, d.scope, d.order, d.blocks, env, depth + 1))
                else:
                    out = _join(out, self.def_taint(d, r[0], env, depth + 1))
            return out
        return self.taint(expr, scope, pos, blocks, env, depth)

    def is_keras_image_dataset(self, q: Optional[str]) -> bool:
        if not q or not q.endswith(".load_data"):
            return False
        parts = q.split(".")
        return len(parts) >= 2 and parts[-2] in _KERAS_IMAGE_DATASETS and (
            "keras" in parts or "tensorflow" in parts or len(parts) == 2
        )

    def _fn_return(self, fn: cst.FunctionDef, call: cst.Call, scope, pos, blocks, env, depth, path=()) -> Taint:
        inner = self.fn_scope.get(id(fn))
        if inner is None or inner.has_yield:
            return _NONE
        bindings: Dict[str, Taint] = {}
        params = list(fn.params.posonly_params) + list(fn.params.params)
        pos_args = [a for a in call.args if a.keyword is None and not a.star]
        for p, a in zip(params, pos_args):
            t = self.taint(a.value, scope, pos, blocks, env, depth + 1)
            if t[0]:
                bindings[p.name.value] = t
        for a in call.args:
            if a.keyword is not None:
                t = self.taint(a.value, scope, pos, blocks, env, depth + 1)
                if t[0]:
                    bindings[a.keyword.value] = t
        # free names of the function are read as they are where it is called
        new_env = (id(inner), tuple(sorted(bindings.items(), key=lambda kv: kv[0])), (id(scope), pos, blocks))
        out = _NONE
        for value, order, ret_blocks in inner.returns:
            if path:
                out = _join(out, self.elem_taint(value, path, inner, order, ret_blocks, new_env, depth + 1))
            else:
                out = _join(out, self.taint(value, inner, order, ret_blocks, new_env, depth + 1))
        return out

    def call_taint(self, node: cst.Call, scope, pos, blocks, env, depth) -> Taint:
        T = self.taint
        func = node.func
        q: Optional[str] = None
        if isinstance(func, cst.Name) and self.is_local(func.value, scope):
            fn = self.local_function(func.value, scope, pos, blocks)
            if fn is not None:
                return self._fn_return(fn, node, scope, pos, blocks, env, depth)
            if self._is_transform_object(func.value, scope, pos, blocks):
                arg = positional(node, 0)
                return T(arg.value, scope, pos, blocks, env, depth) if arg is not None else _NONE
            q = self._function_alias(func.value, scope, pos, blocks)
            if q is None:
                return _NONE
        elif isinstance(func, (cst.Name, cst.Attribute)):
            q = self.qualify(func)
        if self.is_loader(q):
            return (1, q in _FLOAT_LOADERS, _Origin("loader", node, dotted_name(func) or (q or "imread"), None))
        tail = call_tail(node) or ""
        args = [a for a in node.args if not a.star or a.star == "*"]

        def join_args(first_only: bool = False) -> Taint:
            out = _NONE
            for a in args:
                if a.keyword is not None:
                    continue
                out = _join(out, T(a.value, scope, pos, blocks, env, depth))
                if first_only:
                    break
            return out

        if isinstance(func, cst.Attribute) and not self.is_imported_head(func, scope):
            # a method on a value: carry the receiver's image data along
            recv = T(func.value, scope, pos, blocks, env, depth)
            if recv[0]:
                if tail in _METHOD_CARRY:
                    return recv
                if tail in _METHOD_SCALE:
                    return _scaled(recv)
                if tail in ("mul", "mul_"):
                    return _scaled(recv)
                return _NONE
            if tail in ("fit_transform", "transform"):
                return _scaled(join_args(True))
            if tail == "preprocess_input":
                return _scaled(join_args(True))
            return _NONE
        if q is None:
            return _NONE
        head = q.split(".")[0]
        tail = q.rsplit(".", 1)[-1]  # the real name behind `import ... as alias`
        if tail in _SCALING_CALLS and tail not in ("scale", "standardize") or (tail in ("scale", "standardize") and head == "sklearn"):
            return _scaled(join_args(True))
        if head == "numpy":
            return join_args() if tail in _NP_CARRY else _NONE
        if head == "cv2":
            return join_args(True) if tail not in _CV2_NOT_IMAGE else _NONE
        if head == "torch":
            return join_args() if tail in _TORCH_CARRY else _NONE
        if head in ("tensorflow", "keras", "tf_keras"):
            if tail in _TF_CARRY or tail == "img_to_array":
                return join_args(True) if tail != "stack" and tail != "concat" else join_args()
            return _NONE
        if head == "skimage":
            if tail not in _SKIMAGE_CARRY:
                return _NONE
            t = join_args(True)
            if tail in ("resize", "rescale", "rotate", "resize_local_mean", "warp"):
                pr = keyword(node, "preserve_range")
                return t if pr is not None and _is_true(pr.value) else _scaled(t)
            return t
        if head == "PIL":
            return join_args(True)
        if head == "sklearn" or q in ("train_test_split", "shuffle"):
            if tail in ("train_test_split", "shuffle"):
                return join_args(True)
            return _NONE
        if q in _BUILTIN_CARRY:
            return join_args()
        if q == "img_to_array":
            return join_args(True)
        if q == "map" and len(args) >= 2 and args[0].keyword is None:
            fn_ref = args[0].value
            one = _NONE
            fq = self.qualify(fn_ref) if isinstance(fn_ref, (cst.Name, cst.Attribute)) else None
            if self.is_loader(fq) and not (isinstance(fn_ref, cst.Name) and self.is_local(fn_ref.value, scope)):
                one = (1, fq in _FLOAT_LOADERS, _Origin("loader", fn_ref, dotted_name(fn_ref) or "imread", None))
            elif isinstance(fn_ref, cst.Name):
                fn = self.local_function(fn_ref.value, scope, pos, blocks)
                if fn is not None:
                    one = self._fn_return(fn, cst.Call(func=fn_ref), scope, pos, blocks, env, depth)
            elif isinstance(fn_ref, cst.Lambda):
                inner = self.fn_scope.get(id(fn_ref))
                if inner is not None:
                    one = T(fn_ref.body, inner, pos, blocks, env, depth)
            return _promote(one, node) if one[0] == 1 else _NONE
        return _NONE


_INDEXES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _index(ctx) -> Optional[_Index]:
    idx = _INDEXES.get(ctx)
    if idx is None:
        if ctx.module is None:
            return None
        idx = _Index(ctx)
        _INDEXES[ctx] = idx
    return idx


def _mentions(source, keys: Sequence[str]) -> bool:
    text = source.text
    return any(k in text for k in keys)


# --------------------------------------------------------------------------- shared reporting helpers


def _where(ctx, ranges: Dict[int, Tuple[int, int, int, int]], node: Optional[cst.CSTNode]) -> str:
    if node is None or id(node) not in ranges:
        return ""
    line = ranges[id(node)][0]
    locate = getattr(ctx.source, "locate", None)
    cell = None
    if locate is not None:
        cell, line = locate(line)
    return f"cell {cell}, line {line}" if cell is not None else f"line {line}"


def _short(module: cst.Module, node: cst.CSTNode, limit: int = 40) -> str:
    try:
        text = module.code_for_node(node)
    except Exception:  # noqa: BLE001 - never fail a message on codegen
        return "..."
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _call_label(node: cst.Call) -> str:
    """`ImageDataGenerator()`, `ImageDataGenerator(...)`: how a call is named in messages."""
    name = dotted_name(node.func) or call_tail(node) or "call"
    return f"{name}()" if not node.args else f"{name}(...)"


def _assigned_name(idx: _Index, node: cst.CSTNode) -> Optional[str]:
    """The variable(s) a call is assigned to (`x = call(...)`, `a, b = call(...)`)."""
    names = idx.call_targets.get(id(node))
    return ", ".join(names) if names else None


def _keras_file(idx: _Index) -> bool:
    return idx.imports.imports_any("tensorflow", "keras", "tf_keras")


def _fit_calls(idx: _Index) -> List[_CallRec]:
    out = []
    for rec in idx.calls:
        func = rec.node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("fit", "fit_generator"):
            if _is_model_receiver(idx, func.value, rec):
                out.append(rec)
    return out


def _is_model_receiver(idx: _Index, recv: cst.CSTNode, rec: _CallRec) -> bool:
    """Not an ImageDataGenerator (its `fit` computes statistics) nor a scikit-learn estimator."""
    if isinstance(recv, cst.Name):
        r = idx.reaching(recv.value, rec.scope, rec.order, rec.blocks)
        if r is None:
            return True
        for d in r[1]:
            if d.kind == "assign" and isinstance(d.value, cst.Call):
                if _is_idg(idx, d.value):
                    return False
                q = idx.qualify(d.value.func) or ""
                if q.split(".")[0] in ("sklearn", "xgboost", "lightgbm", "catboost", "imblearn"):
                    return False
    elif isinstance(recv, cst.Call):
        if _is_idg(idx, recv):
            return False
        q = idx.qualify(recv.func) or ""
        if q.split(".")[0] in ("sklearn", "xgboost", "lightgbm", "catboost"):
            return False
    return True


def _is_idg(idx: _Index, call: cst.CSTNode) -> bool:
    if not isinstance(call, cst.Call):
        return False
    q = idx.qualify(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) else None
    if not q or q.rsplit(".", 1)[-1] != "ImageDataGenerator":
        return False
    if q == "ImageDataGenerator":
        return idx.local_class("ImageDataGenerator", idx.module_scope) is None
    return q.startswith(("keras", "tensorflow.", "tf_keras.")) or ".keras." in q


def _fit_x(call: cst.Call) -> Optional[cst.CSTNode]:
    for name in ("x", "generator"):
        arg = keyword(call, name)
        if arg is not None:
            return arg.value
    arg = positional(call, 0)
    if arg is not None and not arg.star:
        return arg.value
    return None


def _accumulation_text(ctx, ranges, acc: Optional[cst.CSTNode]) -> str:
    where = _where(ctx, ranges, acc)
    if acc is None or not where:
        return ""
    if isinstance(acc, (cst.For, cst.While)):
        what = "the loop"
    elif isinstance(acc, cst.Call):
        what = "the map()"
    else:
        what = "the comprehension"
    return f" in {what} at {where}"


# --------------------------------------------------------------------------- CNL101


class _Pipe:
    """What a Keras training input turned out to be."""

    __slots__ = ("state", "kind", "node", "detail", "taint")

    def __init__(self, state: str, kind: str = "", node: Optional[cst.CSTNode] = None, detail: str = "", taint: Taint = _NONE):
        self.state = state  # unknown | scaled | unscaled
        self.kind = kind  # idg | idfd | decode | array ; for scaled: idg | other
        self.node = node
        self.detail = detail
        self.taint = taint


_UNKNOWN = _Pipe("unknown")


class _Keras101:
    """CNL101 on the Keras side: what feeds `fit`, and whether anything scales it."""

    def __init__(self, idx: _Index) -> None:
        self.idx = idx
        self.idg_norm_values: Set[int] = set()
        for rec in idx.calls:
            if _is_idg(idx, rec.node):
                arg = keyword(rec.node, "preprocessing_function")
                if arg is not None:
                    self.idg_norm_values.add(id(arg.value))
        # (walk order, at module level) of each call that may bring a model from elsewhere
        self.unknown_calls: List[Tuple[int, bool]] = []
        self.model_unknown, self.model_scaling = self._model_facts()

    # ---- file-wide facts about the model

    def _model_facts(self) -> Tuple[bool, bool]:
        """(a model may come from elsewhere: load_model/from_pretrained/..., something in the file scales)."""
        idx = self.idx
        unknown = scaling = False
        input_names: Set[str] = set()
        for rec in idx.calls:
            node = rec.node
            func = node.func
            if isinstance(func, cst.Call) and (call_tail(func) or "") in _BATCH_NORMS:
                arg = positional(node, 0)
                if arg is not None and _is_model_input(idx, arg.value, rec):
                    scaling = True  # `BatchNormalization()(inputs)`: the first layer standardizes the pixels
                continue
            if not isinstance(func, (cst.Name, cst.Attribute)):
                continue
            q = idx.qualify(func) or ""
            parts = q.split(".")
            tail = parts[-1]
            kerasish = "keras" in parts or parts[0] in ("tensorflow", "tf_keras") or len(parts) == 1
            if isinstance(func, cst.Name) and idx.local_class(func.value, rec.scope) is not None:
                kerasish = False
            if tail in _MODEL_UNKNOWN or q in ("tensorflow_hub.load", "tensorflow.saved_model.load"):
                self.unknown_calls.append((rec.order, rec.scope is idx.module_scope))
            if "applications" in parts and tail[:1].isupper():
                if _BUILTIN_RESCALING.match(tail):
                    inc = keyword(node, "include_preprocessing")
                    if inc is None or not is_falsy_literal(inc.value):
                        scaling = True
            if not kerasish:
                continue
            if tail == "Input" or tail == "InputLayer":
                input_names.update(idx.call_targets.get(id(node), ()))
            elif tail in ("Rescaling", "Normalization", "per_image_standardization"):
                scaling = True
            elif tail in _BATCH_NORMS and (keyword(node, "input_shape") or keyword(node, "batch_input_shape")):
                scaling = True  # `BatchNormalization(input_shape=...)`: the first layer standardizes the pixels
            elif tail == "Sequential" and _first_layer_is_batch_norm(idx, node):
                scaling = True
            elif tail == "Lambda":
                fn = positional(node, 0) or keyword(node, "function")
                if fn is None or not isinstance(fn.value, cst.Lambda) or _fn_status(idx, fn.value, 0) != "neutral":
                    scaling = True
        for ref in idx.preprocess_refs:
            if id(ref) not in self.idg_norm_values:
                scaling = True
        for op, scope, klass in idx.divisions:
            if klass is not None and _keras_subclass(idx, klass):
                scaling = True
                continue
            names = _names_in(op)
            if names & input_names:
                scaling = True
        if "rescale" in idx.attr_assigns or "preprocessing_function" in idx.attr_assigns:
            unknown = True
        return unknown, scaling

    def model_unknown_at(self, rec: "_CallRec") -> bool:
        """A model from elsewhere may reach this `fit`: a `load_model`/`from_pretrained`/... call that
        runs before it. At module level (a script, or notebook cells), one that comes after the `fit`
        (loading the saved model for inference) cannot."""
        if self.model_unknown:
            return True
        at_module = rec.scope is self.idx.module_scope
        return any(not (at_module and module and order > rec.order) for order, module in self.unknown_calls)

    # ---- is the model being trained built in this file?

    def builds_model(self, expr: cst.CSTNode, scope: _Scope, pos: int, blocks: tuple, depth: int = 0) -> bool:
        """True when `expr` (the receiver of `fit`) is a Keras model constructed in this file."""
        idx = self.idx
        if depth > 6:
            return False
        if isinstance(expr, cst.Name):
            r = idx.reaching(expr.value, scope, pos, blocks)
            if r is None or not r[1]:
                return False
            if not all(d.kind in ("assign", "walrus") for d in r[1]):
                return False
            return all(self.builds_model(d.value, d.scope, d.order, d.blocks, depth + 1) for d in r[1])
        if not isinstance(expr, cst.Call) or not isinstance(expr.func, (cst.Name, cst.Attribute)):
            return False
        func = expr.func
        if isinstance(func, cst.Name):
            cls = idx.local_class(func.value, scope)
            if cls is not None:
                return _keras_subclass(idx, cls)
            fn = idx.local_function(func.value, scope, pos, blocks)
            if fn is not None:
                inner = idx.fn_scope.get(id(fn))
                if inner is None or not inner.returns:
                    return False
                return all(self.builds_model(v, inner, o, b, depth + 1) for v, o, b in inner.returns)
            if idx.is_local(func.value, scope):
                return False
        q = idx.qualify(func) or ""
        parts = q.split(".")
        tail = parts[-1]
        if "applications" in parts and tail[:1].isupper():
            return True
        kerasish = "keras" in parts or parts[0] in ("tensorflow", "tf_keras") or len(parts) == 1
        return kerasish and tail in ("Sequential", "Model", "Functional")

    # ---- generators

    def resolve_idg(self, expr: cst.CSTNode, scope: _Scope, pos: int, blocks: tuple) -> Optional[cst.Call]:
        if isinstance(expr, cst.Call):
            return expr if _is_idg(self.idx, expr) else None
        if isinstance(expr, cst.Name):
            r = self.idx.reaching(expr.value, scope, pos, blocks)
            if r is None or not r[1]:
                return None
            found = None
            for d in r[1]:
                if d.kind != "assign" or not _is_idg(self.idx, d.value):
                    return None
                found = d.value
            return found
        return None

    @staticmethod
    def idg_normalizes(call: cst.Call) -> Optional[bool]:
        """True if it scales, False if not, None when we cannot tell (positional args, **kwargs)."""
        if has_star_kwargs(call) or any(a.keyword is None for a in call.args):
            return None
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in _IDG_NORMALIZING and not is_falsy_literal(arg.value):
                return True
        return False

    # ---- walking a training input back to where its pixels enter

    def pipe(self, expr, scope, pos, blocks, depth=0) -> _Pipe:
        idx = self.idx
        if depth > 20:
            return _UNKNOWN
        if isinstance(expr, cst.Name):
            r = idx.reaching(expr.value, scope, pos, blocks, mutcalls=True)
            if r is None or not r[1]:
                return _UNKNOWN
            in_place = any(d.kind == "mutcall" and idx._may_scale_in_place(d.value, d.scope) for d in r[1])
            defs = [d for d in r[1] if d.kind != "mutcall"]
            if not defs:
                return _UNKNOWN
            if all(d.kind in ("assign", "walrus") for d in defs):
                merged = self._merge([self.pipe(d.value, d.scope, d.order, d.blocks, depth + 1) for d in defs])
                if in_place and merged.state == "unscaled" and merged.kind == "array":
                    return _Pipe("scaled", "other")  # `normalize(X)` may have scaled the array in place
                return merged
            if all(d.kind == "unpack" for d in defs):
                results = [self._pipe_elem(d.value, d.path, d.scope, d.order, d.blocks, depth + 1) for d in defs]
                if all(r is not None for r in results):
                    return self._merge(results)  # type: ignore[arg-type]
            if any(d.kind == "aug" and isinstance(d.op, (cst.DivideAssign, cst.MultiplyAssign, cst.SubtractAssign)) for d in defs):
                return _Pipe("scaled", "other")
            return self._array(expr, scope, pos, blocks)
        if isinstance(expr, cst.Call):
            func = expr.func
            if self._is_idfd(expr):
                return _Pipe("unscaled", "idfd", expr)
            if isinstance(func, cst.Name):
                fn = idx.local_function(func.value, scope, pos, blocks)
                if fn is not None:
                    inner = idx.fn_scope.get(id(fn))
                    if inner is None or inner.has_yield or not inner.returns:
                        return _UNKNOWN
                    return self._merge([self.pipe(v, inner, o, b, depth + 1) for v, o, b in inner.returns])
            if isinstance(func, cst.Attribute) and not idx.is_imported_head(func, scope):
                attr = func.attr.value
                if attr in _DS_PASSTHROUGH:
                    return self.pipe(func.value, scope, pos, blocks, depth + 1)
                if attr == "map":
                    fn_arg = positional(expr, 0) or keyword(expr, "map_func")
                    if fn_arg is None:
                        return _UNKNOWN
                    status = _fn_status(idx, fn_arg.value, 0, scope)
                    if status == "scaled":
                        return _Pipe("scaled", "other")
                    if status == "unknown":
                        return _UNKNOWN
                    if isinstance(status, tuple):
                        return _Pipe("unscaled", "decode", status[1], status[2])
                    return self.pipe(func.value, scope, pos, blocks, depth + 1)
                if attr in _IDG_FLOWS:
                    gen = self.resolve_idg(func.value, scope, pos, blocks)
                    if gen is None:
                        return _UNKNOWN
                    norm = self.idg_normalizes(gen)
                    if norm is None:
                        return _UNKNOWN
                    if norm:
                        return _Pipe("scaled", "idg", gen)
                    if attr == "flow":
                        x = keyword(expr, "x") or positional(expr, 0)
                        if x is None:
                            return _UNKNOWN
                        t = idx.taint(x.value, scope, pos, blocks)
                        if t[0] == 2 and not t[1]:
                            return _Pipe("unscaled", "idg", gen, attr, t)
                        return _Pipe("scaled", "other") if t[0] else _UNKNOWN
                    return _Pipe("unscaled", "idg", gen, attr)
            q = idx.qualify(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
            tail = (q or "").rsplit(".", 1)[-1]
            if tail in ("from_tensor_slices", "from_tensors"):
                arg = positional(expr, 0) or keyword(expr, "tensors")
                if arg is None:
                    return _UNKNOWN
                value = arg.value
                if isinstance(value, (cst.Tuple, cst.List)) and value.elements:
                    value = value.elements[0].value
                elif isinstance(value, (cst.Tuple, cst.List, cst.Dict)):
                    return _UNKNOWN
                if isinstance(value, cst.Dict):
                    return _UNKNOWN
                res = self._array(value, scope, pos, blocks)
                if res.state == "unscaled" and res.node is None:
                    res.node = value
                return res
        return self._array(expr, scope, pos, blocks)

    def _pipe_elem(self, value, path, scope, pos, blocks, depth) -> Optional[_Pipe]:
        """`a, b = value`: what element `path` is, or None to fall back to the array taint."""
        idx = self.idx
        if depth > 20:
            return _UNKNOWN
        if not path:
            return self.pipe(value, scope, pos, blocks, depth + 1)
        if isinstance(value, cst.Call):
            if self._is_idfd(value):
                return _Pipe("unscaled", "idfd", value)
            func = value.func
            if isinstance(func, cst.Name):
                fn = idx.local_function(func.value, scope, pos, blocks)
                if fn is not None:
                    inner = idx.fn_scope.get(id(fn))
                    if inner is None or inner.has_yield or not inner.returns:
                        return _UNKNOWN
                    results = []
                    for v, o, b in inner.returns:
                        r = self._pipe_elem(v, path, inner, o, b, depth + 1)
                        results.append(r if r is not None else _UNKNOWN)
                    return self._merge(results)
            return None
        if isinstance(value, (cst.Tuple, cst.List)):
            els = value.elements
            if any(isinstance(e, cst.StarredElement) for e in els) or path[0] >= len(els):
                return _UNKNOWN
            return self._pipe_elem(els[path[0]].value, path[1:], scope, pos, blocks, depth + 1)
        return None

    def _array(self, expr, scope, pos, blocks) -> _Pipe:
        t = self.idx.taint(expr, scope, pos, blocks)
        if t[0] == 2:
            if t[1]:
                return _Pipe("scaled", "other")
            return _Pipe("unscaled", "array", None, "", t)
        return _UNKNOWN

    def _is_idfd(self, call: cst.Call) -> bool:
        q = self.idx.qualify(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) else None
        if not q or q.rsplit(".", 1)[-1] != "image_dataset_from_directory":
            return False
        parts = q.split(".")
        return len(parts) == 1 or "keras" in parts or parts[0] == "tensorflow"

    @staticmethod
    def _merge(results: List[_Pipe]) -> _Pipe:
        if not results or any(r.state == "unknown" for r in results):
            return _UNKNOWN
        for r in results:
            if r.state == "scaled":
                return r
        return results[-1]


def _keras_subclass(idx: _Index, cls: cst.ClassDef) -> bool:
    for base in cls.bases:
        b = idx.qualify(base.value) or ""
        if b.rsplit(".", 1)[-1] in ("Model", "Layer") and ("keras" in b.split(".") or "." not in b):
            return True
    return False


def _fn_status(idx: _Index, fn: cst.CSTNode, depth: int, scope: Optional[_Scope] = None):
    """What a function mapped over a dataset does to pixels.

    "scaled", "unknown", "neutral", or ("decodes", decode call node, function name)
    when it decodes image files and never scales them.
    """
    if depth > 4:
        return "unknown"
    scope = scope or idx.module_scope
    body: Optional[cst.CSTNode] = None
    label = ""
    if isinstance(fn, cst.Lambda):
        body = fn.body
        label = "lambda"
    elif isinstance(fn, (cst.Name, cst.Attribute)):
        q = idx.qualify(fn) or ""
        tail = q.rsplit(".", 1)[-1]
        if tail in _SCALING_CALLS:
            return "scaled"
        if isinstance(fn, cst.Name):
            found = idx.local_function(fn.value, scope, _INF, ())
            if found is None:
                return "unknown"
            body = found.body
            label = fn.value
            scope = idx.fn_scope.get(id(found), scope)
        else:
            return "unknown"
    elif isinstance(fn, cst.FunctionDef):
        body = fn.body
        label = fn.name.value
    else:
        return "unknown"
    unknown = False
    decode = None
    for node in walk(body):
        if isinstance(node, cst.BinaryOperation) and _is_scale_op(node):
            return "scaled"
        if isinstance(node, cst.AugAssign) and isinstance(node.operator, (cst.DivideAssign, cst.SubtractAssign)):
            return "scaled"
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            continue
        q = idx.qualify(func) or ""
        tail = q.rsplit(".", 1)[-1]
        if tail in _SCALING_CALLS or tail in ("cast", "Rescaling", "Normalization"):
            return "scaled"
        if tail in _DECODERS:
            if decode is None or not (call_tail(decode) or "") in _DECODERS:
                decode = node
            continue
        if idx.is_loader(q):
            decode = decode or node
            continue
        if tail in ("py_function", "numpy_function"):
            inner = positional(node, 0) or keyword(node, "func")
            if inner is not None:
                status = _fn_status(idx, inner.value, depth + 1, scope)
                if status == "scaled":
                    return "scaled"
                if status == "unknown":
                    unknown = True
                elif isinstance(status, tuple):
                    decode = decode or status[1]
            continue
        if isinstance(func, cst.Name):
            if idx.local_function(func.value, scope, _INF, ()) is not None:
                status = _fn_status(idx, func, depth + 1, scope)
                if status == "scaled":
                    return "scaled"
                if status == "unknown":
                    unknown = True
                elif isinstance(status, tuple):
                    decode = decode or status[1]
                continue
            if idx.is_local(func.value, scope):
                continue  # a layer object or callable built in this file
            if func.value in __builtins_names__:
                continue
            if q.split(".")[0] not in _KNOWN_LIBS:
                unknown = True
        else:
            if idx.is_imported_head(func) and q.split(".")[0] not in _KNOWN_LIBS:
                unknown = True
    if unknown:
        return "unknown"
    if decode is not None:
        return ("decodes", decode, label)
    return "neutral"


__builtins_names__ = {
    "len", "int", "float", "str", "tuple", "list", "dict", "range", "print", "min", "max", "abs",
    "round", "zip", "enumerate", "isinstance", "bool", "sorted",
}


# --------------------------------------------------------------------------- PyTorch side of CNL101


class _Torch101:
    def __init__(self, idx: _Index) -> None:
        self.idx = idx
        self.compose_elements: Set[int] = set()
        self.composes: List[_CallRec] = [rec for rec in idx.calls if self.is_compose(rec.node)]
        for rec in self.composes:
            for el in self._elements(rec.node):
                for n in walk(el):
                    self.compose_elements.add(id(n))

    def is_compose(self, call: cst.Call) -> bool:
        func = call.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return False
        q = self.idx.qualify(func) or ""
        if q in ("torchvision.transforms.Compose", "torchvision.transforms.v2.Compose"):
            return True
        return q == "Compose" and self.idx.imports.imports_any("torchvision") and not self.idx.imports.imports_any("albumentations")

    def _elements(self, call: cst.Call) -> List[cst.CSTNode]:
        arg = positional(call, 0) or keyword(call, "transforms")
        if arg is None or not isinstance(arg.value, (cst.List, cst.Tuple)):
            return []
        return [el.value for el in arg.value.elements]

    def tv_name(self, func: cst.CSTNode) -> Optional[str]:
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        q = self.idx.qualify(func) or ""
        if q.startswith("torchvision.transforms."):
            return q.rsplit(".", 1)[-1]
        if "." not in q and self.idx.imports.imports_any("torchvision") and q[:1].isupper():
            if self.idx.local_class(q, self.idx.module_scope) is None and not self.idx.is_local(q, self.idx.module_scope):
                return q
        return None

    def scan(self, call: cst.Call, state: str = "pil", depth: int = 0) -> Tuple[str, str]:
        """Run the Compose's steps: (final state, the conversion step that made it a tensor).

        States: pil, uint8 (integer tensor), float_raw (float, 0-255), scaled, normalized, unknown.
        """
        if depth > 6:
            return "unknown", ""
        arg = positional(call, 0) or keyword(call, "transforms")
        if arg is None or not isinstance(arg.value, (cst.List, cst.Tuple)):
            return "unknown", ""
        conv = ""
        for el in arg.value.elements:
            node = el.value
            if isinstance(el, cst.StarredElement) or isinstance(node, cst.StarredElement):
                return "unknown", ""
            if isinstance(node, cst.Name):
                r = self.idx.reaching(node.value, self.idx.module_scope, _INF, ())
                plain = [d for d in r[1] if d.kind in _PLAIN] if r else []
                if len(plain) != 1 or plain[0].kind != "assign" or not isinstance(plain[0].value, cst.Call):
                    return "unknown", ""
                node = plain[0].value
            if not isinstance(node, cst.Call):
                return "unknown", ""
            name = self.tv_name(node.func)
            if name is None:
                return "unknown", ""
            if name == "Normalize":
                return "normalized", conv
            if name in ("ToTensor", "ConvertImageDtype"):
                state = "scaled"
            elif name == "ToDtype":
                scale = keyword(node, "scale")
                scale_v = scale.value if scale is not None else (positional(node, 1).value if positional(node, 1) else None)
                dtype = keyword(node, "dtype") or positional(node, 0)
                dname = dotted_name(dtype.value) if dtype is not None else None
                integer = dname is not None and dname.split(".")[-1] in _INT_DTYPES
                if integer:
                    return "unknown", ""
                if _is_true(scale_v):
                    state = "scaled"
                elif scale_v is not None and not is_falsy_literal(scale_v):
                    return "unknown", ""
                elif state == "uint8":
                    state = "float_raw"
                    conv = conv + " + ToDtype without scale=True" if conv else "ToDtype without scale=True"
            elif name in _TV_UINT8:
                if state == "pil":
                    state = "uint8"
                    conv = name
            elif name == "ToPILImage":
                state = "pil"
                conv = ""
            elif name == "Lambda":
                fn = positional(node, 0) or keyword(node, "lambd")
                if fn is None:
                    return "unknown", ""
                status = _torch_fn_status(self.idx, fn.value)
                if status == "scaled":
                    state = "scaled"
                elif status == "unknown":
                    return "unknown", ""
            elif name == "Compose":
                state, inner_conv = self.scan(node, state, depth + 1)
                conv = inner_conv or conv
                if state in ("unknown", "normalized"):
                    return state, conv
            elif name in ("RandomApply", "RandomChoice", "RandomOrder"):
                inner_state, _ = self.scan(node, state, depth + 1)
                if inner_state != state:
                    return "unknown", ""
        return state, conv

    def scaling_elsewhere(self) -> bool:
        idx = self.idx
        for op, _scope, _klass in idx.divisions:
            if id(op) not in self.compose_elements and _pixel_scale_op(op):
                return True
        for aug in idx.aug_divisions:
            n = _number(aug.value)
            if n is not None and (n >= 100 or 0 < n < 0.1):
                return True
        for rec in idx.calls:
            node = rec.node
            if id(node) in self.compose_elements:
                continue
            func = node.func
            tail = call_tail(node) or ""
            if isinstance(func, cst.Attribute) and tail in ("div", "div_", "true_divide", "mul", "mul_"):
                arg = positional(node, 0)
                n = _number(arg.value) if arg is not None else None
                if arg is None or n is None and not isinstance(arg.value, cst.Name) or n is not None and (n >= 100 or 0 < n < 0.1):
                    return True
            if tail in _TORCH_SCALING_CALLS:
                return True
            if tail == "transforms" and not node.args:
                return True  # weights.transforms(): the pretrained model's own preprocessing
            if isinstance(func, (cst.Name, cst.Attribute)):
                q = idx.qualify(func) or ""
                if q.startswith("transformers.") or "ImageProcessor" in q or "FeatureExtractor" in q:
                    return True
        return False

    def dataset_transform_uses(self) -> List[Tuple[cst.CSTNode, _CallRec, str]]:
        """(transform expression, dataset call, dataset name) for datasets built with transform=."""
        out = []
        idx = self.idx
        for rec in idx.calls:
            node = rec.node
            func = node.func
            if not isinstance(func, (cst.Name, cst.Attribute)):
                continue
            q = idx.qualify(func) or ""
            tail = q.rsplit(".", 1)[-1]
            is_dataset = q.startswith("torchvision.datasets.") or (
                "." not in q and tail in _TV_DATASET_NAMES and idx.imports.imports_any("torchvision")
                and not idx.is_local(tail, rec.scope)
            )
            if not is_dataset and isinstance(func, cst.Name):
                cls = idx.local_class(func.value, rec.scope)
                if cls is not None and _is_dataset_class(idx, cls):
                    is_dataset = True
            if not is_dataset:
                continue
            arg = keyword(node, "transform")
            if arg is None and tail in ("ImageFolder", "DatasetFolder"):
                arg = positional(node, 1)
            if arg is not None:
                out.append((arg.value, rec, dotted_name(func) or tail))
        return out

    def composes_for(self, expr: cst.CSTNode, rec: _CallRec, depth: int = 0) -> List[cst.Call]:
        idx = self.idx
        if depth > 4:
            return []
        if isinstance(expr, cst.Call):
            return [expr] if self.is_compose(expr) else []
        if isinstance(expr, cst.IfExp):
            return self.composes_for(expr.body, rec, depth + 1) + self.composes_for(expr.orelse, rec, depth + 1)
        if isinstance(expr, cst.Subscript):
            base = expr.value
            if isinstance(base, cst.Name):
                r = idx.reaching(base.value, rec.scope, rec.order, rec.blocks)
                out: List[cst.Call] = []
                for d in (r[1] if r else []):
                    if d.kind == "assign" and isinstance(d.value, cst.Dict):
                        for el in d.value.elements:
                            if isinstance(el, cst.DictElement):
                                out.extend(self.composes_for(el.value, _CallRec(el.value, d.scope, d.order, d.blocks, d.loops), depth + 1))
                return out
            return []
        if isinstance(expr, cst.Name):
            r = idx.reaching(expr.value, rec.scope, rec.order, rec.blocks)
            out = []
            for d in (r[1] if r else []):
                if d.kind == "assign":
                    out.extend(self.composes_for(d.value, _CallRec(d.value, d.scope, d.order, d.blocks, d.loops), depth + 1))
            return out
        return []


def _trains_torch(idx: _Index) -> bool:
    """The file runs a training step itself (`loss.backward()`, Lightning's `trainer.fit`)."""
    for rec in idx.calls:
        func = rec.node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("backward", "manual_backward", "fit"):
            return True
    return False


_BATCH_NORMS = ("BatchNormalization", "SyncBatchNormalization", "LayerNormalization")


def _is_model_input(idx: _Index, expr: cst.CSTNode, rec: "_CallRec") -> bool:
    """`expr` is (a name bound here to) `keras.Input(...)` / `InputLayer(...)`."""
    if isinstance(expr, cst.Call):
        return (call_tail(expr) or "") in ("Input", "InputLayer")
    if not isinstance(expr, cst.Name):
        return False
    r = idx.reaching(expr.value, rec.scope, rec.order, rec.blocks)
    if r is None or not r[1]:
        return False
    return all(
        d.kind == "assign" and isinstance(d.value, cst.Call) and (call_tail(d.value) or "") in ("Input", "InputLayer")
        for d in r[1]
    )


def _first_layer_is_batch_norm(idx: _Index, call: cst.Call) -> bool:
    """`Sequential([Input(...), BatchNormalization(), ...])`: the first layer after the input normalizes."""
    arg = positional(call, 0) or keyword(call, "layers")
    if arg is None or not isinstance(arg.value, (cst.List, cst.Tuple)):
        return False
    for el in arg.value.elements:
        value = el.value
        if not isinstance(value, cst.Call):
            return False
        tail = call_tail(value) or ""
        if tail in ("Input", "InputLayer"):
            continue
        return tail in _BATCH_NORMS
    return False


def _init_dataset_class(idx: _Index, scope: _Scope) -> Optional[cst.ClassDef]:
    """The Dataset/Sequence class whose `__init__` is `scope`, if it is one."""
    fn = scope.node
    if not isinstance(fn, cst.FunctionDef) or fn.name.value != "__init__":
        return None
    cls = scope.parent.node if scope.parent is not None and scope.parent.kind == "class" else None
    if not isinstance(cls, cst.ClassDef) or not _is_dataset_class(idx, cls):
        return None
    return cls


def _getitem_reads_files(idx: _Index, cls: cst.ClassDef) -> bool:
    """`__getitem__` (or `__data_generation`, Keras' `Sequence` idiom) calls an image loader itself."""
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value in ("__getitem__", "__data_generation"):
            for n in walk(stmt.body):
                if isinstance(n, cst.Call) and isinstance(n.func, (cst.Name, cst.Attribute)) and idx.is_loader(idx.qualify(n.func)):
                    return True
    return False


def _is_dataset_class(idx: _Index, cls: cst.ClassDef) -> bool:
    for base in cls.bases:
        q = idx.qualify(base.value) or ""
        if q.rsplit(".", 1)[-1] in ("Dataset", "IterableDataset", "Sequence", "PyDataset", "VisionDataset"):
            return True
    return False


_INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64", "long", "int", "short")


def _torch_fn_status(idx: _Index, fn: cst.CSTNode) -> str:
    """scaled / unknown / neutral for the function given to transforms.Lambda.

    A Lambda that casts to an integer type (`x.long()`) means integer pixels are
    wanted (pixel-level generative models, masks): unknown, so never flagged.
    """
    body: Optional[cst.CSTNode] = None
    if isinstance(fn, cst.Lambda):
        body = fn.body
    elif isinstance(fn, cst.Name):
        found = idx.local_function(fn.value, idx.module_scope, _INF, ())
        if found is None:
            return "unknown"
        body = found.body
    else:
        return "unknown"
    for node in walk(body):
        if isinstance(node, cst.BinaryOperation) and _is_scale_op(node):
            return "scaled"
        if isinstance(node, cst.Call):
            tail = call_tail(node) or ""
            if tail in ("div", "div_", "true_divide", "mul", "mul_") or tail in _TORCH_SCALING_CALLS:
                return "scaled"
            if tail in ("long", "int", "byte", "short"):
                return "unknown"
            if tail in ("to", "type", "as_tensor", "tensor"):
                for a in node.args:
                    name = dotted_name(a.value)
                    if name and name.rsplit(".", 1)[-1] in _INT_DTYPES:
                        return "unknown"
            func = node.func
            if isinstance(func, cst.Name) and func.value not in __builtins_names__ and not idx.is_local(func.value, idx.module_scope):
                q = idx.qualify(func) or ""
                if q.split(".")[0] not in _KNOWN_LIBS:
                    return "unknown"
            if isinstance(func, cst.Name) and idx.local_function(func.value, idx.module_scope, _INF, ()) is not None:
                return "unknown"
    return "neutral"


class MissingNormalization(Rule):
    code = "CNL101"
    name = "missing-normalization"
    severity = Severity.WARNING
    summary = "Pixel data reaches training unscaled (no rescale, Rescaling layer, ToTensor or preprocess_input)"

    @classmethod
    def applies(cls, source) -> bool:
        return _mentions(source, _KEYS_101)

    def finish(self) -> None:
        ctx = self.ctx
        if ctx.module is None:
            return
        try:
            idx = _index(ctx)
            if idx is None:
                return
            found: List[Tuple[cst.CSTNode, str, str, List[cst.CSTNode]]] = []
            if _keras_file(idx):
                found.extend(self._keras(idx))
            if idx.imports.imports_any("torchvision"):
                found.extend(self._torch(idx))
            self._emit(found)
        except RecursionError:
            return  # absurdly deep code: stay quiet rather than guess

    def _emit(self, found) -> None:
        if not found:
            return
        nodes = [n for _, _, _, extra in found for n in extra if n is not None]
        ranges = self.ctx.ranges(nodes + [node for node, _, _, _ in found])
        seen: Set[int] = set()
        for node, message, hint, extra in found:
            if id(node) in seen:
                continue
            seen.add(id(node))
            if "{where}" in message:
                message = message.replace("{where}", _accumulation_text(self.ctx, ranges, extra[0] if extra else None))
            self.report(node, message, hint)

    # ---- Keras

    def _keras(self, idx: _Index):
        k = _Keras101(idx)
        out = []
        for rec in _fit_calls(idx):
            fit_name = dotted_name(rec.node.func) or "fit"
            x = _fit_x(rec.node)
            if x is None:
                continue
            train = k.pipe(x, rec.scope, rec.order, rec.blocks)
            if (
                train.state == "unscaled"
                and not k.model_unknown_at(rec)
                and not k.model_scaling
                and isinstance(rec.node.func, cst.Attribute)
                and k.builds_model(rec.node.func.value, rec.scope, rec.order, rec.blocks)
            ):
                item = self._describe(idx, train, x, fit_name)
                if item is not None:
                    out.append(item)
            val_arg = keyword(rec.node, "validation_data")
            if val_arg is not None and train.state == "scaled" and train.kind == "idg" and not k.model_scaling:
                val_expr = val_arg.value
                if isinstance(val_expr, (cst.Tuple, cst.List)) and val_expr.elements:
                    val_expr = val_expr.elements[0].value
                val = k.pipe(val_expr, rec.scope, rec.order, rec.blocks)
                if val.state == "unscaled" and val.kind == "idg" and val.node is not train.node:
                    train_var = _assigned_name(idx, train.node) or _call_label(train.node)
                    val_var = _assigned_name(idx, val.node)
                    subject = f"`{_call_label(val.node)}`" + (f" assigned to `{val_var}`" if val_var else "")
                    out.append((
                        val.node,
                        f"{subject} has no rescale or preprocessing_function, but the training generator "
                        f"`{train_var}` has: validation batches reach `{fit_name}` on a different pixel scale "
                        f"than the training batches",
                        f"give {val_var or 'the validation generator'} the same rescale/preprocessing_function as {train_var}",
                        [],
                    ))
        return out

    def _describe(self, idx: _Index, p: _Pipe, x: cst.CSTNode, fit_name: str):
        if p.kind == "idg" and isinstance(p.node, cst.Call):
            var = _assigned_name(idx, p.node)
            subject = f"`{_call_label(p.node)}`" + (f" assigned to `{var}`" if var else "")
            via = f"its `{p.detail}` batches" if p.detail else "its batches"
            return (
                p.node,
                f"{subject} has no rescale, preprocessing_function or centering/normalization, and {via} "
                f"reach `{fit_name}` as raw 0-255 pixels",
                _HINT_101_IDG,
                [],
            )
        if p.kind == "idfd" and isinstance(p.node, cst.Call):
            var = _assigned_name(idx, p.node)
            subject = f"`{_call_label(p.node)}`" + (f" assigned to `{var}`" if var else "")
            return (
                p.node,
                f"{subject} yields raw 0-255 pixels, and neither its `map` steps nor the model "
                f"(no `Rescaling`/`Normalization` layer, no `preprocess_input`) scale them before `{fit_name}`",
                _HINT_101_MODEL,
                [],
            )
        if p.kind == "decode" and p.node is not None:
            fname = p.detail or "the mapped function"
            decoder = dotted_name(p.node.func) if isinstance(p.node, cst.Call) else "decode"
            return (
                p.node,
                f"`{decoder}` in `{fname}` yields 0-255 pixels, and nothing in the dataset's `map` steps or the "
                f"model scales them before `{fit_name}`",
                "add tf.image.convert_image_dtype(image, tf.float32) (scales to [0, 1]) or image / 255. after decoding, "
                "or a Rescaling(1./255) layer",
                [],
            )
        if p.kind == "array":
            origin = p.taint[2]
            if origin is None:
                return None
            at = p.node if p.node is not None else x
            label = at.value if isinstance(at, cst.Name) else _short(idx.module, at)
            if origin.kind == "dataset":
                source = f"`{origin.name}()`"
            else:
                source = f"images read by `{origin.name}`{{where}}"
            return (
                at,
                f"`{label}` ({source}) reaches `{fit_name}` as raw 0-255 pixels: it is never divided, "
                f"passed to preprocess_input or scaled by a model layer",
                _HINT_101_ARRAY,
                [origin.acc] if origin.kind == "loader" else [],
            )
        return None

    # ---- PyTorch

    def _torch(self, idx: _Index):
        t = _Torch101(idx)
        if not t.composes:
            return []
        uses = t.dataset_transform_uses()
        if not uses or not _trains_torch(idx):
            return []
        if t.scaling_elsewhere():
            return []
        out = []
        for expr, rec, ds_name in uses:
            for compose in t.composes_for(expr, rec):
                state, conv = t.scan(compose)
                if state not in ("uint8", "float_raw"):
                    continue
                var = _assigned_name(idx, compose)
                subject = f"`{_call_label(compose)}`" + (f" assigned to `{var}`" if var else "")
                if state == "uint8":
                    what = f"turns images into uint8 tensors with `{conv}`"
                    hint = (
                        "add ToDtype(torch.float32, scale=True) after ToImage (or ConvertImageDtype(torch.float32) "
                        "after PILToTensor), or use ToTensor(); then Normalize(mean, std)"
                    )
                else:
                    what = "casts to float with `ToDtype` but without scale=True, so pixels stay in 0-255"
                    hint = "pass scale=True: v2.ToDtype(torch.float32, scale=True); then Normalize(mean, std)"
                out.append((
                    compose,
                    f"{subject} {what} and has no `ToTensor`, `ConvertImageDtype`, `ToDtype(..., scale=True)` "
                    f"or `Normalize`; `{ds_name}` feeds these unscaled pixels to training",
                    hint,
                    [],
                ))
        return out


# --------------------------------------------------------------------------- CNL102


class NoDataGenerator(Rule):
    code = "CNL102"
    name = "no-data-generator"
    severity = Severity.WARNING
    summary = "A whole image set is read into memory in a loop and handed to training instead of streamed from disk"

    @classmethod
    def applies(cls, source) -> bool:
        return _mentions(source, _KEYS_102)

    def finish(self) -> None:
        ctx = self.ctx
        if ctx.module is None:
            return
        try:
            idx = _index(ctx)
            if idx is None:
                return
            self._run(idx)
        except RecursionError:
            return  # absurdly deep code: stay quiet rather than guess

    def _sinks(self, idx: _Index) -> Iterable[Tuple[_CallRec, List[cst.CSTNode], str]]:
        keras = _keras_file(idx)
        trains = keras or _trains_torch(idx)
        for rec in idx.calls:
            node = rec.node
            func = node.func
            if not isinstance(func, (cst.Name, cst.Attribute)):
                continue
            tail = call_tail(node) or ""
            label = dotted_name(func) or tail
            if tail == "fit" and isinstance(func, cst.Attribute) and keras:
                if _is_model_receiver(idx, func.value, rec):
                    x = _fit_x(node)
                    if x is not None:
                        yield rec, [x], label
                continue
            if tail == "flow" and isinstance(func, cst.Attribute) and keras:
                if self._idg_receiver(idx, func.value, rec):
                    x = keyword(node, "x") or positional(node, 0)
                    if x is not None:
                        yield rec, [x.value], label
                continue
            q = idx.qualify(func) or ""
            qtail = q.rsplit(".", 1)[-1]
            if qtail == "TensorDataset" and (q.startswith("torch.") or q == "TensorDataset"):
                if trains:
                    yield rec, [a.value for a in node.args if a.keyword is None and not a.star], label
                continue
            if qtail in ("from_tensor_slices", "from_tensors") and ("tensorflow" in q.split(".") or "Dataset" in q.split(".")):
                arg = positional(node, 0) or keyword(node, "tensors")
                if arg is not None:
                    value = arg.value
                    if isinstance(value, (cst.Tuple, cst.List)):
                        yield rec, [el.value for el in value.elements], label
                    elif isinstance(value, cst.Dict):
                        yield rec, [el.value for el in value.elements if isinstance(el, cst.DictElement)], label
                    else:
                        yield rec, [value], label
                continue
            if qtail == "DataLoader" and (q.startswith("torch.") or q == "DataLoader"):
                arg = positional(node, 0) or keyword(node, "dataset")
                if arg is not None and trains:
                    yield rec, [arg.value], label
                continue
            if isinstance(func, cst.Name):
                cls = idx.local_class(func.value, rec.scope)
                if cls is not None and _is_dataset_class(idx, cls):
                    yield rec, [a.value for a in node.args if not a.star], label

    @staticmethod
    def _idg_receiver(idx: _Index, recv: cst.CSTNode, rec: _CallRec) -> bool:
        if isinstance(recv, cst.Call):
            return _is_idg(idx, recv)
        if isinstance(recv, cst.Name):
            r = idx.reaching(recv.value, rec.scope, rec.order, rec.blocks)
            return bool(r and r[1]) and all(d.kind == "assign" and _is_idg(idx, d.value) for d in r[1])
        return False

    def _chunked(self, idx: _Index, rec: _CallRec, arg: cst.CSTNode, origin: _Origin) -> bool:
        """The sink sits in a loop that also builds its input: data is fed chunk by chunk."""
        if not rec.loops:
            return False
        loop = rec.loops[-1]
        acc = origin.acc
        if acc is not None:
            if acc is loop or any(lp is loop for lp in idx.loop_parents.get(id(acc), ())):
                return True
            if idx.loop_scope.get(id(acc)) is rec.scope:
                return False  # loaded once before the loop (k-fold, epochs): the whole set is in memory
        for n in walk(arg):
            if isinstance(n, cst.Name):
                r = idx.reaching(n.value, rec.scope, rec.order, rec.blocks)
                if r and r[0] is not None and any(any(lp is loop for lp in d.loops) for d in r[1]):
                    return True
        return False

    def _run(self, idx: _Index) -> None:
        found = []
        seen: Set[int] = set()
        for rec, args, label in self._sinks(idx):
            for arg in args:
                t = idx.taint(arg, rec.scope, rec.order, rec.blocks)
                origin = t[2]
                if t[0] != 2 or origin is None or origin.kind != "loader" or origin.acc is None:
                    continue
                if self._chunked(idx, rec, arg, origin):
                    continue
                if id(origin.acc) in seen:
                    break
                seen.add(id(origin.acc))
                at = self._blame(idx, arg, rec)
                found.append((at, origin, label))
                break
        preloads = self._preloading_datasets(idx, seen)
        if not found and not preloads:
            return
        # for the cross-check's memory estimate (CNL607): where, and the reader call
        self.ctx.in_memory.extend((at, origin.call, origin.acc) for at, origin, _ in found + preloads)
        accs = [o.acc for _, o, _ in found if o.acc is not None] + [o.acc for _, o, _ in preloads if o.acc is not None]
        ranges = self.ctx.ranges(accs + [at for at, _, _ in found] + [at for at, _, _ in preloads])
        for at, origin, label in found:
            var = at.value if isinstance(at, cst.Name) else _short(idx.module, at)
            where = _accumulation_text(self.ctx, ranges, origin.acc)
            self.report(
                at,
                f"`{var}` holds every image read by `{origin.name}`{where} and is passed whole to `{label}`: "
                f"the whole image set sits in memory at once",
                _HINT_102,
            )
        for at, origin, cls_name in preloads:
            where = _accumulation_text(self.ctx, ranges, origin.acc)
            self.report(
                at,
                f"`self.{at.attr.value}` holds every image read by `{origin.name}`{where}: `{cls_name}` loads the "
                f"whole image set when it is created instead of one image per `__getitem__`",
                "keep only the file paths in __init__ and read each image in __getitem__",
            )

    @staticmethod
    def _preloading_datasets(idx: _Index, seen: Set[int]) -> List[Tuple[cst.Attribute, _Origin, str]]:
        """Every image of the set read in the `__init__` of a Dataset/Sequence class of the file:
        `self.images = [...every image...]`, or `self.images.append(<image>)` in a loop.

        Quiet when the class's `__getitem__` reads images from disk itself: the preload is then
        an optional cache (`if preload: ...`, with a fallback to reading the file).
        """
        out = []
        found: List[Tuple[cst.Attribute, _Origin, cst.ClassDef]] = []
        for target, value, scope, order, blocks in idx.self_assigns:
            cls = _init_dataset_class(idx, scope)
            if cls is None:
                continue
            t = idx.taint(value, scope, order, blocks)
            origin = t[2]
            if t[0] != 2 or origin is None or origin.kind != "loader" or origin.acc is None:
                continue
            found.append((target, origin, cls))
        for rec in idx.calls:
            func = rec.node.func
            if not rec.loops or not isinstance(func, cst.Attribute) or func.attr.value not in ("append", "extend"):
                continue
            target = func.value
            if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self"):
                continue
            cls = _init_dataset_class(idx, rec.scope)
            arg = positional(rec.node, 0)
            if cls is None or arg is None:
                continue
            t = idx.taint(arg.value, rec.scope, rec.order, rec.blocks)
            origin = t[2]
            want = 1 if func.attr.value == "append" else 2
            if t[0] != want or origin is None or origin.kind != "loader":
                continue
            acc = origin.acc if want == 2 and origin.acc is not None else rec.loops[-1]
            found.append((target, _Origin(origin.kind, origin.call, origin.name, acc), cls))
        reported: Set[Tuple[int, str]] = set()  # one finding per attribute of a class
        for target, origin, cls in found:
            key = (id(cls), target.attr.value)
            if id(origin.acc) in seen or key in reported or _getitem_reads_files(idx, cls):
                continue
            seen.add(id(origin.acc))
            reported.add(key)
            out.append((target, origin, cls.name.value))
        return out

    @staticmethod
    def _blame(idx: _Index, arg: cst.CSTNode, rec: _CallRec) -> cst.CSTNode:
        """The clearest node to point at: the argument itself, or the tainted name inside it."""
        if isinstance(arg, cst.Name):
            return arg
        for n in walk(arg):
            if isinstance(n, cst.Name) and idx.taint(n, rec.scope, rec.order, rec.blocks)[0] == 2:
                return n
        return arg


RULES = [MissingNormalization, NoDataGenerator]
