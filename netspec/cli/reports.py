"""What each command prints with `--format json`, and the JSON schema it publishes
(`netspec schema --for COMMAND`, from `SCHEMAS`); imported only when JSON or a schema is asked for.

`parse` prints the IR (`netspec.ir.Network`), `analyze` the analysis (`netspec.analysis.report`),
`diff` the difference of two analyses (`netspec.analysis.diff`), `layers` the catalogue
(`netspec.ir.catalogue`); the other commands' documents are the models below. `evaluate`,
`predict` and `profile` fill theirs from the plain values the training and backend side returns.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from ..analysis.diff import json_schema as diff_schema
from ..analysis.report import json_schema as analysis_schema
from ..diagnostics import Diagnostic
from ..ir import Network
from ..ir.catalogue import CatalogueEntry

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..backends.profile import Measured
    from ..language import LoadResult

__all__ = ["FileCheck", "CheckReport", "ClassScore", "Evaluation", "Prediction", "Predictions", "Catalogue",
           "Timing", "LayerProfile", "ProfileReport", "SCHEMAS"]


class FileCheck(BaseModel):
    file: str
    ok: Annotated[bool, Field(description="the file loaded without errors (warnings allowed)")]
    network: Annotated[str | None, Field(description="the network's name; null when the file has errors")]
    variable: Annotated[str | None, Field(description="the variable netspec took the network from")]
    chosen_because: Annotated[str | None, Field(description="why that variable, e.g. 'given to trainNetwork "
                                                            "at line 52'")]
    layers: int | None
    connections: int | None
    diagnostics: list[Diagnostic]

    @classmethod
    def of(cls, file: Path, result: LoadResult) -> FileCheck:
        network, choice = result.network, result.choice if result.network is not None else None
        return cls(file=str(file), ok=network is not None, network=network.name if network else None,
                   variable=choice.variable if choice else None, chosen_because=choice.reason if choice else None,
                   layers=len(network.layers) if network else None,
                   connections=len(network.connections) if network else None, diagnostics=result.diagnostics)


class CheckReport(BaseModel):
    """`netspec check --format json`: one entry per file, in the order given."""

    files: list[FileCheck]
    failed: Annotated[int, Field(description="files with errors; the exit code is 1 when this is not 0")]


class ClassScore(BaseModel):
    name: str
    images: Annotated[int, Field(description="images (or sequences) of this class in the data")]
    correct: Annotated[int, Field(description="of them, predicted as this class")]
    recall: Annotated[float, Field(description="correct / images (0 without images)")]
    precision: Annotated[float, Field(description="correct / images predicted as this class (0 when none are)")]


class Evaluation(BaseModel):
    """`netspec evaluate --format json`."""

    model: Annotated[str, Field(description="the checkpoint evaluated")]
    data: str
    images: Annotated[int, Field(description="images (or sequences) scored")]
    unit: Annotated[Literal["images", "sequences"], Field(description="what `images` counts")] = "images"
    accuracy: Annotated[float | None, Field(description="null for a regression network")]
    loss: Annotated[float | None, Field(description="null when not finite")]
    classes: Annotated[list[ClassScore], Field(description="every class, in the network's order "
                                                           "(empty for a regression network)")]
    confusion: Annotated[list[list[int]] | None, Field(
        description="rows: true class, columns: predicted class; null beyond 20 classes (see confusion_csv) "
                    "and for a regression network")]
    confusion_csv: Annotated[str | None, Field(description="file holding the confusion matrix's non-zero "
                                                           "cells (true, predicted, count) beyond 20 classes")]
    figure: Annotated[str | None, Field(description="picture of the confusion matrix (evaluate -o)")]


class Prediction(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    image: str
    class_name: Annotated[str, Field(alias="class")]
    probability: float


class Predictions(RootModel[list[Prediction]]):
    """`netspec predict --format json`: one entry per image, in the order given."""


class Catalogue(RootModel[list[CatalogueEntry]]):
    """`netspec layers --format json`: every layer constructor, by MATLAB name."""


class Timing(BaseModel):
    """Milliseconds over the measured runs."""

    median: float
    q1: Annotated[float, Field(description="first quartile")]
    q3: Annotated[float, Field(description="third quartile")]
    min: float
    max: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timing:
        values = sorted(1000 * s for s in seconds)
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
        return cls(median=statistics.median(values), q1=q1, q3=q3, min=values[0], max=values[-1])


class LayerProfile(BaseModel):
    name: Annotated[str, Field(description="the spec's layer name")]
    type: Annotated[str, Field(description="MATLAB constructor")]
    macs: Annotated[int | str, Field(description="per sample, as `netspec analyze` counts them")]
    time_ms: Timing
    gflops: Annotated[float | None, Field(description="2 × MACs × batch / median time, in GFLOP/s; null "
                                                      "without MACs or time")]
    share: Annotated[float, Field(description="percent of the sum of the layers' median times")]


class ProfileReport(BaseModel):
    """`netspec profile --format json`: measured time per layer of the lowered network."""

    network: str
    backend: Annotated[str, Field(description="torch or onnx")]
    device: str
    batch_size: int
    warmup: Annotated[int, Field(description="runs before the measured ones, not counted")]
    repeat: Annotated[int, Field(description="measured runs; the times are their median and spread")]
    layers: Annotated[list[LayerProfile], Field(description="every layer that runs (loss layers do not), "
                                                            "in the analysis' order")]
    layers_ms: Annotated[float, Field(description="sum of the layers' median times")]
    forward_ms: Annotated[Timing, Field(description="the whole forward pass, measured around the model "
                                                    "(with the measuring's own cost)")]
    unattributed_ms: Annotated[Timing | None, Field(description="onnx: time of nodes that belong to no "
                                                                "layer; null for torch")]
    macs: Annotated[int | str, Field(description="per sample, the layers' total")]
    gflops: Annotated[float | None, Field(description="2 × MACs × batch / sum of the layers' median times")]

    @classmethod
    def of(cls, measured: Measured, analysis: Analysis) -> ProfileReport:
        rows = [row for row in analysis.layers if row.name in measured.layers]
        medians = {row.name: statistics.median(measured.layers[row.name]) for row in rows}
        total = sum(medians.values())
        layers = [LayerProfile(name=row.name, type=row.type, macs=row.macs, time_ms=Timing.of(measured.layers[row.name]),
                               gflops=_gflops(row.macs, measured.batch, medians[row.name]),
                               share=100 * medians[row.name] / total if total else 0.0) for row in rows]
        macs = analysis.totals.macs
        return cls(network=analysis.source or analysis.network, backend=measured.backend, device=measured.device,
                   batch_size=measured.batch, warmup=measured.warmup, repeat=measured.repeat, layers=layers,
                   layers_ms=1000 * total, forward_ms=Timing.of(measured.runs),
                   unattributed_ms=Timing.of(measured.unattributed) if measured.unattributed else None,
                   macs=macs, gflops=_gflops(macs, measured.batch, total))


def _gflops(macs: int | str, batch: int, seconds: float) -> float | None:
    if not isinstance(macs, int) or not macs or seconds <= 0:
        return None
    return 2 * macs * batch / seconds / 1e9


JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

SCHEMAS: dict[str, Callable[[], dict]] = {
    "check": CheckReport.model_json_schema,
    "parse": Network.model_json_schema,
    "analyze": analysis_schema,
    "layers": Catalogue.model_json_schema,
    "evaluate": Evaluation.model_json_schema,
    "predict": Predictions.model_json_schema,
    "schema": lambda: {"$ref": JSON_SCHEMA_DIALECT, "description": "a JSON Schema (draft 2020-12)"},
    "diff": diff_schema,
    "profile": ProfileReport.model_json_schema,
}
"""Command -> the JSON schema of what it prints with --format json."""
