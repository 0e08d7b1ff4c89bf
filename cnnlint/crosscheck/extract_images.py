"""Image facts of a script: per-image readers and the channels they force, image sets held in memory."""

from __future__ import annotations

import ast
import re
from typing import Any, List, Optional, Tuple

from cnnlint.crosscheck.extract_base import ScriptReader
from cnnlint.crosscheck.values import PathValue, glob_root
from cnnlint.lint.index.bindings import FUNCTIONS, argument, nth_positional
from cnnlint.lint.index.models import KERAS_ROOTS
from cnnlint.lint.index.names import call_tail, dotted_name, keyword
from cnnlint.lint.index.syntax import walk

COLOR_CHANNELS = {"rgb": 3, "grayscale": 1, "rgba": 4}
PIL_CHANNELS = {"RGB": 3, "L": 1, "RGBA": 4, "LA": 2, "1": 1, "CMYK": 4, "YCbCr": 3, "I": 1, "F": 1, "I;16": 1}
_HEADER_USES = frozenset({"size", "verify", "mode", "info", "format", "width", "height", "close", "getexif",
                          "n_frames", "is_animated", "_getexif", "thumbnail", "save"})
_HANDLES_CHANNELS = re.compile(r"\.convert\(|cvtColor|gray2rgb|grayscale_to_rgb|\.ndim|len\([^)]*\.shape\)|shape\[-1\]|"
                               r"shape\[2\]|ImageReadMode|channels\s*=")
_LISTINGS = ("os.listdir", "os.walk", "os.scandir", "glob.glob", "glob.iglob")


class ReaderFacts:
    """A per-image reader call, and the channel count it forces (None: whatever each file has)."""

    def __init__(self, reader: ScriptReader) -> None:
        self.r = reader
        self.f = reader.f

    def add(self, node: ast.Call, q: str, tail: str) -> None:
        channels = self._channels(node, q, tail)
        if channels is False:
            return
        if channels is None and (self._handles_channels() or self._header_only(node)):
            return
        self.r.out.readers.append(self.r.fact(node, {"name": q or tail, "channels": channels}))

    def _channels(self, node: ast.Call, q: str, tail: str) -> Any:
        """The channels the reader gives; None: the file's own; False: not a reader judged here."""
        r = self.r
        root = q.split(".")[0]
        if q in ("cv2.imread",):
            flag = argument(node, "flags", 1)
            if flag is None:
                return 3
            v = r.value(flag)
            fq = self.f.q(flag)
            if v == 0 or fq.endswith("IMREAD_GRAYSCALE"):
                return 1
            if v == 1 or fq.endswith("IMREAD_COLOR"):
                return 3
            if v == -1 or fq.endswith("IMREAD_UNCHANGED"):
                return None
            return False
        if tail == "open" and q in ("PIL.Image.open", "Image.open"):
            mode = self._pil_convert(node)
            channels = PIL_CHANNELS.get(mode) if mode else None
            return False if mode and channels is None else channels
        if tail in ("decode_jpeg", "decode_png", "decode_image", "decode_bmp") and root in KERAS_ROOTS:
            arg = argument(node, "channels", 1)
            if arg is None:
                return None
            v = r.value(arg)
            if not isinstance(v, int):
                return False
            return v or None
        if tail in ("read_image", "decode_image") and root == "torchvision":
            arg = argument(node, "mode", 1)
            if arg is None:
                return None
            mode = (dotted_name(arg) or "").rsplit(".", 1)[-1]
            found = {"RGB": 3, "GRAY": 1, "RGB_ALPHA": 4, "GRAY_ALPHA": 2}.get(mode)
            return False if found is None else found
        if tail == "load_img" and root in KERAS_ROOTS:
            color = keyword(node, "color_mode")
            found = COLOR_CHANNELS.get(r.value(color.value) if color is not None else "rgb")
            return False if found is None else found
        if tail == "imread" and root in ("skimage", "imageio", "matplotlib"):
            gray = keyword(node, "as_gray")
            return 1 if gray is not None and r.value(gray.value) is True else None
        return False

    def _header_only(self, node: ast.Call) -> bool:
        """`Image.open(p).size`, `Image.open(p).verify()`, `with Image.open(p) as im: im.verify()`:
        the file is opened for its header, not read into a batch."""
        r, f = self.r, self.f
        parent = r.parent(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            return parent.attr in _HEADER_USES
        name = r.with_name(node) or r.assigned_to(node)
        if not name or "." in name:
            return False
        own = f.scope_of(node)
        attrs = []
        for n in f.names.get(name, ()):
            if f.scope_of(n) is not own:
                continue
            p = r.parent(n)
            if isinstance(p, ast.Attribute) and p.value is n:
                attrs.append(p.attr)
            elif not _as_target(n, p):
                return False
        if any(m.scope is own and m.role != "as" for m in f.mentions(name)):
            return False
        return bool(attrs) and all(a in _HEADER_USES for a in attrs)

    def _pil_convert(self, node: ast.Call) -> Optional[str]:
        """`Image.open(p).convert("RGB")`, or a `.convert(...)` of the name it is bound to."""
        r = self.r
        parent = r.parent(node)
        if isinstance(parent, ast.Attribute) and parent.attr == "convert":
            call = r.parent(parent)
            if isinstance(call, ast.Call):
                arg = _mode_arg(call)
                v = r.value(arg) if arg is not None else None
                return v if isinstance(v, str) else "?"
        name = r.assigned_to(node) or r.with_name(node)
        if name:
            scope = self.f.scope_of(node) or r.syntax.tree
            for n in walk(scope):
                if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "convert"
                        and dotted_name(n.func.value) == name):
                    arg = _mode_arg(n)
                    v = r.value(arg) if arg is not None else None
                    return v if isinstance(v, str) else "?"
        return None

    def _handles_channels(self) -> bool:
        """The code of the file deals with channel counts itself."""
        return bool(_HANDLES_CHANNELS.search(self.r.text))  # the whole file: cheap, and quieter


def _mode_arg(call: ast.Call) -> Optional[ast.AST]:
    """`.convert("RGB")`: the first positional argument, else `mode=`."""
    first = nth_positional(call, 0)
    if first is not None:
        return first
    kw = keyword(call, "mode")
    return kw.value if kw is not None else None


def _as_target(name: ast.Name, parent: Optional[ast.AST]) -> bool:
    """`with x as name` or `name = ...` (the name bound, not used)."""
    if isinstance(parent, ast.withitem) and parent.optional_vars is name:
        return True
    return isinstance(parent, ast.Assign) and any(t is name for t in parent.targets)


class InMemoryFacts:
    """The image sets CNL102 found held whole in memory: their per-image size, channels, dtype."""

    def __init__(self, reader: ScriptReader) -> None:
        self.r = reader
        self.f = reader.f

    def add(self, at: ast.AST, call: ast.AST) -> None:
        loop = self._loop_of(call)
        size = self._loop_size(loop, call) if loop is not None else None
        channels = self._loop_channels(loop, call) if loop is not None else 3
        path, exact = self._loop_path(loop) if loop is not None else (None, False)
        reader = dotted_name(call.func if isinstance(call, ast.Call) else call) or ""
        value = {"size": size, "channels": channels, "bytes": self._bytes(), "reader": reader,
                 "path": path, "exact": exact}
        self.r.out.in_memory.append(self.r.fact(at, value))

    def _loop_of(self, node: ast.AST) -> Optional[ast.AST]:
        """The outermost loop around the reader, within its function."""
        found = None
        parent = self.r.parent(node)
        while parent is not None and not isinstance(parent, (*FUNCTIONS, ast.ClassDef, ast.Module)):
            if isinstance(parent, (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.GeneratorExp)):
                found = parent
            parent = self.r.parent(parent)
        return found

    def _loop_size(self, loop: ast.AST, reader: ast.AST) -> Optional[List[int]]:
        values = self.r.values
        for n in [reader] + list(walk(loop)):
            if not isinstance(n, ast.Call):
                continue
            tail = call_tail(n) or ""
            q = self.f.q(n.func)
            if tail == "load_img":
                t = keyword(n, "target_size")
                if t is not None:
                    return values.size(t.value)
            if tail != "resize":
                continue
            if q == "cv2.resize":
                wh = _opt(values.size, argument(n, "dsize", 1))
                return [wh[1], wh[0]] if wh else None
            if q.split(".")[0] in KERAS_ROOTS or q.startswith("skimage"):
                kw = keyword(n, "size") or keyword(n, "output_shape")
                return _opt(values.size, kw.value if kw is not None else nth_positional(n, 1))
            if isinstance(n.func, ast.Attribute):  # PIL: img.resize((w, h))
                wh = _opt(values.size, argument(n, "size", 0))
                return [wh[1], wh[0]] if wh else None
        return None

    def _loop_channels(self, loop: ast.AST, reader: ast.AST) -> int:
        r = self.r
        if not isinstance(reader, ast.Call):
            return 3
        if self.f.q(reader.func) == "cv2.imread":
            flag = argument(reader, "flags", 1)
            if flag is not None and (r.value(flag) == 0 or self.f.q(flag).endswith("GRAYSCALE")):
                return 1
        for n in walk(loop):
            if isinstance(n, ast.Call) and call_tail(n) == "convert":
                arg = nth_positional(n, 0)
                v = r.value(arg) if arg is not None else None
                if v in PIL_CHANNELS:
                    return PIL_CHANNELS[v]
            if isinstance(n, ast.Call) and call_tail(n) == "load_img":
                color = keyword(n, "color_mode")
                if color is not None and r.value(color.value) in COLOR_CHANNELS:
                    return COLOR_CHANNELS[r.value(color.value)]
        return 3

    def _loop_path(self, loop: ast.AST) -> PathValue:
        """The folder the loop lists: the first listdir/glob/walk in its iterables."""
        values = self.r.values
        candidates: List[ast.AST] = []
        for n in walk(loop):
            if isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
                it: ast.AST = n.iter
                if isinstance(it, ast.Name):
                    bound = values.bound(it)
                    if bound is not None:
                        it = bound
                candidates.append(it)
        for it in candidates:
            for n in walk(it):
                if isinstance(n, ast.Call) and self.f.q(n.func) in _LISTINGS:
                    arg = nth_positional(n, 0)
                    if arg is None:
                        continue
                    path, exact = values.path(arg)
                    if self.f.q(n.func).startswith("glob") and path:
                        path = glob_root(path)[0]
                    return path, exact
        return None, False

    def _bytes(self) -> int:
        text = self.r.text
        if re.search(r"float16|half\(", text):
            return 2 if not re.search(r"float32", text) else 4
        if re.search(r"float32|\.float\(\)|dtype\s*=\s*float\b|tf\.float32", text):
            return 4
        if re.search(r"/\s*255(\.0?)?\b|/=\s*255", text):
            return 8
        return 1


def _opt(fn: Any, arg: Optional[ast.AST]) -> Any:
    return fn(arg) if arg is not None else None


def in_memory_sets(reader: ScriptReader) -> List[Tuple[ast.AST, ast.AST]]:
    """(reported node, reader call) of each image set CNL102 found held in memory."""
    return [(at, call) for at, call, _ in reader.ctx.in_memory]
