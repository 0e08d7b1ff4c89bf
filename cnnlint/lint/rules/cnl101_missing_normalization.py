"""CNL101 missing-normalization: pixel data reaches training unscaled.

Keras: the training input of `fit` is followed back (cnnlint.lint.index.keras_inputs) to an
`ImageDataGenerator` without rescale, `image_dataset_from_directory`, a decoding `map`, or an
array of images read in a loop, and nothing on the way or in the model scales it. PyTorch: a
torchvision `Compose` given to a dataset ends in integer (or float 0-255) tensors and nothing else
in the training file scales them (cnnlint.lint.index.torch_transforms).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List, Optional, Set, Tuple

from cnnlint.findings import Severity
from cnnlint.lint.index.arguments import argument_for, unstarred
from cnnlint.lint.index.flow import ImageFlow
from cnnlint.lint.index.keras_inputs import KerasInputs, Pipe
from cnnlint.lint.index.names import dotted_name, keyword
from cnnlint.lint.index.scopes import FUNCTIONS, CallSite, Scopes
from cnnlint.lint.index.torch_transforms import TorchTransforms
from cnnlint.lint.index.training_inputs import (
    LOADER_KEYS,
    accumulation_text,
    assigned_name,
    call_label,
    fit_calls,
    fit_x,
    keras_file,
    mentions,
    short,
    tf1_training_feed,
    trains_torch,
)
from cnnlint.lint.project_index.imported import ImportedSummaries, may_take_project_images
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile

_KEYS = ("ImageDataGenerator", "image_dataset_from_directory", "Compose", "load_data", "decode_") + LOADER_KEYS

# a TensorFlow 1 graph that may scale its input itself
_TF1_SCALING = re.compile(r"255|standardiz|normaliz|convert_image_dtype|preprocess_input")

_HINT_IDG = "add rescale=1./255 (or preprocessing_function=preprocess_input for a pretrained model)"
_HINT_MODEL = (
    "add layers.Rescaling(1./255) as the model's first layer or map the dataset with "
    "lambda x, y: (x / 255., y) (preprocess_input for a pretrained model)"
)
_HINT_ARRAY = "divide the array by 255. (or call preprocess_input for a pretrained model) before fit"
_HINT_FEED = "divide the array by 255. before feeding it (or scale the input placeholder in the graph)"
_HINT_DECODE = (
    "add tf.image.convert_image_dtype(image, tf.float32) (scales to [0, 1]) or image / 255. after decoding, "
    "or a Rescaling(1./255) layer"
)
_HINT_UINT8 = (
    "add ToDtype(torch.float32, scale=True) after ToImage (or ConvertImageDtype(torch.float32) "
    "after PILToTensor), or use ToTensor(); then Normalize(mean, std)"
)
_HINT_ALBU = "add A.Normalize() (ImageNet mean/std, max_pixel_value=255) or A.ToFloat(max_value=255) before ToTensorV2()"
_HINT_FLOAT_RAW = "pass scale=True: v2.ToDtype(torch.float32, scale=True); then Normalize(mean, std)"


@dataclass
class _Found:
    node: ast.AST
    message: str
    hint: str
    acc: List[Optional[ast.AST]] = field(default_factory=list)  # where the image set was built ({where})


@dataclass
class _Helper:
    """A function of the file whose `model.fit(data)` trains on its parameters."""

    name: str
    receiver: ast.expr  # the model `fit` is called on, in the helper
    # each call of the helper: (the call, its data argument, its model argument when the model is a parameter)
    calls: List[Tuple[CallSite, ast.expr, Optional[ast.expr]]]


def _only_param(scopes: Scopes, name: ast.Name, rec: CallSite) -> bool:
    r = scopes.reaching(name.id, rec.scope, rec.order, rec.blocks)
    return r is not None and len(r[1]) == 1 and r[1][0].kind == "param"


def _argument_for(call: ast.Call, params: List[str], name: str) -> Optional[ast.expr]:
    """What a call passes for the parameter `name`; None when not plain (`*args`, `**kwargs`)."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(kw.arg is None for kw in call.keywords):
        return None
    return argument_for(call, params, name)


def _helper_inputs(scopes: Scopes, rec: CallSite, x: ast.expr) -> Optional[_Helper]:
    """The calls of the plain function around `fit` when its data (and maybe model) are parameters."""
    fn = rec.scope.node
    recv = rec.node.func.value  # type: ignore[attr-defined]
    if rec.scope.kind != "function" or not isinstance(fn, FUNCTIONS) or not isinstance(x, ast.Name):
        return None
    if rec.scope.parent is None or rec.scope.parent.kind == "class" or not _only_param(scopes, x, rec):
        return None
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    model_param = isinstance(recv, ast.Name) and _only_param(scopes, recv, rec)
    if x.id not in params or (model_param and recv.id not in params):
        return None
    sites = scopes.calls_of(fn)
    if sites is None:
        return None
    calls = []
    for site in sites:
        data = _argument_for(site.node, params, x.id)  # type: ignore[arg-type]
        model = _argument_for(site.node, params, recv.id) if model_param else None  # type: ignore[arg-type]
        if data is None or (model_param and model is None):
            return None
        calls.append((site, data, model))
    return _Helper(fn.name, recv, calls)


class MissingNormalization(Rule):
    code = "CNL101"
    name = "missing-normalization"
    severity = Severity.WARNING
    summary = "Pixel data reaches training unscaled (no rescale, Rescaling layer, ToTensor or preprocess_input)"
    uses = (Scopes, ImageFlow, ImportedSummaries)  # image data from the project's loading helpers

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        return mentions(source, _KEYS) or may_take_project_images(source)

    def check(self) -> None:
        if self.ctx.syntax is None:
            return
        scopes = self.ctx.get(Scopes)
        found: List[_Found] = []
        if keras_file(scopes):
            inputs = KerasInputs(scopes, self.ctx.get(ImageFlow))
            found.extend(self._keras(scopes, inputs))
            found.extend(self._tf1(scopes, inputs))
        if scopes.imports.imports_any("torchvision", "albumentations"):
            found.extend(self._torch(scopes))
        self._emit(found)

    def _emit(self, found: List[_Found]) -> None:
        seen: Set[int] = set()
        for item in found:
            if id(item.node) in seen:
                continue
            seen.add(id(item.node))
            message = item.message
            if "{where}" in message:
                message = message.replace("{where}", accumulation_text(self.ctx, item.acc[0] if item.acc else None))
            self.report(item.node, message, item.hint)

    # ---- Keras

    def _keras(self, scopes: Scopes, k: KerasInputs) -> List[_Found]:
        out: List[_Found] = []
        for rec in fit_calls(scopes):
            call: ast.Call = rec.node  # type: ignore[assignment]
            fit_name = dotted_name(call.func) or "fit"
            x = fit_x(call)
            if x is None:
                continue
            helper = _helper_inputs(scopes, rec, x)
            if helper is not None:
                out.extend(self._through_helper(scopes, k, rec, helper, fit_name))
                continue
            train = k.pipe(x, rec.scope, rec.order, rec.blocks)
            if (
                train.state == "unscaled"
                and not k.model_unknown_at(rec)
                and not k.model_scaling
                and isinstance(call.func, ast.Attribute)
                and k.builds_model(call.func.value, rec.scope, rec.order, rec.blocks)
            ):
                item = self._describe(scopes, train, x, fit_name)
                if item is not None:
                    out.append(item)
            val_arg = keyword(call, "validation_data")
            if val_arg is not None and train.state == "scaled" and train.kind == "idg" and not k.model_scaling:
                val_expr = val_arg.value
                if isinstance(val_expr, (ast.Tuple, ast.List)) and val_expr.elts:
                    val_expr = unstarred(val_expr.elts[0])
                val = k.pipe(val_expr, rec.scope, rec.order, rec.blocks)
                if val.state == "unscaled" and val.kind == "idg" and val.node is not train.node:
                    out.append(self._validation(scopes, train, val, fit_name))
        return out

    def _tf1(self, scopes: Scopes, k: KerasInputs) -> List[_Found]:
        """`sess.run(train_op, feed_dict={x: images})`: raw pixels fed to a TensorFlow 1 graph that
        nothing in the file scales (no scaling operation anywhere, no standardization op)."""
        text = self.ctx.source.text
        if "feed_dict" not in text or scopes.divisions or scopes.aug_divisions or _TF1_SCALING.search(text):
            return []
        out: List[_Found] = []
        for rec in scopes.calls:
            for value in tf1_training_feed(scopes, rec):
                pipe = k.pipe(value, rec.scope, rec.order, rec.blocks)
                if pipe.state == "unscaled" and pipe.kind == "array":
                    item = self._describe(scopes, pipe, value, dotted_name(rec.node.func) or "run")  # type: ignore[attr-defined]
                    if item is not None:
                        item.hint = _HINT_FEED
                        out.append(item)
        return out

    def _through_helper(
        self, scopes: Scopes, k: KerasInputs, rec: CallSite, helper: "_Helper", fit_name: str
    ) -> List[_Found]:
        """`def train(model, data): model.fit(data)` called with unscaled pixels and a model of the file:
        judged at every call of the helper; quiet unless all of them feed raw pixels."""
        if k.model_scaling or k.model_unknown_at(rec) or not helper.calls:
            return []
        out: List[_Found] = []
        for site, data, model in helper.calls:
            if k.model_unknown_at(site):
                return []
            if model is None:
                built = k.builds_model(helper.receiver, rec.scope, rec.order, rec.blocks)
            else:
                built = k.builds_model(model, site.scope, site.order, site.blocks)
            pipe = k.pipe(data, site.scope, site.order, site.blocks)
            if not built or pipe.state != "unscaled":
                return []
            item = self._describe(scopes, pipe, data, f"{fit_name}` in `{helper.name}()")
            if item is None:
                return []
            out.append(item)
        return out

    @staticmethod
    def _validation(scopes: Scopes, train: Pipe, val: Pipe, fit_name: str) -> _Found:
        """The validation generator does not scale where the training one does."""
        assert isinstance(train.node, ast.Call) and isinstance(val.node, ast.Call)
        train_var = assigned_name(scopes, train.node) or call_label(train.node)
        val_var = assigned_name(scopes, val.node)
        subject = f"`{call_label(val.node)}`" + (f" assigned to `{val_var}`" if val_var else "")
        return _Found(
            val.node,
            f"{subject} has no rescale or preprocessing_function, but the training generator "
            f"`{train_var}` has: validation batches reach `{fit_name}` on a different pixel scale "
            f"than the training batches",
            f"give {val_var or 'the validation generator'} the same rescale/preprocessing_function as {train_var}",
        )

    def _describe(self, scopes: Scopes, p: Pipe, x: ast.AST, fit_name: str) -> Optional[_Found]:
        if p.kind in ("idg", "idfd") and isinstance(p.node, ast.Call):
            var = assigned_name(scopes, p.node)
            subject = f"`{call_label(p.node)}`" + (f" assigned to `{var}`" if var else "")
            if p.kind == "idfd":
                return _Found(
                    p.node,
                    f"{subject} yields raw 0-255 pixels, and neither its `map` steps nor the model "
                    f"(no `Rescaling`/`Normalization` layer, no `preprocess_input`) scale them before `{fit_name}`",
                    _HINT_MODEL,
                )
            via = f"its `{p.detail}` batches" if p.detail else "its batches"
            return _Found(
                p.node,
                f"{subject} has no rescale, preprocessing_function or centering/normalization, and {via} "
                f"reach `{fit_name}` as raw 0-255 pixels",
                _HINT_IDG,
            )
        if p.kind == "decode" and p.node is not None:
            fname = p.detail or "the mapped function"
            decoder = dotted_name(p.node.func) if isinstance(p.node, ast.Call) else "decode"
            return _Found(
                p.node,
                f"`{decoder}` in `{fname}` yields 0-255 pixels, and nothing in the dataset's `map` steps or the "
                f"model scales them before `{fit_name}`",
                _HINT_DECODE,
            )
        if p.kind == "array":
            return self._describe_array(p, x, fit_name)
        return None

    def _describe_array(self, p: Pipe, x: ast.AST, fit_name: str) -> Optional[_Found]:
        origin = p.taint[2]
        if origin is None:
            return None
        at = p.node if p.node is not None else x
        label = at.id if isinstance(at, ast.Name) else short(self.ctx, at)
        if origin.kind == "dataset":
            source = f"`{origin.name}()`"
        else:
            source = f"images read by `{origin.name}`{{where}}"
        return _Found(
            at,
            f"`{label}` ({source}) reaches `{fit_name}` as raw 0-255 pixels: it is never divided, "
            f"passed to preprocess_input or scaled by a model layer",
            _HINT_ARRAY,
            [origin.acc] if origin.kind == "loader" else [],
        )

    # ---- PyTorch

    def _torch(self, scopes: Scopes) -> List[_Found]:
        t = TorchTransforms(scopes)
        if not t.composes:
            return []
        uses = t.dataset_transform_uses()
        if not uses or not trains_torch(scopes) or t.scaling_elsewhere():
            return []
        out = []
        for expr, rec, ds_name in uses:
            for compose in t.composes_for(expr, rec):
                state, conv = t.scan(compose)
                if state not in ("uint8", "float_raw"):
                    continue
                albu = t.is_albumentations(compose)
                if albu and (state != "uint8" or not t.reads_8bit_images()):
                    continue  # albumentations on arrays of unknown scale
                var = assigned_name(scopes, compose)
                subject = f"`{call_label(compose)}`" + (f" assigned to `{var}`" if var else "")
                if albu:
                    out.append(_Found(
                        compose,
                        f"{subject} turns images into tensors with `ToTensorV2`, which keeps the 0-255 values of "
                        f"the images read in this file, and has no `A.Normalize` or `A.ToFloat`; `{ds_name}` feeds "
                        f"these unscaled pixels to training",
                        _HINT_ALBU,
                    ))
                    continue
                if state == "uint8":
                    what, hint = f"turns images into uint8 tensors with `{conv}`", _HINT_UINT8
                else:
                    what = "casts to float with `ToDtype` but without scale=True, so pixels stay in 0-255"
                    hint = _HINT_FLOAT_RAW
                out.append(_Found(
                    compose,
                    f"{subject} {what} and has no `ToTensor`, `ConvertImageDtype`, `ToDtype(..., scale=True)` "
                    f"or `Normalize`; `{ds_name}` feeds these unscaled pixels to training",
                    hint,
                ))
        return out
