"""Layer arrays and graphs: MATLAB's naming of unnamed layers, layerGraph and its editing
functions, and the final conversion of a value into an IR `Network`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping

from ..diagnostics import Span, error, suggest
from ..ir import Connection, Layer, Network, TrainingOptions
from .values import Graph, LayerArray

__all__ = ["name_layers", "graph_from_array", "add_layers", "connect", "disconnect", "remove_layers",
           "replace_layer", "to_network", "split_endpoint"]


def name_layers(layers: list[Layer], taken: Collection[str] = frozenset()) -> list[Layer]:
    """Give unnamed layers MATLAB's default names: the type's base name, with `_k`
    suffixes only when the base repeats (`conv_1`, `conv_2`, but `relu` alone).

    `taken` (a graph's names) is looked up, not copied: adding a layer to a graph of n
    layers must not cost O(n).
    """
    used = {layer.name for layer in layers if layer.name}
    repeats = Counter(type(layer).base_name for layer in layers if not layer.name)
    counters: Counter[str] = Counter()
    named: list[Layer] = []
    for layer in layers:
        if layer.name:
            named.append(layer)
            continue
        base = type(layer).base_name
        if repeats[base] == 1 and base not in used and base not in taken:
            name = base
        else:
            while True:
                counters[base] += 1
                name = f"{base}_{counters[base]}"
                if name not in used and name not in taken:
                    break
        used.add(name)
        named.append(layer.model_copy(update={"name": name}))
    return named


def _check_unique(layers: list[Layer], existing: Mapping[str, Layer]) -> None:
    seen: dict[str, Layer] = {}
    for layer in layers:
        first = existing.get(layer.name)
        if first is None:
            first = seen.get(layer.name)
        if first is not None:
            notes = [f"the first layer named '{layer.name}' is at {first.span}"] if first.span else []
            raise error("E301", f"duplicate layer name '{layer.name}'", layer.span,
                        label="this name is already used", notes=notes,
                        hint="layer names must be unique within a network: rename one of them")
        seen[layer.name] = layer


def _chain(layers: list[Layer]) -> list[Connection]:
    """Connect an array in order: each layer's first output to the next layer's first input."""
    edges = []
    for before, after in zip(layers, layers[1:]):
        if not before.output_names:
            raise error("E302", f"'{before.name}' ({before.matlab}) has no output to connect to '{after.name}'",
                        before.span, label="an output layer must be last in a layer array",
                        hint="move the output layer to the end of the array")
        if not after.input_names:
            raise error("E302", f"'{after.name}' ({after.matlab}) takes no input, but follows '{before.name}'",
                        after.span, label="an input layer must be first in a layer array",
                        hint="start a separate branch with addLayers, or move the input layer first")
        edges.append(Connection(source=before.name, source_port=before.output_names[0],
                                destination=after.name, destination_port=after.input_names[0]))
    return edges


def graph_from_array(array: LayerArray, kind: str = "layerGraph") -> Graph:
    layers = name_layers(array.layers)
    _check_unique(layers, {})
    return Graph({layer.name: layer for layer in layers}, _chain(layers), kind)


def add_layers(graph: Graph, array: LayerArray) -> Graph:
    existing = graph.layers
    layers = name_layers(array.layers, existing)
    _check_unique(layers, existing)
    return graph.grown(layers, _chain(layers))


def split_endpoint(text: str) -> tuple[str, str | None]:
    """'add/in2' -> ('add', 'in2'); 'conv' -> ('conv', None)."""
    name, _, port = text.partition("/")
    return name, (port or None)


def _endpoint(graph: Graph, text: str, side: str, span: Span | None) -> tuple[str, str]:
    name, port = split_endpoint(text)
    layer = graph.layers.get(name)
    if layer is None:
        guess = suggest(name, graph.layers)
        raise error("E303", f"no layer named '{name}' in the graph", span,
                    label=f"unknown {side} layer",
                    hint=f"did you mean '{guess}'?" if guess else "check the name against the layers added so far")
    ports = layer.output_names if side == "source" else layer.input_names
    if port is None:
        if len(ports) != 1:
            listing = ", ".join(f"'{name}/{p}'" for p in ports) or "none"
            raise error("E304", f"'{name}' has {len(ports)} {'outputs' if side == 'source' else 'inputs'}; name the port",
                        span, label="which port?", hint=f"use one of {listing}")
        return name, ports[0]
    if port not in ports:
        guess = suggest(port, ports)
        listing = ", ".join(ports) or "none"
        raise error("E304", f"'{name}' ({layer.matlab}) has no {'output' if side == 'source' else 'input'} port '{port}'",
                    span, label="unknown port",
                    hint=f"did you mean '{name}/{guess}'?" if guess else f"its ports are: {listing}")
    return name, port


def connect(graph: Graph, source: str, destination: str, spans: tuple[Span | None, Span | None]) -> Graph:
    src, src_port = _endpoint(graph, source, "source", spans[0])
    dst, dst_port = _endpoint(graph, destination, "destination", spans[1])
    edge = graph.source_of(dst, dst_port)
    if edge is not None:
        raise error("E305", f"'{dst}/{dst_port}' is already connected (from '{edge.source}')", spans[1],
                    label="this input already has a source",
                    hint="an input port takes one connection: use disconnectLayers first, or another port")
    return graph.grown(connections=[Connection(source=src, source_port=src_port, destination=dst,
                                               destination_port=dst_port)])


def disconnect(graph: Graph, source: str, destination: str, spans: tuple[Span | None, Span | None]) -> Graph:
    src, src_port = _endpoint(graph, source, "source", spans[0])
    dst, dst_port = _endpoint(graph, destination, "destination", spans[1])
    kept = [e for e in graph.connections
            if not (e.source == src and e.source_port == src_port and e.destination == dst
                    and e.destination_port == dst_port)]
    if len(kept) == len(graph.connections):
        raise error("E306", f"'{source}' is not connected to '{destination}'", spans[0],
                    hint="disconnectLayers takes an existing connection")
    return Graph(dict(graph.layers), kept, graph.kind)


def remove_layers(graph: Graph, names: list[str], span: Span | None) -> Graph:
    existing = graph.layers
    for name in names:
        if name not in existing:
            guess = suggest(name, existing)
            raise error("E303", f"no layer named '{name}' in the graph", span,
                        hint=f"did you mean '{guess}'?" if guess else None)
    gone = set(names)
    layers = {n: layer for n, layer in existing.items() if n not in gone}
    edges = [e for e in graph.connections if e.source not in gone and e.destination not in gone]
    return Graph(layers, edges, graph.kind)


def replace_layer(graph: Graph, name: str, array: LayerArray, span: Span | None) -> Graph:
    """MATLAB's replaceLayer: the array takes the old layer's place and its connections."""
    existing = graph.layers
    if name not in existing:
        guess = suggest(name, existing)
        raise error("E303", f"no layer named '{name}' in the graph", span,
                    hint=f"did you mean '{guess}'?" if guess else None)
    kept = {n: layer for n, layer in existing.items() if n != name}
    layers = name_layers(array.layers, kept)
    _check_unique(layers, kept)
    first, last = layers[0], layers[-1]
    new_layers: dict[str, Layer] = {}
    for n, layer in existing.items():
        if n == name:
            new_layers.update((l.name, l) for l in layers)
        else:
            new_layers[n] = layer
    edges: list[Connection] = []
    for side, end, ports in (("destination", first, first.input_names), ("source", last, last.output_names)):
        if not ports and any(getattr(e, side) == name for e in graph.connections):
            role = "takes no input" if side == "destination" else "has no output"
            raise error("E302", f"'{end.name}' ({end.matlab}) {role}, but '{name}', which it replaces, is connected "
                        f"{'from' if side == 'destination' else 'to'} other layers", span)
    for e in graph.connections:
        if e.destination == name:
            port = e.destination_port if e.destination_port in first.input_names else first.input_names[0]
            edges.append(e.model_copy(update={"destination": first.name, "destination_port": port}))
        elif e.source == name:
            edges.append(e.model_copy(update={"source": last.name, "source_port": last.output_names[0]}))
        else:
            edges.append(e)
    edges.extend(_chain(layers))
    return Graph(new_layers, edges, graph.kind)


def to_network(value: LayerArray | Graph, name: str, training: TrainingOptions | None,
               source: str | None) -> Network:
    """The IR of a network value: a layer array becomes a chain, a graph keeps its edges."""
    graph = graph_from_array(value) if isinstance(value, LayerArray) else value
    layers = list(graph.layers.values())
    connected_out = {(e.source, e.source_port) for e in graph.connections}
    inputs = [layer.name for layer in layers if not layer.input_names]
    outputs = [layer.name for layer in layers
               if layer.output_names and all((layer.name, p) not in connected_out for p in layer.output_names)
               or not layer.output_names]
    return Network.model_construct(name=name, layers=layers, connections=list(graph.connections),
                                   inputs=inputs, outputs=outputs, training=training, source=source)
