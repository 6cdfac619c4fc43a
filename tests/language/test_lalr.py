"""The fast lexer and LALR driver (`netspec/language/lalr.py`) against lark itself.

lark stays the reference: on every valid text the fast path must produce lark's tokens
(type, text and all positions) and lark's tree, and on every text it rejects, lark must
reject it too (the user's message then comes from lark's exception, as before). The
texts are the specs, the zoo, the inline corpus of the fuzz test, and hypothesis
mutations of them, which reach the odd corners: transposes against strings, `...`,
`%{ %}`, unbalanced brackets, stray characters. The fast path runs from generated tables
(`grammar_tables.py`), so a valid file never imports lark: those tables must be lark's.
"""

from __future__ import annotations

from pathlib import Path

import subprocess
import sys

import pytest
from hypothesis import given
from lark.lexer import LexerState
from lark.utils import TextSlice

from netspec.diagnostics import NetspecError
from netspec.language import grammar_tables, load_source
from netspec.language import parser as parser_module
from netspec.language.lalr import FastParser, NotFastPath, _first_characters, grammar_sha256, tables_from_lark
from netspec.language.lexer import rewrite
from netspec.language.parser import _fast_parser, _parser, parse, strip_block_comments
from netspec.language.tree import Token, Tree

from .test_fuzz import CORPUS, SETTINGS, mutated_specs

ROOT = Path(__file__).parents[2]
FILES = sorted([*ROOT.glob("specs/*.net"), *ROOT.glob("netspec/zoo/*.net"), *ROOT.glob("examples/**/*.net")])


def _prepared(text: str) -> str:
    text = text if text.endswith("\n") else text + "\n"
    return strip_block_comments(text, "t.net")


def _fields(tokens) -> list[tuple]:
    return [(t.type, str(t), t.value, t.start_pos, t.end_pos, t.line, t.column, t.end_line, t.end_column)
            for t in tokens]


def _lark_tokens(text: str) -> list:
    """lark's basic lexer alone (no post-lexer), as the fast lexer must reproduce it."""
    return list(_parser().parser.lexer.lexer.lex(LexerState(TextSlice(text, 0, len(text))), None))


def _outcome(run):
    try:
        return "tree", run()
    except NetspecError as exc:
        return "netspec", [(d.code, d.message, str(d.span)) for d in exc.diagnostics]
    except Exception as exc:  # lark's exceptions, or NotFastPath
        return "rejected", type(exc).__name__


def _lark(text: str):
    parser = _parser()
    parser.options.postlex.file = "t.net"
    return parser.parse(text)


def _fast(text: str):
    fast = _fast_parser()
    return fast.parse(rewrite(fast.lex(text), "t.net"))


def _agree(text: str) -> None:
    try:
        text = _prepared(text)
    except NetspecError:
        return  # an unclosed %{: both paths stop before lexing
    lark_result = _outcome(lambda: _lark(text))
    fast_result = _outcome(lambda: _fast(text))
    if lark_result[0] == "tree":
        assert fast_result == lark_result
        assert _fields(_fast_parser().lex(text)) == _fields(_lark_tokens(text))
    elif lark_result[0] == "netspec":  # the post-lexer's own errors: same tokens, same message
        assert fast_result == lark_result
    else:
        assert fast_result[0] != "tree", "the fast path accepted a text lark rejects"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_files_agree_token_for_token_and_tree_for_tree(path: Path):
    text = _prepared(path.read_text(encoding="utf-8"))
    assert _fields(_fast_parser().lex(text)) == _fields(_lark_tokens(text))
    assert _fast(text) == _lark(text)


def test_inline_corpus_agrees():
    for text in CORPUS:
        _agree(text)


@pytest.mark.parametrize("text", [
    "a = b';\nc = 'it''s';\n",  # transpose after a name, a quote inside a string
    "x = [a' b'];\ny = {'a' 'b'};\n",  # transposes and strings side by side in a matrix
    "y = x.';\nz = .5 + 1.e3 + 2E-2;\n",  # dot-transpose, numbers starting or ending with a dot
    "layers = [reluLayer ...  a comment\n    softmaxLayer];\n",  # a continuation
    "if a ~= b && c >= d || ~e, f = a.^2 ./ b; end\n",  # every two-character operator
    "s = \"a\"\"b\" + 'c';\r\nt = 1;\r\n",  # double quotes and CRLF line ends
    "x = 'héllo'; % réseau é\n",  # non-ASCII inside tokens
    "x = é;\n",  # a non-ASCII character where a token should start: rejected by both
    "g = 1./(1+v) + 2.\\v + 3.*v + 1.^v + 1.' + 1.e3;\n",  # a number's dot before an operator is the operator's
    "parfor (k = 1:3, 2)\n s = k;\nend\nspmd (2)\n t = 1;\nend\nfor (j = 1:2)\nend\n",  # parallel blocks
    "function w = f(~, k)\n  w = @(~) k;\n  function g()\n  end\nend\n",  # `~` parameters, a nested function
    "h = @pkg.sub.fn;\n",  # a handle to a package function
])
def test_corners_agree(text: str):
    _agree(text)


@SETTINGS
@given(mutated_specs())
def test_mutated_texts_agree(text: str):
    _agree(text)


def test_rejected_text_is_reported_by_lark():
    """A text the fast path rejects gets lark's located message, not NotFastPath."""
    with pytest.raises(NotFastPath):
        _fast("x = [1 2\ny = 3 $\n")
    with pytest.raises(NetspecError) as caught:
        parse("x = 1\ny = 3 $ 4\n", "t.net")
    diagnostic = caught.value.diagnostics[0]
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("E100", 2, 7)


@pytest.mark.parametrize("regex, expected", [
    (r"\r?\n", {10, 13}),
    (r"(?<=[\w)\]}'.])'", {39}),  # the lookbehind takes no character
    (r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", set(map(ord, "0123456789."))),
    (r"(?:\~=|!=)", {ord("~"), ord("!")}),
    (r"[^'\n]", set(range(128)) - {39, 10}),
])
def test_first_characters(regex: str, expected: set[int]):
    assert _first_characters(regex) == expected


@pytest.mark.parametrize("regex", [r".x", r"(?i:for)", r"(?i)for"])
def test_first_characters_unknown_means_every_character(regex: str):
    """Any character, or a case-insensitive terminal: not modelled, so tried at every character."""
    assert _first_characters(regex) is None


# -------------------------------------------------------------------- the generated tables

def test_generated_tables_are_lark_tables_for_this_grammar():
    stale = "grammar.lark changed: run `python scripts/generate_grammar_tables.py`"
    assert grammar_tables.GRAMMAR_SHA256 == grammar_sha256(), stale
    assert tables_from_lark(_parser()) == grammar_tables.TABLES, stale


def test_table_data_does_not_depend_on_lark_state_numbering():
    """lark numbers its states by hash order; the generated data must not change with it."""
    code = ("from lark import Lark\nfrom netspec.language.lalr import tables_from_lark\n"
            "from netspec.language.lexer import MatlabPostLexer\nfrom netspec.language import grammar_tables\n"
            "lark = Lark.open_from_package('netspec.language', 'grammar.lark', ('',), parser='lalr', "
            "lexer='basic', postlex=MatlabPostLexer(), maybe_placeholders=False, cache=False)\n"
            "print(tables_from_lark(lark) == grammar_tables.TABLES)\n")
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              cwd=ROOT, env={"PYTHONHASHSEED": seed, "PATH": ""})
        assert done.stdout.strip() == "True", done.stderr


def test_stale_tables_are_rebuilt_from_lark(monkeypatch):
    """After an edit of grammar.lark (and before the tables are generated again) netspec
    builds the tables from lark at start-up: slower, never wrong."""
    built_from_lark = []

    def spy(lark):
        built_from_lark.append(lark)
        return tables_from_lark(lark)

    monkeypatch.setattr(grammar_tables, "GRAMMAR_SHA256", "0" * 64)
    monkeypatch.setattr(parser_module, "tables_from_lark", spy)
    _fast_parser.cache_clear()
    try:
        rebuilt = _fast_parser()
        assert built_from_lark == [_parser()]
        text = _prepared((ROOT / "specs" / "resnet50.net").read_text(encoding="utf-8"))
        assert rebuilt.parse(rewrite(rebuilt.lex(text), "t.net")) == _lark(text)
    finally:
        _fast_parser.cache_clear()


def test_a_valid_file_is_parsed_without_importing_lark():
    code = ("import sys\nfrom netspec.language import load_file\n"
            "load_file(sys.argv[1])\nprint('lark' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code, str(ROOT / "specs" / "googlenet.net")],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_lark_tree_is_read_in_netspec_nodes(monkeypatch):
    """Should the fast path ever refuse a text lark accepts, the interpreter still gets
    netspec's Tree and Token (positions kept) and builds the same network."""
    text = (ROOT / "specs" / "mnist_matlab.net").read_text(encoding="utf-8")
    expected = load_source(text, "m.net").network

    def refuse(self, tokens):
        raise NotFastPath

    monkeypatch.setattr(FastParser, "parse", refuse)
    tree = parse(text, "m.net")
    assert isinstance(tree, Tree)
    tokens = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Tree):
            stack.extend(node.children)
        else:
            tokens.append(node)
    assert tokens and all(type(token) is Token for token in tokens)
    assert tree == _lark(_prepared(text))
    assert load_source(text, "m.net").network == expected
