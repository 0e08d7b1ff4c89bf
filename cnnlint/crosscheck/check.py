"""Hold each script's pipeline facts against the datasets of the same run: CNL601-CNL608.

Each check says what it compared in the JSON record (`"crosscheck"`), whether
it agreed or not; a fact the code leaves unknown, or a dataset the script
cannot be tied to, is never judged.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Set, Tuple

from cnnlint.crosscheck.facts import Fact, Loader, ScriptFacts
from cnnlint.crosscheck.match import Match, match_path
from cnnlint.dataset.record import MODE_NAMES
from cnnlint.findings import Finding, Severity
from cnnlint.lint.suppress import is_suppressed

if TYPE_CHECKING:
    import numpy as np

    from cnnlint.dataset.run import DatasetResult

GIB = 1024**3
DEFAULT_RUNTIME_MEMORY = 12 * GIB
UPSCALE = 2.0  # an image is upscaled "much" past this factor
UPSCALED_SHARE = 0.5  # ... and most images are
COLOUR_SHARE = 0.5  # grey reading of a set where more than this share has colour
CLASS_APIS = ("flow_from_directory", "image_dataset_from_directory", "ImageFolder", "DatasetFolder")
_CHANNELS = {"RGB": 3, "L": 1, "LA": 2, "RGBA": 4, "P": 1, "PA": 2, "CMYK": 4, "1": 1, "16-bit": 1, "YCbCr": 3}
_ENCODING = {"categorical": "onehot", "sparse": "int", "int": "int", "binary": "binary"}
_LOSS_TEXT = {"cce": "categorical_crossentropy", "scce": "sparse_categorical_crossentropy", "bce": "binary_crossentropy"}


@dataclass
class Script:
    path: str  # as shown
    real_path: str
    facts: ScriptFacts
    named: bool = False  # named on the command line (not found by walking a folder)


@dataclass
class Outcome:
    findings: List[Finding] = field(default_factory=list)
    records: List[Dict[str, Any]] = field(default_factory=list)  # the JSON "crosscheck" key
    superseded: Set[Tuple[str, int, Optional[int], str]] = field(default_factory=set)  # (path, line, cell, code)
    unplaced: Set[str] = field(default_factory=set)  # scripts with a finding on a fact extracted without its place


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 'es' if word.endswith('s') else 's'}"


def _names(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _human(nbytes: int) -> str:
    return f"{nbytes / GIB:g} GiB" if nbytes >= GIB else f"{nbytes / 2**20:g} MiB"


def _at(fact: Fact) -> str:
    return f"cell {fact.cell}, line {fact.line}" if fact.cell is not None else f"line {fact.line}"


def _size_text(hw: Sequence[Any]) -> str:
    return f"{hw[0]}x{hw[1]}"


class _Checker:
    def __init__(self, script: Script, results: Sequence[DatasetResult], runtime_memory: int, cwd: str,
                 missing_paths: bool, given: Optional[Sequence[DatasetResult]] = None) -> None:
        self.given = given
        self.s = script
        self.f = script.facts
        self.results = results
        self.limit = runtime_memory
        self.cwd = cwd
        self.missing_paths = missing_paths
        self.out = Outcome()
        self.record: Dict[str, Any] = {"script": script.path, "facts": []}
        self._matches: Dict[int, Optional[Match]] = {}

    # ---- output

    def note(self, kind: str, fact: Fact, against: Optional[Dict[str, Any]] = None, result: str = "not checked",
             code: Optional[str] = None) -> None:
        entry: Dict[str, Any] = {
            "fact": kind, "value": fact.value, "code": fact.text, "default": fact.default,
            "line": fact.line, "column": fact.column,
        }
        if fact.cell is not None:
            entry["cell"] = fact.cell
        entry["held_against"] = against
        entry["result"] = result
        if code:
            entry["finding"] = code
        self.record["facts"].append(entry)

    def report(self, code: str, severity: Severity, fact: Fact, message: str, hint: str) -> bool:
        if fact.line == 0:
            self.out.unplaced.add(self.s.path)  # the caller places this script's facts and checks it again
        elif is_suppressed(fact.raw, code):
            return False
        self.out.findings.append(Finding(
            code=code, severity=severity, message=message, path=self.s.path,
            line=max(fact.line, 1), column=max(fact.column, 1), cell=fact.cell, hint=hint,
        ))
        return True

    # ---- matching

    def match(self, loader: Loader) -> Optional[Match]:
        key = id(loader)
        if key not in self._matches:
            self._matches[key] = match_path(loader.call.value, loader.exact, loader.role, self.s.real_path,
                                            self.results, self.cwd, self.given)
        return self._matches[key]

    @staticmethod
    def against(m: Match, what: str, value: Any) -> Dict[str, Any]:
        return {"dataset": m.result.dataset.path, "folder": m.folder, "matched_by": m.how, "fact": what,
                "value": value}

    def class_loaders(self) -> List[Tuple[Loader, Match, List[str]]]:
        """Loaders that take labels from class folders, matched to a dataset with at least one class."""
        out = []
        for loader in self.f.loaders:
            if loader.api not in CLASS_APIS:
                continue
            mode = loader.class_mode.value if loader.class_mode is not None else None
            if mode in ("None", "input", None) or loader.classes is not None:
                continue
            m = self.match(loader)
            if m is None:
                continue
            names = m.class_names()
            if names:
                out.append((loader, m, names))
        return out

    def training_class_loaders(self) -> List[Tuple[Loader, Match, List[str]]]:
        found = self.class_loaders()
        train = [x for x in found if x[0].role in ("train", None)]
        return train or found

    # ---- the checks

    def run(self) -> Outcome:
        self.loaders_record()
        self.units()
        self.shapes()
        self.channels()
        self.label_modes()
        self.imbalance()
        self.missing()
        self.memory()
        self.upscaling()
        self.out.records.append(self.record)
        return self.out

    def loaders_record(self) -> None:
        for loader in self.f.loaders:
            m = self.match(loader)
            against = self.against(m, "dataset", m.result.dataset.path) if m is not None else None
            self.note(f"data path ({loader.api})", loader.call, against, "matched" if m else "no dataset")
            if loader.batch_size is not None and loader.batch_size.value is not None:
                self.note("batch size", loader.batch_size)  # recorded; no check holds it against the data

    def units(self) -> None:
        if self.f.relabels:
            for out in self.f.outputs:
                self.note("output units", out, None, "not checked (the labels are changed after loading)")
            return
        loaders = self.training_class_loaders()
        counts = {len(names) for _, _, names in loaders}
        if not self.f.outputs:
            return
        if len(counts) != 1:
            for out in self.f.outputs:
                self.note("output units", out)
            return
        loader, m, names = loaders[0]
        n = len(names)
        verdicts = [(out, self._units_agree(out.value["units"], n)) for out in self.f.outputs]
        against = self.against(m, "class folders", n)
        if any(ok for _, ok in verdicts):
            for out, ok in verdicts:
                self.note("output units", out, against, "agrees" if ok else "not checked (another model agrees)")
            return
        for out, _ in verdicts:
            units = out.value["units"]
            what = self._classes_text(m, names)
            if units == 1:
                message = (f"`{out.text}` is a single output, which tells 2 classes apart, but {what}")
                severity = Severity.ERROR
            elif units < n:
                message = f"`{out.text}` gives {units} outputs, but {what}: {n - units} of them can never be predicted"
                severity = Severity.ERROR
            else:
                message = f"`{out.text}` gives {units} outputs, but {what}: {units - n} outputs are never a target"
                # one-hot labels of length n against n+k outputs: Keras stops on the shape mismatch
                onehot = loader.keras and loader.class_mode is not None and loader.class_mode.value == "categorical"
                if onehot:
                    message += f", and the one-hot labels of length {n} do not fit them (fit stops with a shape error)"
                severity = Severity.ERROR if onehot else Severity.WARNING
            torch = out.value.get("activation") == "linear" and loader.api in ("ImageFolder", "DatasetFolder")
            hint = (f"give the last layer {n} outputs (nn.Linear(..., {n}), or len(dataset.classes) so it follows the folders)"
                    if torch else f"use Dense({n}, ...) (or Dense(len(class_names)) so it follows the folders)")
            if m.reads_splits_as_classes:
                hint = (f"point the loader at {m.result.dataset.path.rstrip(os.sep)}/{m.result.dataset.splits[0].name}/, "
                        "not at the folder of splits")
            self.report("CNL601", severity, out, message, hint)
            self.note("output units", out, against, "differs", "CNL601")

    @staticmethod
    def _units_agree(units: int, n: int) -> bool:
        return units == n or (n == 2 and units == 1)

    @staticmethod
    def _classes_text(m: Match, names: List[str]) -> str:
        if m.reads_splits_as_classes:
            return (f"{m.folder} holds split folders ({_names([n + '/' for n in names])}), not class folders: "
                    f"the loader takes them for {len(names)} classes")
        return f"{m.folder} has {len(names)} class folders ({_names(names)})"

    def shapes(self) -> None:
        shapes = {tuple(s.value) for s in self.f.input_shapes}
        keras_loaders = [ld for ld in self.f.loaders if ld.keras and ld.feeds]
        if len(shapes) != 1 or not keras_loaders:
            return
        shape_fact = self.f.input_shapes[0]
        h, w, c = shape_fact.value
        where = f"`{shape_fact.text}` at {_at(shape_fact)}"
        if shape_fact.default:
            where = f"`{shape_fact.text}` (its default input, {h}x{w})"
        for loader in keras_loaders:
            t = loader.target_size
            if t is not None and t.value is not None and h is not None and w is not None:
                ok = [t.value[0], t.value[1]] == [h, w]
                against = {"fact": "model input shape", "value": shape_fact.value, "at": _at(shape_fact)}
                if self.f.resizes:
                    self.note("target size", t, against, "not checked (the script resizes after loading)")
                elif ok:
                    self.note("target size", t, against, "agrees")
                else:
                    what = (f"`{loader.api}` resizes to its default {_size_text(t.value)}" if t.default
                            else f"`{t.text}` loads {_size_text(t.value)} images")
                    arg = "image_size" if loader.api == "image_dataset_from_directory" else "target_size"
                    self.report("CNL602", Severity.ERROR, t,
                                f"{what}, but the model takes {h}x{w} ({where})",
                                f"use {arg}=({h}, {w}), the model's input size, or change the model's input shape")
                    self.note("target size", t, against, "differs", "CNL602")
            cm = loader.color_mode
            if cm is not None and cm.value in ("rgb", "grayscale", "rgba") and c is not None:
                channels = {"rgb": 3, "grayscale": 1, "rgba": 4}[cm.value]
                against = {"fact": "model input channels", "value": c, "at": _at(shape_fact)}
                if channels == c:
                    self.note("color mode", cm, against, "agrees")
                else:
                    what = (f'`{loader.api}` reads color_mode="{cm.value}" by default' if cm.default
                            else f"`{cm.text}`")
                    want = {1: "grayscale", 3: "rgb", 4: "rgba"}.get(c)
                    self.report("CNL602", Severity.ERROR, cm,
                                f"{what} gives {channels}-channel images, but the model takes {c} channels ({where})",
                                f'use color_mode="{want}"' if want else "make the loader's channels match the model's input")
                    self.note("color mode", cm, against, "differs", "CNL602")

    # ---- channels against the images' modes

    def _script_matches(self) -> List[Match]:
        seen: Dict[str, Match] = {}
        for loader in self.f.loaders:
            m = self.match(loader)
            if m is not None:
                seen.setdefault(m.result.dataset.real_path, m)
        return list(seen.values())

    def channels(self) -> None:
        for loader in self.f.loaders:
            cm = loader.color_mode
            if cm is None or cm.value != "grayscale":
                continue
            m = self.match(loader)
            if m is None:
                continue
            self._grey_read(cm, m, f"`{cm.text}`" if not cm.default else 'color_mode="grayscale"')
        matches = self._script_matches()
        if len(matches) != 1:
            return
        m = matches[0]
        for reader in self.f.readers:
            channels = reader.value.get("channels")
            name = reader.value.get("name", "")
            if channels == 1:
                self._grey_read(reader, m, f"`{reader.text}`")
            elif channels is None:
                self._unforced(reader, m, name)

    def _grey_read(self, fact: Fact, m: Match, what: str) -> None:
        agg = m.result.aggregate
        colour = agg.colour.get(True, 0)
        usable = agg.usable
        against = self.against(m, "images with colour", {"colour": colour, "of": usable})
        if not usable or not agg.colour:
            self.note("channels", fact, against, "not checked (pixels not decoded)")
            return
        share = colour / usable
        if share <= COLOUR_SHARE:
            self.note("channels", fact, against, "agrees")
            return
        self.report("CNL603", Severity.WARNING, fact,
                    f"{what} turns every image grey, but {share:.0%} of the images in {m.result.dataset.path.rstrip(os.sep)}/ "
                    f"are colour pictures: the model never sees their colour",
                    'read them in colour (color_mode="rgb", a 3-channel input) unless grey is intended; '
                    "then convert the files once instead")
        self.note("channels", fact, against, "differs", "CNL603")

    def _unforced(self, fact: Fact, m: Match, name: str) -> None:
        agg = m.result.aggregate
        counts: Dict[int, int] = {}
        by_mode: Dict[str, int] = {}
        for label, n in agg.modes.items():
            ch = _CHANNELS.get(label)
            if ch is None:
                continue
            counts[ch] = counts.get(ch, 0) + n
            by_mode[label] = n
        against = self.against(m, "channel counts", {str(k): v for k, v in sorted(counts.items())})
        if "read_image" in name:
            forced = "read_image(p, ImageReadMode.RGB)"
        elif name.endswith("open"):
            forced = 'Image.open(p).convert("RGB")'
        else:
            forced = "decode_jpeg(data, channels=3) / decode_image(data, channels=3, expand_animations=False)"
        hint = f"force the channel count where the file is read: {forced}"
        mix = ", ".join(f"{n:,} {MODE_NAMES.get(k, k)}" for k, n in sorted(by_mode.items(), key=lambda kv: -kv[1]))
        folder = m.result.dataset.path.rstrip(os.sep) + "/"
        if len(counts) > 1:
            self.report("CNL603", Severity.WARNING, fact,
                        f"`{fact.text}` keeps each file's own channels, and {folder} mixes them ({mix}): "
                        f"images of different shapes cannot be stacked into one batch",
                        hint)
            self.note("channels", fact, against, "differs", "CNL603")
            return
        if counts and set(counts) != {3}:
            only = next(iter(counts))
            model_c = {s.value[2] for s in self.f.input_shapes if s.value[2] is not None}
            wants_rgb = model_c == {3} or (not model_c and self.f.pretrained)
            if wants_rgb and only in (1, 2, 4):
                self.report("CNL603", Severity.WARNING, fact,
                            f"`{fact.text}` keeps each file's own channels, and every image in {folder} has "
                            f"{only} ({mix}), but the model takes 3",
                            hint)
                self.note("channels", fact, against, "differs", "CNL603")
                return
        self.note("channels", fact, against, "agrees")

    # ---- labels

    def label_modes(self) -> None:
        if self.f.relabels:
            return  # .map / one_hot / target_transform change the labels the loader made
        loaders = [x for x in self.class_loaders() if x[0].keras]
        for loader, m, names in loaders:
            cm = loader.class_mode
            assert cm is not None
            n = len(names)
            against = self.against(m, "class folders", n)
            if cm.value == "binary" and n != 2:
                what = self._classes_text(m, names)
                arg = "label_mode" if loader.api == "image_dataset_from_directory" else "class_mode"
                effect = ("image_dataset_from_directory raises ValueError unless there are exactly 2 classes"
                          if loader.api == "image_dataset_from_directory"
                          else f"flow_from_directory then gives labels 0-{n - 1}, which a binary loss takes for yes/no" if n > 2
                          else "there is only one class to learn")
                self.report("CNL604", Severity.ERROR, cm,
                            f'{arg}="binary" is for two classes (one 0/1 label per image), but {what}: {effect}',
                            f'use {arg}="categorical" with categorical_crossentropy '
                            f'(or "{"int" if arg == "label_mode" else "sparse"}" '
                            f"with sparse_categorical_crossentropy) and Dense({n}, activation=\"softmax\")" if n > 2
                            else "add the other class's folder, or train a one-class method instead")
                self.note("class mode", cm, against, "differs", "CNL604")
        train = [x for x in loaders if x[0].role in ("train", None)] or loaders
        encodings = {_ENCODING.get(x[0].class_mode.value) for x in train if x[0].class_mode is not None}
        losses = {(loss.value) for loss in self.f.losses if loss.value in _LOSS_TEXT}
        if len(encodings) != 1 or None in encodings or len(losses) != 1:
            return
        enc = next(iter(encodings))
        kind = next(iter(losses))
        loss = next(loss for loss in self.f.losses if loss.value == kind)
        loader, m, names = train[0]
        cm = loader.class_mode
        assert cm is not None
        n = len(names)
        mode_text = (f'{"label_mode" if loader.api == "image_dataset_from_directory" else "class_mode"}="{cm.value}"'
                     + (" (the default)" if cm.default else ""))
        against = {"fact": f"labels from {mode_text} over {n} class folders", "dataset": m.result.dataset.path,
                   "folder": m.folder, "value": {"encoding": enc, "classes": n}}
        message = None
        if kind == "scce" and enc == "onehot":
            message = (f"`{loss.text}` expects integer class indices, but {mode_text} ({_at(cm)}) gives "
                       f"one-hot vectors of length {n}, one per class folder of {m.folder}")
            hint = "use categorical_crossentropy, or class_mode=\"sparse\" / label_mode=\"int\""
        elif kind == "cce" and enc == "int":
            message = (f"`{loss.text}` expects one-hot labels, but {mode_text} ({_at(cm)}) gives integer "
                       f"indices 0-{n - 1} for the {n} class folders of {m.folder}")
            hint = "use sparse_categorical_crossentropy, or class_mode=\"categorical\" / label_mode=\"categorical\""
        elif kind == "bce" and enc == "int" and n > 2:
            message = (f"`{loss.text}` expects 0/1 labels, but {mode_text} ({_at(cm)}) gives indices "
                       f"0-{n - 1} for the {n} class folders of {m.folder}")
            hint = f"use sparse_categorical_crossentropy with Dense({n}, activation=\"softmax\")"
        if message is None:
            self.note("loss", loss, against, "agrees")
            return
        if self.report("CNL604", Severity.ERROR, loss, message, hint):
            self.out.superseded.add((self.s.path, loss.line, loss.cell, "CNL302"))
        self.note("loss", loss, against, "differs", "CNL604")

    # ---- imbalance

    def imbalance(self) -> None:
        if not self.f.training:
            return
        matches = [m for _, m, _ in self.training_class_loaders()]
        if not matches:
            matches = [m for m in (self.match(ld) for ld in self.f.loaders if ld.role in ("train", None)) if m is not None]
        seen: Set[str] = set()
        for m in matches:
            folder = m.folder
            if folder in seen:
                continue
            seen.add(folder)
            finding = self._imbalance_finding(m)
            fact = self.f.training[0]
            against = self.against(m, "class imbalance (CNL506)", finding.message if finding else None)
            if finding is None:
                self.note("training step", fact, against, "agrees (balanced)")
                continue
            if self.f.weighting:
                self.note("class weighting", self.f.weighting[0], against, "agrees (weighted)")
                continue
            torch = fact.value == "step"
            self.report("CNL605", Severity.WARNING, fact,
                        f"trains on {folder}, whose classes are imbalanced ({finding.message}), with no class weights, "
                        f"weighted sampler or weighted loss: the model learns to favour the large classes",
                        "pass a WeightedRandomSampler to the DataLoader, or CrossEntropyLoss(weight=...)" if torch
                        else "pass class_weight= to fit (e.g. from sklearn's compute_class_weight('balanced', ...))")
            self.note("training step", fact, against, "differs (no class weighting)", "CNL605")

    @staticmethod
    def _imbalance_finding(m: Match) -> Optional[Finding]:
        targets = {os.path.realpath(m.split.real_path)} if m.split is not None else {
            os.path.realpath(s.real_path) for s in m.result.dataset.splits if s.role in ("train", None)}
        for f in m.result.findings:
            if f.code == "CNL506" and os.path.realpath(f.path) in targets:
                return f
        return None

    # ---- paths that are not there

    def missing(self) -> None:
        if not self.missing_paths or self.f.creates_data:
            return
        reported: Set[str] = set()
        for loader in self.f.loaders:
            path = loader.call.value
            if not path or not loader.exact or path in reported or self.match(loader) is not None:
                continue
            if _elsewhere(path):
                continue
            folder = os.path.dirname(self.s.real_path)
            places = [os.path.join(folder, path), os.path.join(self.cwd, path)]
            if any(os.path.exists(p) for p in places):
                continue
            where = "beside the script" if os.path.realpath(folder) == os.path.realpath(self.cwd) else \
                "beside the script or in the current folder"
            reported.add(path)
            self.report("CNL606", Severity.WARNING, loader.call,
                        f'`{loader.api}` reads "{path}", which does not exist {where}, and no dataset given '
                        f"to cnnlint matches it",
                        f"fix the path, or give the dataset folder too: cnnlint {self.s.path} DATA_DIR")
            self.note(f"data path ({loader.api})", loader.call, {"fact": "exists", "value": False}, "differs", "CNL606")

    # ---- memory

    def memory(self) -> None:
        if not self.results:
            for fact in self.f.in_memory:
                self.note("images held in memory", fact)
            return
        import numpy as np  # only with datasets: a run without any does not pay for the import

        for fact in self.f.in_memory:
            v = fact.value
            m = match_path(v.get("path"), bool(v.get("exact")), None, self.s.real_path, self.results, self.cwd,
                           self.given)
            if m is None:
                self.note("images held in memory", fact)
                continue
            mask = _split_mask(m)
            agg = m.result.aggregate
            n = int(mask.sum()) if mask is not None else agg.usable
            channels = int(v.get("channels") or 3)
            per = int(v.get("bytes") or 1)
            size = v.get("size")
            if size:
                pixels = n * size[0] * size[1]
                shape = f"{size[0]} x {size[1]}"
            else:
                w = np.frombuffer(agg.widths, dtype=np.uint16).astype(np.int64)
                h = np.frombuffer(agg.heights, dtype=np.uint16).astype(np.int64)
                if mask is not None:
                    w, h = w[mask], h[mask]
                pixels = int((w * h).sum())
                shape = "their own sizes" + (f" (on average {pixels / max(n, 1):,.0f} pixels)" if n else "")
            need = pixels * channels * per
            dtype = {1: "uint8", 2: "float16", 4: "float32", 8: "float64"}.get(per, f"{per}-byte")
            against = self.against(m, "images", n)
            against["estimate_bytes"] = need
            against["limit_bytes"] = self.limit
            if need <= self.limit:
                self.note("images held in memory", fact, against, "fits")
                continue
            self.report("CNL607", Severity.ERROR, fact,
                        f"`{fact.text}` holds all {n:,} images of {m.folder} at once: {n:,} x {shape} x {channels} "
                        f"channels x {per} byte{'s' if per != 1 else ''} ({dtype}) = {need / GIB:.1f} GiB, more than "
                        + (f"the {self.limit / GIB:g} GiB of a typical Colab runtime" if self.limit == DEFAULT_RUNTIME_MEMORY
                           else f"runtime-memory ({_human(self.limit)})"),
                        "stream the images from disk (image_dataset_from_directory, a tf.data pipeline or a "
                        "torch Dataset that reads per item); runtime-memory in [tool.cnnlint] sets the limit")
            self.note("images held in memory", fact, against, "too large", "CNL607")

    # ---- upscaling

    def upscaling(self) -> None:
        if not self.results:
            return
        import numpy as np

        for loader in self.f.loaders:
            t = loader.target_size
            if t is None or not t.value:
                continue
            m = self.match(loader)
            if m is None:
                continue
            agg = m.result.aggregate
            w = np.frombuffer(agg.widths, dtype=np.uint16)
            h = np.frombuffer(agg.heights, dtype=np.uint16)
            mask = _split_mask(m)
            if mask is not None:
                w, h = w[mask], h[mask]
            if not len(w):
                continue
            th, tw = t.value
            small = (h.astype(np.float64) * UPSCALE < th) | (w.astype(np.float64) * UPSCALE < tw)
            share = float(small.mean())
            against = self.against(m, "images upscaled more than 2x", {"share": round(share, 4), "images": int(len(w))})
            if share <= UPSCALED_SHARE:
                self.note("target size", t, against, "agrees")
                continue
            if self.f.pretrained:
                self.note("target size", t, against, "not checked (pretrained weights: upscaling is deliberate)")
                continue
            mh, mw = int(np.median(h)), int(np.median(w))
            what = (f"`{loader.api}` resizes to its default {_size_text(t.value)}" if t.default
                    else f"`{t.text}` resizes to {_size_text(t.value)}")
            self.report("CNL608", Severity.WARNING, t,
                        f"{what}, but {share:.0%} of the {len(w):,} images in {m.folder} are under half that "
                        f"(median {mh}x{mw}): upscaled more than 2x, they add pixels and compute but no detail",
                        f"use a size near the images' own (about ({mh}, {mw})), or collect larger images")
            self.note("target size", t, against, "differs", "CNL608")


_WINDOWS_ABS = re.compile(r"^([A-Za-z]:)?[\\/]")


def _elsewhere(path: str) -> bool:
    """A path that names another machine's folder, or one made at run time: not checked here.

    Absolute paths (`/content/drive/...`, `C:\\Users\\...`), home folders, Kaggle's `../input/...`,
    URLs and paths with placeholders.
    """
    return bool(
        os.path.isabs(path) or _WINDOWS_ABS.match(path) or path.startswith("~") or "://" in path
        or any(ch in path for ch in "{}$%*?[") or path.replace("\\", "/").startswith(("../input", "input/"))
    )


def _split_mask(m: Match) -> "Optional[np.ndarray]":
    """Which usable images of the dataset lie in the split the match reads (None: all of them)."""
    import numpy as np

    si = m.split_index()
    agg = m.result.aggregate
    if si is None or len(m.result.dataset.splits) == 1:
        return None
    split_of_key = np.array([s for s, _ in m.result.dataset.keys], dtype=np.int64)
    keys = np.frombuffer(agg.image_keys, dtype=np.uint32).astype(np.int64)
    if not len(keys):
        return np.zeros(0, dtype=bool)
    return split_of_key[keys] == si


def crosscheck(scripts: Sequence[Script], results: Sequence[DatasetResult], runtime_memory: int,
               cwd: Optional[str] = None, pre_commit: bool = False,
               given: Optional[Sequence[DatasetResult]] = None) -> Outcome:
    """Every script's facts against the run's datasets (`given`: those named on the command line;
    None: all of them)."""
    cwd = cwd or os.getcwd()
    total = Outcome()
    for script in scripts:
        # a missing path matters for a script named to be run here, or beside data named to go with it
        missing_paths = bool(given if given is not None else results) or (script.named and not pre_commit)
        out = _Checker(script, results, runtime_memory, cwd, missing_paths, given).run()
        total.findings.extend(out.findings)
        total.records.extend(r for r in out.records if r["facts"])
        total.superseded |= out.superseded
        total.unplaced |= out.unplaced
    return total
