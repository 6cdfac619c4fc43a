"""Keeping Python's cyclic garbage collector out of the allocation-heavy phases.

Parsing, evaluating and analyzing a spec allocate millions of small objects (tokens,
parse-tree nodes, values, layers, reports) that form no reference cycles. Every full
collection walks all of them again: for a 10,000-layer spec that was a third of the load
and a quarter of the analysis. Reference counting still frees whatever these phases drop.

The analysis, whose work is bounded by the network, pauses the collector (`paused`). A spec's
evaluation runs the user's loops, so it only makes the collector run rarely (`rarely`): should
some construct still leave a reference cycle behind on every pass of a loop, the collector
frees it every RARE_COLLECTION_THRESHOLD objects, and memory stays bounded.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused", "rarely", "skip_final_collection", "RARE_COLLECTION_THRESHOLD"]

RARE_COLLECTION_THRESHOLD = 200_000
"""New container objects between two young collections under `rarely` (Python's default is 700):
as fast as no collector for a 10,000-layer spec, while the garbage of a loop that leaves a cycle
behind on every pass stays under this many objects (some tens of MB)."""


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def rarely() -> Iterator[None]:
    """Run the collector every RARE_COLLECTION_THRESHOLD new objects; restore the thresholds after."""
    thresholds = gc.get_threshold()
    gc.set_threshold(RARE_COLLECTION_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def skip_final_collection() -> None:
    """Spare the interpreter its last full collection when the process exits.

    At exit Python walks every object still alive (pydantic's schemas and validators, the
    network, the report) only to free memory the operating system takes back anyway: a
    sixth of a `netspec analyze` process. An atexit hook freezes them, which leaves them out
    of that walk; a process that goes on after the command (a test, a notebook) is untouched.
    """
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
