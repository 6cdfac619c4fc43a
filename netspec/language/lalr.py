"""A lean lexer and LALR driver over lark's own terminals and parse table.

lark's general-purpose loops cost about 10 µs per token (line counting, token
callbacks, rule hashing and a Tree for every inlined rule on each reduction), which
made a 10,000-layer file written out line by line take over a second. This module
reads the same grammar through lark — the terminals in lark's own priority order,
its keyword rule, its LALR table and its tree-shaping rules — as plain data
(`tables_from_lark`), and runs them in two tight loops. The data is generated once into
`grammar_tables.py` (`python scripts/generate_grammar_tables.py`), so a valid file is parsed
without importing lark; `parser.py` rebuilds it from lark when grammar.lark changed since.

It handles only valid input: on the first character no terminal matches, or the first
token the table rejects, it raises `NotFastPath`, and `parser.parse` asks lark itself for
the located error. `tests/language/test_lalr.py` checks both paths agree token for token
and tree for tree, and that the generated tables are current.
"""

from __future__ import annotations

import hashlib
import re
from functools import partial
from itertools import chain
from pathlib import Path

from .tree import Token, Tree

try:  # the parsed form of a regex, to see which characters a terminal can start with
    from re import _constants as sre, _parser as sre_parse  # Python >= 3.11
except ImportError:  # Python 3.10
    import sre_constants as sre  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

__all__ = ["FastParser", "NotFastPath", "tables_from_lark", "grammar_sha256", "write_tables"]

GRAMMAR = Path(__file__).with_name("grammar.lark")
GENERATED = Path(__file__).with_name("grammar_tables.py")

_END = Token("$END", "")


class NotFastPath(Exception):
    """The text is not valid netspec; lark's own parser will say where and why."""


def grammar_sha256() -> str:
    """The fingerprint of grammar.lark that generated tables are checked against."""
    return hashlib.sha256(GRAMMAR.read_bytes()).hexdigest()


def _tree_shape(rule) -> tuple:
    """What lark's ParseTreeBuilder does when `rule` is reduced (LALR, no placeholders,
    no positions), as data: (tree name, kept (index, splice) pairs, inline, expand single)."""
    keep_all = rule.options.keep_all_tokens
    include = tuple((index, not symbol.is_term and symbol.name.startswith("_"))
                    for index, symbol in enumerate(rule.expansion)
                    if keep_all or not (symbol.is_term and symbol.filter_out))
    inline = rule.origin.name.startswith("_")
    expand_single = bool(rule.options.expand1 and not rule.alias)
    name = rule.alias or rule.options.template_source or rule.origin.name
    return (str(name), include, inline, expand_single)


def _tree_builder(shape: tuple, size: int):
    """The reduction's tree-building function for a `_tree_shape`, or None when the
    children stand as they are.

    One difference, invisible in the finished tree: an inlined `_rule` hands its
    children to the parent as a plain list instead of a Tree the parent then unpacks.
    """
    name, include, inline, expand_single = shape
    if len(include) == size and not any(splice for _, splice in include):
        if inline:
            return None
        if not expand_single:
            return partial(Tree, name)

    def build(children: list):
        kept: list = []
        for index, splice in include:
            if not splice:
                kept.append(children[index])
            elif kept:
                kept += children[index]
            else:  # take over the list: left-recursive repetitions stay linear
                kept = children[index]
        if inline:
            return kept
        if expand_single and len(kept) == 1:
            return kept[0]
        return Tree(name, kept)

    return build


_ZERO_WIDTH = {sre.ASSERT, sre.ASSERT_NOT, sre.AT}
_CATEGORIES = {sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D", sre.CATEGORY_SPACE: r"\s",
               sre.CATEGORY_NOT_SPACE: r"\S", sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W"}


def _first_characters(regex: str) -> frozenset[int] | None:
    """The ASCII codes a match of `regex` can begin with; None when netspec cannot tell
    (the terminal is then tried at every character, which is always right)."""
    parsed = sre_parse.parse(regex)
    if parsed.state.flags & re.IGNORECASE:
        return None
    try:
        codes, _ = _scan(list(parsed))
    except _Unknown:
        return None
    return frozenset(codes)


class _Unknown(Exception):
    pass


def _scan(items: list) -> tuple[set[int], bool]:
    """(first ASCII codes, whether `items` can match the empty string)."""
    codes: set[int] = set()
    for op, argument in items:
        if op in _ZERO_WIDTH:
            continue
        if op is sre.LITERAL:
            codes.add(argument)
            return codes, False
        if op is sre.IN:
            return codes | _character_set(argument), False
        if op is sre.SUBPATTERN:
            if argument[1] & re.IGNORECASE:  # (?i:...): "for"i starts with f or F
                raise _Unknown
            first, empty = _scan(list(argument[-1]))
        elif op is sre.BRANCH:
            first, empty = set(), False
            for branch in argument[1]:
                branch_first, branch_empty = _scan(list(branch))
                first |= branch_first
                empty = empty or branch_empty
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, _, body = argument
            first, empty = _scan(list(body))
            empty = empty or low == 0
        else:
            raise _Unknown
        codes |= first
        if not empty:
            return codes, False
    return codes, True


def _character_set(items: list) -> set[int]:
    codes: set[int] = set()
    negate = False
    for op, argument in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            codes.add(argument)
        elif op is sre.RANGE:
            codes.update(range(argument[0], min(argument[1], 127) + 1))
        elif op is sre.CATEGORY and argument in _CATEGORIES:
            category = re.compile(_CATEGORIES[argument])
            codes.update(code for code in range(128) if category.match(chr(code)))
        else:
            raise _Unknown
    return set(range(128)) - codes if negate else {code for code in codes if code < 128}


class _Scanners(dict):
    """First character -> an alternation of only the terminals that can start with it, in
    lark's order (so the same one wins): one regex branch tried per token instead of fifty.

    Compiled on first use, so a small file pays for the few characters it starts tokens with.
    """

    def __init__(self, terminals: tuple) -> None:
        super().__init__()
        self.terminals = terminals  # (name, regex, first ASCII codes or None)
        self.compiled: dict[tuple[str, ...], re.Pattern] = {}

    def __missing__(self, character: str) -> re.Pattern:
        code = ord(character)
        chosen = [t for t in self.terminals if t[2] is None or code in t[2]]
        if code >= 128 or not chosen:  # not modelled, or no terminal starts with it: all of them
            chosen = list(self.terminals)
        names = tuple(name for name, _, _ in chosen)
        if names not in self.compiled:
            self.compiled[names] = re.compile("|".join(f"(?P<{name}>{regex})" for name, regex, _ in chosen))
        self[character] = self.compiled[names]
        return self[character]


def tables_from_lark(lark) -> dict:
    """Everything the fast path needs from a `Lark` (LALR, basic lexer), as plain data."""
    from lark.parsers.lalr_analysis import Shift

    terminals = list(lark.terminals)
    # lark's BasicLexer order: priority, then the longest possible match first
    terminals.sort(key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
    # a string terminal that a pattern terminal of the same priority matches whole
    # (`for` for NAME) is a keyword: lark lexes it as that terminal and renames it
    keywords: dict[str, str] = {}
    for pattern in (t for t in terminals if t.pattern.type == "re"):
        regex = re.compile(pattern.pattern.to_regexp())
        for word in (t for t in terminals if t.pattern.type == "str" and t.priority == pattern.priority):
            found = regex.match(word.pattern.value)
            if found and found.group(0) == word.pattern.value:
                keywords[word.pattern.value] = word.name
    scanned = []
    for terminal in terminals:
        if terminal.name not in keywords.values():
            regex = terminal.pattern.to_regexp()
            first = _first_characters(regex)
            scanned.append((terminal.name, regex, None if first is None else tuple(sorted(first))))

    table = lark.parser.parser.parser.parse_table
    # lark numbers its states in an order that changes with the hash seed; numbered in the
    # order a walk from the start state meets them, the same automaton gives the same data
    start = table.start_states["start"]
    order, numbers = [start], {start: 0}
    for state in order:
        for symbol, (action, argument) in sorted(table.states[state].items()):
            if action is Shift and argument not in numbers:
                numbers[argument] = len(order)
                order.append(argument)
    rules: dict[int, int] = {}  # id(rule) -> its index in `shapes`
    shapes: list[tuple] = []
    states: list[dict[str, int]] = []
    for state in order:
        row = {}
        for symbol, (action, argument) in sorted(table.states[state].items()):
            if action is Shift:
                row[symbol] = numbers[argument]
            else:
                if id(argument) not in rules:
                    rules[id(argument)] = len(shapes)
                    shapes.append((len(argument.expansion), str(argument.origin.name), _tree_shape(argument)))
                row[symbol] = -1 - rules[id(argument)]
        states.append(row)
    return {"terminals": tuple(scanned), "keywords": keywords, "ignored": tuple(sorted(lark.lexer_conf.ignore)),
            "rules": tuple(shapes), "states": tuple(states),
            "start": 0, "end": numbers[table.end_states["start"]]}


def write_tables(tables: dict, path: Path = GENERATED) -> None:
    """Write `tables` as a Python module of literals (read back as fast as bytecode loads)."""
    lines = ['"""The fast path\'s tables for grammar.lark, generated by `python scripts/generate_grammar_tables.py`.',
             "",
             "Do not edit: change grammar.lark and generate again (tests/language/test_lalr.py checks",
             'that this file matches the grammar)."""',
             "",
             f"GRAMMAR_SHA256 = {grammar_sha256()!r}",
             "",
             "TABLES = {"]
    for key, value in tables.items():
        if isinstance(value, tuple) and value:
            lines.append(f"    {key!r}: (")
            lines += [f"        {item!r}," for item in value]
            lines.append("    ),")
        else:
            lines.append(f"    {key!r}: {value!r},")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class FastParser:
    def __init__(self, tables: dict) -> None:
        self.keywords: dict[str, str] = tables["keywords"]
        self.scanners = _Scanners(tuple((name, regex, None if first is None else frozenset(first))
                                        for name, regex, first in tables["terminals"]))
        self.ignored = frozenset(tables["ignored"])
        # the table with each state's row in place of its number, so a shift or a goto
        # is one dict lookup; a reduction is (size, tree builder, rule name)
        reductions = [(size, _tree_builder(shape, size), origin) for size, origin, shape in tables["rules"]]
        rows: list[dict] = [{} for _ in tables["states"]]
        for row, actions in zip(rows, tables["states"]):
            for symbol, action in actions.items():
                row[symbol] = rows[action] if action >= 0 else reductions[-1 - action]
        self.start_row = rows[tables["start"]]
        self.end_row = rows[tables["end"]]

    def lex(self, text: str) -> list[Token]:
        """The token stream lark's basic lexer would produce, positions included."""
        scanners = self.scanners
        keywords = self.keywords
        ignored = self.ignored
        new = str.__new__
        tokens: list[Token] = []
        append = tokens.append
        pos, line, line_start, size = 0, 1, 0, len(text)
        while pos < size:
            found = scanners[text[pos]].match(text, pos)
            if found is None:
                raise NotFastPath
            kind = found.lastgroup
            value = found.group()
            end = found.end()
            if "\n" in value:
                end_line = line + value.count("\n")
                end_line_start = pos + value.rindex("\n") + 1
            else:
                end_line, end_line_start = line, line_start
            if kind not in ignored:
                if kind == "NAME" and value in keywords:
                    kind = keywords[value]
                # the slots set directly, without Token()'s defaults: a third of the lexing time
                token = new(Token, value)
                token.type, token.start_pos, token.end_pos = kind, pos, end
                token.line, token.column = line, pos - line_start + 1
                token.end_line, token.end_column = end_line, end - end_line_start + 1
                append(token)
            pos, line, line_start = end, end_line, end_line_start
        return tokens

    def parse(self, tokens: list[Token]) -> Tree:
        """Run the LALR table over `tokens`; the tree is the one lark would build."""
        end_row = self.end_row
        row = self.start_row
        row_stack = [row]
        value_stack: list = []
        for token in chain(tokens, (_END,)):
            kind = token.type
            while True:
                action = row.get(kind)
                if action.__class__ is dict:  # shift
                    row = action
                    row_stack.append(row)
                    value_stack.append(token)
                    break
                if action is None:
                    raise NotFastPath
                size, build, origin = action
                if size:
                    children = value_stack[-size:]
                    del row_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                row = row_stack[-1][origin]
                row_stack.append(row)
                value_stack.append(children if build is None else build(children))
                if row is end_row:  # only `$END` completes the start rule
                    return value_stack[-1]
        raise NotFastPath

