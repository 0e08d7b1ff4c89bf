"""CNL101 missing-normalization: pixel data reaches training unscaled.

Keras: the training input of `fit` is followed back (cnnlint.lint.index.keras_inputs) to an
`ImageDataGenerator` without rescale, `image_dataset_from_directory`, a decoding `map`, or an
array of images read in a loop, and nothing on the way or in the model scales it. PyTorch: a
torchvision `Compose` given to a dataset ends in integer (or float 0-255) tensors and nothing else
in the training file scales them (cnnlint.lint.index.torch_transforms).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List, Optional, Set

from cnnlint.findings import Severity
from cnnlint.lint.index.arguments import unstarred
from cnnlint.lint.index.flow import ImageFlow
from cnnlint.lint.index.keras_inputs import KerasInputs, Pipe
from cnnlint.lint.index.names import dotted_name, keyword
from cnnlint.lint.index.scopes import Scopes
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
    trains_torch,
)
from cnnlint.lint.project_index.imported import ImportedSummaries, may_take_project_images
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile

_KEYS = ("ImageDataGenerator", "image_dataset_from_directory", "Compose", "load_data", "decode_") + LOADER_KEYS

_HINT_IDG = "add rescale=1./255 (or preprocessing_function=preprocess_input for a pretrained model)"
_HINT_MODEL = (
    "add layers.Rescaling(1./255) as the model's first layer or map the dataset with "
    "lambda x, y: (x / 255., y) (preprocess_input for a pretrained model)"
)
_HINT_ARRAY = "divide the array by 255. (or call preprocess_input for a pretrained model) before fit"
_HINT_DECODE = (
    "add tf.image.convert_image_dtype(image, tf.float32) (scales to [0, 1]) or image / 255. after decoding, "
    "or a Rescaling(1./255) layer"
)
_HINT_UINT8 = (
    "add ToDtype(torch.float32, scale=True) after ToImage (or ConvertImageDtype(torch.float32) "
    "after PILToTensor), or use ToTensor(); then Normalize(mean, std)"
)
_HINT_FLOAT_RAW = "pass scale=True: v2.ToDtype(torch.float32, scale=True); then Normalize(mean, std)"


@dataclass
class _Found:
    node: ast.AST
    message: str
    hint: str
    acc: List[Optional[ast.AST]] = field(default_factory=list)  # where the image set was built ({where})


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
            found.extend(self._keras(scopes, KerasInputs(scopes, self.ctx.get(ImageFlow))))
        if scopes.imports.imports_any("torchvision"):
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
                var = assigned_name(scopes, compose)
                subject = f"`{call_label(compose)}`" + (f" assigned to `{var}`" if var else "")
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
