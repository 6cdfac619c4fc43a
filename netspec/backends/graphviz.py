"""Graphviz backend: the network's DAG as a `graphviz.Digraph`, shapes on the edges.

One table, `LABELS`, maps every IR layer class to a label function (the MATLAB options
that matter, written the way papers draw them: `conv 3×3, 64, /2, pad same`); the class's
`family` trait picks the node's colour and outline from `FAMILIES`. Nodes read top to
bottom: the layer's name, those options, then the MATLAB constructor. Each edge carries the shape
its source port produces (the analyzer's H×W×C); an edge into a multi-input layer also
names the port it enters (`28×28×256 → in2`), one out of a multi-output layer the port it
leaves (`out2: ...`).

`write(graph, path, format)` saves DOT text, or renders SVG/PNG/PDF with the Graphviz
`dot` program, through a temporary file so an existing file survives any failure.
"""

from __future__ import annotations

import html
import subprocess
from pathlib import Path
from typing import Callable

import graphviz

from ..analysis import Analysis, analyze
from ..analysis.blocks import repeated_blocks
from ..files import write_atomically
from ..ir import Layer, Network, activation, conv, input_output, norm, pool, recurrent, sequence, structure
from ..ir.base import Family
from ..text import printable

__all__ = ["LABELS", "FAMILIES", "FORMATS", "COLORINGS", "to_dot", "write", "RenderError"]

FORMATS = ("dot", "svg", "png", "pdf")


# -- option formatting ---------------------------------------------------------------

def _size(value) -> str:
    """(3, 3) -> '3×3'; 3 -> '3' (1-D)."""
    if isinstance(value, (tuple, list)):
        return "×".join(str(v) for v in value)
    return str(value)


def _stride(value) -> str:
    """', /2' unless the stride is 1 everywhere."""
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    if all(v == 1 for v in values):
        return ""
    return f", /{values[0]}" if len(set(values)) == 1 else f", /{_size(values)}"


def _padding(value, word: str = "pad") -> str:
    """', pad same', ', pad 1', ', pad [0 1 0 1]'; nothing for no padding."""
    if isinstance(value, str):
        return f", {word} {value}"
    values = list(value)
    if not any(values):
        return ""
    if len(set(values)) == 1:
        return f", {word} {values[0]}"
    return f", {word} [{' '.join(str(v) for v in values)}]"


def _dilation(value) -> str:
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    if all(v == 1 for v in values):
        return ""
    return f", dil {values[0]}" if len(set(values)) == 1 else f", dil {_size(values)}"


def _number(value: float) -> str:
    return f"{value:g}"


def _conv(prefix: str) -> Callable[[Layer], str]:
    def label(layer) -> str:
        return (f"{prefix} {_size(layer.filter_size)}, {layer.num_filters}{_stride(layer.stride)}"
                f"{_dilation(layer.dilation_factor)}{_padding(layer.padding)}")
    return label


def _grouped(layer) -> str:
    if layer.num_groups == "channel-wise":
        head = f"dwconv {_size(layer.filter_size)}"
        head += f", ×{layer.num_filters_per_group}" if layer.num_filters_per_group != 1 else ""
    else:
        head = f"gconv {_size(layer.filter_size)}, {layer.num_groups}×{layer.num_filters_per_group}"
    return f"{head}{_stride(layer.stride)}{_dilation(layer.dilation_factor)}{_padding(layer.padding)}"


def _transposed(layer) -> str:
    stride = list(layer.stride)
    up = "" if all(s == 1 for s in stride) else (
        f", ×{stride[0]}" if len(set(stride)) == 1 else f", ×{_size(stride)}")
    return f"tconv {_size(layer.filter_size)}, {layer.num_filters}{up}{_padding(layer.cropping, 'crop')}"


def _pool(prefix: str) -> Callable[[Layer], str]:
    def label(layer) -> str:
        return f"{prefix} {_size(layer.pool_size)}{_stride(layer.stride).replace(',', '')}{_padding(layer.padding)}"
    return label


def _max_pool2d(layer) -> str:
    return _pool("max")(layer) + (", indices" if layer.has_unpooling_outputs else "")


def _text(text: str) -> Callable[[Layer], str]:
    return lambda layer: text


def _image_input(layer) -> str:
    return f"input {_size(layer.input_size)}"


def _attention(layer) -> str:
    """`attention 4 heads, 64 keys` (values, output size and causal mask when given)."""
    parts = [f"attention {layer.num_heads} heads, {layer.num_key_channels} keys"]
    if layer.num_value_channels != "auto":
        parts.append(f"{layer.num_value_channels} values")
    if layer.output_size != "auto":
        parts.append(f"out {layer.output_size}")
    if layer.attention_mask == "causal":
        parts.append("causal")
    return ", ".join(parts)


def _resize(layer) -> str:
    if layer.output_size is not None:
        return f"resize {_size(layer.output_size)}, {layer.method}"
    sx, sy = layer.scale
    scale = _number(sx) if sx == sy else f"{_number(sx)}×{_number(sy)}"
    return f"resize ×{scale}, {layer.method}"


_RESET_GATES = {"before-multiplication": "reset before ×", "recurrent-bias-after-multiplication": "recurrent bias"}


def _recurrent(name: str) -> Callable[[Layer], str]:
    """'LSTM 100', then what is not MATLAB's default: ', last', a GRU's reset gate mode."""
    def label(layer: Layer) -> str:
        notes = ["last"] if layer.output_mode == "last" else []
        notes += [_RESET_GATES[mode]] if (mode := getattr(layer, "reset_gate_mode", "")) in _RESET_GATES else []
        return ", ".join([f"{name} {layer.num_hidden_units}", *notes])
    return label


# -- the table -----------------------------------------------------------------------

LABELS: dict[type[Layer], Callable[[Layer], str]] = {
    # io
    input_output.ImageInputLayer: _image_input,
    input_output.FeatureInputLayer: lambda layer: f"input {layer.input_size}",
    input_output.SequenceInputLayer: lambda layer: f"input T×{_size(layer.input_size)}",
    input_output.ClassificationLayer: _text("cross-entropy"),
    input_output.RegressionLayer: _text("mean squared error"),
    input_output.PixelClassificationLayer: lambda layer: "pixel cross-entropy" + (
        "" if layer.class_weights == "none" else ", weighted"),
    input_output.DicePixelClassificationLayer: _text("generalized Dice"),
    # conv
    conv.Convolution2dLayer: _conv("conv"),
    conv.Convolution1dLayer: _conv("conv1d"),
    conv.GroupedConvolution2dLayer: _grouped,
    conv.TransposedConv2dLayer: _transposed,
    conv.FullyConnectedLayer: lambda layer: f"fc {layer.output_size}",
    # norm
    norm.BatchNormalizationLayer: _text("batch norm"),
    norm.LayerNormalizationLayer: _text("layer norm"),
    norm.CrossChannelNormalizationLayer: lambda layer: f"LRN {layer.window_channel_size}",
    # activation
    activation.ReluLayer: _text("relu"),
    activation.LeakyReluLayer: lambda layer: f"leaky relu {_number(layer.scale)}",
    activation.ClippedReluLayer: lambda layer: f"relu ≤ {_number(layer.ceiling)}",
    activation.EluLayer: lambda layer: "elu" if layer.alpha == 1 else f"elu α={_number(layer.alpha)}",
    activation.TanhLayer: _text("tanh"),
    activation.SigmoidLayer: _text("sigmoid"),
    activation.SwishLayer: _text("swish"),
    activation.GeluLayer: lambda layer: "gelu" if layer.approximation == "none" else "gelu (tanh)",
    activation.SoftmaxLayer: _text("softmax"),
    # pool
    pool.MaxPooling2dLayer: _max_pool2d,
    pool.AveragePooling2dLayer: _pool("avg"),
    pool.MaxPooling1dLayer: _pool("max"),
    pool.AveragePooling1dLayer: _pool("avg"),
    pool.GlobalAveragePooling2dLayer: _text("global avg"),
    pool.GlobalMaxPooling2dLayer: _text("global max"),
    pool.GlobalAveragePooling1dLayer: _text("global avg"),
    pool.GlobalMaxPooling1dLayer: _text("global max"),
    pool.MaxUnpooling2dLayer: _text("max unpool"),
    # merge
    structure.AdditionLayer: _text("+"),
    structure.DepthConcatenationLayer: _text("concat"),
    structure.ConcatenationLayer: lambda layer: f"concat dim {layer.dim}",
    structure.MultiplicationLayer: _text("×"),
    # other
    structure.FlattenLayer: _text("flatten"),
    structure.DropoutLayer: lambda layer: f"dropout {_number(layer.probability)}",
    structure.Resize2dLayer: _resize,
    structure.ChannelShufflingLayer: lambda layer: f"channel shuffle {layer.groups}",
    structure.SpatialDropoutLayer: lambda layer: f"spatial dropout {_number(layer.probability)}",
    structure.Crop2dLayer: lambda layer: "crop centre" if layer.location == "centercrop" else
    f"crop at [{layer.location[0]} {layer.location[1]}]",
    structure.DepthToSpace2dLayer: lambda layer: f"depth to space {_size(layer.block_size)}, {layer.mode}",
    structure.SpaceToDepthLayer: lambda layer: f"space to depth {_size(layer.block_size)}",
    # sequence
    sequence.SequenceFoldingLayer: _text("fold steps"),
    sequence.SequenceUnfoldingLayer: _text("unfold steps"),
    sequence.SelfAttentionLayer: _attention,
    sequence.PositionEmbeddingLayer: lambda layer: f"position embedding {layer.output_size}, ≤{layer.max_position}",
    sequence.SinusoidalPositionEncodingLayer: lambda layer: f"sinusoidal positions {layer.output_size}",
    sequence.Indexing1dLayer: lambda layer: f"{layer.index} step",
    sequence.WordEmbeddingLayer: lambda layer: f"word embedding {layer.dimension}, {layer.num_words} words",
    # recurrent
    recurrent.LstmLayer: _recurrent("LSTM"),
    recurrent.BilstmLayer: _recurrent("BiLSTM"),
    recurrent.GruLayer: _recurrent("GRU"),
}
"""IR layer class -> its label function; the class's `family` trait picks the style. Every class in
`netspec.ir.LAYERS` has a row."""

FAMILIES: dict[Family, dict[str, str]] = {
    "io": {"fillcolor": "#d9d9d9", "color": "#404040", "penwidth": "1.4"},
    "conv": {"fillcolor": "#c6dbef", "color": "#4a78a8"},
    "fc": {"fillcolor": "#dadaeb", "color": "#6a51a3"},
    "norm": {"fillcolor": "#fdd9b5", "color": "#c0783a"},
    "activation": {"fillcolor": "#fff3b0", "color": "#b09a30"},
    "pool": {"fillcolor": "#c7e9c0", "color": "#4a9a4a"},
    "merge": {"fillcolor": "#f8b4b4", "color": "#b22222", "penwidth": "1.6", "shape": "hexagon",
              "style": "filled", "margin": "0,0"},
    "other": {"fillcolor": "#ffffff", "color": "#808080", "style": "rounded,filled,dashed"},
    "recurrent": {"fillcolor": "#d4eee8", "color": "#2a8a78", "penwidth": "1.4"},
}
"""Node attributes per family; inputs and outputs also get their own outline (see `_node_attrs`)."""

EDGE_COLOR = "#555555"
FONT = "Helvetica"


def _node_attrs(layer: Layer) -> dict[str, str]:
    attrs = dict(FAMILIES[layer.family])
    if layer.family == "io":
        attrs["shape"] = "invhouse" if not layer.input_names else "house"
        attrs["style"] = "filled"
    return attrs


def _label(layer: Layer, options: str) -> str:
    """HTML-like label: bold name, the options, then the MATLAB constructor in small grey.

    A borderless table rather than `<br/>` lines, so underscores in the bold name do not
    touch the line below.
    """
    rows = [f"<b>{html.escape(printable(layer.name))}</b>"]
    if options:
        rows.append(html.escape(options))
    rows.append(f'<font point-size="6" color="#606060">{html.escape(layer.display_type())}</font>')
    cells = "".join(f"<tr><td>{row}</td></tr>" for row in rows)
    return f'<<table border="0" cellborder="0" cellspacing="1" cellpadding="0">{cells}</table>>'


def node_id(name: str) -> str:
    """A DOT id for a name: never read as HTML (even when it looks like `<x>`), its backslashes
    doubled first, so none escapes the closing quote and no name collides with the `\\xNN`
    that `printable` writes for a control character (which DOT and SVG cannot hold)."""
    return graphviz.nohtml(printable(name.replace("\\", "\\\\")))


def _plain_label(text: str) -> str:
    """Spec text as a plain label: shown as written, not as HTML or as `\\N`-style escapes."""
    return graphviz.escape(printable(text))


def edge_shape(report, layer: Layer, port: str) -> str:
    """The shape on an edge: the analyzer's output shape of `layer/port`, or '?' when unknown."""
    if report is None or not report.analyzed:
        return "?"
    index = layer.output_names.index(port)
    return report.output_shapes[index] if index < len(report.output_shapes) else "?"


COLORINGS = ("family", "macs", "memory")
"""What a node's fill shows: its family (the default), or its share of the network's MACs or of
its activation memory (darker is more)."""

_MEASURES = {"macs": ("macs", "MACs"), "memory": ("activation_bytes", "activation memory")}


def to_dot(network: Network, analysis: Analysis | None = None, *, collapse: bool = False,
           color: str = "family") -> graphviz.Digraph:
    """The network as a top-to-bottom `graphviz.Digraph`: one node per layer, one edge per
    connection labelled with the shape flowing on it. `collapse` draws each run of repeated
    blocks once, in a box marked "×N"; `color` is one of `COLORINGS`."""
    if color not in COLORINGS:
        raise ValueError(f"unknown colouring {color!r}; choose one of {', '.join(COLORINGS)}")
    if analysis is None:
        analysis = analyze(network)
    reports = {report.name: report for report in analysis.layers}
    shares = _shares(analysis, color) if color != "family" else {}
    title = _plain_label(Path(network.source).name if network.source else network.name)
    if shares:
        title += f"\\ncolour: share of {_MEASURES[color][1]} (darkest {max(shares.values()):.1%})"
    graph = graphviz.Digraph(
        name=node_id(network.name),
        graph_attr={"rankdir": "TB", "splines": "true", "nodesep": "0.25", "ranksep": "0.3",
                    "fontname": FONT, "fontsize": "11", "label": title, "labelloc": "t",
                    "ordering": "out", "bgcolor": "white", "pad": "0.2"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": "8",
                   "height": "0.3", "margin": "0.08,0.03"},
        edge_attr={"fontname": FONT, "fontsize": "7", "color": EDGE_COLOR, "fontcolor": "#303030",
                   "arrowsize": "0.6"},
    )
    repeats = repeated_blocks(network, analysis) if collapse else []
    drawn_as = {hidden: shown for repeat in repeats for instance in repeat.instances[1:]
                for hidden, shown in zip(instance, repeat.shown)}
    boxed = {repeat.shown[0]: repeat for repeat in repeats}
    in_a_box = {name for repeat in repeats for name in repeat.shown}

    top = max(shares.values(), default=0.0)

    def draw(target: graphviz.Digraph, name: str) -> None:
        layer = network.layer(name)
        attrs = _node_attrs(layer)
        if name in shares:
            attrs["fillcolor"] = _heat(shares[name] / top if top else 0.0)
        target.node(node_id(name), _label(layer, LABELS[type(layer)](layer)),
                    tooltip=_tooltip(layer, reports.get(name)), **attrs)

    for layer in network.layers:
        repeat = boxed.get(layer.name)
        if repeat is not None:
            box = graphviz.Digraph(name=f"cluster_{len(graph.body)}", graph_attr={
                "label": _plain_label(f"×{repeat.count}  {repeat.shown[0]} … {repeat.instances[-1][-1]}"),
                "labeljust": "r", "style": "rounded,dashed", "color": "#808080", "fontsize": "9"})
            for name in repeat.shown:
                draw(box, name)
            graph.subgraph(box)
        elif layer.name not in drawn_as and layer.name not in in_a_box:
            draw(graph, layer.name)
    layers = {layer.name: layer for layer in network.layers}
    for edge in network.connections:
        if edge.destination in drawn_as:
            continue  # into a hidden instance: the box's "×N" stands for it
        source, destination = layers[edge.source], layers[edge.destination]
        text = edge_shape(reports.get(edge.source), source, edge.source_port)
        if len(source.output_names) > 1:
            text = f"{edge.source_port}: {text}"
        if len(destination.input_names) > 1:
            text = f"{text} → {edge.destination_port}"
        graph.edge(node_id(drawn_as.get(edge.source, edge.source)), node_id(edge.destination),
                   label=graphviz.nohtml(text))
    return graph


def _shares(analysis: Analysis, color: str) -> dict[str, float]:
    """Each layer's share of the chosen measure, or a `ValueError` when it is a formula."""
    field, words = _MEASURES[color]
    values = {report.name: getattr(report, field) for report in analysis.layers if report.analyzed}
    if any(not isinstance(value, int) for value in values.values()):
        raise ValueError(f"the {words} are formulas of a symbolic input size, so they have no shares: "
                         "give the input a size (--set NAME=VALUE) to colour by them")
    total = sum(values.values())
    return {name: value / total for name, value in values.items()} if total else {}


def _heat(fraction: float) -> str:
    """White for none to a strong red for the largest share (`fraction` 1), on a square-root scale
    so that the middle of the range stays visible."""
    strength = min(1.0, fraction) ** 0.5
    green_blue = round(255 - strength * (255 - 60))
    return f"#ff{green_blue:02x}{green_blue:02x}"


def _tooltip(layer: Layer, report) -> str:
    """What hovering a node in an SVG shows: the layer's shape, learnables, MACs and receptive field."""
    lines = [f"{printable(layer.name)} ({layer.display_type()})"]
    if report is not None and report.analyzed:
        shapes = ", ".join(report.output_shapes) or "—"
        field = report.receptive_field.display() if report.receptive_field else "—"
        lines += [f"output {shapes}", f"learnables {_count(report.learnables)}", f"MACs {_count(report.macs)}",
                  f"receptive field {field}"]
    else:
        lines.append("not analyzed (an earlier error)")
    return "\\n".join(line.replace("\\", "\\\\") for line in lines)


def _count(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


class RenderError(Exception):
    """The Graphviz `dot` program failed."""


def write(graph: graphviz.Digraph, path: str | Path, format: str = "dot", *, dot: str = "dot") -> Path:
    """Write DOT text, or render `svg`/`png`/`pdf` with the `dot` program (path `dot`).

    The file appears complete or not at all: an existing `path` survives failures.
    """
    path = Path(path)
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    source = graph.source.encode("utf-8")
    if format != "dot":
        done = subprocess.run([dot, f"-T{format}"], input=source, capture_output=True)
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise RenderError(f"{dot} -T{format} failed (exit {done.returncode}): {message}")
        source = done.stdout
    write_atomically(path, lambda stream: stream.write(source))
    return path
