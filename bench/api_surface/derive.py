"""Derive CNL402's removed-API table from the dumped surfaces: `diff`, `verify`, `write`.

    python bench/api_surface/derive.py diff SURFACE_DIR CANDIDATES.json
    python bench/api_surface/derive.py verify CANDIDATES.json VERIFIED.json   # runs every snippet
    python bench/api_surface/derive.py write VERIFIED.json SURFACE_DIR/current-keras.json  # -> cnnlint/lint/data/removed_api.json

`diff` compares each old surface (surface.py's dumps, see dump_all.sh) with the current one and
lists what the old release had and the current one lacks: names (modules, classes, functions),
methods of a few receivers (a Keras model, a DataLoader iterator) and keyword parameters of
constructors. Each candidate gets its bad snippets (every way code reaches it: `import a.b`,
`from a import b`, `a.b`), and a good snippet where the current surface has a same-named
replacement (or a short hand-written hint here says what replaces it). `verify` runs every
snippet with the old environment's Python and the current one (one process per environment):
a candidate stays only if a bad form works on the old release and fails on the current one, and
its good snippet runs clean on the current one. `write` keeps the verified entries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TABLE = os.path.join(ROOT, "cnnlint", "lint", "data", "removed_api.json")
APIENV = os.environ.get("APIENV", "/work/apienv")
CURRENT_PY = os.environ.get("CURRENT", "/work/venv/bin/python")

# root -> the environments that carry an old release of it, oldest first; the version that names
# each surface, read from the dump (the Keras of `tf.keras` is TensorFlow's own up to 2.15)
CHAINS = {
    "keras": (["keras23", "tf212", "tf215"], "keras"),
    "tf.keras": (["keras23", "tf212", "tf215"], "tensorflow"),
    "torch": (["torch112"], "torch"),
    "torchvision": (["torch112"], "torchvision"),
}
PREFIX = {"keras": "keras", "tf.keras": "tensorflow.keras", "torch": "torch", "torchvision": "torchvision"}
IMPORT = {"keras": "import keras", "tf.keras": "import tensorflow as tf", "torch": "import torch",
          "torchvision": "import torchvision"}
ATTR = {"keras": "keras", "tf.keras": "tf.keras", "torch": "torch", "torchvision": "torchvision"}
FAMILY = {"keras": "keras", "tf.keras": "keras", "torch": "torch", "torchvision": "torchvision"}

# the parts of each library that CNN training code uses (the entries come from the diff)
AREAS = {
    "keras": {"layers", "models", "optimizers", "callbacks", "preprocessing", "utils", "initializers",
              "regularizers", "constraints", "losses", "metrics", "activations", "applications", "backend",
              "engine", "wrappers", "datasets", "ops"},
    "torch": {"nn", "optim", "utils", "cuda", "autograd"},
    "torchvision": {"transforms", "datasets", "models", "utils", "io", "ops"},
}
NOISE = frozenset({"absolute_import", "division", "print_function", "np", "six", "os", "sys", "warnings",
                   "tf", "K", "json", "copy", "math", "re", "threading", "collections"})

# receiver kind -> code that binds `obj` (as surface.py's INSTANCES)
RECEIVERS = {
    ("keras", "keras_model"): "import keras\nobj = keras.Sequential()",
    ("tf.keras", "keras_model"): "import tensorflow as tf\nobj = tf.keras.Sequential()",
    ("torch", "dataloader_iter"): "import torch.utils.data\nobj = iter(torch.utils.data.DataLoader([0, 1]))",
}
# constructors whose keywords are compared (module under the prefix -> classes; "*": all classes)
KEYWORD_CALLABLES = {
    "keras": {"callbacks": "*", "optimizers": "*", "preprocessing.image": ("ImageDataGenerator",)},
    "tf.keras": {"callbacks": "*", "optimizers": "*", "preprocessing.image": ("ImageDataGenerator",)},
    "torch": {"optim": "*", "optim.lr_scheduler": "*", "utils.data": ("DataLoader",)},
    "torchvision": {"transforms": "*"},
}
# values for required parameters, so that a constructor can be called in a snippet
SEEDS = {
    "filepath": "'model.keras'", "filename": "'log.csv'", "log_dir": "'logs'", "schedule": "lambda e: 0.1",
    "params": "[torch.nn.Parameter(torch.zeros(1))]",
    "optimizer": "torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)",
    "dataset": "[0, 1]", "step_size": "1", "milestones": "[1]", "gamma": "0.9", "T_max": "10", "T_0": "10",
    "lr_lambda": "lambda e: 1.0", "max_lr": "0.1", "base_lr": "0.01", "size": "32", "lr": "0.1",
}

# short hand-written replacements where the current surface has no same-named thing:
# key (path, `receiver.method` or `callable(keyword)`) -> (hint, good snippet)
HINTS: Dict[str, Tuple[str, str]] = {
    "dataloader_iter.next": ("call `next(it)` (the built-in) instead of `it.next()`",
                             "import torch.utils.data\nit = iter(torch.utils.data.DataLoader([0, 1]))\nnext(it)"),
    "keras_model.predict_proba": ("use `model.predict(x)`: it returns the probabilities",
                                  "import keras\nm = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\nm.predict"),
    "keras.callbacks.ModelCheckpoint(period)": (
        "write `save_freq=` (\"epoch\", or a number of batches)",
        "import keras\nkeras.callbacks.ModelCheckpoint('model.keras', save_freq='epoch')"),
    "tensorflow.keras.callbacks.ModelCheckpoint(period)": (
        "write `save_freq=` (\"epoch\", or a number of batches)",
        "import tensorflow as tf\ntf.keras.callbacks.ModelCheckpoint('model.keras', save_freq='epoch')"),
}

# replacements by path under the root's prefix, where no same-named thing exists now
TARGETS = {
    "initializers.normal": "initializers.RandomNormal", "initializers.uniform": "initializers.RandomUniform",
    "initializers.zero": "initializers.Zeros", "initializers.one": "initializers.Ones",
    "engine": "layers.Layer", "utils.np_utils": "utils.to_categorical", "utils.image_utils": "utils.load_img",
    "layers.CuDNNLSTM": "layers.LSTM", "layers.CuDNNGRU": "layers.GRU",
}


@dataclass
class Candidate:
    kind: str  # "name", "method", "keyword"
    root: str  # keras, tf.keras, torch, torchvision
    key: str  # the path, `receiver.method` or `callable(keyword)`
    what: str  # module, class, function, other; the receiver; the keyword
    present_in: str  # "keras 2.15"
    present_env: str
    gone_in: str  # the next version surveyed: "keras 3.15"
    bad: Dict[str, str] = field(default_factory=dict)  # form -> snippet
    instead: str = ""  # the replacement's path (or hint)
    good: str = ""
    errors: Dict[str, List[str]] = field(default_factory=dict)  # form -> [exception, message] (verify)
    later: List[List[str]] = field(default_factory=list)  # [env, "keras 2.15"] after present_env, "current" last


def load(folder: str, env: str, root: str) -> dict:
    with open(os.path.join(folder, f"{env}-{root}.json")) as fh:
        return json.load(fh)


def version_of(dump: dict, lib: str) -> str:
    text = dump["versions"].get(lib, "?")
    return ".".join(text.split("+")[0].split(".")[:2])


def in_area(root: str, path: str) -> bool:
    parts = path.split(".")
    rel = parts[2:] if root == "tf.keras" else parts[1:]
    if not rel or any(p.startswith("_") for p in rel) or rel[-1] in NOISE:
        return False
    return rel[0] in AREAS[FAMILY[root] if root != "tf.keras" else "keras"]


def own(root: str, info: dict) -> bool:
    """Defined by the library itself (not `typing.List` or `os` re-exported)."""
    origin = info.get("origin")
    if origin is None:
        return info.get("kind") in ("module", "other")
    return origin.split(".")[0] in ("keras", "tensorflow", "tf_keras", "torch", "torchvision")


def incidental(path: str, info: dict, old: Dict[str, dict]) -> bool:
    """A name a real module imported for its own use (`keras.datasets.mnist.get_file`), or a
    module reached under another module's name (`keras.callbacks.optimizer`): not its API."""
    parent = path.rsplit(".", 1)[0]
    origin = info.get("origin")
    if info.get("kind") == "module":
        return not info.get("importable") and origin is not None and not origin.endswith(path.split(".", 1)[1])
    parent_origin = old.get(parent, {}).get("origin")
    real_parent = parent_origin == parent
    return real_parent and info.get("kind") == "function" and path.rsplit(".", 1)[-1][:1].islower() and origin != parent


def present(surface: dict, path: str) -> bool:
    return path in surface["names"] or path in surface["modules"]


def old_names(dump: dict) -> Dict[str, dict]:
    names = dict(dump["names"])
    for module in dump["modules"]:
        names.setdefault(module, {"kind": "module", "origin": module, "importable": True})
    return names


# ---------------------------------------------------------------- diff


def leaf_index(surface: dict) -> Dict[str, List[str]]:
    index: Dict[str, List[str]] = {}
    for path, info in surface["names"].items():
        index.setdefault(path.rsplit(".", 1)[-1], []).append(path)
        index.setdefault(path.rsplit(".", 1)[-1].lower(), []).append(path)
    return index


def area(root: str, path: str) -> str:
    parts = path.split(".")
    rel = parts[2:] if root == "tf.keras" else parts[1:]
    return rel[0] if rel else ""


# where a removed name may have gone outside its own area (`K.cast` -> `keras.ops.cast`)
ELSEWHERE = {"backend": ("ops",), "models": ("layers",)}


def best(root: str, path: str, paths: List[str], new: dict) -> str:
    """The replacement: same area first, then the areas ELSEWHERE names; classes (capitalised
    names) anywhere; then the shortest path."""
    here = area(root, path)
    leaf = path.rsplit(".", 1)[-1]
    allowed = {here, *ELSEWHERE.get(here, ())}
    live = [p for p in paths if p.startswith(PREFIX[root] + ".") and in_area(root, p) and own(root, new["names"][p])
            and (area(root, p) in allowed or leaf[:1].isupper())]
    if not live:
        return ""
    return sorted(live, key=lambda p: (area(root, p) != here, p.count("."), len(p), p))[0]


def replacement(root: str, path: str, kind: str, old: Dict[str, dict], new: dict, index: Dict[str, List[str]]) -> str:
    leaf = path.rsplit(".", 1)[-1]
    if kind != "module":
        found = best(root, path, index.get(leaf, []), new)
        if not found and kind in ("class", "function"):
            found = best(root, path, index.get(leaf.lower(), []), new)
        return found
    # a module: where its members live now (the module most of them moved to)
    members = sorted({p.rsplit(".", 1)[-1] for p, info in old.items()
                      if p.startswith(path + ".") and p.count(".") - path.count(".") <= 2
                      and info.get("kind") in ("class", "function") and p.rsplit(".", 1)[-1] not in NOISE})
    homes: Counter = Counter()
    sample: Dict[str, str] = {}
    moved: List[str] = []
    for member in members:
        found = best(root, path, [p for p in index.get(member, []) if p.rsplit(".", 1)[-1] == member], new)
        if found:
            home = found.rsplit(".", 1)[0]
            homes[home] += 1
            sample.setdefault(home, found)
            moved.append(found)
    if not homes:
        return ""
    named = [p for p in moved if p.rsplit(".", 1)[-1].startswith(leaf)]
    if named:
        return named[0]  # `keras.utils.image_dataset` -> `keras.utils.image_dataset_from_directory`
    home, count = homes.most_common(1)[0]
    return sample[home] if 2 * count >= len(members) else ""  # most of it moved there


def name_forms(root: str, path: str, kind: str) -> Dict[str, str]:
    rel = path[len(PREFIX[root]) + 1:]
    parent, _, leaf = path.rpartition(".")
    forms = {"attr": f"{IMPORT[root]}\n{ATTR[root]}.{rel}", "from": f"from {parent} import {leaf}"}
    if kind == "module":
        forms["import"] = f"import {path}"
    return forms


def good_attr(root: str, target: str) -> str:
    return f"{IMPORT[root]}\n{ATTR[root]}.{target[len(PREFIX[root]) + 1:]}"


def chain(folder: str, root: str) -> Tuple[List[Tuple[str, dict]], dict]:
    envs, lib = CHAINS[root]
    dumps = [(env, load(folder, env, root)) for env in envs]
    return dumps, load(folder, "current", root)


def gone_after(dumps: List[Tuple[str, dict]], new: dict, lib: str, has) -> Optional[Tuple[str, str, str]]:
    """(env, version that had it, the next version surveyed) for the newest old release that has it."""
    for i in range(len(dumps) - 1, -1, -1):
        env, dump = dumps[i]
        if has(dump):
            following = dumps[i + 1][1] if i + 1 < len(dumps) else new
            return env, version_of(dump, lib), version_of(following, lib)
    return None


def diff_names(folder: str, root: str) -> List[Candidate]:
    dumps, new = chain(folder, root)
    lib = CHAINS[root][1]
    index = leaf_index(new)
    seen: Dict[str, Candidate] = {}
    for env, dump in dumps:
        old = old_names(dump)
        for path, info in old.items():
            if path in seen or present(new, path) or not in_area(root, path) or not own(root, info):
                continue
            if incidental(path, info, old):
                continue
            parent = path.rsplit(".", 1)[0]
            if not present(new, parent) and parent in old:
                continue  # the module went: one entry for it, not one per member
            found = gone_after(dumps, new, lib, lambda d, p=path: p in old_names(d))
            assert found is not None
            kind = info.get("kind", "other")
            cand = Candidate("name", root, path, kind, f"{lib} {found[1]}", found[0], f"{lib} {found[2]}",
                             bad=name_forms(root, path, kind))
            target = replacement(root, path, kind, old_names(dict(dumps)[found[0]]), new, index)
            if target:
                cand.instead, cand.good = target, good_attr(root, target)
            seen[path] = cand
    return list(seen.values())


def diff_methods(folder: str, root: str) -> List[Candidate]:
    dumps, new = chain(folder, root)
    lib = CHAINS[root][1]
    out: List[Candidate] = []
    for kind in new["instances"]:
        setup = RECEIVERS[(root, kind)]
        now = new["instances"][kind].get("methods", {})
        names = sorted({m for _, d in dumps for m in d["instances"].get(kind, {}).get("methods", {})} - set(now))
        for method in names:
            found = gone_after(dumps, new, lib, lambda d, m=method: m in d["instances"].get(kind, {}).get("methods", {}))
            assert found is not None
            cand = Candidate("method", root, f"{kind}.{method}", kind, f"{lib} {found[1]}", found[0], f"{lib} {found[2]}",
                             bad={"attr": f"{setup}\nobj.{method}"})
            base = method[: -len("_generator")] if method.endswith("_generator") else ""
            if base and base in now:
                cand.instead, cand.good = f"{base}", f"{setup}\nobj.{base}"
            out.append(cand)
    return out


def call_text(name: str, sig: dict, keyword: Optional[Tuple[str, object]]) -> Optional[str]:
    args = []
    for pname, has_default, _ in sig["params"]:
        if pname == "self" or has_default:
            continue
        if pname not in SEEDS:
            return None
        args.append(SEEDS[pname])
    if keyword is not None:
        args.append(f"{keyword[0]}={keyword[1]!r}")
    return f"{name}({', '.join(args)})"


def keyword_targets(root: str, surface: dict) -> Dict[str, dict]:
    out = {}
    for module, classes in KEYWORD_CALLABLES[root].items():
        base = f"{PREFIX[root]}.{module}"
        for path, info in surface["names"].items():
            if path.rsplit(".", 1)[0] != base or info.get("kind") != "class" or not info.get("sig"):
                continue
            if classes == "*" or path.rsplit(".", 1)[-1] in classes:
                out[path] = info
    return out


def diff_keywords(folder: str, root: str) -> List[Candidate]:
    dumps, new = chain(folder, root)
    lib = CHAINS[root][1]
    now = keyword_targets(root, new)
    out: Dict[str, Candidate] = {}
    for env, dump in dumps:
        for path, info in keyword_targets(root, dump).items():
            if path not in now:
                continue
            current = {p[0] for p in now[path]["sig"]["params"]}
            for pname, has_default, default in info["sig"]["params"]:
                key = f"{path}({pname})"
                if pname in current or pname == "self" or not has_default or isinstance(default, dict) or key in out:
                    continue
                found = gone_after(dumps, new, lib, lambda d, p=path, k=pname: k in {
                    q[0] for q in (keyword_targets(root, d).get(p) or {"sig": {"params": []}})["sig"]["params"]})
                assert found is not None
                rel = path[len(PREFIX[root]) + 1:]
                call = call_text(f"{ATTR[root]}.{rel}", info["sig"], (pname, default))
                good = call_text(f"{ATTR[root]}.{rel}", now[path]["sig"], None)
                if call is None or good is None:
                    continue
                head = IMPORT[root] + ("\nimport torch" if root != "torch" and "torch." in call else "")
                cand = Candidate("keyword", root, key, pname, f"{lib} {found[1]}", found[0], f"{lib} {found[2]}",
                                 bad={"call": f"{head}\n{call}"})
                cand.instead, cand.good = "", f"{head}\n{good}"
                out[key] = cand
    return list(out.values())


def twins(folder: str, cands: List[Candidate]) -> List[Candidate]:
    """`tf.keras` twins of standalone Keras keyword removals: tf.keras took many old keywords
    through `**kwargs` (`ModelCheckpoint(period=)`), which no signature shows; verify decides."""
    now = load(folder, "current", "tf.keras")["names"]
    have = {c.key for c in cands}
    out = []
    for cand in cands:
        if cand.root != "keras" or cand.kind != "keyword":
            continue
        key = "tensorflow." + cand.key
        if key in have or key.split("(")[0] not in now:
            continue
        bad = {f: c.replace("import keras\nkeras.", "import tensorflow as tf\ntf.keras.") for f, c in cand.bad.items()}
        good = cand.good.replace("import keras\nkeras.", "import tensorflow as tf\ntf.keras.")
        out.append(Candidate("keyword", "tf.keras", key, cand.what, cand.present_in.replace("keras", "tensorflow"),
                             cand.present_env, cand.gone_in, bad=bad, instead=cand.instead, good=good))
    return out


def diff(folder: str) -> List[Candidate]:
    out: List[Candidate] = []
    for root in CHAINS:
        out += diff_names(folder, root) + diff_methods(folder, root) + diff_keywords(folder, root)
    out += twins(folder, out)
    labels = {(env, root): f"{lib} {version_of(load(folder, env, root), lib)}"
              for root, (envs, lib) in CHAINS.items() for env in envs + ["current"]}
    for cand in out:
        envs = CHAINS[cand.root][0] + ["current"]
        cand.later = [[env, labels[(env, cand.root)]] for env in envs[envs.index(cand.present_env) + 1:]]
        rel = cand.key[len(PREFIX[cand.root]) + 1:]
        if cand.kind == "name" and rel in TARGETS:
            cand.instead = f"{PREFIX[cand.root]}.{TARGETS[rel]}"
            cand.good = good_attr(cand.root, cand.instead)
        hint = HINTS.get(cand.key)
        if hint is not None:
            cand.instead, cand.good = hint
    return out


# ---------------------------------------------------------------- verify

RUNNER = r'''
import json, os, sys, warnings
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
snippets = json.loads(sys.stdin.read())
out = {}
for name, code in snippets.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(compile(code, name, "exec"), {})
        except BaseException as exc:
            out[name] = [type(exc).__name__, str(exc)[:300]]
            continue
    out[name] = ["ok", ""]
print("RESULT" + json.dumps(out))
'''


def run_snippets(python: str, snippets: Dict[str, str]) -> Dict[str, List[str]]:
    if not snippets:
        return {}
    proc = subprocess.run([python, "-c", RUNNER], input=json.dumps(snippets), capture_output=True, text=True,
                          timeout=1800)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise SystemExit(f"{python}: no result (exit {proc.returncode})\n{proc.stderr[-3000:]}")
    return json.loads(line[len("RESULT"):])


def mentions(cand: Candidate, message: str) -> bool:
    """The failure is about this name (not a seed argument the snippet got wrong)."""
    word = cand.what if cand.kind == "keyword" else cand.key.rsplit(".", 1)[-1]
    return word in message


def gone_from(cand: Candidate, i: int, form: str, results: Dict[str, Dict[str, List[str]]]) -> Optional[str]:
    """The first surveyed version from which this bad form fails in every later one (the current
    release included), if it works on the release the candidate came from."""
    if results[cand.present_env][f"{i}:{form}"][0] != "ok":
        return None
    now = results["current"][f"{i}:{form}"]
    if now[0] == "ok" or not mentions(cand, now[1]):
        return None
    cand.errors[form] = now
    gone = cand.later[-1][1]
    for n in range(len(cand.later) - 1, -1, -1):
        env, label = cand.later[n]
        if results[env][f"{i}:{form}"][0] == "ok":
            cand.present_in = label  # a later release still had it
            break
        gone = label
    return gone


def verify(cands: List[Candidate]) -> List[Candidate]:
    """Run every bad form on the release it came from, every later one surveyed and the current
    one; keep the forms that work there and fail from some version on."""
    by_env: Dict[str, Dict[str, str]] = {}
    for i, cand in enumerate(cands):
        for env in [cand.present_env] + [env for env, _ in cand.later]:
            key = "current:" + FAMILY[cand.root] if env == "current" else env  # TensorFlow and PyTorch apart
            for form, code in cand.bad.items():
                by_env.setdefault(key, {})[f"{i}:{form}"] = code
            if env == "current" and cand.good:
                by_env[key][f"{i}:good"] = cand.good
    results: Dict[str, Dict[str, List[str]]] = {"current": {}}
    for key, snippets in by_env.items():
        if key.startswith("current:"):
            results["current"].update(run_snippets(CURRENT_PY, snippets))
        else:
            results[key] = run_snippets(f"{APIENV}/{key}/bin/python", snippets)
    kept = []
    for i, cand in enumerate(cands):
        gone = [g for g in (gone_from(cand, i, form, results) for form in cand.bad) if g is not None]
        cand.bad = {form: code for form, code in cand.bad.items() if form in cand.errors}
        if cand.bad and cand.good and results["current"][f"{i}:good"][0] == "ok":
            labels = [label for _, label in cand.later]
            cand.gone_in = max(gone, key=labels.index)
            kept.append(cand)
    return kept


# ---------------------------------------------------------------- write

# the version a removal is gated on, where the surveyed versions leave a gap: Keras 3 is one
# release line (no Keras 3 before 3.0 had these); PyTorch's release notes date DataLoader's `.next()`
SINCE = {"keras 3": "3.0", "dataloader_iter.next": "1.13"}


def since(cand: Candidate) -> str:
    if cand.key in SINCE:
        return SINCE[cand.key]
    lib, version = cand.gone_in.split()
    if FAMILY[cand.root] == "keras" and version.startswith("3."):
        return SINCE["keras 3"]
    if cand.root == "tf.keras":  # TensorFlow 2.x up to 2.15 carries Keras 2.x of its minor, 2.16 on Keras 3
        return SINCE["keras 3"] if tuple(map(int, version.split("."))) >= (2, 16) else version
    return version


def entry(cand: Candidate) -> dict:
    out = {"kind": cand.kind, "root": cand.root, "key": cand.key, "what": cand.what,
           "family": FAMILY[cand.root], "since": since(cand), "present_in": cand.present_in,
           "errors": {form: err[0] for form, err in cand.errors.items()},
           "bad": cand.bad, "good": cand.good, "instead": cand.instead}
    hint = HINTS.get(cand.key)
    out["hint"] = hint[0] if hint else ""
    return out


def write(cands: List[Candidate], versions: Dict[str, str]) -> dict:
    entries = sorted((entry(c) for c in cands), key=lambda e: (e["root"], e["kind"], e["key"]))
    table = {"generated_by": "bench/api_surface/derive.py (see bench/api_surface/README.md)",
             "current": versions, "entries": entries}
    os.makedirs(os.path.dirname(TABLE), exist_ok=True)
    with open(TABLE, "w") as fh:
        json.dump(table, fh, indent=1, sort_keys=True)
        fh.write("\n")
    return table


def save(cands: List[Candidate], path: str) -> None:
    with open(path, "w") as fh:
        json.dump([asdict(c) for c in cands], fh, indent=1)


def restore(path: str) -> List[Candidate]:
    with open(path) as fh:
        return [Candidate(**c) for c in json.load(fh)]


def main(argv: List[str]) -> int:
    if len(argv) == 3 and argv[0] == "diff":
        cands = diff(argv[1])
        save(cands, argv[2])
        print(f"{len(cands)} candidates: {dict(Counter(c.kind + ':' + c.root for c in cands))}")
        print(f"  with a replacement: {sum(1 for c in cands if c.good)}")
        return 0
    if len(argv) == 3 and argv[0] == "verify":
        cands = restore(argv[1])
        kept = verify(cands)
        save(kept, argv[2])
        print(f"{len(kept)} of {len(cands)} verified: {dict(Counter(c.kind + ':' + c.root for c in kept))}")
        return 0
    if len(argv) == 3 and argv[0] == "write":
        with open(argv[2]) as fh:
            versions = json.load(fh)["versions"]
        table = write(restore(argv[1]), versions)
        print(f"{len(table['entries'])} entries -> {TABLE}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
