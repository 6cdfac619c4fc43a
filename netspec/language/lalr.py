"""A lean lexer and LALR driver over lark's own terminals and parse table.

lark's general-purpose loops cost about 10 µs per token (line counting, token
callbacks, rule hashing and a Tree for every inlined rule on each reduction), which
made a 10,000-layer file written out line by line take over a second. This module
reads the same grammar through lark — the terminals in lark's own priority order,
its keyword rule, its LALR table and its tree-shaping rules — and runs them in two
tight loops. It handles only valid input: on the first character no terminal matches,
or the first token the table rejects, it raises `NotFastPath`, and `parser.parse` asks
lark itself for the located error. `tests/language/test_lalr.py` checks both paths agree token for token
and tree for tree.
"""

from __future__ import annotations

import re
from functools import partial
from itertools import chain

from lark import Lark, Token, Tree
from lark.parsers.lalr_analysis import Shift

try:  # the parsed form of a regex, to see which characters a terminal can start with
    from re import _constants as sre, _parser as sre_parse  # Python >= 3.11
except ImportError:  # Python 3.10
    import sre_constants as sre  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

__all__ = ["FastParser", "NotFastPath"]


_END = Token("$END", "")


class NotFastPath(Exception):
    """The text is not valid netspec; lark's own parser will say where and why."""


def _tree_builder(rule):
    """What lark's ParseTreeBuilder does when `rule` is reduced (LALR, no placeholders,
    no positions), or None when the children stand as they are.

    One difference, invisible in the finished tree: an inlined `_rule` hands its
    children to the parent as a plain list instead of a Tree the parent then unpacks.
    """
    keep_all = rule.options.keep_all_tokens
    include = [(index, not symbol.is_term and symbol.name.startswith("_"))
               for index, symbol in enumerate(rule.expansion)
               if keep_all or not (symbol.is_term and symbol.filter_out)]
    inline = rule.origin.name.startswith("_")
    expand_single = rule.options.expand1 and not rule.alias
    name = rule.alias or rule.options.template_source or rule.origin.name
    if len(include) == len(rule.expansion) and not any(splice for _, splice in include):
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

    def __init__(self, terminals: list) -> None:
        super().__init__()
        self.terminals = terminals
        self.starts: dict[str, frozenset[int] | None] = {}
        self.compiled: dict[tuple[str, ...], re.Pattern] = {}

    def __missing__(self, character: str) -> re.Pattern:
        if not self.starts:
            self.starts = {t.name: _first_characters(t.pattern.to_regexp()) for t in self.terminals}
        code = ord(character)
        chosen = [t for t in self.terminals if self.starts[t.name] is None or code in self.starts[t.name]]
        if code >= 128 or not chosen:  # not modelled, or no terminal starts with it: all of them
            chosen = self.terminals
        names = tuple(t.name for t in chosen)
        if names not in self.compiled:
            self.compiled[names] = re.compile("|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in chosen))
        self[character] = self.compiled[names]
        return self[character]


class FastParser:
    def __init__(self, lark: Lark) -> None:
        terminals = list(lark.terminals)
        # lark's BasicLexer order: priority, then the longest possible match first
        terminals.sort(key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
        patterns = [t for t in terminals if t.pattern.type == "re"]
        # a string terminal that a pattern terminal of the same priority matches whole
        # (`for` for NAME) is a keyword: lark lexes it as that terminal and renames it
        self.keywords: dict[str, str] = {}
        for pattern in patterns:
            regex = re.compile(pattern.pattern.to_regexp())
            for word in (t for t in terminals if t.pattern.type == "str" and t.priority == pattern.priority):
                found = regex.match(word.pattern.value)
                if found and found.group(0) == word.pattern.value:
                    self.keywords[word.pattern.value] = word.name
        self.scanners = _Scanners([t for t in terminals if t.name not in self.keywords.values()])
        self.ignored = frozenset(lark.lexer_conf.ignore)

        # the table with each state's row in place of its number, so a shift or a goto
        # is one dict lookup; a reduction is (size, tree builder, rule name)
        table = lark.parser.parser.parser.parse_table
        rows: dict[int, dict] = {state: {} for state in table.states}
        reductions: dict[int, tuple] = {}
        for state, actions in table.states.items():
            for symbol, (action, argument) in actions.items():
                if action is Shift:
                    rows[state][symbol] = rows[argument]
                else:
                    key = id(argument)
                    if key not in reductions:
                        reductions[key] = (len(argument.expansion), _tree_builder(argument), argument.origin.name)
                    rows[state][symbol] = reductions[key]
        self.start_row = rows[table.start_states["start"]]
        self.end_row = rows[table.end_states["start"]]

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
                # Token(...) without its keyword-argument shim: a third of the lexing time
                token = new(Token, value)
                token.type, token.value, token.start_pos, token.end_pos = kind, value, pos, end
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
