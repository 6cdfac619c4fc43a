"""Activation shapes and the small arithmetic the layer rules share.

Dimensions are ints, or sympy expressions when the input size is symbolic
(`imageInputLayer([H W 3])`); the helpers below work on both, so each layer's shape
rule is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from .data_kind import FEATURE, IMAGE, IMAGE_SEQUENCE, SEQUENCE, SIZE, DataKind

if TYPE_CHECKING:
    from ..diagnostics import Span

__all__ = ["Shape", "Dim", "ShapeError", "Window", "floordiv", "ceildiv", "dim_max", "is_known",
           "conv_output", "same_padding", "slide", "symbol", "GLOBAL", "TIME", "format_dim", "differ"]

TIME = "T"
"""The symbol of a sequence's length when nothing fixes it (`--sequence-length`, 'MinLength')."""

GLOBAL = "global"
"""A layer whose every output sees the whole input (global pooling, fully connected)."""

Dim = Union[int, Any]  # int, or a sympy expression


class ShapeError(Exception):
    """A layer cannot take its input; the analysis turns this into a located diagnostic."""

    def __init__(self, message: str, hint: str | None = None, code: str = "A101", span: Span | None = None):
        super().__init__(message)
        self.hint = hint
        self.code = code
        self.span = span
        """Where to point instead of the layer (the option or assignment that gave a value)."""


@dataclass(frozen=True)
class Shape:
    """One sample's activation (the batch stays symbolic): H×W×C, T×C, T×H×W×C or C."""

    kind: DataKind
    dims: tuple[Dim, ...]
    repeat: Dim = 1
    """How many of these one sample holds: the T images of a folded image sequence, which the
    layers between a sequenceFoldingLayer and its sequenceUnfoldingLayer see one at a time (their
    rules read one image; the costs count all of them)."""

    @staticmethod
    def image(h: Dim, w: Dim, c: Dim) -> "Shape":
        return Shape(IMAGE, (h, w, c))

    @staticmethod
    def sequence(t: Dim, c: Dim) -> "Shape":
        return Shape(SEQUENCE, (t, c))

    @staticmethod
    def image_sequence(t: Dim, h: Dim, w: Dim, c: Dim) -> "Shape":
        return Shape(IMAGE_SEQUENCE, (t, h, w, c))

    @staticmethod
    def feature(c: Dim) -> "Shape":
        return Shape(FEATURE, (c,))

    @staticmethod
    def size_of(shape: "Shape") -> "Shape":
        """The size of `shape` as a value (maxPooling2dLayer's 'size' output)."""
        return Shape(SIZE, shape.dims)

    @property
    def channels(self) -> Dim:
        return self.dims[-1]

    @property
    def spatial(self) -> tuple[Dim, ...]:
        return self.dims[:-1]

    @property
    def numel(self) -> Dim:
        """Elements per sample (of every folded image)."""
        if self.kind.holds_size:
            return len(self.dims)
        return self.repeat * _product(self.dims)

    @property
    def step_numel(self) -> Dim:
        """Elements of one time step (H·W·C of an image sequence, C of a sequence), or of the
        whole of one image or vector: what a fully connected layer reads at once."""
        return _product(self.dims[1:] if self.kind.time else self.dims)

    def repeated(self, repeat: Dim) -> "Shape":
        return Shape(self.kind, self.dims, repeat)

    def with_channels(self, channels: Dim) -> "Shape":
        return Shape(self.kind, (*self.spatial, channels), self.repeat)

    def with_spatial(self, spatial: tuple[Dim, ...]) -> "Shape":
        return Shape(self.kind, (*spatial, self.channels), self.repeat)

    def with_unit_spatial(self) -> "Shape":
        """Every spatial axis shrunk to 1 (global pooling; a fully connected layer on an image)."""
        return self.with_spatial(tuple(1 for _ in self.spatial))

    def with_time(self, length: Dim) -> "Shape":
        """The same shape over `length` time steps (unchanged for a kind without a time axis)."""
        if "T" not in self.kind.axes:
            return self
        axis = self.kind.axes.index("T")
        return Shape(self.kind, (*self.dims[:axis], length, *self.dims[axis + 1:]))

    def __str__(self) -> str:
        if self.kind.holds_size:  # the numbers themselves, as MATLAB writes a size
            return "[" + " ".join(str(d) for d in self.dims) + "]"
        shown = str(self.dims[0]) if len(self.dims) == 1 else "×".join(format_dim(d) for d in self.dims)
        return shown if is_known(self.repeat) and self.repeat == 1 else f"{shown} ({self.repeat} images)"


def _product(dims: tuple[Dim, ...]) -> Dim:
    total: Dim = 1
    for d in dims:
        total = total * d
    return total


def format_dim(value: Dim) -> str:
    """A size as one factor of a product: a formula of several terms in parentheses, so that
    (H - 2)×(W - 2)×8 does not read as H - 2×W - 2×8."""
    text = str(value)
    return f"({text})" if not is_known(value) and (value.is_Add or value.is_Mul or value.is_Pow) else text


@dataclass(frozen=True)
class Window:
    """A sliding window along one spatial axis, for receptive fields."""

    kernel: int
    stride: int
    pad_begin: Dim
    dilation: int = 1
    transposed: bool = False

    @property
    def extent(self) -> int:
        return (self.kernel - 1) * self.dilation + 1


def symbol(value: int | str) -> Dim:
    """A size from the IR: ints stay ints, names become positive integer sympy symbols."""
    if isinstance(value, str):
        import sympy

        return sympy.Symbol(value, positive=True, integer=True)
    return value


def is_known(value: Dim) -> bool:
    return isinstance(value, int)


def differ(a: Dim, b: Dim) -> bool:
    """Two sizes that cannot be equal: different numbers, or formulas a constant apart (T - 2
    and T differ whatever T is; H and W may not)."""
    if is_known(a) and is_known(b):
        return a != b
    gap = a - b
    return getattr(gap, "is_number", isinstance(gap, int)) and gap != 0


def _settled(value: Dim) -> Dim:
    """A formula that came out a number is that int ('same' padding of a stride-1 window over T
    is k - 1 whatever T is), so the backends can build from it."""
    return int(value) if getattr(value, "is_Integer", False) else value


def floordiv(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return a // b
    import sympy

    return _settled(sympy.floor(sympy.Rational(1, 1) * a / b))


def ceildiv(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return -((-a) // b)
    import sympy

    return _settled(sympy.ceiling(sympy.Rational(1, 1) * a / b))


def dim_max(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return max(a, b)
    import sympy

    return _settled(sympy.Max(a, b))


def same_padding(size: Dim, kernel: int, stride: int, dilation: int = 1) -> tuple[Dim, Dim]:
    """MATLAB's 'same': out = ceil(in/S); the odd extra pixel goes bottom/right."""
    out = ceildiv(size, stride)
    total = dim_max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size)
    begin = floordiv(total, 2)
    return begin, total - begin


def conv_output(size: Dim, kernel: int, stride: int, pad_begin: Dim, pad_end: Dim, dilation: int = 1) -> Dim:
    """floor((in + pad_begin + pad_end - ((F-1)*D+1)) / S) + 1, no ceil mode (MATLAB)."""
    return floordiv(size + pad_begin + pad_end - ((kernel - 1) * dilation + 1), stride) + 1


def slide(shape: Shape, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
          padding: Any, what: str) -> tuple[Shape, tuple[Window, ...]]:
    """Output shape and per-axis windows of a conv/pool sliding over `shape`'s spatial axes.

    `padding` is 'same', 'causal' (1-D), or explicit (begin, end) pairs flattened as
    MATLAB writes them: (t, b, l, r) in 2-D, (l, r) in 1-D.
    """
    sizes = shape.spatial
    outs: list[Dim] = []
    windows: list[Window] = []
    for axis, size in enumerate(sizes):
        k, s, d = kernel[axis], stride[axis], dilation[axis]
        if padding == "same":
            begin, end = same_padding(size, k, s, d)
            out = ceildiv(size, s)
        else:
            begin, end = ((k - 1) * d, 0) if padding == "causal" else (padding[2 * axis], padding[2 * axis + 1])
            out = conv_output(size, k, s, begin, end, d)
        if is_known(out) and out < 1:
            axis_name = ("height", "width")[axis] if len(sizes) == 2 else "length"
            raise ShapeError(f"{what} would give an output {axis_name} of {out}: the input is {size} "
                             f"but the window spans {(k - 1) * d + 1} (with padding {begin}+{end})",
                             hint="use a smaller window, padding, or a larger input", code="A102")
        outs.append(out)
        windows.append(Window(k, s, begin, d))
    return shape.with_spatial(tuple(outs)), tuple(windows)
