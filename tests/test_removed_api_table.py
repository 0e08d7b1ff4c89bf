"""The derived removed-API table (cnnlint/lint/data/removed_api.json, made by bench/api_surface/).

Every entry's bad snippets run under the installed current libraries and must raise the exception
the table records (the one CNL402's message names), about the removed name; every good snippet
must run clean. One subprocess per library family. Like tests/test_removed_apis.py these skip only
when a library is missing and `CI` is unset; in CI a missing library is a failure.
"""

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest
from packaging.version import Version

from cnnlint.lint.removed_table import TABLE_PATH, removed_table
from conftest import need_framework

BENCH = Path(__file__).resolve().parent.parent / "bench" / "api_surface"
with open(TABLE_PATH, encoding="utf-8") as _fh:
    TABLE = json.load(_fh)
ENTRIES = TABLE["entries"]

_NEEDS = {"keras": ("tensorflow", "keras"), "torch": ("torch",), "torchvision": ("torch", "torchvision")}


def _derive():
    """bench/api_surface/derive.py, whose runner made the table (the same runner checks it here)."""
    spec = importlib.util.spec_from_file_location("derive", BENCH / "derive.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["derive"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _word(entry):
    """What the failure must be about: the keyword, or the removed name's last part."""
    return entry["what"] if entry["kind"] == "keyword" else entry["key"].rsplit(".", 1)[-1]


@pytest.mark.parametrize("family", sorted({e["family"] for e in ENTRIES}))
def test_every_entry_fails_as_recorded_and_its_good_form_runs(family):
    entries = [e for e in ENTRIES if e["family"] == family]
    for module in _NEEDS[family]:
        need_framework(module)
    snippets = {}
    for n, entry in enumerate(entries):
        for form, code in entry["bad"].items():
            snippets[f"{n}:{form}"] = code
        snippets[f"{n}:good"] = entry["good"]
    results = _derive().run_snippets(sys.executable, snippets)
    wrong = []
    for n, entry in enumerate(entries):
        for form, expected in entry["errors"].items():
            kind, message = results[f"{n}:{form}"]
            if kind != expected or _word(entry) not in message:
                wrong.append(f"{entry['key']} ({form}): expected {expected}, got {kind}: {message[:200]}")
        if results[f"{n}:good"][0] != "ok":
            wrong.append(f"{entry['key']} good form: {results[f'{n}:good']}")
    assert wrong == []


def test_the_table_has_what_the_issue_named_and_its_shape_holds():
    keys = {(e["root"], e["key"]) for e in ENTRIES}
    for named in [("torch", "dataloader_iter.next"), ("keras", "keras.initializers.normal"),
                  ("keras", "keras.utils.image_dataset"), ("keras", "keras_model.predict_proba"),
                  ("keras", "keras.optimizers.adam"), ("keras", "keras.callbacks.ModelCheckpoint(period)"),
                  ("tf.keras", "tensorflow.keras.callbacks.ModelCheckpoint(period)"), ("keras", "keras.models.Input"),
                  ("tf.keras", "tensorflow.keras.layers.experimental")]:
        assert named in keys, named
    for entry in ENTRIES:
        assert set(entry["errors"]) == set(entry["bad"]) and entry["errors"], entry["key"]
        assert set(entry["errors"]) <= {"attr", "from", "import", "call"}, entry["key"]
        assert entry["good"], entry["key"]
        Version(entry["since"])
    counts = Counter(e["kind"] for e in ENTRIES)
    assert counts["name"] >= 100 and counts["method"] >= 5 and counts["keyword"] >= 20, counts


def test_the_loaded_table_indexes_every_entry():
    table = removed_table()
    assert len(table.names) + sum(len(v) for v in table.methods.values()) + len(table.keywords) == len(ENTRIES)
    assert table.names["keras.utils.image_dataset"].error("import") == "ModuleNotFoundError"
    assert table.names["tensorflow.keras.layers.experimental"].error("attr") == "AttributeError"
    assert "next" in table.method_names and "period" in table.keyword_names


def _surface(tmp_path, env, root, names, version, instances=None):
    dump = {"root": root, "versions": {"keras": version, "tensorflow": version}, "names": names, "modules": [],
            "instances": instances or {}}
    (tmp_path / f"{env}-{root}.json").write_text(json.dumps(dump))


def test_the_diff_finds_removals_and_leaves_out_what_is_not_api(tmp_path):
    derive = _derive()
    mod = {"kind": "module"}
    old = {
        "keras": {**mod, "origin": "keras"},
        "keras.optimizers": {**mod, "origin": "keras.optimizers"},
        "keras.optimizers.Adam": {"kind": "class", "origin": "keras.optimizers"},
        "keras.optimizers.adam": {"kind": "class", "origin": "keras.optimizers"},  # an alias: removed
        "keras.datasets": {**mod, "origin": "keras.datasets"},
        "keras.datasets.mnist": {**mod, "origin": "keras.datasets.mnist"},
        # imported by the module for its own use: not its API
        "keras.datasets.mnist.get_file": {"kind": "function", "origin": "keras.utils.data_utils"},
        "keras.layers": {**mod, "origin": "keras.layers"},
        "keras.layers.core": {**mod, "origin": "keras.layers.core"},  # a module: one entry, not one per member
        "keras.layers.core.Dense": {"kind": "class", "origin": "keras.layers.core"},
        "keras.layers.core.Flatten": {"kind": "class", "origin": "keras.layers.core"},
    }
    new = {k: v for k, v in old.items() if k not in ("keras.optimizers.adam", "keras.datasets.mnist.get_file")
           and not k.startswith("keras.layers.core")}
    new.update({"keras.layers.Dense": {"kind": "class", "origin": "keras.src"},
                "keras.layers.Flatten": {"kind": "class", "origin": "keras.src"}})
    _surface(tmp_path, "keras23", "keras", old, "2.3.1")
    _surface(tmp_path, "tf212", "keras", old, "2.12.0")
    _surface(tmp_path, "tf215", "keras", {k: v for k, v in old.items() if k != "keras.optimizers.adam"}, "2.15.0")
    _surface(tmp_path, "current", "keras", new, "3.15.1")
    found = {c.key: c for c in derive.diff_names(str(tmp_path), "keras")}
    assert sorted(found) == ["keras.layers.core", "keras.optimizers.adam"]
    adam = found["keras.optimizers.adam"]
    assert (adam.present_env, adam.present_in, adam.gone_in, adam.instead) == (
        "tf212", "keras 2.12", "keras 2.15", "keras.optimizers.Adam")
    assert adam.bad == {"attr": "import keras\nkeras.optimizers.adam", "from": "from keras.optimizers import adam"}
    core = found["keras.layers.core"]
    assert core.instead == "keras.layers.Dense" and core.bad["import"] == "import keras.layers.core"
