"""Source text -> parse tree, with lark's errors turned into netspec diagnostics.

Valid text is parsed by the fast path (`lalr.py`) from tables generated out of the
grammar, without importing lark; lark itself parses only text the fast path rejects,
to say where and why it is wrong.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

from ..diagnostics import Span, error
from .lalr import FastParser, NotFastPath, grammar_sha256, tables_from_lark
from .lexer import MatlabPostLexer, rewrite, token_span
from .tree import Token, Tree

if TYPE_CHECKING:
    from lark import Lark
    from lark.exceptions import UnexpectedInput, UnexpectedToken

__all__ = ["parse"]

# What a user would call the terminals lark names.
TOKEN_WORDS = {
    "RPAR": "`)`", "LPAR": "`(`", "RSQB": "`]`", "LSQB": "`[`", "RBRACE": "`}`", "LBRACE": "`{`",
    "EQUAL": "`=`", "COMMA": "`,`", "_TERM": "end of statement", "_COLSEP": "`,`",
    "_ROWSEP": "`;`", "NAME": "a name", "NUMBER": "a number", "STRING": "a string",
    "DQSTRING": "a string", "END": "`end`", "$END": "end of file", "KWNAME": "a name", "END_INDEX": "`end`",
    "TILDE_PLACEHOLDER": "`~`", "CMD_NAME": "a command", "CMD_WORD": "a word",
}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    from lark import Lark

    return Lark.open_from_package(
        "netspec.language", "grammar.lark", ("",),
        parser="lalr", lexer="basic", postlex=MatlabPostLexer(),
        propagate_positions=False, maybe_placeholders=False, cache=True,
    )


@lru_cache(maxsize=1)
def _fast_parser() -> FastParser:
    from .grammar_tables import GRAMMAR_SHA256, TABLES

    if GRAMMAR_SHA256 == grammar_sha256():
        return FastParser(TABLES)
    return FastParser(tables_from_lark(_parser()))  # grammar.lark changed: scripts/generate_grammar_tables.py


def strip_block_comments(text: str, file: str) -> str:
    """Blank out `%{ ... %}` block comments, which nest in MATLAB (a regex cannot count).

    Comment lines become blanks of the same length, so every position stays right.
    """
    if "%{" not in text:
        return text
    lines = text.split("\n")
    depth = 0
    opened: list[int] = []
    for number, line in enumerate(lines):
        marker = line.strip()
        if marker == "%{":
            depth += 1
            opened.append(number)
        elif marker == "%}" and depth:
            depth -= 1
            opened.pop()
        elif not depth:
            continue
        lines[number] = " " * len(line)
    if depth:
        line = opened[-1] + 1
        column = text.split("\n")[opened[-1]].index("%{") + 1
        raise error("E106", "unclosed block comment", Span(file=file, line=line, column=column, end_line=line,
                                                              end_column=column + 2),
                    label="this `%{` has no matching `%}`", hint="close it with `%}` alone on a line")
    return "\n".join(lines)


def parse(text: str, file: str = "<string>") -> Tree:
    """Parse a whole `.net` file; raise `NetspecError` with a located diagnostic.

    Valid text takes the fast path (`lalr.py`); text it rejects is parsed again by
    lark, whose exception says where and what was expected.
    """
    if not text.endswith("\n"):
        text += "\n"
    text = strip_block_comments(text, file)
    fast = _fast_parser()
    try:
        return fast.parse(_handed_over(rewrite(fast.lex(text), file, located_separators=False)))
    except NotFastPath:
        pass
    from lark.exceptions import UnexpectedInput

    parser = _parser()
    parser.options.postlex.file = file
    try:
        tree = parser.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, file) from None
    return _from_lark(tree)  # the fast path should have taken it: read lark's tree all the same


def _handed_over(tokens: list[Token]) -> Iterator[Token]:
    """The tokens one by one, each dropped from the list as it goes: the tokens the tree does
    not keep (separators, brackets, keywords: half of an array's) are freed while parsing
    instead of after, which lowers a large file's peak memory."""
    for index, token in enumerate(tokens):
        tokens[index] = None  # type: ignore[call-overload]
        yield token


def _from_lark(node):
    """lark's tree in netspec's node types, which the interpreter reads."""
    if isinstance(node, str):
        return Token.new_borrow_pos(node.type, node.value, node)
    return Tree(str(node.data), [_from_lark(child) for child in node.children])


def _describe(token_type: str) -> str:
    """A terminal as the user writes it: `&&` rather than ANDAND."""
    if token_type in TOKEN_WORDS:
        return TOKEN_WORDS[token_type]
    for terminal in _parser().terminals:
        if terminal.name == token_type and terminal.pattern.type == "str":
            return f"`{terminal.pattern.value}`"
    return f"`{token_type.lower()}`"


def _open_keyword(exc: UnexpectedToken) -> str | None:
    """The keyword (`FOR`, `FUNCTION`) of the statement the parser was in when it failed."""
    parser = getattr(exc, "interactive_parser", None)
    stack = parser.parser_state.value_stack if parser is not None else []
    for value in reversed(stack):
        if isinstance(value, str) and getattr(value, "type", None) in ("FOR", "FUNCTION"):  # lark's Token
            return value.type
    return None


def _syntax_error(exc: UnexpectedInput, text: str, file: str):
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream]
        span = Span(file=file, line=exc.line, column=exc.column, end_line=exc.line,
                    end_column=exc.column + 1)
        if char in "'\"":
            return error("E101", "unterminated string", span, label="this string is never closed",
                         hint=f"close it with {char} on the same line (a quote inside a string is written {char}{char})")
        return error("E100", f"unexpected character `{char}`", span,
                     label="not part of the netspec language",
                     hint="netspec reads MATLAB syntax: check for a typo or a stray character")
    if isinstance(exc, UnexpectedEOF):
        last = text.rstrip().split("\n")  # lines as the lexer counts them (see SourceMap.add)
        line = len(last)
        span = Span(file=file, line=line, column=1, end_line=line, end_column=len(last[-1]) + 1)
        return error("E104", "unexpected end of file", span)
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    span = token_span(token, file)
    expected = sorted(exc.expected)
    # The post-lexer ends a `while x y = 1` header at the gap before `y` with a _TERM that
    # borrows that token's text; the user sees the token, not an end of statement.
    inserted = token.type == "_TERM" and str(token).strip(" \t\r\n;,") != ""
    found = str(token) if token.type not in ("_TERM", "$END") or inserted else None
    shown = f"`{found}`" if found else _describe(token.type)
    hint = None
    if token.type == "EQUAL" and "EQ" in expected:
        hint = "to compare two values use `==`; `=` only assigns"
    elif expected == ["EQUAL"]:
        hint = ("a function with outputs reads `function [a, b] = name(args)`"
                if _open_keyword(exc) == "FUNCTION" else "a for loop reads `for NAME = VALUES`")
    elif token.type == "_TERM" and not inserted:
        hint = "the statement ends before it is complete"
    elif token.type == "NUMBER" and "RPAR" in expected:
        hint = "separate arguments with `,`"
    if len(expected) == 1:
        label = f"expected {_describe(expected[0])} here"
    elif "RPAR" in expected and len(expected) <= 3:
        label = "expected `)` here"
    elif "RSQB" in expected and len(expected) <= 3:
        label = "expected `]` here"
    elif "END" in expected and token.type == "$END":
        label = "expected `end`"
    else:
        label = "unexpected here"
    want = ", ".join(_describe(t) for t in expected[:6])
    more = "" if len(expected) <= 6 else ", …"
    return error("E105", f"unexpected {shown}", span, label=label, hint=hint,
                 notes=[f"expected one of: {want}{more}"] if expected else [])
