"""A small shell lexer: the simple commands of a notebook shell line or a command string, as
words with their offsets (`split_shell`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional


@dataclass
class Word:
    """A shell word; start/end are offsets in the text it came from."""

    text: str
    start: int = 0
    end: int = 0
    dynamic: bool = False  # holds `$x`, `{expr}`, backquotes, or an unknown Python value
    cut: str = ""  # an unquoted redirection glued to the word: `>=2.0` in `torch>=2.0`
    anchor: object = None  # where the word's text lies (for Python strings and list items)


SYS_EXECUTABLE = "\x01"  # stands for `{sys.executable}` until the word is complete
DYNAMIC = "\x00"  # an f-string hole / unknown value


def _matching(text: str, i: int, open_: str, close: str) -> int:
    """Index of the bracket closing text[i] (or len(text))."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == open_:
            depth += 1
        elif text[j] == close:
            depth -= 1
            if depth == 0:
                return j
    return len(text)


def split_shell(text: str) -> List[List[Word]]:
    """Simple commands of a shell line: words split at `&&`, `||`, `;`, `|`, `&`, newlines.

    Quotes and backslashes are resolved; redirection targets are dropped (a
    redirection glued to a word is kept in `Word.cut`); `$...`, backquotes and
    `{...}` (IPython expansion) make a word dynamic, except `{sys.executable}`.
    """
    return _Lexer(text).run()


class _Lexer:
    """split_shell's state: the commands read so far and the word being read (its characters,
    start, whether it is dynamic; after a redirection, the word it is glued to)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.commands: List[List[Word]] = [[]]
        self.buf: List[str] = []
        self.start = -1
        self.dyn = False
        self.discard = False  # reading a redirection target
        self.owner: Optional[Word] = None  # the word a redirection is glued to
        self.cut_start = 0

    def run(self) -> List[List[Word]]:
        i = 0
        while i < self.n:
            i = self.step(i)
        self.flush(self.n)
        return [cmd for cmd in self.commands if cmd]

    def step(self, i: int) -> int:
        """Read from text[i]; returns where to go on."""
        text = self.text
        c = text[i]
        if c in " \t\r":
            self.flush(i)
            return i + 1
        if c == "#" and self.start < 0:
            j = text.find("\n", i)
            return self.n if j < 0 else j
        if c in "\n;|()" or (c == "&" and text[i + 1 : i + 2] != ">"):
            self.flush(i)
            self.discard, self.owner = False, None
            if self.commands[-1]:
                self.commands.append([])
            return i + 1
        if c in "<>&":
            return self.redirect(i, c)
        if self.start < 0:
            self.start = i
        read = _READERS.get(c)
        if read is not None:
            return read(self, i)
        self.buf.append(c)
        return i + 1

    def flush(self, end: int) -> Optional[Word]:
        word = None
        if self.start >= 0:
            value = "".join(self.buf)
            if self.discard:
                if self.owner is not None:
                    self.owner.cut = self.text[self.cut_start : end]
                self.discard, self.owner = False, None
            else:
                dynamic = self.dyn or DYNAMIC in value
                if SYS_EXECUTABLE in value:
                    dynamic = dynamic or value != SYS_EXECUTABLE
                    value = value.replace(SYS_EXECUTABLE, "python")
                word = Word(value, self.start, end, dynamic)
                self.commands[-1].append(word)
        self.buf, self.start, self.dyn = [], -1, False
        return word

    def redirect(self, i: int, c: str) -> int:
        glued = None
        if self.start >= 0 and not self.discard and "".join(self.buf).isdigit() and not self.dyn:
            self.buf, self.start = [], -1  # a file descriptor: the `2` of `2>`
        elif self.start >= 0 and not self.discard:
            glued = self.flush(i)
        else:
            self.flush(i)
        self.cut_start = i
        text, n = self.text, self.n
        if c == "&":
            i += 1
        while i < n and text[i] in "<>":
            i += 1
        if i < n and text[i] in "&|":
            i += 1
        self.discard, self.owner = True, glued
        return i

    def brace(self, i: int) -> int:
        j = _matching(self.text, i, "{", "}")
        if self.text[i + 1 : j].strip() == "sys.executable":
            self.buf.append(SYS_EXECUTABLE)
        else:
            self.dyn = True
            self.buf.append(self.text[i : j + 1])
        return j + 1

    def backslash(self, i: int) -> int:
        text = self.text
        if i + 1 < self.n and text[i + 1] != "\n":
            self.buf.append(text[i + 1])
        elif not self.buf:
            self.start = -1  # a line continuation between words
        return i + 2

    def single_quote(self, i: int) -> int:
        j = self.text.find("'", i + 1)
        j = self.n if j < 0 else j
        piece = self.text[i + 1 : j]
        if "{" in piece or "$" in piece:
            self.dyn = True
        self.buf.append(piece)
        return j + 1

    def double_quote(self, i: int) -> int:
        text, n = self.text, self.n
        j = i + 1
        while j < n and text[j] != '"':
            ch = text[j]
            if ch == "\\" and j + 1 < n and text[j + 1] in '"\\$`\n':
                self.buf.append(text[j + 1])
                j += 2
                continue
            if ch == "{":
                j = self.brace(j)
                continue
            if ch in "$`":
                self.dyn = True
            self.buf.append(ch)
            j += 1
        return j + 1

    def dollar(self, i: int) -> int:
        text = self.text
        self.dyn = True
        if text[i + 1 : i + 2] == "(":
            j = _matching(text, i + 1, "(", ")")
        elif text[i + 1 : i + 2] == "{":
            j = _matching(text, i + 1, "{", "}")
        else:
            j = i
            while j + 1 < self.n and (text[j + 1].isalnum() or text[j + 1] == "_"):
                j += 1
        self.buf.append(text[i : j + 1])
        return j + 1

    def backquote(self, i: int) -> int:
        self.dyn = True
        j = self.text.find("`", i + 1)
        j = self.n if j < 0 else j
        self.buf.append(self.text[i : j + 1])
        return j + 1


_READERS: Dict[str, Callable[[_Lexer, int], int]] = {
    "\\": _Lexer.backslash,
    "'": _Lexer.single_quote,
    '"': _Lexer.double_quote,
    "{": _Lexer.brace,
    "$": _Lexer.dollar,
    "`": _Lexer.backquote,
}
