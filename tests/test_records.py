"""records.as_dict: what dataclasses.asdict gives, key order and copies included."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from cnnlint.crosscheck.facts import Fact, Loader, ScriptFacts
from cnnlint.findings import Finding, Fix, Severity
from cnnlint.records import as_dict


@dataclass
class _Inner:
    values: List[Any]
    pair: Tuple[int, str]


@dataclass
class _Outer:
    name: str
    inner: Optional[_Inner]
    table: Dict[str, Any] = field(default_factory=dict)
    many: List[_Inner] = field(default_factory=list)


def test_nested_records_lists_tuples_and_dicts_as_asdict_gives_them():
    shared = [1, [2, 3]]
    record = _Outer("x", _Inner(shared, (1, "a")), {"k": _Inner([], (2, "b")), "n": None}, [_Inner([{"a": 1}], (3, "c"))])
    got = as_dict(record)
    assert got == dataclasses.asdict(record)
    assert json.dumps(got) == json.dumps(dataclasses.asdict(record))  # same key order throughout
    assert got["inner"]["values"] is not shared and got["inner"]["values"][1] is not shared[1]  # copies
    assert isinstance(got["inner"]["pair"], tuple)


def test_findings_and_facts_convert_as_before():
    fix = Fix(3, 1, 3, 9, "x = 1", "rename", ((4, 1, 4, 2, ""),))
    finding = Finding("CNL201", Severity.ERROR, "message", "a.py", 3, 1, 3, 9, "hint", 2, fix)
    expected = dataclasses.asdict(finding)
    expected["severity"] = "error"
    assert finding.to_dict() == expected and list(finding.to_dict()) == list(expected)
    facts = ScriptFacts(loaders=[Loader("flow_from_directory", Fact("data/train", "flow(...)", 5, 2),
                                        target_size=Fact([64, 64], "(64, 64)"))],
                        input_shapes=[Fact([64, 64, 3], "(64, 64, 3)", 8)], resizes=True)
    assert json.dumps(facts.to_dict()) == json.dumps(dataclasses.asdict(facts))
    assert ScriptFacts.from_dict(facts.to_dict()) == facts
