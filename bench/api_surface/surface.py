"""Walk the public API surface of the installed Keras / TensorFlow / PyTorch / torchvision: `dump`.

Run it with the interpreter of each side-by-side environment (the old releases and the current
ones); `derive.py` diffs the dumps. Runs on Python 3.8+ and needs nothing but the libraries:

    /work/apienv/tf215/bin/python bench/api_surface/surface.py keras /tmp/surface/tf215-keras.json

What it records, per qualified name reachable from a root by public attributes (no leading `_`):
its kind (module, class, function, other), for classes and functions the keyword parameters
(inspect.signature: name, has a default, its literal default) and whether `**kwargs` is taken,
for classes their public methods; the importable submodules (pkgutil, packages only for the
standalone `keras` tree); and the methods of a few instances whose type the walk cannot reach
(`iter(DataLoader)`, a Keras model).
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# root -> (recurse into submodules reached by attribute, module-name prefixes that may be followed)
ROOTS = {
    "keras": [("keras", True, ("keras",))],
    "tf.keras": [("tensorflow.keras", True, ("keras", "tensorflow", "tf_keras"))],
    "torch": [
        ("torch", False, ()),
        ("torch.nn", False, ()),
        ("torch.nn.functional", False, ()),
        ("torch.nn.init", False, ()),
        ("torch.nn.utils", False, ()),
        ("torch.optim", False, ()),
        ("torch.optim.lr_scheduler", False, ()),
        ("torch.utils.data", False, ()),
        ("torch.cuda", False, ()),
        ("torch.autograd", False, ()),
    ],
    "torchvision": [
        ("torchvision", False, ()),
        ("torchvision.transforms", False, ()),
        ("torchvision.transforms.functional", False, ()),
        ("torchvision.datasets", False, ()),
        ("torchvision.models", False, ()),
        ("torchvision.utils", False, ()),
        ("torchvision.io", False, ()),
        ("torchvision.ops", False, ()),
    ],
}
# receiver kind -> code that makes an instance (its type's public methods are recorded)
INSTANCES = {
    "keras": {"keras_model": "import keras\nobj = keras.Sequential()"},
    "tf.keras": {"keras_model": "import tensorflow as tf\nobj = tf.keras.Sequential()"},
    "torch": {"dataloader_iter": "import torch.utils.data\nobj = iter(torch.utils.data.DataLoader([0, 1]))"},
    "torchvision": {},
}
MAX_DEPTH = 6
SKIP = frozenset({"src", "api", "tests", "python", "compat"})  # implementation trees, not the API


def literal(value: object) -> object:
    """A default that JSON and a snippet can carry (None, bool, int, float, str), else a marker."""
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and value != value:
            return {"unliteral": "nan"}
        return value
    return {"unliteral": type(value).__name__}


def params(obj: object) -> object:
    """[[name, has_default, default], ...] and a `**kwargs` flag, or None where no signature."""
    try:
        sig = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError, RuntimeError, AttributeError):
        return None
    out = []
    var_kw = False
    for p in sig.parameters.values():
        if p.kind == p.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            has = p.default is not p.empty
            out.append([p.name, has, literal(p.default) if has else None])
    return {"params": out, "var_kw": var_kw}


def methods(cls: type) -> dict:
    out = {}
    for name in dir(cls):
        if name.startswith("_"):
            continue
        try:
            value = inspect.getattr_static(cls, name)
        except AttributeError:
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if inspect.isfunction(value) or inspect.ismethoddescriptor(value) or inspect.isbuiltin(value):
            out[name] = params(getattr(cls, name, value))
        elif isinstance(value, property):
            out[name] = "property"
    return out


def describe(value: object) -> dict:
    """Kind, signature, methods, and where the object was defined (`typing.List` is not the API)."""
    origin = getattr(value, "__module__", None)
    origin = origin if isinstance(origin, str) else None
    if inspect.isclass(value):
        return {"kind": "class", "sig": params(value), "methods": methods(value), "origin": origin}
    if callable(value):
        return {"kind": "function", "sig": params(value), "origin": origin}
    return {"kind": "other", "origin": origin}


def walk(start: str, recurse: bool, follow: tuple, names: dict) -> None:
    queue = [(start, importlib.import_module(start), 0)]
    seen = set()
    while queue:
        path, module, depth = queue.pop(0)
        names[path] = {"kind": "module", "origin": getattr(module, "__name__", path)}
        if id(module) in seen:
            continue
        seen.add(id(module))
        try:
            attrs = dir(module)
        except Exception:  # a lazy loader that fails
            continue
        for attr in attrs:
            if attr.startswith("_") or attr in SKIP:
                continue
            full = f"{path}.{attr}"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    value = getattr(module, attr)
            except Exception:
                continue
            if inspect.ismodule(value):
                inner = getattr(value, "__name__", "")
                names[full] = {"kind": "module", "origin": inner}
                if recurse and depth < MAX_DEPTH and inner.split(".")[0] in follow:
                    queue.append((full, value, depth + 1))
            else:
                names.setdefault(full, describe(value))


def importable(package: str) -> list:
    """Submodule names under `package` that `import` finds (files and packages, public names only)."""
    found = []
    try:
        root = importlib.import_module(package)
    except Exception:
        return found
    stack = [(package, getattr(root, "__path__", None))]
    while stack:
        prefix, path = stack.pop()
        if not path:
            continue
        for info in pkgutil.iter_modules(path):
            if info.name.startswith("_") or info.name in ("src", "api", "tests"):
                continue
            name = f"{prefix}.{info.name}"
            found.append(name)
            if info.ispkg and name.count(".") < MAX_DEPTH:
                sub = os.path.join(path[0], info.name)
                stack.append((name, [sub]))
    return sorted(found)


def instances(root: str) -> dict:
    out = {}
    for kind, code in INSTANCES[root].items():
        scope: dict = {}
        try:
            exec(code, scope)
        except Exception as exc:
            out[kind] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        out[kind] = {"type": type(scope["obj"]).__name__, "methods": methods(type(scope["obj"]))}
    return out


def versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for lib in ("keras", "tensorflow", "torch", "torchvision"):
        try:
            from importlib import metadata
            out[lib] = metadata.version(lib if lib != "tensorflow" else "tensorflow-cpu")
        except Exception:
            try:
                out[lib] = metadata.version(lib)
            except Exception:
                pass
    return out


def main(argv: list) -> int:
    if len(argv) != 2 or argv[0] not in ROOTS:
        print(f"usage: surface.py {{{','.join(ROOTS)}}} OUT.json", file=sys.stderr)
        return 2
    root, out = argv
    names: dict = {}
    for start, recurse, follow in ROOTS[root]:
        try:
            walk(start, recurse, follow, names)
        except ImportError as exc:
            print(f"{start}: {exc}", file=sys.stderr)
    modules = importable("keras") if root == "keras" else []
    data = {"root": root, "versions": versions(), "names": names, "modules": modules, "instances": instances(root)}
    with open(out, "w") as fh:
        json.dump(data, fh, indent=0, sort_keys=True)
    print(f"{root}: {len(names)} names, {len(modules)} importable modules -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
