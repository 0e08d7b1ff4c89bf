"""Source text and positions that ast does not give directly: the name of an attribute
(`fit_generator` in `model.fit_generator`), the name of a keyword argument (`lr` in `lr=0.1`),
a keyword's value as written, and a node's code shortened to one line for a message."""

from __future__ import annotations

import ast
import io
import tokenize

from cnnlint.lint.index.syntax import Range, Syntax


def attribute_name_span(syntax: Syntax, node: ast.Attribute) -> Range:
    """Where the `attr` of `value.attr` is: it ends the node."""
    _, _, end_line, end_column = syntax.span(node)
    return (end_line, end_column - len(node.attr), end_line, end_column)


def keyword_name_span(syntax: Syntax, node: ast.keyword) -> Range:
    """Where the name of `name=value` is (call it only for keywords with a name)."""
    line, column, _, _ = syntax.span(node)
    return (line, column, line, column + len(node.arg or ""))


def keyword_value_text(syntax: Syntax, node: ast.keyword) -> str:
    """The source text of a keyword's value, parentheses around it included, stripped."""
    return syntax.segment(node).split("=", 1)[-1].strip()




_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


def is_one_literal(syntax: Syntax, node: ast.expr) -> bool:
    """Whether a string (or f-string) is written as one literal, not as several concatenated
    (`"a" "b"`, `f"{x}" "y"`): ast gives both as one node."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(syntax.segment(node)).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    literals, depth = 0, 0
    for token in tokens:  # 3.12 tokenizes inside f-strings: count the literals at the top only
        if token.type == _FSTRING_START:
            literals += depth == 0
            depth += 1
        elif token.type == _FSTRING_END:
            depth -= 1
        elif token.type == tokenize.STRING:
            literals += depth == 0
    return literals == 1
