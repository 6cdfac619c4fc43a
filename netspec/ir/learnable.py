"""Learnable values a spec gives a layer ('Weights', 'Bias', BN's 'TrainedMean', ...).

MATLAB takes a layer's initial learnables as options or as properties set after construction
(`layers(2).Weights = randn([5 5 3 32])*0.01`). The IR keeps what the file says, in MATLAB's
size and column-major order: the numbers when they are known (a literal, `zeros`, `ones`), only
the size when they are not (`randn` is random), or neither (data loaded from a file). A constant
array is kept as its one value, so `zeros(1,1,512)` stays one number in the JSON; a literal is
bounded by the language's element limit.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..diagnostics import Span
from .shape import Dim, is_known

__all__ = ["Learnable", "matlab_size", "format_size"]


class Learnable(BaseModel):
    """One learnable's given value: its MATLAB size and, when known, its numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")

    size: tuple[Annotated[int, Field(ge=0)], ...] | None = None
    """MATLAB's size (`[5 5 3 32]`), None when not even the size is known."""
    values: list[float] | None = None
    """The numbers in MATLAB's column-major order, when they are known and not all equal."""
    fill: float | None = None
    """The value of every element, for a constant array (`zeros(1,1,32)`)."""
    origin: str = ""
    """Where an unknown value comes from (`randn`, a variable), for the note that says so."""
    span: Span | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Learnable":
        if self.values is not None and self.fill is not None:
            raise ValueError("a learnable has either its values or one fill value")
        if self.values is not None and (self.size is None or len(self.values) != math.prod(self.size)):
            raise ValueError("a learnable's values must match its size")
        if self.fill is not None and self.size is None:
            raise ValueError("a constant learnable needs its size")
        return self

    @staticmethod
    def of(size: tuple[int, ...], values: list[float], span: Span | None) -> "Learnable":
        """Known numbers, a constant array kept as its one value."""
        if values and all(x == values[0] for x in values):
            return Learnable(size=size, fill=values[0], span=span)
        return Learnable(size=size, values=list(values), span=span)

    @property
    def known(self) -> bool:
        """Whether the numbers themselves are known (they become the initial weights)."""
        return self.values is not None or self.fill is not None

    def numbers(self) -> list[float]:
        """Every element in column-major order (only for a known value)."""
        if self.values is not None:
            return self.values
        assert self.size is not None and self.fill is not None
        return [self.fill] * math.prod(self.size)


def matlab_size(size: tuple[Dim, ...]) -> tuple[Dim, ...]:
    """A size as MATLAB reports it: at least two dimensions, no trailing singleton beyond them
    (`zeros(1,1,1)` is 1×1, a 3×3×1×1 filter is 3×3)."""
    dims = list(size) + [1] * max(0, 2 - len(size))
    while len(dims) > 2 and is_known(dims[-1]) and dims[-1] == 1:
        dims.pop()
    return tuple(dims)


def format_size(size: tuple[Dim, ...]) -> str:
    """`5×5×3×32`, MATLAB's order."""
    return "×".join(str(d) for d in matlab_size(size))
