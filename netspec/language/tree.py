"""The parse tree's two node types: `Token` (a leaf) and `Tree` (a rule's node).

They have lark's attribute names and equality, so the lexer, the interpreter and the
span finder read them as they would lark's; they live here so a valid file is parsed
and evaluated without importing lark at all (lark is loaded only to report a syntax error).
"""

from __future__ import annotations

__all__ = ["Token", "Tree"]


class Token(str):
    """A token: its text (the `str` itself), its terminal name and where it is in the file.

    A large file has millions of tokens, so a token holds its text once: lark's `value`
    attribute is worked out when asked.
    """

    __slots__ = ("type", "start_pos", "line", "column", "end_line", "end_column", "end_pos")

    type: str
    start_pos: int
    end_pos: int
    line: int
    column: int
    end_line: int
    end_column: int

    def __new__(cls, type: str, value: str, start_pos: int = 0, line: int = 1, column: int = 1,
                end_line: int | None = None, end_column: int | None = None, end_pos: int | None = None) -> Token:
        token = str.__new__(cls, value)
        token.type, token.start_pos, token.line, token.column = type, start_pos, line, column
        token.end_line = line if end_line is None else end_line
        token.end_column = column + len(value) if end_column is None else end_column
        token.end_pos = start_pos + len(value) if end_pos is None else end_pos
        return token

    @classmethod
    def new_borrow_pos(cls, type: str, value: str, borrow: Token) -> Token:
        """A token of another terminal (or text) at `borrow`'s place, as the post-lexer rewrites."""
        return cls(type, value, borrow.start_pos, borrow.line, borrow.column, borrow.end_line,
                   borrow.end_column, borrow.end_pos)

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str) and getattr(other, "type", self.type) != self.type:
            return False
        return str.__eq__(self, other)

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"


class Tree:
    """A reduced grammar rule: its name (`data`) and its kept children."""

    __slots__ = ("data", "children")

    def __init__(self, data: str, children: list) -> None:
        self.data = data
        self.children = children

    def __eq__(self, other: object) -> bool:
        try:
            return self.data == other.data and self.children == other.children  # type: ignore[attr-defined]
        except AttributeError:
            return False

    def __hash__(self) -> int:
        return hash((self.data, tuple(self.children)))

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"
