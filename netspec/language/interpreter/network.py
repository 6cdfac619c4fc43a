"""Which variable holds a file's network, as MATLAB users write it.

Unless the caller names it (`--net NAME`), the network is, in this order:
- for a function file, its entry function's first output that holds a layer array or graph, or
  surely layers netspec could not build (a custom layer); an output computed from a network,
  `yhat = predict(net, X)`, holds none: the rules below find the network;
- the network handed to the last `trainNetwork`/`trainnet`/`assembleNetwork`/`dlnetwork`/
  `analyzeNetwork`/`plot` call (what MATLAB trains or shows), wherever that call is;
- for a function file, its entry function's first output that may hold layers netspec could not
  build (data a skipped loop left unknown looks alike);
- `lgraph`, `net` or `layers`, the first that holds a network;
- the last variable assigned a layer array or graph.
("Holds a network" includes layers netspec could not build, so that their error is the one shown;
not for the last rule when an entry function's output is unknown: that output is no worse a guess.)
When none of these holds one, the entry function's unknown output, else the first of `lgraph`,
`net`, `layers` the file assigns, says what it holds instead (E403-E405), else the file defines
no network (E402).
"""

from __future__ import annotations

from pathlib import Path

from ...diagnostics import error, suggest
from ...ir import Network
from .. import graphs
from ..builtins import Arg
from ..library import network_argument
from ..spans import node_span
from ..tree import Tree
from ..values import Graph, LayerArray, Opaque, Value, type_name
from .state import NETWORK_VARIABLES, Handoff, NetworkChoice, State, token_text

__all__ = ["Networks"]


def _holds_network(value: Value | None) -> bool:
    return isinstance(value, Graph) or (isinstance(value, LayerArray) and len(value) > 0)


def _builds_layers(value: Value | None) -> bool:
    """A network, or layers netspec could not build that surely are layers: a network of unknown
    parts, a custom layer's class (not data a skipped loop or branch left unknown)."""
    return _holds_network(value) or (isinstance(value, Opaque) and (value.network or value.class_file is not None))


def _holds_layers(value: Value | None) -> bool:
    """A network, or layers netspec could not build (which then say why)."""
    return _holds_network(value) or (isinstance(value, Opaque) and value.stands_for_layers())


class Networks(State):
    """The network a file defines, and the calls it is handed to."""

    def _record_handoff(self, name: str, args: list[Arg], node: Tree) -> None:
        """Remember the network a call to trainNetwork, plot... is given (see `Handoff`)."""
        index = network_argument(name, args)
        if index is None:
            return
        variable = None
        if node.data == "call" and len(node.children) > 1:
            written = node.children[1].children
            if len(written) == len(args) and written[index].data == "name":
                variable = token_text(written[index])
        self.handoff = Handoff(name, variable, args[index].value, node, self.file)

    def network(self, variables: dict[str, Value], name: str | None,
                source: str | None) -> tuple[Network, NetworkChoice]:
        """The IR of the file's network and which variable it came from (see the module docstring)."""
        chosen, value, reason = self._choose(variables, name, source)
        if isinstance(value, Opaque):
            raise self._opaque_error(value, f"the network `{chosen}`", network=chosen)
        if isinstance(value, (LayerArray, Graph)) and not value.layers:
            raise error("E403", f"the network `{chosen}` has no layers", self.assignment_span(chosen),
                        label=f"`{chosen}` is last set here")
        if not isinstance(value, (LayerArray, Graph)):
            raise error("E404", f"`{chosen}` is a {type_name(value)}, not a network", self.assignment_span(chosen),
                        label=f"`{chosen}` is last set here, to a {type_name(value)}",
                        hint="pass --net NAME to choose the variable that holds the layers")
        training = self.training.options if self.training else None
        return graphs.to_network(value, chosen, training, source), NetworkChoice(chosen, reason)

    def _choose(self, variables: dict[str, Value], name: str | None, source: str | None) -> tuple[str, Value, str]:
        """(variable, its value, why) by the rules of the module docstring."""
        candidates = [k for k, v in variables.items() if isinstance(v, (LayerArray, Graph, Opaque))]
        if name is not None:
            if name not in variables:
                guess = suggest(name, candidates)
                networks = [k for k in candidates if _holds_network(variables[k])]
                hint = (f"did you mean '{guess}'?" if guess else
                        f"the file's networks: {', '.join(networks)}" if networks else "the file assigns no such variable")
                raise error("E401", f"no variable '{name}' in {source}", hint=hint,
                            notes=[f"variables that hold a network: {', '.join(networks)}"] if guess and networks
                            else [])
            return name, variables[name], "chosen with --net"
        entry = self.entry
        for holds in (_builds_layers, _holds_layers):
            output = next((o for o in entry.outputs if holds(variables.get(o))), None) if entry else None
            if output is not None:
                return output, variables[output], f"output of {entry.name}"
            if self.handoff is not None:  # what it trains is surer than what a skipped loop left unknown
                return self._handed(self.handoff, source)
        for conventional in NETWORK_VARIABLES:
            if _holds_layers(variables.get(conventional)):
                return conventional, variables[conventional], "named like a network"
        unknown = next((o for o in entry.outputs if isinstance(variables.get(o), Opaque)), None) if entry else None
        # beside an output it could not compute, layers netspec could not build are no better a guess
        holds = _holds_network if unknown is not None else _holds_layers
        last = next((k for k in reversed(self.sites) if holds(variables.get(k))), None)
        if last is not None:
            span = self.assignment_span(last)
            value = variables[last]
            kind = "a layer graph" if isinstance(value, Graph) else "a layer array" if isinstance(value, LayerArray) \
                else "layers"
            where = f" at line {span.line}" if span is not None else ""
            return last, variables[last], f"the last variable assigned {kind}{where}"
        if unknown is not None:  # an output netspec could not compute, and no network anywhere: say why
            return unknown, variables[unknown], f"output of {entry.name}"
        conventional = next((n for n in NETWORK_VARIABLES if n in variables), None)
        if conventional is not None:
            return conventional, variables[conventional], "named like a network"
        raise error("E402", f"{source} defines no network (no layer array or graph, and no variable named "
                    f"{', '.join(NETWORK_VARIABLES)})", hint="assign the layers to a variable named `layers` or `lgraph`")

    def _handed(self, handoff: Handoff, source: str | None) -> tuple[str, Value, str]:
        span = node_span(handoff.node, handoff.file)
        where = f" at line {span.line}" if span is not None else ""
        if source is None or Path(handoff.file) != Path(source):
            where += f" of {Path(handoff.file).name}"
        variable = handoff.variable or "network"
        given = "given" if handoff.variable else "the expression given"
        return variable, handoff.value, f"{given} to {handoff.function}{where}"
