"""What a backend may build: the analyzer's figures against what one machine can hold.

`netspec check` accepts any spec whose shapes work out, `convolution2dLayer(3,1e12)` included;
building it would ask the allocator for 36 TiB. Every path that builds a module from a spec
(train, export, predict, evaluate, visualize) goes through `check_buildable` first, so such a
spec is refused with the analyzer's figure and the layer's location instead of crashing there.
"""

from __future__ import annotations

import os

from ..diagnostics import NetspecError, error
from ..ir import Network
from .context import Context
from .passes import costs, shapes, structure
from .render import grouped, human

__all__ = ["check_buildable", "MAX_LAYER_ELEMENTS"]

MAX_LAYER_ELEMENTS = 2 ** 31
"""Most parameters one layer may hold, and most values it may output per image: past 2^31
elements a tensor needs 64-bit indexing, which many kernels lack (8 GiB as float32)."""

FIGURES = (("parameters", "holds", lambda cost: cost["learnables"] + cost["states"]),
           ("values per image", "outputs", lambda cost: cost["activation_elements"]))
"""(what is counted, what a layer does with it, its count from the costs pass)."""

_HINT = "check the sizes in the spec: `netspec analyze FILE` lists every layer's parameters and activations"


def _physical_memory() -> int | None:
    """This machine's RAM in bytes, where the OS says (POSIX)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_buildable(network: Network) -> Context:
    """The analyzed shapes and costs a backend builds from; raises the network's shape errors,
    and refuses parameters or per-image activations that no allocation could hold."""
    context = Context(network, input_size=None, dtype="float32", bytes_per_element=4)
    structure(context)
    shapes(context)
    errors = [d for d in context.diagnostics if d.severity.value == "error"]
    if errors:
        raise NetspecError(errors)
    costs(context)
    _refuse_oversized(context)
    return context


def _refuse_oversized(ctx: Context) -> None:
    """The first layer (in running order, so the cause rather than what follows from it) over
    MAX_LAYER_ELEMENTS, then a network total over the machine's memory. Symbolic sizes have
    no figure to compare; the backends refuse them on their own."""
    counts = {what: {name: value for name in ctx.order if name in ctx.costs
                     if isinstance(value := count(ctx.costs[name]), int)} for what, _, count in FIGURES}
    for name in ctx.order:
        for what, verb, _ in FIGURES:
            value = counts[what].get(name, 0)
            if value > MAX_LAYER_ELEMENTS:
                raise error("T003", f"'{name}' {verb} {grouped(value)} {what} ({_bytes(ctx, value)} as "
                            f"{ctx.dtype}), more than the {grouped(MAX_LAYER_ELEMENTS)} one layer may have",
                            ctx.layers[name].span, label="too large to build", hint=_HINT)
    memory = _physical_memory()
    for what, verb, _ in FIGURES:
        by_layer = counts[what]
        total = sum(by_layer.values())
        if memory is not None and total * ctx.bytes_per_element > memory:
            largest = max(by_layer, key=by_layer.__getitem__)
            raise error("T003", f"the network's {what} take {_bytes(ctx, total)} as {ctx.dtype}, more than this "
                        f"machine's {human(memory, 'B', binary=True)} of memory ('{largest}' alone {verb} "
                        f"{_bytes(ctx, by_layer[largest])})", ctx.layers[largest].span, label="the largest layer",
                        hint=_HINT)


def _bytes(ctx: Context, elements: int) -> str:
    return human(elements * ctx.bytes_per_element, "B", binary=True)
