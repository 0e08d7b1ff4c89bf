"""The live checks: the kernel's objects (cnnlint.crosscheck.live_facts) against the executed cells'
code (cnnlint.crosscheck.live_code) and their static facts.

What static analysis must guess, the running kernel shows: the model's real output units and input
shape, the generator's real class_indices, the array's real dtype and range. Each check reports with
the live values and replaces the static finding of the same code at the same place
(`LiveOutcome.superseded`); a static CNL101 on a `fit` input that the kernel shows scaled is dropped
(`LiveOutcome.refuted`). An object rebound after the code that used it is never judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Set, Tuple

from cnnlint.crosscheck.facts import Fact, ScriptFacts
from cnnlint.crosscheck.live_code import CodeUses, FitCall, itemsize
from cnnlint.crosscheck.live_facts import LiveFacts, LiveLoader, LiveModel
from cnnlint.findings import Finding, Severity
from cnnlint.lint.suppress import is_suppressed

GIB = 1024**3
Place = Tuple[Optional[int], int, str]  # (cell, line, code)
_LOSSES = {"categorical_crossentropy": "cce", "sparse_categorical_crossentropy": "scce", "binary_crossentropy": "bce"}
_SOURCE = {"keras_iterator": "class_indices", "tf_dataset": "class_names", "torch_dataset": "classes",
           "torch_loader": "dataset.classes"}


@dataclass
class LiveOutcome:
    findings: List[Finding] = field(default_factory=list)
    superseded: Set[Place] = field(default_factory=set)  # static findings restated with the live values
    refuted: Set[Place] = field(default_factory=set)  # static findings the live values contradict

    def merge(self, static: Sequence[Finding], path: str) -> List[Finding]:
        """The static findings of `path` less those superseded or refuted, with the live ones."""
        gone = self.superseded | self.refuted
        kept = [f for f in static if f.path != path or (f.cell, f.line, f.code) not in gone]
        return kept + self.findings


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB" if n >= GIB / 10 else f"{n / 2**20:.1f} MiB"


def _span(low: float, high: float, dtype: str) -> str:
    if dtype.startswith(("int", "uint")) or (low.is_integer() and high.is_integer()):
        return f"{int(low)}..{int(high)}"
    return f"{low:g}..{high:g}"


def _names(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


class _Judge:
    def __init__(self, path: str, static: Optional[ScriptFacts], uses: CodeUses, live: LiveFacts,
                 runtime_memory: int, executed_end: Optional[int]) -> None:
        self.path, self.static, self.uses, self.live = path, static or ScriptFacts(), uses, live
        self.limit = runtime_memory
        self.executed_end = executed_end  # first joined line of the cell about to run (None: all ran)
        self.out = LiveOutcome()

    def report(self, code: str, severity: Severity, fact: Fact, message: str, hint: str) -> None:
        if is_suppressed(fact.raw, code):
            return
        self.out.findings.append(Finding(code, severity, message, self.path, max(fact.line, 1), max(fact.column, 1),
                                         hint=hint, cell=fact.cell))
        self.out.superseded.add((fact.cell, fact.line, code))

    def current(self, name: str, order: int) -> bool:
        """Whether `name` still holds, now, the value the code at joined line `order` used."""
        end = self.executed_end
        if end is not None and order >= end:  # in the cell about to run: not rebound before it there
            return not self.uses.changed(name, end - 1, order)
        return not self.uses.changed(name, order, end)

    # ---- pairs of a model and its data

    def pairs(self) -> List[Tuple[LiveModel, LiveLoader, Optional[FitCall]]]:
        found: List[Tuple[LiveModel, LiveLoader, Optional[FitCall]]] = []
        for fit in self.uses.fits:
            model, loader = self.live.models.get(fit.model), self.live.loaders.get(fit.x or "")
            if model is not None and loader is not None and self.current(fit.model, fit.order) and \
                    self.current(loader.name, fit.order):
                found.append((model, loader, fit))
        if found:
            return found
        models = [m for m in self.live.models.values() if m.units is not None]
        loaders = [ld for ld in self.live.loaders.values() if ld.classes]
        train = [ld for ld in loaders if not any(w in ld.name.lower() for w in ("val", "test"))] or loaders
        if len(models) == 1 and len({len(ld.classes or ()) for ld in train}) == 1:
            return [(models[0], train[0], None)]
        return []

    def place(self, candidates: Sequence[Fact], fit: Optional[FitCall], name: str) -> Optional[Fact]:
        if candidates:
            return candidates[-1]
        if fit is not None:
            return fit.fact
        return self.uses.places.get(name)

    # ---- CNL601, CNL602, CNL604

    def units(self, model: LiveModel, loader: LiveLoader, fit: Optional[FitCall]) -> None:
        units, classes = model.units, loader.classes or []
        n = len(classes)
        if units is None or not n or units == n or (n == 2 and units == 1):
            return
        fact = self.place([o for o in self.static.outputs if (o.value or {}).get("units") == units], fit, model.name)
        if fact is None:
            return
        what = (f"`{loader.name}` has {n} classes ({_names(classes)}; live `{_SOURCE[loader.kind]}`)")
        head = f"`{model.name}` ends in {units} output{'s' if units != 1 else ''} ({model.activation or 'linear'}; live)"
        severity = Severity.ERROR
        if units == 1:
            message = f"{head}, which tells 2 classes apart, but {what}"
        elif units < n:
            message = f"{head}, but {what}: {n - units} of them can never be predicted"
        else:
            message = f"{head}, but {what}: {units - n} outputs are never a target"
            if loader.label_mode == "onehot":
                message += f", and its one-hot labels of length {n} do not fit them (fit stops with a shape error)"
            else:
                severity = Severity.WARNING
        hint = (f"give the last layer {n} outputs (nn.Linear(..., {n}), or len({loader.name}.classes))"
                if model.framework == "torch" else f"use Dense({n}, ...) (or Dense(len(class_names)) so it follows the folders)")
        self.report("CNL601", severity, fact, message, hint)

    def shapes(self, model: LiveModel, loader: LiveLoader, fit: Optional[FitCall]) -> None:
        want, got = model.input_shape, loader.image_shape
        if model.framework != "keras" or not want or not got or len(want) != 3 or len(got) != 3:
            return
        if all(a is None or b is None or a == b for a, b in zip(want, got)):
            return
        size = [d for d in got[:2]]
        facts = [ld.target_size for ld in self.static.loaders if ld.target_size is not None and ld.target_size.value == size]
        fact = self.place([f for f in facts if f is not None], fit, loader.name)
        if fact is None:
            return
        dims = "x".join(str(d) for d in got)
        takes = "x".join("any" if d is None else str(d) for d in want)
        self.report("CNL602", Severity.ERROR, fact,
                    f"`{loader.name}` yields {dims} images (live image_shape), but `{model.name}` takes {takes} "
                    f"(live input shape)",
                    f"load images of the model's size (target_size/image_size=({want[0]}, {want[1]}), "
                    "color_mode to match its channels) or change the model's input shape")

    def labels(self, model: LiveModel, loader: LiveLoader, fit: Optional[FitCall]) -> None:
        kind, n, mode = _LOSSES.get(model.loss or ""), len(loader.classes or []), loader.label_mode
        if kind is None or not n or mode is None:
            return
        if kind == "scce" and mode == "onehot":
            problem = f"one-hot vectors of length {n}, but `{model.loss}` expects integer class indices"
            hint = 'use categorical_crossentropy, or class_mode="sparse" / label_mode="int"'
        elif kind == "cce" and mode == "int":
            problem = f"integer indices 0-{n - 1}, but `{model.loss}` expects one-hot labels"
            hint = 'use sparse_categorical_crossentropy, or class_mode="categorical" / label_mode="categorical"'
        elif kind == "bce" and mode in ("int", "binary") and n > 2:
            problem = f"labels 0-{n - 1} for {n} classes, but `{model.loss}` expects 0/1 labels"
            hint = f'use sparse_categorical_crossentropy with Dense({n}, activation="softmax")'
        else:
            return
        fact = self.place([f for f in self.static.losses if f.value == kind], fit, model.name)
        if fact is None:
            return
        self.report("CNL604", Severity.ERROR, fact,
                    f"`{loader.name}` gives {problem} (live: `{model.name}` compiled with {model.loss})", hint)
        self.out.superseded.add((fact.cell, fact.line, "CNL302"))

    # ---- CNL101: arrays reaching fit unscaled

    def scaling(self) -> None:
        for fit in self.uses.fits:
            array = self.live.arrays.get(fit.x or "")
            if array is None or array.low is None or array.high is None or not self.current(array.name, fit.order):
                continue
            place = (fit.fact.cell, fit.fact.line, "CNL101")
            if array.high <= 1.0 or array.low < 0:
                self.out.refuted.add(place)  # scaled (0..1) or standardized: the kernel shows it
                continue
            model = self.live.models.get(fit.model)
            if model is None or model.scales or model.unknown_layers or model.embeds or len(array.shape) < 3:
                continue
            if not self.current(fit.model, fit.order):
                continue
            span = _span(array.low, array.high, array.dtype)
            sample = ("" if array.sampled >= array.size else f", min and max of {array.sampled:,} of {array.size:,} values")
            self.report("CNL101", Severity.WARNING, fit.fact,
                        f"`{array.name}` is {array.dtype} with values {span} (live: shape "
                        f"{'x'.join(str(d) for d in array.shape)}{sample}) and reaches `{fit.model}.{fit.tail}` unscaled: "
                        "the model has no Rescaling or Normalization layer",
                        f"divide it before training ({array.name} = {array.name} / 255.) or add "
                        "layers.Rescaling(1./255) as the model's first layer")

    # ---- CNL607: a whole-array conversion in the cell about to run

    def memory(self) -> None:
        held = sum(a.nbytes for a in self.live.arrays.values())
        for conv in self.uses.conversions:
            array = self.live.arrays.get(conv.name)
            if array is None or array.framework != "numpy":
                continue
            dtype, new, made = array.dtype, 0, []
            for op, target in conv.steps:
                dtype = _promoted(dtype, op, target)
                size = itemsize(dtype)
                if size is None:
                    break
                new += array.size * size
                made.append(dtype)
            else:
                if held + new <= self.limit:
                    continue
                shape = " x ".join(f"{d:,}" for d in array.shape)
                limit = ("the 12 GiB of a typical Colab runtime" if self.limit == 12 * GIB
                         else f"runtime-memory ({_gib(self.limit)})")
                self.report("CNL607", Severity.ERROR, conv.fact,
                            f"`{conv.fact.text}` makes {len(made)} new {'/'.join(dict.fromkeys(made))} "
                            f"cop{'y' if len(made) == 1 else 'ies'} of `{conv.name}` ({shape} {array.dtype} values, "
                            f"live): {_gib(new)} while it runs, {_gib(held + new)} with the {_gib(held)} the kernel's "
                            f"arrays hold, more than {limit}",
                            "scale batch by batch instead (a Rescaling layer, a generator's rescale, or "
                            "tf.data's map); runtime-memory in [tool.cnnlint] sets the limit")

    def run(self) -> LiveOutcome:
        self.scaling()
        for model, loader, fit in self.pairs():
            self.units(model, loader, fit)
            self.shapes(model, loader, fit)
            self.labels(model, loader, fit)
        self.memory()
        return self.out


def _promoted(dtype: str, op: str, target: str) -> str:
    """The dtype NumPy gives `array <op> constant` (or `.astype(target)`)."""
    if op == "astype":
        return {"float": "float64", "double": "float64", "single": "float32", "half": "float16", "int": "int64"}.get(
            target, target)
    floating = dtype.startswith("float")
    if op in ("div", "float"):
        return dtype if floating else "float64"
    return dtype


def live_check(path: str, static: Optional[ScriptFacts], uses: CodeUses, live: LiveFacts, runtime_memory: int,
               executed_end: Optional[int] = None) -> LiveOutcome:
    """The live findings for the cells shown as `path`. `executed_end`: the first joined line of a cell
    about to run (its conversions are judged, and its names may be rebound before use)."""
    return _Judge(path, static, uses, live, runtime_memory, executed_end).run()

