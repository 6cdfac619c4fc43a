"""Pausing Python's cyclic garbage collector around the allocation-heavy phases.

Parsing, evaluating and analyzing a spec allocate millions of small objects (tokens,
parse-tree nodes, values, layers, reports) that form no reference cycles. Every full
collection walks all of them again: for a 10,000-layer spec that was a third of the load
and a quarter of the analysis. Reference counting still frees whatever these phases drop,
and the collector resumes (if it was running) when they end.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
