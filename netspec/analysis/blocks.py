"""Repeated blocks: runs of identical sub-networks (ResNet-50's bottlenecks, VGG's conv-relu pairs),
so a drawing can show one of each run with "×N" (`netspec graph --collapse`).

The network is cut where everything flows through one layer: in a topological order, the place
after a layer that no earlier layer's connection jumps over. The pieces between cuts are compared
by their layers' types, options and output shapes and by how they are wired inside; a run of
k consecutive pieces (k ≤ `LONGEST_PATTERN`) repeated at least twice is a repeat, started at a
layer that does work (conv → relu, not relu → conv) when both readings cover the same run. Two instances
are the same only when a reader could not tell them apart on the page but for their names.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from ..ir import Network
from .report import Analysis

__all__ = ["Repeat", "repeated_blocks", "LONGEST_PATTERN"]

LONGEST_PATTERN = 8
"""The most pieces one repeated pattern may span (a Inception-style block is a few pieces)."""


@dataclass(frozen=True)
class Repeat:
    """`count` consecutive instances of the same block; each instance's layer names in order."""

    instances: tuple[tuple[str, ...], ...]

    @property
    def count(self) -> int:
        return len(self.instances)

    @property
    def shown(self) -> tuple[str, ...]:
        """The instance that stands for all of them (the first)."""
        return self.instances[0]


def _order(network: Network) -> list[str]:
    """A topological order that keeps the file's order where the connections allow (so every
    instance of a block lists its layers alike)."""
    index = {layer.name: i for i, layer in enumerate(network.layers)}
    indegree = {name: 0 for name in index}
    outgoing: dict[str, list[str]] = {name: [] for name in index}
    for edge in network.connections:
        indegree[edge.destination] += 1
        outgoing[edge.source].append(edge.destination)
    ready = [i for name, i in index.items() if indegree[name] == 0]
    heapq.heapify(ready)
    names = [layer.name for layer in network.layers]
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for destination in outgoing[name]:
            indegree[destination] -= 1
            if indegree[destination] == 0:
                heapq.heappush(ready, index[destination])
    return order


def _pieces(network: Network, order: list[str]) -> list[list[str]]:
    """The order cut after every layer that no earlier layer's connection jumps over."""
    position = {name: i for i, name in enumerate(order)}
    reach = [i for i in range(len(order))]  # the furthest position each layer's outputs go to
    for edge in network.connections:
        source = position[edge.source]
        reach[source] = max(reach[source], position[edge.destination])
    pieces: list[list[str]] = []
    current: list[str] = []
    furthest_before = -1
    for i, name in enumerate(order):
        current.append(name)
        if furthest_before <= i:
            pieces.append(current)
            current = []
        furthest_before = max(furthest_before, reach[i])
    if current:
        pieces.append(current)
    return pieces


def _signature(piece: list[str], network: Network, analysis: Analysis, incoming: dict) -> tuple:
    """What a reader sees of a piece: each layer's type, options, shapes and counts, and its wiring
    (by position inside the piece; a connection from outside is -1)."""
    reports = {report.name: report for report in analysis.layers}
    inside = {name: i for i, name in enumerate(piece)}
    layers = []
    for name in piece:
        layer = network.layer(name)
        options = layer.model_dump(mode="json", exclude={"name", "span"})
        wiring = tuple(sorted((inside.get(edge.source, -1), edge.source_port, edge.destination_port)
                              for edge in incoming.get(name, ())))
        report = reports.get(name)
        sizes = ((tuple(report.output_shapes), report.learnables, report.macs)
                 if report is not None and report.analyzed else None)  # the output shape alone misses the input's
        layers.append((type(layer).__name__, repr(options), wiring, sizes))
    return tuple(layers)


def repeated_blocks(network: Network, analysis: Analysis) -> list[Repeat]:
    """Every run of a block repeated two times or more, in network order (runs never overlap)."""
    order = _order(network)
    if len(order) < len(network.layers):  # a cycle: the analysis reports it; nothing to fold
        return []
    incoming: dict[str, list] = {}
    for edge in network.connections:
        incoming.setdefault(edge.destination, []).append(edge)
    pieces = _pieces(network, order)
    signatures = [_signature(piece, network, analysis, incoming) for piece in pieces]
    repeats: list[Repeat] = []
    i = 0
    while i < len(pieces):
        best_length, best_count = 1, 1
        for length in range(1, min(LONGEST_PATTERN, (len(pieces) - i) // 2) + 1):
            pattern = signatures[i:i + length]
            count = 1
            while signatures[i + count * length:i + (count + 1) * length] == pattern:
                count += 1
            if count >= 2 and count * length > best_count * best_length:
                best_length, best_count = length, count
        end = i + best_length * best_count
        if best_count >= 2 and end < len(pieces) and signatures[end] == signatures[i] \
                and network.layer(pieces[i][0]).elementwise:
            i += 1  # the same run starts one piece later with a layer that does work: box from there
            continue
        if best_count >= 2:
            instances = tuple(
                tuple(name for piece in pieces[i + n * best_length:i + (n + 1) * best_length] for name in piece)
                for n in range(best_count))
            repeats.append(Repeat(instances))
        i += best_length * best_count
    return repeats
