"""Pausing Python's cyclic garbage collector around the allocation-heavy phases.

Parsing, evaluating and analyzing a spec allocate millions of small objects (tokens,
parse-tree nodes, values, layers, reports) that form no reference cycles. Every full
collection walks all of them again: for a 10,000-layer spec that was a third of the load
and a quarter of the analysis. Reference counting still frees whatever these phases drop,
and the collector resumes (if it was running) when they end.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused", "skip_final_collection"]


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def skip_final_collection() -> None:
    """Spare the interpreter its last full collection when the process exits.

    At exit Python walks every object still alive (pydantic's schemas and validators, the
    network, the report) only to free memory the operating system takes back anyway: a
    sixth of a `netspec analyze` process. An atexit hook freezes them, which leaves them out
    of that walk; a process that goes on after the command (a test, a notebook) is untouched.
    """
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
