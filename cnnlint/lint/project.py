"""Which framework versions a script or notebook will run on, from what its project records.

The project is the script's folder and its parents up to the nearest folder that
holds pyproject.toml, setup.py, setup.cfg or .git (at most `_MAX_LEVELS` up).
Sources of versions, first match wins:

1. the file's own install commands (a notebook's `!pip install tensorflow==2.12`,
   `%pip install`, `-r` files they install);
2. the project's manifests, nearest folder first: requirements*.txt (and
   requirements/*.txt at the root), environment.yml, pyproject.toml (PEP 621
   dependencies and optional dependencies, Poetry), setup.py (a literal
   `install_requires`), setup.cfg, Pipfile, Dockerfile (`FROM tensorflow/
   tensorflow:2.12.0`, `RUN pip install ...`).

Lock files (poetry.lock, uv.lock, Pipfile.lock, pdm.lock, conda-lock.yml), a
pyproject with dynamic dependencies, a setup.py whose `install_requires` is not
a literal list, or a manifest that cannot be read make a family *unknown*: the
version is recorded somewhere cnnlint does not read, so the rules stay quiet.

Requirements are parsed by cnnlint/lint/dependencies.py (`judge_requirement`,
`judge_conda`) and cnnlint/lint/pip/ (the shell lexer), never here.
"""

from __future__ import annotations

import ast
import configparser
import functools
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from cnnlint.lint.dependencies import PINNED, Verdict, judge_conda, judge_editable, judge_requirement
from cnnlint.lint.pip.commands import install_args, parse_command
from cnnlint.lint.pip.requirement_files import file_requirements
from cnnlint.lint.pip.shell import split_shell
from cnnlint.lint.project_index.locate import REQUIREMENTS_FILE
from cnnlint.sources.manifest import CONDA, EDITABLE, REQUIREMENT, read_manifest
from cnnlint.sources.model import SourceError

try:
    import tomllib  # type: ignore[import-not-found]
except ImportError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

# distribution name (canonical) -> the framework family it installs
FAMILY_OF = {
    "tensorflow": "tensorflow", "tensorflow-cpu": "tensorflow", "tensorflow-gpu": "tensorflow",
    "tf-nightly": "tensorflow", "tf-nightly-cpu": "tensorflow", "tf-nightly-gpu": "tensorflow",
    "tensorflow-macos": "tensorflow", "tensorflow-intel": "tensorflow", "tensorflow-aarch64": "tensorflow",
    "intel-tensorflow": "tensorflow", "tensorflow-rocm": "tensorflow",
    "keras": "keras", "keras-nightly": "keras",
    "tf-keras": "tf-keras", "tf_keras": "tf-keras",
    "torch": "torch", "pytorch": "torch", "pytorch-cpu": "torch", "pytorch-gpu": "torch",
    "torchvision": "torchvision",
    "torchaudio": "torchaudio",
}
# released minor versions, newest last: a range resolves to the newest one it allows
KNOWN_MINORS = {
    "tensorflow": [f"1.{i}" for i in range(16)] + [f"2.{i}" for i in range(22)],
    "keras": [f"1.{i}" for i in range(3)] + [f"2.{i}" for i in range(16)] + [f"3.{i}" for i in range(16)],
    "torchvision": [f"0.{i}" for i in range(1, 30)],
    "torch": [f"0.{i}" for i in range(1, 5)] + [f"1.{i}" for i in range(14)] + [f"2.{i}" for i in range(15)],
}
# the releases current when this table was written (what an unpinned install gets)
CURRENT = {"tensorflow": "2.21", "keras": "3.15", "torchvision": "0.29", "torch": "2.14"}
_DISPLAY = {"tensorflow": "TensorFlow", "keras": "Keras", "torchvision": "torchvision", "torch": "PyTorch"}

_MAX_LEVELS = 12
_ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
_LOCK_FILES = ("poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock", "conda-lock.yml", "pixi.lock")
_ENV_FILES = ("environment.yml", "environment.yaml")
_DOCKER_FILE = re.compile(r"^(Dockerfile|Containerfile)(\..*)?$|\.dockerfile$", re.IGNORECASE)

Reader = Callable[[str], Optional[bytes]]


@dataclass(frozen=True)
class Pin:
    family: str
    shown: str  # the requirement as written: `tensorflow==2.12.0`, `torch`
    specifier: str  # PEP 440 specifier, "" when the package is listed without a version
    place: str  # where: "requirements.txt", "this notebook's `pip install`"
    own: bool = False  # installed by the linted file itself

    @property
    def versioned(self) -> bool:
        return bool(self.specifier)


@dataclass
class ProjectPins:
    found: bool = False  # a project folder or a manifest was found
    pins: Dict[str, List[Pin]] = field(default_factory=dict)
    unknown: set = field(default_factory=set)  # families recorded where cnnlint cannot read
    unknown_all: bool = False  # some dependency list cannot be read at all

    def add(self, pin: Pin) -> None:
        self.pins.setdefault(pin.family, []).append(pin)

    def first_versioned(self, family: str) -> Optional[Pin]:
        return next((p for p in self.pins.get(family, []) if p.versioned), None)

    def is_unknown(self, family: str) -> bool:
        return self.unknown_all or family in self.unknown


@dataclass(frozen=True)
class RunVersion:
    """The version of a family the code will run on, and how that was decided."""

    family: str
    minor: Version  # major.minor
    pin: Optional[Pin]  # None: no pin, current releases

    @property
    def current(self) -> bool:
        return self.pin is None


def _minor(text: str) -> Optional[Version]:
    try:
        release = Version(text).release
    except InvalidVersion:
        return None
    return Version(f"{release[0]}.{release[1] if len(release) > 1 else 0}")


def resolve(family: str, specifier: str) -> Optional[Version]:
    """The minor version a specifier installs: an exact pin's own, or the newest known release
    the range allows; None when the specifier cannot be read or allows no known release."""
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        return None
    specs = list(spec)
    for s in specs:
        if s.operator in ("==", "===") and "*" not in s.version:
            return _minor(s.version)
    best = None
    for minor in KNOWN_MINORS.get(family, []):
        if any(spec.contains(f"{minor}.{patch}", prereleases=True) for patch in (0, 9)):
            best = minor
    if best is None:
        for s in specs:  # `==2.12.*`
            if s.operator == "==" and s.version.endswith(".*"):
                return _minor(s.version[:-2])
        return None
    return Version(best)


def allowed_minors(family: str, specifier: str) -> List[Version]:
    """The known minor versions a specifier lets pip install (an exact pin: its own); [] when it
    cannot be read."""
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        return []
    exact = resolve(family, specifier) if any(s.operator in ("==", "===") for s in spec) else None
    if exact is not None:
        return [exact]
    return [Version(m) for m in KNOWN_MINORS.get(family, [])
            if any(spec.contains(f"{m}.{patch}", prereleases=True) for patch in (0, 9))]


def display(family: str, minor: Version) -> str:
    return f"{_DISPLAY.get(family, family)} {minor}"


# ---------------------------------------------------------------- reading the sources


def _pin_from_verdict(verdict: Verdict, place: str, own: bool = False) -> Optional[Pin]:
    family = FAMILY_OF.get(verdict.key)
    if family is None:
        return None
    specifier = verdict.specifier
    if verdict.status == PINNED and not specifier:
        m = re.search(r"={1,3}\s*([0-9][^\s,;=\[\]]*)", verdict.shown)
        specifier = f"=={m.group(1)}" if m else ""
        if not specifier:
            return Pin(family, verdict.shown, "", place, own)  # a URL or a wheel: a version we cannot read
    return Pin(family, verdict.shown, specifier, place, own)


def _add_verdicts(pins: ProjectPins, verdicts: Iterable[Optional[Verdict]], place: str, own: bool = False) -> None:
    for verdict in verdicts:
        if verdict is None:
            continue
        pin = _pin_from_verdict(verdict, place, own)
        if pin is None:
            continue
        if verdict.status == PINNED and not pin.versioned:
            pins.unknown.add(pin.family)
        pins.add(pin)


def shell_pins(pins: ProjectPins, commands: Iterable[str], place: str, read: Reader, own: bool) -> None:
    """Pins from shell command lines (`pip install ...`, `conda install ...`)."""
    for text in commands:
        if "install" not in text:
            continue
        for words in split_shell(text):
            install = parse_command(words)
            if install is None:
                continue
            args = install_args(install)
            verdicts: List[Optional[Verdict]] = []
            for word, editable in args.packages:
                if word.dynamic:
                    continue
                if install.family == "conda":
                    verdicts.append(judge_conda(word.text))
                else:
                    verdicts.append(judge_editable(word.text) if editable else judge_requirement(word.text))
            _add_verdicts(pins, verdicts, place, own)
            for word in args.req_files:
                found = file_requirements(read, word.text)
                if found is None:
                    pins.unknown_all = True
                else:
                    _add_verdicts(pins, found, os.path.basename(word.text), own)


def _requirements(pins: ProjectPins, path: str, read: Reader) -> None:
    found = file_requirements(read, path)
    if found is None:
        pins.unknown_all = True
        return
    _add_verdicts(pins, found, os.path.basename(path))


def _environment(pins: ProjectPins, path: str, data: bytes) -> None:
    try:
        manifest = read_manifest(path, data, "conda")
    except SourceError:
        pins.unknown_all = True
        return
    verdicts: List[Optional[Verdict]] = []
    for entry in manifest.entries:
        if entry.kind == CONDA:
            verdicts.append(judge_conda(entry.value))
        elif entry.kind == REQUIREMENT:
            verdicts.append(judge_requirement(entry.value))
        elif entry.kind == EDITABLE:
            verdicts.append(judge_editable(entry.value))
    _add_verdicts(pins, verdicts, os.path.basename(path))


def _poetry_spec(value: object) -> Optional[str]:
    """A PEP 440 form of a Poetry version constraint ("" when it gives none)."""
    if isinstance(value, dict):
        value = value.get("version", "")
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value in ("", "*"):
        return ""
    m = re.match(r"^([\^~])\s*(\d+(?:\.\d+)*)$", value)
    if m:
        parts = [int(p) for p in m.group(2).split(".")]
        if m.group(1) == "^":
            idx = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
        else:
            idx = 0 if len(parts) == 1 else 1
        upper = parts[: idx + 1]
        upper[-1] += 1
        return f">={m.group(2)},<{'.'.join(map(str, upper))}"
    if re.match(r"^\d", value):
        value = "==" + value
    try:
        return str(SpecifierSet(value))
    except InvalidSpecifier:
        return None


@functools.lru_cache(maxsize=16)
def _toml_document(data: bytes) -> Optional[Dict[str, Any]]:
    """The parsed TOML file, None when it is not TOML; read only (every script of a project reads
    the same pyproject.toml: parsed once per worker)."""
    try:
        return tomllib.loads(data.decode("utf-8"))  # type: ignore[no-any-return]
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def _pyproject(pins: ProjectPins, data: bytes) -> None:
    doc = _toml_document(data)
    if doc is None:
        pins.unknown_all = True
        return
    found = doc.get("project")
    project: Dict[str, Any] = found if isinstance(found, dict) else {}
    place = "pyproject.toml"
    dynamic = project.get("dynamic") or []
    if isinstance(dynamic, list) and ("dependencies" in dynamic or "optional-dependencies" in dynamic):
        pins.unknown_all = True
    lists: List[object] = [project.get("dependencies") or []]
    optional = project.get("optional-dependencies") or {}
    if isinstance(optional, dict):
        lists.extend(optional.values())
    groups = doc.get("dependency-groups") or {}
    if isinstance(groups, dict):
        lists.extend(groups.values())
    for items in lists:
        if isinstance(items, list):
            _add_verdicts(pins, (judge_requirement(i) for i in items if isinstance(i, str)), place)
    poetry = ((doc.get("tool") or {}).get("poetry") or {}) if isinstance(doc.get("tool"), dict) else {}
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    for group in (poetry.get("group") or {}).values() if isinstance(poetry.get("group"), dict) else []:
        if isinstance(group, dict):
            tables.append(group.get("dependencies"))
    for table in tables:
        if not isinstance(table, dict):
            continue
        for name, value in table.items():
            spec = _poetry_spec(value)
            family = FAMILY_OF.get(str(name).lower().replace("_", "-"))
            if family is None:
                continue
            if spec is None:
                pins.unknown.add(family)
                continue
            pins.add(Pin(family, f"{name} = {value!r}" if spec else str(name), spec, place))


def _setup_py(pins: ProjectPins, data: bytes) -> None:
    try:
        tree = ast.parse(data.decode("utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        pins.unknown_all = True
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name != "setup":
            continue
        constants = _module_constants(tree)
        for kw in node.keywords:
            if kw.arg is None:
                pins.unknown_all = True  # setup(**config)
            elif kw.arg in ("install_requires", "extras_require"):
                values = _literal_strings(_substituted(kw.value, constants))
                if values is None:
                    pins.unknown_all = True
                else:
                    _add_verdicts(pins, (judge_requirement(v) for v in values), "setup.py")


def _module_constants(tree: ast.Module) -> Dict[str, ast.expr]:
    """Names bound once, at module level, to a value (`REQUIRED = ['numpy', ...]`), and never
    bound or changed anywhere else in the file (no `+=`, `.append`, `.extend`, other binding)."""
    bound: Dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            bound[stmt.targets[0].id] = stmt.value
    stores: Dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.attr in ("append", "extend", "insert", "update", "remove", "pop", "clear"):
            stores[node.value.id] = stores.get(node.value.id, 0) + 2
    return {name: value for name, value in bound.items() if stores.get(name) == 1}


def _substituted(node: ast.expr, constants: Dict[str, ast.expr]) -> ast.expr:
    """`node` with the names of module constants replaced by their values (also as dict values)."""
    if isinstance(node, ast.Name):
        return constants.get(node.id, node)
    if isinstance(node, ast.Dict):
        return ast.Dict(keys=node.keys, values=[_substituted(v, constants) for v in node.values])
    return node


def _literal_strings(node: ast.AST) -> Optional[List[str]]:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None
    if isinstance(value, dict):
        value = [v for vs in value.values() for v in (vs if isinstance(vs, (list, tuple)) else [vs])]
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        return None
    return list(value)


def _setup_cfg(pins: ProjectPins, data: bytes) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(data.decode("utf-8"))
    except (configparser.Error, UnicodeDecodeError):
        pins.unknown_all = True
        return
    values: List[str] = []
    if parser.has_option("options", "install_requires"):
        values.extend(parser.get("options", "install_requires").splitlines())
    if parser.has_section("options.extras_require"):
        for _, text in parser.items("options.extras_require"):
            values.extend(text.splitlines())
    _add_verdicts(pins, (judge_requirement(v) for v in values if v.strip()), "setup.cfg")


def _pipfile(pins: ProjectPins, data: bytes) -> None:
    doc = _toml_document(data)
    if doc is None:
        pins.unknown_all = True
        return
    for section in ("packages", "dev-packages"):
        table = doc.get(section)
        if not isinstance(table, dict):
            continue
        for name, value in table.items():
            family = FAMILY_OF.get(str(name).lower().replace("_", "-"))
            if family is None:
                continue
            spec = value.get("version", "*") if isinstance(value, dict) else value
            spec = "" if spec in ("*", "") or not isinstance(spec, str) else spec
            try:
                spec = str(SpecifierSet(spec)) if spec else ""
            except InvalidSpecifier:
                pins.unknown.add(family)
                continue
            pins.add(Pin(family, f"{name} = {value!r}", spec, "Pipfile"))


_IMAGES = {"tensorflow/tensorflow": "tensorflow", "pytorch/pytorch": "torch"}


def _dockerfile(pins: ProjectPins, path: str, data: bytes, read: Reader) -> None:
    text = data.decode("utf-8", "replace").replace("\\\r\n", " ").replace("\\\n", " ")
    place = os.path.basename(path)
    commands = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        instruction = words[0].upper()
        if instruction == "FROM" and len(words) > 1:
            image = next((w for w in words[1:] if not w.startswith("--")), "")
            name, _, tag = image.partition(":")
            family = _IMAGES.get(name.lower()) or ("torch" if "pytorch" in name.lower() else None)
            if family is None and "tensorflow" in name.lower():
                family = "tensorflow"
            if family is None:
                continue
            m = re.match(r"^(\d+\.\d+(?:\.\d+)?)", tag)
            if m and name.lower() in _IMAGES:
                pins.add(Pin(family, image, f"=={m.group(1)}", place))
            elif tag and not tag.startswith("latest"):
                pins.unknown.add(family)  # nvcr.io/nvidia/pytorch:23.10-py3: a version we cannot map
            else:
                pins.add(Pin(family, image, "", place))
        elif instruction == "RUN":
            commands.append(line.split(None, 1)[1] if len(words) > 1 else "")
    shell_pins(pins, commands, place, read, own=False)


def _lock_file(pins: ProjectPins, data: bytes) -> None:
    text = data.decode("utf-8", "replace").lower()
    for name, family in FAMILY_OF.items():
        if re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text):
            pins.unknown.add(family)


def _folder_files(folder: str) -> List[str]:
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(names)


def project_pins(
    real_path: str, read: Reader, own: Optional[ProjectPins] = None, listdir: Optional[Callable[[str], List[str]]] = None
) -> ProjectPins:
    """The pins of the project the file at `real_path` belongs to (its own first)."""
    pins = own if own is not None else ProjectPins()
    listdir = listdir or _folder_files
    folder = os.path.dirname(os.path.abspath(real_path))
    for _ in range(_MAX_LEVELS):
        names = listdir(folder)
        is_root = any(marker in names for marker in _ROOT_MARKERS)
        for name in names:
            path = os.path.join(folder, name)
            if REQUIREMENTS_FILE.match(name):
                pins.found = True
                _requirements(pins, path, read)
            elif name in _ENV_FILES or _DOCKER_FILE.search(name) or name in _LOCK_FILES or name in (
                "pyproject.toml", "setup.py", "setup.cfg", "Pipfile",
            ):
                data = read(path)
                if data is None:
                    continue
                pins.found = True
                if name in _ENV_FILES:
                    _environment(pins, path, data)
                elif name == "pyproject.toml":
                    _pyproject(pins, data)
                elif name == "setup.py":
                    _setup_py(pins, data)
                elif name == "setup.cfg":
                    _setup_cfg(pins, data)
                elif name == "Pipfile":
                    _pipfile(pins, data)
                elif name in _LOCK_FILES:
                    _lock_file(pins, data)
                else:
                    _dockerfile(pins, path, data, read)
        if is_root:
            pins.found = True
            sub = os.path.join(folder, "requirements")
            if os.path.isdir(sub):
                for name in listdir(sub):
                    if name.endswith((".txt", ".in")):
                        _requirements(pins, os.path.join(sub, name), read)
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return pins


def run_version(pins: ProjectPins, family: str) -> Tuple[Optional[RunVersion], bool]:
    """(the version the code runs on, known). Not known when the project records the family
    somewhere cnnlint cannot read, or gives a version it cannot resolve. torchvision that is not
    pinned goes with the torch that is (`torch==1.0.0` ran beside torchvision 0.2)."""
    pin = pins.first_versioned(family)
    if pin is not None:
        minor = resolve(family, pin.specifier)
        return (RunVersion(family, minor, pin), True) if minor is not None else (None, False)
    if pins.is_unknown(family):
        return None, False
    if family == "torchvision":
        torch, known = run_version(pins, "torch")
        if not known:
            return None, False
        if torch is not None and torch.pin is not None:
            companion = torchvision_for_torch(torch.minor)
            if companion is not None:
                return RunVersion(family, companion, torch.pin), True
    return RunVersion(family, Version(CURRENT[family]), None), True


def torchvision_for_torch(torch: Version) -> Optional[Version]:
    """The torchvision minor released with a torch minor (PyTorch's compatibility table)."""
    major, minor = _tuple_minor(torch)
    if major == 1:
        return Version(f"0.{ {0: 2, 1: 3, 2: 4, 3: 4}.get(minor, minor + 1) }")
    if major == 2:
        return Version(f"0.{15 + minor}")
    return None


def _tuple_minor(minor: Version) -> Tuple[int, int]:
    release = minor.release
    return release[0], release[1] if len(release) > 1 else 0


def keras_major_for_tf(tf: RunVersion) -> int:
    major, minor = _tuple_minor(tf.minor)
    if major < 2:
        return 2  # TF 1.x: tf.keras is Keras 2
    return 3 if minor >= 16 else 2


def at_least(version: RunVersion, text: str) -> bool:
    return _tuple_minor(version.minor) >= _tuple_minor(Version(text))
