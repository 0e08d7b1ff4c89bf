"""--show-settings: the configuration a run would use, each value with where it came from
(the default, the configuration file, or a command-line flag)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Dict, List

from cnnlint.config import Config, read_table, setting_keys
from cnnlint.runstate import Request

# the flags that set a configuration key (--extend-* add to select/ignore)
_FLAGS = {"select": "--select", "ignore": "--ignore", "fail-on": "--fail-on", "dask-scheduler": "--scheduler"}


@dataclass
class Setting:
    key: str  # as written in [tool.cnnlint]
    value: object
    origin: str  # "default", the configuration file's path, or the flags that set it


def _flag_origins(request: Request) -> Dict[str, List[str]]:
    origins: Dict[str, List[str]] = {}
    given = {"select": request.select, "ignore": request.ignore, "fail-on": request.fail_on,
             "dask-scheduler": request.scheduler}
    for key, value in given.items():
        if value:
            origins[key] = [_FLAGS[key]]
    for name in ("select", "ignore"):
        if getattr(request, f"extend_{name}"):
            origins.setdefault(name, []).append(f"--extend-{name}")
    return origins


def settings(config: Config, request: Request) -> List[Setting]:
    """Every key of [tool.cnnlint] with its resolved value and origin."""
    in_file = set(read_table(config.path)) if config.path else set()
    flags = _flag_origins(request)
    found = []
    for key in setting_keys():
        origin = "default"
        if key in in_file:
            origin = str(config.path)
        if key in flags:
            replaced = flags[key][0] in ("--select", "--ignore", "--fail-on", "--scheduler")
            origin = " + ".join(flags[key] if replaced else [origin] + flags[key])
        found.append(Setting(key, getattr(config, key.replace("-", "_")), origin))
    return found


def _shown(value: object) -> str:
    if value is None:
        return "(not set)"
    if hasattr(value, "value"):  # a Severity
        value = getattr(value, "value")
    return json.dumps(value)


def render_settings(config: Config, request: Request) -> str:
    """`key = value  # origin` lines under a header naming the file and the root."""
    rows = [(f"{s.key} = {_shown(s.value)}", s.origin) for s in settings(config, request)]
    width = max(len(text) for text, _ in rows)
    head = [f"# configuration file: {config.path or '(none: the defaults)'}", f"# root: {config.root}"]
    return "\n".join(head + [f"{text:<{width}}  # {origin}" for text, origin in rows]) + "\n"
