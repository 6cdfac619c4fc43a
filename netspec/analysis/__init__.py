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
from .report import Analysis

__all__ = ["analyze", "Analysis", "DTYPES", "PASSES"]

DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}


def analyze(network: Network, *, input_size: tuple | None = None, dtype: str = "float32") -> Analysis:
    """Shapes, learnables, MACs/FLOPs, memory, receptive fields, 1×1 savings and diagnostics.

    `input_size` replaces the network input's size (H W C, T C or C; entries may be
    symbol names such as 'H' to get formulas).
    """
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    with collector.paused():
        context = Context(network, input_size=input_size, dtype=dtype, bytes_per_element=DTYPES[dtype])
        for run in PASSES:
            run(context)
        return context.report()
