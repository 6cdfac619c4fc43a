"""MATLAB's context-dependent tokens, recovered from lark's basic lexer output.

MATLAB's lexical rules depend on where a token sits:
- inside `[]`/`{}` whitespace separates elements (`[a -b]` is two, `[a - b]` one),
  `;` and newlines separate rows, `,` separates columns;
- inside `()` a `Name=` starts a name-value argument and `end` means the last index;
- at statement level `;`, `,` and newlines end statements, and `clear all` is a
  command (`clear('all')`).
- at the start of a function, `arguments` opens a block of declarations, one a line
  (`name (1,1) double {mustBePositive} = 3`), whose names and classes are retyped;
- a function file may write no `end` for its functions at all: each then ends at the
  next `function` or at the end of the file (never in a script, as in MATLAB).
This post-lexer keeps a stack of open brackets and rewrites the stream accordingly
(Octave's rule, `whitespace_is_significant()` in its lex.ll). It also reports
unbalanced brackets and unclosed blocks against the opening token, which is where
the user needs to look.
"""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Span, error
from .tree import Token

__all__ = ["MatlabPostLexer", "rewrite", "token_span"]

VALUE_END = {"NUMBER", "STRING", "DQSTRING", "NAME", "RPAR", "RSQB", "RBRACE",
             "TRANSPOSE", "DOT_TRANSPOSE", "END_INDEX"}
VALUE_START = {"NUMBER", "STRING", "DQSTRING", "NAME", "LPAR", "LSQB", "LBRACE", "AT",
               "NOT", "END"}
SIGNS = {"PLUS", "MINUS"}
OPENERS = {"LPAR": "(", "LSQB": "[", "LBRACE": "{"}
CLOSERS = {"RPAR": "(", "RSQB": "[", "RBRACE": "{"}
CLOSER_CHAR = {"(": ")", "[": "]", "{": "}"}
BLOCK_OPENERS = {"FOR", "PARFOR", "SPMD", "WHILE", "IF", "SWITCH", "TRY", "FUNCTION", "ARGUMENTS"}
LOOPS = {"FOR", "PARFOR"}
HEADERS = {"WHILE", "IF", "ELSEIF", "SWITCH", "CASE"}
"""Keywords whose condition may be followed on the same line by the body, split by a space.

`for` (and `parfor`) is one too, but its expression starts only after `for NAME =`: a gap before `=`
(`for i 1:3`) is a missing `=`, not the end of the header."""
SEPARATORS = {"NEWLINE", "SEMICOLON", "COMMA"}
PATH_COMMANDS = frozenset("cd addpath rmpath save load run format warning close clear diary pkg mkdir delete".split())
"""Commands whose words may start with any character (`cd ..`, `load data/train.mat`,
`save ~/x.mat net`): after `cd ` only `=` or `(` makes the statement something else."""
# A bracket frame is ("(" | "[" | "{" | "{index", opening token).
MATRIX_FRAMES = {"[", "{"}
PARENTHESES_RULES = {"NEWLINE", "SEMICOLON", "NAME"}
"""The tokens that mean something else inside `()` or an indexing `{}` (see `_in_parentheses`)."""
ARGUMENTS_FOLLOWERS = {"NEWLINE", "SEMICOLON", "COMMA", "LPAR"}
"""What follows `arguments` when it opens a block (`arguments`, `arguments (Repeating)`)."""


def token_span(token: Token, file: str) -> Span:
    return Span(file=file, line=token.line, column=token.column,
                end_line=token.end_line or token.line,
                end_column=token.end_column or token.column + len(str(token)))


def _glued(left: Token, right: Token) -> bool:
    return left.end_pos == right.start_pos


def _retyped(kind: str, text: str, like: Token) -> Token:
    """A token of terminal `kind` at `like`'s place, of `like`'s class (lark's own on the
    error path, where lark's parser reads the stream)."""
    return type(like).new_borrow_pos(kind, text, like)


class MatlabPostLexer:
    """The rewrite as lark's `postlex` hook, for the error path's lark parser."""

    always_accept = ("NEWLINE", "SEMICOLON", "COMMA")

    def __init__(self, file: str = "<string>") -> None:
        self.file = file

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        yield from rewrite(list(stream), self.file)


def rewrite(tokens: list[Token], file: str, *, located_separators: bool = True) -> list[Token]:
    """lark's basic token stream -> MATLAB's context-dependent one (see the module docstring).

    A parse tree drops the separators this inserts in arrays: for the fast path, which
    never reports a syntax error itself, they need no place (`located_separators=False`) and
    are one shared token of each kind rather than one per gap, a third of a long array's tokens.
    """
    return _Rewriter(tokens, file, located_separators).run()


_UNLOCATED_SEPARATORS = {kind: Token(kind, "") for kind in ("_COLSEP", "_ROWSEP")}


class _Rewriter:
    def __init__(self, tokens: list[Token], file: str, located_separators: bool = True) -> None:
        self.tokens = tokens
        self.file = file
        self.located_separators = located_separators
        self.frames: list[tuple[str, Token]] = []
        self.blocks: list[Token] = []
        self.out: list[Token] = []
        self.pending: Token | None = None  # a separator waiting to see what follows
        self.header = False  # inside `for/if/while/... <expression>` before its line ends
        self.loop_header = False  # between `for` and its `=`
        self.function_header = False  # between `function` and the end of its line
        self.function_start = False  # no statement yet in the function body (`arguments` may come)
        self.declaring = False  # in an `arguments` declaration, before its `=`
        self.functions: list[Token] = []  # every `function` keyword, in order

    # -- helpers ---------------------------------------------------------------
    def _span(self, token: Token) -> Span:
        return token_span(token, self.file)

    def _frame(self) -> str | None:
        return self.frames[-1][0] if self.frames else None

    def _in_index(self) -> bool:
        return any(kind in ("(", "{index") for kind, _ in self.frames)

    def _last(self) -> Token | None:
        return self.out[-1] if self.out else None

    def _next(self, i: int) -> Token | None:
        return self.tokens[i + 1] if i + 1 < len(self.tokens) else None

    def _next_is(self, i: int, kind: str) -> bool:
        return i + 1 < len(self.tokens) and self.tokens[i + 1].type == kind

    def _emit(self, token: Token) -> None:
        if self.pending is not None:
            last = self._last()
            opener = last is not None and last.type in ("LSQB", "LBRACE") and self._frame() in MATRIX_FRAMES
            if not opener:
                self.out.append(self.pending)
            self.pending = None
        self.out.append(token)

    def _separator(self, kind: str, like: Token) -> None:
        """Queue a separator; runs collapse (a row break wins over a column break)."""
        sep = _retyped(kind, str(like), like) if self.located_separators else _UNLOCATED_SEPARATORS[kind]
        if self.pending is None or kind == "_ROWSEP":
            if self.pending is None or self.pending.type != "_ROWSEP":
                self.pending = sep

    def _terminate(self, like: Token) -> None:
        last = self._last()
        if last is None or last.type == "_TERM":
            return
        self.out.append(_retyped("_TERM", str(like), like))

    # -- main loop -------------------------------------------------------------
    def run(self) -> list[Token]:
        """One pass over the tokens: each is read by the rule of the bracket it sits in (none, an
        array's, or a call's/index's), retyped if its meaning depends on where it is, then placed."""
        # the hot loop: a 10,000-layer file has 100,000 tokens, so the commonest case (a token
        # inside brackets, nothing pending) is placed here rather than through the helpers
        tokens, frames, out = self.tokens, self.frames, self.out
        i, n = 0, len(tokens)
        while i < n:
            tok = tokens[i]
            kind = tok.type
            if not frames:
                if kind in SEPARATORS:
                    self._end_statement(tok)
                    i += 1
                    continue
                self._track_header(tok, i)
                if self._at_statement_start():
                    tok = self._statement_start(tok, i)
                    kind = tok.type
                    if kind == "NAME" and self._is_command(i):
                        i = self._command(i)
                        continue
                elif self.declaring:
                    tok = self._declaration(tok)
                self._track_block(tok)
            elif frames[-1][0] in MATRIX_FRAMES:
                if kind in SEPARATORS:
                    self._separator("_COLSEP" if kind == "COMMA" else "_ROWSEP", tok)
                    i += 1
                    continue
                if self.pending is None:
                    self._separate_elements(tok, i)
            elif kind in PARENTHESES_RULES:
                tok = self._in_parentheses(tok, i)
            if kind == "END" or kind == "NOT":
                tok = self._by_position(tok, i)
                kind = tok.type
            if kind in OPENERS:
                self._open(tok)
            elif kind in CLOSERS:
                self._close(tok)
            elif self.pending is None:
                out.append(tok)
            else:
                self._emit(tok)
            i += 1
        self._finish()
        return out

    # -- the steps of the main loop ----------------------------------------------
    def _end_statement(self, separator: Token) -> None:
        """`;`, `,` or a newline outside brackets: the statement (and any header) ends."""
        self.header = self.loop_header = self.declaring = False
        if self.function_header:
            self.function_header, self.function_start = False, True
        self._terminate(separator)

    def _statement_start(self, tok: Token, i: int) -> Token:
        """The first token of a statement: in an `arguments` block, a declared name; at a
        function's start, `arguments` opening a block. Any other statement ends the function's start."""
        if self.blocks and self.blocks[-1].type == "ARGUMENTS":
            if tok.type == "NAME":
                self.declaring = True
                return _retyped("ARG_NAME", str(tok), tok)
            return tok  # its `end`: more `arguments` blocks may follow
        if self.function_start and tok.type == "NAME" and str(tok) == "arguments":
            following = self._next(i)
            if following is None or following.type in ARGUMENTS_FOLLOWERS:
                return _retyped("ARGUMENTS", str(tok), tok)
        self.function_start = False
        return tok

    def _declaration(self, tok: Token) -> Token:
        """After a declared name, before `=`: a name not after `.` is the argument's class."""
        if tok.type == "EQUAL":
            self.declaring = False
        elif tok.type == "NAME" and self.out[-1].type != "DOT":
            return _retyped("ARG_CLASS", str(tok), tok)
        return tok

    def _track_header(self, tok: Token, i: int) -> None:
        """Follow `for/if/while/... <expression>`: a gap before a new element ends the header
        (`if x > 0 y = 1; end`: MATLAB ends the condition at the space)."""
        last = self._last()
        if (self.header and last is not None and last.type in VALUE_END and not _glued(last, tok)
                and self._starts_element(tok, self._next(i))):
            self.header = False
            self._terminate(tok)
        kind = tok.type
        if kind in HEADERS:
            self.header = True
        elif kind in LOOPS:
            self.loop_header = True
        elif kind == "EQUAL" and self.loop_header:
            self.loop_header = False
            self.header = True

    def _track_block(self, tok: Token) -> None:
        """Keep the stack of open blocks (`for`, `if`, `function`...) that each `end` closes."""
        if tok.type in BLOCK_OPENERS:
            self.blocks.append(tok)
            if tok.type == "FUNCTION":
                self.functions.append(tok)
                self.function_header = True
        elif tok.type == "END":
            last = self._last()
            if last is not None and last.type not in ("_TERM", "CMD_WORD", "CMD_NAME") and \
                    last.type not in VALUE_END:
                raise error("E117", "`end` is used outside of indexing", self._span(tok),
                            hint="`end` means the last index only inside x(...) or c{...}")
            if not self.blocks:
                raise error("E110", "`end` without a matching block", self._span(tok),
                            label="nothing to close here",
                            hint="remove this `end`, or check the `for`/`if`/`function` above it")
            self.blocks.pop()

    def _separate_elements(self, tok: Token, i: int) -> None:
        """Inside `[]`/`{}`, with no separator pending, a gap between a value and the start of
        another separates two elements."""
        out = self.out
        last = out[-1] if out else None  # not `_last()`: most tokens of a long array pass here
        if (last is not None and last.type in VALUE_END
                and not _glued(last, tok) and self._starts_element(tok, self._next(i))):
            self._separator("_COLSEP", tok)

    def _in_parentheses(self, tok: Token, i: int) -> Token:
        """Inside `()` or an indexing `{}`: the line must not end, and `Name=` starts a
        name-value argument (a `,` needs nothing)."""
        if tok.type in ("NEWLINE", "SEMICOLON"):
            kind, opener = self.frames[-1]
            raise error("E102", f"unclosed `{opener}`", self._span(opener),
                        label=f"this `{opener}` is not closed before the end of the line",
                        hint=f"close it with `{CLOSER_CHAR[kind[0]]}`, or continue the line with `...`")
        if tok.type == "NAME" and self.frames[-1][0] == "(" and self._next_is(i, "EQUAL"):
            return _retyped("KWNAME", str(tok), tok)
        return tok

    def _by_position(self, tok: Token, i: int) -> Token:
        """`end` inside an index is its last position; `~` before `,`, `]` or `)` is an ignored output."""
        if tok.type == "END" and self._in_index():
            return _retyped("END_INDEX", str(tok), tok)
        following = self._next(i)
        if tok.type == "NOT" and following is not None and following.type in ("COMMA", "RSQB", "RPAR"):
            return _retyped("TILDE_PLACEHOLDER", str(tok), tok)
        return tok

    def _open(self, tok: Token) -> None:
        """A bracket opens: `{` glued to a value indexes it (`c{2}`), any other `{` makes a cell array."""
        char = OPENERS[tok.type]
        last = self._last()
        if char == "{" and last is not None and last.type in VALUE_END and _glued(last, tok):
            char = "{index"
        self._emit(tok)
        self.frames.append((char, tok))

    def _finish(self) -> None:
        """The end of the text: every bracket and block must be closed; the last statement ends."""
        if self.frames:
            kind, opener = self.frames[-1]
            raise error("E102", f"unclosed `{opener}`", self._span(opener),
                        label="opened here and never closed",
                        hint=f"add the matching `{CLOSER_CHAR[kind[0]]}`")
        if self.blocks and self._functions_without_end():
            self._close_functions()
        elif self.blocks:
            opener = self.blocks[-1]
            raise error("E111", f"missing `end` for this `{opener}`", self._span(opener),
                        label=f"this `{opener}` is never closed",
                        hint=f"add `end` after the body of the `{opener}`")
        last = self._last()
        if last is not None and last.type != "_TERM":
            self.out.append(_retyped("_TERM", "", last))

    def _functions_without_end(self) -> bool:
        """A function file none of whose functions is closed by `end` (every one is still open)."""
        return (self.out[0].type == "FUNCTION" and len(self.blocks) == len(self.functions)
                and all(block.type == "FUNCTION" for block in self.blocks))

    def _close_functions(self) -> None:
        """End each function at the next `function` and the last one at the end of the file."""
        starts = {id(token) for token in self.functions[1:]}
        out: list[Token] = []
        for token in self.out:
            if id(token) in starts:
                out += [_retyped("END", "end", out[-1]), _retyped("_TERM", "", out[-1])]
            out.append(token)
        if out[-1].type != "_TERM":
            out.append(_retyped("_TERM", "", out[-1]))
        out.append(_retyped("END", "end", out[-1]))
        self.out[:] = out
        self.blocks.clear()

    def _close(self, tok: Token) -> None:
        want = CLOSERS[tok.type]
        if not self.frames:
            raise error("E103", f"unmatched `{tok}`", self._span(tok),
                        label="no bracket is open here", hint=f"remove this `{tok}`")
        kind, opener = self.frames[-1]
        if kind[0] != want:
            raise error("E103", f"`{tok}` does not match `{opener}`", self._span(tok),
                        label=f"expected `{CLOSER_CHAR[kind[0]]}`",
                        notes=[f"the `{opener}` was opened at line {opener.line}, column {opener.column}"])
        self.pending = None  # `[a;]`, `[a, ]`: a trailing separator means nothing
        self.frames.pop()
        self.out.append(tok)

    def _starts_element(self, tok: Token, nxt: Token | None) -> bool:
        if tok.type in VALUE_START:
            return True
        if tok.type in SIGNS and nxt is not None and _glued(tok, nxt):
            return nxt.type in VALUE_START or nxt.type in SIGNS
        return False

    def _at_statement_start(self) -> bool:
        last = self._last()
        return last is None or last.type == "_TERM"

    def _is_command(self, i: int) -> bool:
        """`clear all`, `hold on`, `save myNet net`: a name, a gap, then a bare word (any word
        after one of the PATH_COMMANDS)."""
        tok = self.tokens[i]
        nxt = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
        if nxt is None or nxt.line != tok.line or _glued(tok, nxt):
            return False
        if str(tok) in PATH_COMMANDS:
            return nxt.type not in ("EQUAL", "LPAR", *SEPARATORS)
        if nxt.type not in ("NAME", "NUMBER"):
            return False
        after = self.tokens[i + 2] if i + 2 < len(self.tokens) else None
        return not (after is not None and after.type == "EQUAL")

    def _command(self, i: int) -> int:
        """The command's name, then one CMD_WORD per run of tokens without a gap (`data/x.mat`
        is one word), quotes taken off ('my file.mat')."""
        tokens = self.tokens
        head = tokens[i]
        self.out.append(_retyped("CMD_NAME", str(head), head))
        i += 1
        while i < len(tokens) and tokens[i].type not in SEPARATORS:
            first = last = tokens[i]
            pieces = []
            while True:
                pieces.append(last[1:-1].replace("''", "'") if last.type == "STRING" else str(last))
                if i + 1 == len(tokens) or tokens[i + 1].type in SEPARATORS or not _glued(last, tokens[i + 1]):
                    break
                i += 1
                last = tokens[i]
            word = _retyped("CMD_WORD", "".join(pieces), first)
            word.end_line, word.end_column, word.end_pos = last.end_line, last.end_column, last.end_pos
            self.out.append(word)
            i += 1
        return i
