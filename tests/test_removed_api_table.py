"""The derived removed-API table (cnnlint/lint/data/removed_api.json, made by bench/api_surface/).

Every entry's bad snippets run under the installed current libraries and must raise the exception
the table records (the one CNL402's message names), about the removed name; every good snippet
must run clean. One subprocess per library family. Like tests/test_removed_apis.py these skip only
when a library is missing and `CI` is unset; in CI a missing library is a failure.
"""

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter

import pytest
from packaging.version import Version

from cnnlint.lint.removed_table import TABLE_PATH, removed_table
from conftest import need_framework

with open(TABLE_PATH, encoding="utf-8") as _fh:
    TABLE = json.load(_fh)
ENTRIES = TABLE["entries"]

_RUNNER = textwrap.dedent(
    """
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
                out[name] = [type(exc).__name__, str(exc)]
                continue
        out[name] = ["ok", ""]
    print("RESULT" + json.dumps(out))
    """
)
_NEEDS = {"keras": ("tensorflow", "keras"), "torch": ("torch",), "torchvision": ("torch", "torchvision")}


def _run(snippets):
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER], input=json.dumps(snippets), capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line is not None, proc.stderr[-2000:]
    return json.loads(line[len("RESULT"):])


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
    results = _run(snippets)
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
