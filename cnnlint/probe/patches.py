"""Framework patches in the probed child, installed by an import hook when the script imports them.

- Keras (`keras`, `tf_keras`): `Model.fit` takes one real batch of what it was given, tiles it to
  the probe's batch size and runs the original `fit` for one step, twice, with no callbacks; the
  reading follows. Every `fit` call site of the script is probed; the child leaves after the last.
- TensorFlow: `Dataset.batch` takes the probe's batch size; a custom `GradientTape` loop stops at
  its optimizer's second `apply_gradients` (eager) or second call of the `tf.function` that applies them.
- PyTorch: `DataLoader` takes the probe's batch size (unless a batch sampler is given) and
  `num_workers=0`; the reading follows the optimizer steps (global step post-hook).
After the first reading, model and checkpoint saving is turned into a no-op.
"""

from __future__ import annotations

import importlib.abc
import inspect
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

_HOOKED = ("keras", "tf_keras", "tensorflow", "torch", "requests", "urllib.request")


class _PostImport(importlib.abc.MetaPathFinder):
    """Runs a callback when one of the watched top-level modules has finished importing."""

    def __init__(self, callback: Callable[[str, Any], None]) -> None:
        self.callback = callback
        self.busy: set = set()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _HOOKED or fullname in self.busy:
            return None
        self.busy.add(fullname)
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            self.busy.discard(fullname)
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module
        callback = self.callback

        class _Loader(importlib.abc.Loader):
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)  # type: ignore[union-attr]

            def exec_module(self, module: Any) -> None:
                original(module)
                callback(fullname, module)

            def __getattr__(self, name: str) -> Any:
                return getattr(loader, name)

        spec.loader = _Loader()
        return spec


def install(state: Any) -> None:
    patcher = Patcher(state)
    for name in _HOOKED:
        if name in sys.modules:
            patcher.on_import(name, sys.modules[name])
    sys.meta_path.insert(0, _PostImport(patcher.on_import))


# ------------------------------------------------------------------ batches

def _leaves(obj: Any) -> List[Any]:
    if isinstance(obj, dict):
        return [leaf for v in obj.values() for leaf in _leaves(v)]
    if isinstance(obj, (list, tuple)):
        return [leaf for v in obj for leaf in _leaves(v)]
    return [] if obj is None else [obj]


def _map(obj: Any, fn: Callable[[Any], Any]) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return {k: _map(v, fn) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_map(v, fn) for v in obj)
    if isinstance(obj, list):
        return [_map(v, fn) for v in obj]
    return fn(obj)


def _rows(obj: Any) -> int:
    leaves = _leaves(obj)
    if not leaves:
        raise ValueError("empty batch")
    return int(len(leaves[0]))


def _numpy(obj: Any) -> Any:
    import numpy as np

    def conv(leaf: Any) -> Any:
        if hasattr(leaf, "detach"):  # torch tensor
            leaf = leaf.detach().cpu()
        arr = np.asarray(leaf)
        if arr.dtype == object or arr.ndim == 0:
            raise TypeError("not an array batch")
        return arr

    return _map(obj, conv)


def _tile(obj: Any, size: int) -> Any:
    import numpy as np

    def tile(arr: Any) -> Any:
        return arr[np.arange(size) % len(arr)]

    return _map(obj, tile)


def _split(element: Any) -> Tuple[Any, Any, Any]:
    if isinstance(element, (tuple, list)) and 1 <= len(element) <= 3:
        parts = list(element) + [None] * (3 - len(element))
        return parts[0], parts[1], parts[2]
    return element, None, None


def one_batch(x: Any, y: Any, sample_weight: Any, batch_size: Optional[int]) -> Tuple[Any, Any, Any]:
    """One real batch, as NumPy arrays: (x, y, sample_weight)."""
    tf = sys.modules.get("tensorflow")
    if tf is not None and hasattr(tf, "data") and isinstance(x, tf.data.Dataset):
        return _numpy(_split(next(iter(x))))
    is_array = hasattr(x, "shape") or isinstance(x, (list, tuple, dict))
    if not is_array and hasattr(x, "__getitem__") and hasattr(x, "__len__"):  # keras Sequence / PyDataset
        return _numpy(_split(x[0]))
    if not is_array and hasattr(x, "__next__"):
        return _numpy(_split(next(x)))
    if not is_array and hasattr(x, "__iter__"):  # a torch DataLoader handed to Keras 3
        return _numpy(_split(next(iter(x))))
    xs = _numpy(x)
    n = _rows(xs)
    take = min(batch_size or 32, n)
    cut = lambda arr: arr[:take]  # noqa: E731
    return _map(xs, cut), _map(_numpy(y), cut) if y is not None else None, (
        _map(_numpy(sample_weight), cut) if sample_weight is not None else None
    )


# ------------------------------------------------------------------ patcher

class Patcher:
    def __init__(self, state: Any) -> None:
        self.state = state
        self.done: set = set()
        self.apply_calls: Dict[int, int] = {}
        self.step_functions: set = set()
        self.function_calls: Dict[int, int] = {}
        self.tracing: List[Any] = []
        self.torch_steps: Dict[int, int] = {}

    def on_import(self, name: str, module: Any) -> None:
        if name in self.done:
            return
        self.done.add(name)
        try:
            if name in ("keras", "tf_keras"):
                self.patch_keras(module)
            elif name == "tensorflow":
                self.patch_tensorflow(module)
            elif name == "torch":
                self.patch_torch(module)
            elif name == "requests" and self.state.network is not None:
                self.state.network.watch_requests(module)
            elif name == "urllib.request" and self.state.network is not None:
                self.state.network.watch_urllib(module)
        except Exception as exc:  # a framework version we do not know: run unpatched, say so
            print(f"[cnnlint --probe] could not patch {name}: {type(exc).__name__}: {exc}", file=sys.stderr)

    # ------------------------------------------------------------------ after a reading
    def suppress_saves(self) -> None:
        """Model and checkpoint writes become no-ops (the script goes on to a later `fit`)."""
        state = self.state
        if state.saves_suppressed:
            return
        state.saves_suppressed.append("on")

        def noop(label: str, result: Any = None) -> Callable[..., Any]:
            def skip(*args: Any, **kwargs: Any) -> Any:
                if label not in state.saves_suppressed:
                    state.saves_suppressed.append(label)
                return result

            return skip

        for modname in ("keras", "tf_keras"):
            keras = sys.modules.get(modname)
            if keras is not None and hasattr(keras, "Model"):
                keras.Model.save = noop(f"{modname}.Model.save")
                keras.Model.save_weights = noop(f"{modname}.Model.save_weights")
                saving = getattr(keras, "saving", None)
                if saving is not None and hasattr(saving, "save_model"):
                    saving.save_model = noop(f"{modname}.saving.save_model")
        tf = sys.modules.get("tensorflow")
        if tf is not None and hasattr(tf, "saved_model"):
            tf.saved_model.save = noop("tf.saved_model.save")
            tf.train.Checkpoint.save = noop("tf.train.Checkpoint.save", "")
            tf.train.Checkpoint.write = noop("tf.train.Checkpoint.write", "")
        torch = sys.modules.get("torch")
        if torch is not None and hasattr(torch, "save"):
            torch.save = noop("torch.save")  # type: ignore[attr-defined]

    def after_reading(self, site: Optional[Dict[str, Any]], final: bool) -> None:
        state = self.state
        if final:
            state.finish("reading")
        state.write("reading")
        self.suppress_saves()

    # ------------------------------------------------------------------ Keras
    def patch_keras(self, keras: Any) -> None:
        model = keras.Model
        original = model.fit
        if getattr(original, "_cnnlint", False):
            return
        signature = inspect.signature(original)
        patcher = self
        state = self.state

        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            if state.in_fit:
                return original(self, *args, **kwargs)
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                return original(self, *args, **kwargs)
            a = bound.arguments
            site = state.user_site()
            return patcher.probe_fit(original, self, a, site)

        fit._cnnlint = True  # type: ignore[attr-defined]
        model.fit = fit
        if hasattr(model, "fit_generator"):
            model.fit_generator = fit
        self.patch_keras_optimizer(keras)

    def probe_fit(self, original: Callable[..., Any], model: Any, a: Dict[str, Any], site: Optional[Dict[str, Any]]) -> Any:
        state = self.state
        x, y = a.get("x"), a.get("y")
        if x is None and "generator" in a:  # Keras 2 fit_generator
            x = a.get("generator")
        common = {"epochs": 1, "verbose": 0, "callbacks": [], "initial_epoch": 0}
        if a.get("class_weight") is not None:
            common["class_weight"] = a["class_weight"]
        try:
            xb, yb, wb = one_batch(x, y, a.get("sample_weight"), a.get("batch_size"))
            script_bs = _rows(xb)
        except Exception:
            xb = None
            script_bs = None
        size = state.batch_size or script_bs
        state.in_fit = True
        history = None
        try:
            self.tf_reset()
            if xb is not None and size:
                xb, yb, wb = _tile(xb, size), _tile(yb, size), _tile(wb, size)
                for _ in range(2):
                    history = original(model, xb, yb, batch_size=size, shuffle=False, sample_weight=wb, **common)
            else:  # data we cannot slice: two steps of the original input
                history = original(model, x, y, batch_size=a.get("batch_size"), steps_per_epoch=2, **common)
                size = None
        except BaseException as exc:  # noqa: BLE001
            state.crash(exc, site)
        finally:
            state.in_fit = False
        state.reading("keras-fit", site, size, script_bs)
        key = (site or {}).get("cell"), (site or {}).get("line")
        repeated = key in state.probed_sites
        state.probed_sites.add(key)
        self.after_reading(site, final=repeated or len(state.probed_sites) >= max(state.fit_sites, 1))
        return history

    def patch_keras_optimizer(self, keras: Any) -> None:
        optimizer = getattr(getattr(keras, "optimizers", None), "Optimizer", None)
        if optimizer is None or not hasattr(optimizer, "apply_gradients"):
            return
        original = optimizer.apply_gradients
        patcher = self
        state = self.state

        def apply_gradients(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            if not state.in_fit:
                patcher.on_apply(self)
            return result

        optimizer.apply_gradients = apply_gradients

    # ------------------------------------------------------------------ TensorFlow
    def tf_reset(self) -> None:
        tf = sys.modules.get("tensorflow")
        if tf is not None and hasattr(tf, "config"):
            from cnnlint.probe import measure

            self.state.tf_baseline = measure.tf_reset(tf)

    def patch_tensorflow(self, tf: Any) -> None:
        state = self.state
        patcher = self
        dataset = tf.data.Dataset
        original_batch = dataset.batch

        def batch(self: Any, batch_size: Any, *args: Any, **kwargs: Any) -> Any:
            if not state.in_fit and state.user_site() is not None:
                try:
                    script = int(batch_size)
                except (TypeError, ValueError):
                    script = None
                if script:
                    used = state.batch_size or script
                    state.tf_batch = (script, used)
                    batch_size = used
            return original_batch(self, batch_size, *args, **kwargs)

        dataset.batch = batch
        try:
            from tensorflow.python.eager.polymorphic_function import polymorphic_function
        except Exception:
            return
        function = polymorphic_function.Function
        original_call = function.__call__

        def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
            patcher.tracing.append(self)
            try:
                result = original_call(self, *args, **kwargs)
            finally:
                patcher.tracing.pop()
            if id(self) in patcher.step_functions and not state.in_fit and not patcher.tracing:
                count = patcher.function_calls.get(id(self), 0) + 1
                patcher.function_calls[id(self)] = count
                patcher.tape_reading(final=count >= 2)
            return result

        function.__call__ = __call__

    def on_apply(self, optimizer: Any) -> None:
        tf = sys.modules.get("tensorflow")
        inside = False
        try:
            inside = bool(tf is not None and tf.inside_function())
        except Exception:
            pass
        if inside:
            if self.tracing:
                self.step_functions.add(id(self.tracing[-1]))
            return
        count = self.apply_calls.get(id(optimizer), 0) + 1
        self.apply_calls[id(optimizer)] = count
        self.tape_reading(final=count >= 2)

    def tape_reading(self, final: bool) -> None:
        """A first (provisional) reading after the first step, the final one after the second."""
        state = self.state
        if not final and state.readings:
            return
        script, used = state.tf_batch or (None, None)
        site = state.user_site()
        state.reading("train-step", site, used, script)
        self.after_reading(site, final=final)

    # ------------------------------------------------------------------ PyTorch
    def patch_torch(self, torch: Any) -> None:
        import torch.utils.data as tud
        from torch.optim.optimizer import register_optimizer_step_post_hook

        state = self.state
        patcher = self
        loader = tud.DataLoader
        original_init = loader.__init__
        signature = inspect.signature(original_init)
        original_iter = loader.__iter__

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                original_init(self, *args, **kwargs)
                return
            a = bound.arguments
            script = a.get("batch_size", 1)
            if a.get("batch_sampler") is None and script is not None and state.batch_size:
                a["batch_size"] = state.batch_size
            for name, value in (("num_workers", 0), ("prefetch_factor", None),
                                ("persistent_workers", False), ("multiprocessing_context", None)):
                if name in signature.parameters and (name in a or name == "num_workers"):
                    a[name] = value
            original_init(*bound.args, **bound.kwargs)
            self._cnnlint_script_batch = script if a.get("batch_sampler") is None else None

        def __iter__(self: Any) -> Any:
            state.torch_batch = (getattr(self, "_cnnlint_script_batch", None), getattr(self, "batch_size", None))
            return original_iter(self)

        loader.__init__ = __init__  # type: ignore[method-assign]
        loader.__iter__ = __iter__  # type: ignore[method-assign]

        def post_step(optimizer: Any, args: Any, kwargs: Any) -> None:
            count = patcher.torch_steps.get(id(optimizer), 0) + 1
            patcher.torch_steps[id(optimizer)] = count
            final = count >= 2
            if not final and state.readings:
                return
            script, used = state.torch_batch or (None, None)
            site = state.user_site()
            state.reading("torch-step", site, used, script)
            patcher.after_reading(site, final=final)

        register_optimizer_step_post_hook(post_step)
