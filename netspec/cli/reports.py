"""What each command prints with `--format json`, and the JSON schema it publishes
(`netspec schema --for COMMAND`, from `SCHEMAS`); imported only when JSON or a schema is asked for.

`parse` prints the IR (`netspec.ir.Network`), `analyze` the analysis (`netspec.analysis.report`),
`layers` the catalogue (`netspec.ir.catalogue`); the other commands' documents are the models
below. `evaluate` and `predict` fill theirs from the plain values the training side returns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel

from ..analysis.report import json_schema as analysis_schema
from ..diagnostics import Diagnostic
from ..ir import Network
from ..ir.catalogue import CatalogueEntry

if TYPE_CHECKING:
    from ..language import LoadResult

__all__ = ["FileCheck", "CheckReport", "ClassScore", "Evaluation", "Prediction", "Predictions", "Catalogue",
           "SCHEMAS"]


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
    images: Annotated[int, Field(description="images of this class in the data")]
    correct: Annotated[int, Field(description="of them, predicted as this class")]
    recall: Annotated[float, Field(description="correct / images (0 without images)")]
    precision: Annotated[float, Field(description="correct / images predicted as this class (0 when none are)")]


class Evaluation(BaseModel):
    """`netspec evaluate --format json`."""

    model: Annotated[str, Field(description="the checkpoint evaluated")]
    data: str
    images: int
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

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

SCHEMAS: dict[str, Callable[[], dict]] = {
    "check": CheckReport.model_json_schema,
    "parse": Network.model_json_schema,
    "analyze": analysis_schema,
    "layers": Catalogue.model_json_schema,
    "evaluate": Evaluation.model_json_schema,
    "predict": Predictions.model_json_schema,
    "schema": lambda: {"$ref": JSON_SCHEMA_DIALECT, "description": "a JSON Schema (draft 2020-12)"},
}
"""Command -> the JSON schema of what it prints with --format json."""
