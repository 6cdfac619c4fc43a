"""Two networks side by side (`netspec diff`): which layers were added, removed or changed, and
what that does to learnables, MACs, activation memory and receptive fields.

Matching. A layer is the same layer in both networks when it has the same name, unless that
name is one MATLAB gives unnamed layers (the type's base name, alone or with `_k`: `conv_3`),
in both: inserting one unnamed convolution renumbers every convolution after it, so those
names say nothing. The layers left over on both sides are aligned in network order on their
type and options (`difflib.SequenceMatcher`, longest identical runs first); within a stretch
that differs, layers of the same type are paired in order ("by position within type"). A
layer the user named explicitly is only paired by position with one whose name is MATLAB's
default, never with another explicitly named layer: two different names chosen by the user are
two different layers.

Like the analysis, plain dataclasses with pydantic annotations for the JSON schema; no torch.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field

from ..ir import Layer, Network
from ..ir.catalogue import show_value
from .report import Analysis, LayerReport, Number, ReceptiveField

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = ["Delta", "OptionChange", "LayerDiff", "DiffTotals", "NetworkDiff", "diff", "match_layers",
           "is_default_name", "to_json", "json_schema"]

Status = Literal["added", "removed", "changed", "unchanged"]
MatchedBy = Literal["name", "position"]


@dataclass(slots=True)
class Delta:
    """One quantity in both networks; `delta` is after − before when both are exact numbers."""

    before: Annotated[Number | None, Field(description="null: the layer is not in the first network")] = None
    after: Annotated[Number | None, Field(description="null: the layer is not in the second network")] = None
    delta: Annotated[int | None, Field(description="after − before (a missing side counts 0); null when a "
                                                   "side is a formula and the two differ")] = None

    @classmethod
    def of(cls, before: Number | None, after: Number | None) -> Delta:
        if before == after:  # the same formula too
            return cls(before, after, 0)
        exact = all(isinstance(value, int) for value in (before, after) if value is not None)
        return cls(before, after, (after or 0) - (before or 0) if exact else None)  # type: ignore[operator]


@dataclass(slots=True)
class OptionChange:
    option: Annotated[str, Field(description="MATLAB spelling (FilterSize), or 'type' when the layer type differs")]
    before: Annotated[str, Field(description="as MATLAB writes it; '—' when the first layer has no such option "
                                             "(an added layer lists the options it gives other than MATLAB's "
                                             "defaults, a removed one likewise with after '—')")]
    after: str


@dataclass(slots=True)
class LayerDiff:
    status: Annotated[Status, Field(description="changed: the type or options differ; an unchanged layer may "
                                                "be renamed, and have deltas (its input changed)")]
    name_before: str | None
    name_after: str | None
    type: Annotated[str, Field(description="MATLAB constructor (the second network's when both have the layer)")]
    matched_by: Annotated[MatchedBy | None, Field(description="how the two layers were paired; null when added "
                                                              "or removed")]
    options: list[OptionChange]
    output_before: Annotated[str | None, Field(description="MATLAB-style output shape(s)")]
    output_after: str | None
    learnables: Delta
    macs: Delta
    activation_bytes: Delta
    receptive_field_before: Annotated[str | None, Field(description="'12', '12×9', 'global'; null when none")]
    receptive_field_after: str | None

    @property
    def name(self) -> str:
        """`old → new` for a renamed layer, else its one name."""
        if self.name_before and self.name_after and self.name_before != self.name_after:
            return f"{self.name_before} → {self.name_after}"
        return self.name_after or self.name_before or ""

    @property
    def differs(self) -> bool:
        """Anything to show: a status other than unchanged, a new name, a number, shape or receptive field
        that moved."""
        return (self.status != "unchanged" or self.name_before != self.name_after
                or self.receptive_field_before != self.receptive_field_after
                or any(d.delta != 0 for d in (self.learnables, self.macs, self.activation_bytes))
                or self.output_before != self.output_after)


@dataclass(slots=True)
class DiffTotals:
    layers: Delta
    learnables: Delta
    macs: Delta
    activation_bytes: Annotated[Delta, Field(description="bytes of every layer's output, per sample")]
    receptive_field_before: Annotated[str | None, Field(description="the largest receptive field short of global")]
    receptive_field_after: str | None
    added: int
    removed: int
    changed: int


@dataclass(slots=True)
class NetworkDiff:
    """`netspec diff --format json`: every layer of both networks, in the second network's order with
    removed layers after the layer they followed."""

    before: Annotated[str, Field(description="the first network: its file (or name) and network name")]
    after: str
    dtype: str
    layers: list[LayerDiff]
    totals: DiffTotals
    matching: Annotated[str, Field(description="how layers are paired")]


MATCHING = ("by name; layers with MATLAB's default names (conv_1, relu...) and layers left over are aligned in "
            "order on type and options, then paired by position within type")


# -- matching ----------------------------------------------------------------------------------

def is_default_name(layer: Layer) -> bool:
    """The name MATLAB gives an unnamed layer of this type: `conv`, `conv_3`."""
    base = type(layer).base_name
    return bool(base) and re.fullmatch(rf"{re.escape(base)}(_[0-9]+)?", layer.name) is not None


def _comparable(value: Any) -> Any:
    """An option's value for comparison: a given learnable without where it was written."""
    if isinstance(value, BaseModel):
        return value.model_dump(exclude={"span"})
    return value


def _options(layer: Layer) -> dict[str, Any]:
    """Field -> comparable value of every option but the name."""
    return {name: _comparable(getattr(layer, name)) for name in type(layer).model_fields
            if name not in ("kind", "span", "name")}


def _signature(layer: Layer) -> str:
    return f"{layer.kind}{_options(layer)!r}"


def _may_pair(a: Layer, b: Layer) -> bool:
    return a.name == b.name or is_default_name(a) or is_default_name(b)


def _aligned(before: list[Layer], after: list[Layer]) -> list[tuple[Layer, Layer]]:
    """Pairs of left-over layers: identical runs in order, then same-type layers in order within
    each stretch that differs."""
    pairs: list[tuple[Layer, Layer]] = []
    matcher = difflib.SequenceMatcher(None, [_signature(x) for x in before], [_signature(x) for x in after],
                                      autojunk=False)
    for _, i1, i2, j1, j2 in matcher.get_opcodes():
        if i1 == i2 or j1 == j2:
            continue
        taken: set[int] = set()
        for a in before[i1:i2]:
            b_index = next((j for j in range(j1, j2) if j not in taken and after[j].kind == a.kind
                            and _may_pair(a, after[j])), None)
            if b_index is not None:
                taken.add(b_index)
                pairs.append((a, after[b_index]))
    return pairs


def match_layers(before: Network, after: Network) -> list[tuple[Layer | None, Layer | None, MatchedBy | None]]:
    """(first network's layer, second's, how paired) for every layer of both, unpaired ones with None;
    in the second network's order, a removed layer after the layer it followed."""
    after_by_name = {layer.name: layer for layer in after.layers}
    partner: dict[str, tuple[Layer, MatchedBy]] = {}
    for layer in before.layers:
        other = after_by_name.get(layer.name)
        if other is not None and not (is_default_name(layer) and is_default_name(other)):
            partner[layer.name] = (other, "name")
    paired_after = {other.name for other, _ in partner.values()}
    left_before = [layer for layer in before.layers if layer.name not in partner]
    left_after = [layer for layer in after.layers if layer.name not in paired_after]
    for a, b in _aligned(left_before, left_after):
        partner[a.name] = (b, "position")
    return _merged_order(before, after, partner)


def _merged_order(before: Network, after: Network, partner: dict[str, tuple[Layer, MatchedBy]]) \
        -> list[tuple[Layer | None, Layer | None, MatchedBy | None]]:
    """The rows in the second network's order; a removed layer follows the row of the last paired
    layer before it in the first network (or comes first)."""
    paired_with: dict[str, tuple[Layer, MatchedBy]] = {}  # second network's layer -> first's, how
    removed_after: dict[str | None, list[Layer]] = {}
    previous: str | None = None
    for layer in before.layers:
        if layer.name in partner:
            other, how = partner[layer.name]
            paired_with[other.name] = (layer, how)
            previous = other.name
        else:
            removed_after.setdefault(previous, []).append(layer)
    rows: list[tuple[Layer | None, Layer | None, MatchedBy | None]] = \
        [(layer, None, None) for layer in removed_after.get(None, [])]
    for layer in after.layers:
        first, how = paired_with.get(layer.name, (None, None))
        rows.append((first, layer, how))
        rows += [(gone, None, None) for gone in removed_after.get(layer.name, [])]
    return rows


# -- the numbers -------------------------------------------------------------------------------

_MISSING = object()
"""An option one of two layers of different types does not have."""


def _given_options(layer: Layer, added: bool) -> list[OptionChange]:
    """An added (or removed) layer's options that differ from MATLAB's defaults, from (or to) '—'."""
    changes = []
    for name, value in _options(layer).items():
        if value != _comparable(type(layer).model_fields[name].get_default(call_default_factory=True)):
            shown = _shown(getattr(layer, name))
            changes.append(OptionChange(layer.matlab_option(name), *(("—", shown) if added else (shown, "—"))))
    return changes


def _option_changes(a: Layer, b: Layer) -> list[OptionChange]:
    changes = [OptionChange("type", a.matlab, b.matlab)] if type(a) is not type(b) else []
    first, second = _options(a), _options(b)
    for name in [*first, *(n for n in second if n not in first)]:
        old, new = first.get(name, _MISSING), second.get(name, _MISSING)
        if old != new:
            changes.append(OptionChange(type(b if name in second else a).matlab_option(name),
                                        _shown(getattr(a, name, _MISSING)), _shown(getattr(b, name, _MISSING))))
    return changes


def _shown(value: Any) -> str:
    if value is _MISSING:
        return "—"
    if isinstance(value, BaseModel):  # a given learnable: its size, not its numbers
        size = getattr(value, "size", None)
        return f"given {'×'.join(map(str, size))}" if size else "given"
    return show_value(value)


def _rf(report: LayerReport | None) -> str | None:
    return report.receptive_field.display() if report is not None and report.receptive_field else None


def _output(report: LayerReport | None) -> str | None:
    return None if report is None else (", ".join(report.output_shapes) or "—")


def _layer_diff(a: Layer | None, b: Layer | None, how: MatchedBy | None, reports: tuple[dict, dict]) -> LayerDiff:
    ra = reports[0].get(a.name) if a is not None else None
    rb = reports[1].get(b.name) if b is not None else None
    if a is None or b is None:
        status: Status = "added" if a is None else "removed"
        options = _given_options(b or a, added=a is None)  # type: ignore[arg-type]
    else:
        options = _option_changes(a, b)
        status = "changed" if options else "unchanged"
    return LayerDiff(status, a.name if a else None, b.name if b else None, (b or a).matlab, how, options,  # type: ignore[union-attr]
                     _output(ra), _output(rb),
                     *(Delta.of(getattr(ra, q) if ra else None, getattr(rb, q) if rb else None)
                       for q in ("learnables", "macs", "activation_bytes")),
                     _rf(ra), _rf(rb))


def _largest_field(analysis: Analysis) -> str | None:
    """The receptive field of the layer that sees most of the input without seeing all of it."""
    best: tuple[int, ReceptiveField] | None = None
    for row in analysis.layers:
        seen = row.receptive_field
        if seen is None or seen.is_global or not all(isinstance(a.size, int) for a in seen.axes):
            continue
        size = max((int(a.size) for a in seen.axes), default=0)
        if best is None or size > best[0]:
            best = (size, seen)
    return best[1].display() if best else None


def diff(before: Network, after: Network, first: Analysis, second: Analysis) -> NetworkDiff:
    """The layer-by-layer difference of two analyzed networks (same dtype)."""
    reports = ({row.name: row for row in first.layers}, {row.name: row for row in second.layers})
    rows = [_layer_diff(a, b, how, reports) for a, b, how in match_layers(before, after)]
    t1, t2 = first.totals, second.totals
    totals = DiffTotals(Delta.of(t1.layers, t2.layers), Delta.of(t1.learnables, t2.learnables),
                        Delta.of(t1.macs, t2.macs), Delta.of(t1.activation_bytes, t2.activation_bytes),
                        _largest_field(first), _largest_field(second),
                        *(sum(row.status == s for row in rows) for s in ("added", "removed", "changed")))
    return NetworkDiff(_describe(first), _describe(second), second.dtype, rows, totals, MATCHING)


def _describe(analysis: Analysis) -> str:
    return f"{analysis.source} ({analysis.network})" if analysis.source else analysis.network


@lru_cache(maxsize=1)
def _adapter() -> "TypeAdapter[NetworkDiff]":
    from pydantic import TypeAdapter

    return TypeAdapter(NetworkDiff)


def to_json(result: NetworkDiff) -> str:
    return _adapter().dump_json(result, indent=2).decode()


def json_schema() -> dict:
    return _adapter().json_schema()
