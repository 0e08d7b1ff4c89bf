"""Pretrained ImageNet models a file builds, and how their weights expect pixels: `keras.applications`
constructors (with the preprocessing mode of their weights) and torchvision classifiers with ImageNet
weights. Read by CNL303 in the script, and by the project index for the definitions of a module."""

from __future__ import annotations

import ast
import re
from typing import List, Optional, Tuple

from cnnlint.lint.index.bindings import Bindings, argument
from cnnlint.lint.index.models import KERAS_ROOTS, is_none, literal_bool
from cnnlint.lint.index.names import keyword, string_value

# keras.applications constructors and how their weights expect pixels (checked against Keras 3.15 source)
CAFFE = re.compile(r"^(VGG16|VGG19|ResNet50|ResNet101|ResNet152)$")
# "tf" mode: preprocess_input maps 0-255 to [-1, 1] (x / 127.5 - 1)
TF_MODE = {
    "MobileNet": "mobilenet", "MobileNetV2": "mobilenet_v2", "InceptionV3": "inception_v3",
    "InceptionResNetV2": "inception_resnet_v2", "Xception": "xception", "ResNet50V2": "resnet_v2",
    "ResNet101V2": "resnet_v2", "ResNet152V2": "resnet_v2", "NASNetMobile": "nasnet", "NASNetLarge": "nasnet",
}
INTERNAL = re.compile(
    r"^(EfficientNetB[0-7]|EfficientNetV2(B[0-3]|S|M|L)|ConvNeXt(Tiny|Small|Base|Large|XLarge)|"
    r"MobileNetV3(Small|Large)|RegNet[XY]\d+|ResNetRS\d+)$"
)
INCLUDE_PREPROCESSING = re.compile(r"^(EfficientNetV2|ConvNeXt|MobileNetV3|RegNet|ResNetRS)")
TV_CLASSIFIERS = re.compile(
    r"^(resnet\d+|resnext\d+_\w+|wide_resnet\d+_\d|vgg\d+(_bn)?|alexnet|densenet\d+|mobilenet_v[23](_large|_small)?|"
    r"efficientnet_(b[0-7]|v2_[sml])|convnext_(tiny|small|base|large)|regnet_[xy]_\w+|vit_[bhl]_\d+|"
    r"swin_(v2_)?[tsb]|squeezenet1_[01]|shufflenet_v2_x\w+|mnasnet\w+|googlenet|inception_v3|maxvit_t)$"
)

Pretrained = Tuple[ast.Call, str, str]  # (call, class name, mode)


def module_of(name: str) -> str:
    return TF_MODE.get(name) or {"VGG16": "vgg16", "VGG19": "vgg19"}.get(name, "resnet")


def used_later(facts: Bindings, call: ast.Call) -> bool:
    """The pretrained model goes into something: used in place, or its name is read again other than to
    freeze it (`base.trainable = False`, `base.layers`) or print it (`base.summary()`)."""
    parent = facts.parent(call)
    if not isinstance(parent, ast.Assign):
        return not isinstance(parent, ast.Expr)
    if len(parent.targets) != 1 or not isinstance(parent.targets[0], ast.Name):
        return True
    name = re.escape(parent.targets[0].id)
    pattern = re.compile(rf"(?<![\w.]){name}\b(?!\s*(=(?!=)|\.\s*(trainable|layers|summary)\b))")
    return pattern.search(facts.text) is not None


# the file names Keras gives its applications' ImageNet weights (`inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5`)
_KERAS_WEIGHT_FILE = re.compile(r"_weights_tf_dim_ordering_tf_kernels")


def _weight_file(facts: Bindings, expr: Optional[ast.AST]) -> bool:
    value = facts.value_of(expr) if isinstance(expr, ast.Name) else expr
    text = string_value(value) if value is not None else None
    return text is not None and _KERAS_WEIGHT_FILE.search(text) is not None


def _imagenet_weights(facts: Bindings, weights: ast.AST, model: ast.Call) -> bool:
    """`weights="imagenet"`, a path to Keras' own ImageNet weight file, or `weights=None` followed by
    `base.load_weights(path)` of that file (the download-then-load of course notebooks)."""
    if string_value(weights) == "imagenet" or _weight_file(facts, weights):
        return True
    if not is_none(weights):
        return False
    for c in facts.calls:
        recv = c.node.func.value if isinstance(c.node.func, ast.Attribute) else None
        if c.tail == "load_weights" and isinstance(recv, ast.Name) and facts.value_of(recv) is model:
            return _weight_file(facts, argument(c.node, "filepath", 0))
    return False


def keras_pretrained(facts: Bindings) -> List[Pretrained]:
    """(call, class name, mode) for keras.applications models with ImageNet weights."""
    out = []
    for c in facts.calls:
        parts = c.qname.split(".")
        if "applications" not in parts or parts[0] not in KERAS_ROOTS:
            continue
        name = parts[-1]
        if not name[:1].isupper():
            continue  # `preprocess_input(x)`, `decode_predictions(...)`: functions, not models
        if CAFFE.match(name):
            mode = "caffe"
        elif name in TF_MODE:
            mode = "tf"
        elif INTERNAL.match(name):
            mode = "internal"
            if INCLUDE_PREPROCESSING.match(name):
                arg = keyword(c.node, "include_preprocessing")
                if arg is not None and literal_bool(arg.value) is not True:
                    continue
        else:
            out.append((c.node, name, "other"))
            continue
        weights = keyword(c.node, "weights")
        if weights is not None and not _imagenet_weights(facts, weights.value, c.node):
            continue
        out.append((c.node, name, mode))
    return out


def tv_pretrained(facts: Bindings, qname: str, call: ast.Call) -> bool:
    """A torchvision classifier built with ImageNet weights."""
    parts = qname.split(".")
    if len(parts) != 3 or parts[0] != "torchvision" or parts[1] != "models" or not TV_CLASSIFIERS.match(parts[2]):
        return False
    weights = keyword(call, "weights")
    if weights is not None:
        if is_none(weights.value):
            return False
        w = string_value(weights.value)
        wq = facts.q(weights.value)
        if w is not None and not w.startswith(("IMAGENET", "DEFAULT")):
            return False
        return w is not None or wq.endswith(".DEFAULT") or ".IMAGENET1K" in wq
    legacy = keyword(call, "pretrained")
    return legacy is not None and literal_bool(legacy.value) is True
