"""Static analysis of a network's IR: nothing runs, no torch, no onnx.

`analyze(network)` runs the passes below in order over one shared `Context`, the way
sqlglot's optimizer runs its rules: each pass reads what earlier passes wrote and
adds diagnostics instead of raising.
"""

from __future__ import annotations

from .. import collector
from ..ir import Network
from .context import Context
from .passes import PASSES
from .render import CONVENTIONS
from .report import Analysis

__all__ = ["analyze", "Analysis", "DTYPES", "bytes_per_element", "PASSES"]

DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}


def bytes_per_element(dtype: str) -> int:
    """The bytes one element of `dtype` takes; a ValueError that names the choices for any other
    name. The one check of a dtype: `analyze` and `netspec analyze --dtype` both ask it."""
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    return DTYPES[dtype]


def analyze(network: Network, *, input_size: tuple | None = None, dtype: str = "float32", convention: str = "macs",
            batch_size: int | None = None, train_size: int | None = None,
            sequence_length: int | None = None) -> Analysis:
    """Shapes, learnables, MACs/FLOPs, memory, receptive fields, a training step's work,
    1×1 savings and diagnostics.

    `input_size` replaces the network input's size (H W C, T C or C; entries may be
    symbol names such as 'H' to get formulas). `convention` (macs, flops or torch) is what a
    training step is counted in; `batch_size` replaces the spec's MiniBatchSize, and
    `train_size` (training samples) adds the work of one epoch. `sequence_length` fixes the time
    steps of every sequence input (otherwise 'MinLength', or the symbol T).
    """
    size = bytes_per_element(dtype)
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose one of {', '.join(CONVENTIONS)}")
    with collector.paused():
        context = Context(network, input_size=input_size, dtype=dtype, bytes_per_element=size, convention=convention,
                          batch_size=batch_size, train_size=train_size, sequence_length=sequence_length)
        for run in PASSES:
            run(context)
        return context.report()
