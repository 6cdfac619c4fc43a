"""Training options: MATLAB's `trainingOptions(solver, Name, Value, ...)` with its defaults."""


import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from ..diagnostics import Span
from .base import Lower

__all__ = ["TrainingOptions", "SOLVER_ONLY"]

SOLVER_ONLY: dict[str, str] = {
    "momentum": "sgdm",
    "gradient_decay_factor": "adam",
}
"""Options MATLAB accepts for one solver only."""

SOLVER_DEFAULTS: dict[str, dict[str, float]] = {
    "sgdm": {"initial_learn_rate": 0.01},
    "adam": {"initial_learn_rate": 0.001, "squared_gradient_decay_factor": 0.999},
    "rmsprop": {"initial_learn_rate": 0.001, "squared_gradient_decay_factor": 0.9},
}


class TrainingOptions(BaseModel):
    """What `trainingOptions` returns; `netspec train` reads these, CLI flags override them."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants", validate_assignment=True,
                              defer_build=True)

    positional: ClassVar[tuple[str, ...]] = ("solver",)

    solver: Annotated[Literal["sgdm", "adam", "rmsprop"], Lower]
    initial_learn_rate: PositiveFloat = 0.01
    momentum: float = Field(0.9, ge=0, le=1)
    gradient_decay_factor: float = Field(0.9, ge=0, lt=1)
    squared_gradient_decay_factor: float = Field(0.999, ge=0, lt=1)
    epsilon: PositiveFloat = 1e-8
    max_epochs: PositiveInt = 30
    mini_batch_size: PositiveInt = 128
    l2_regularization: NonNegativeFloat = 1e-4
    learn_rate_schedule: Annotated[Literal["none", "piecewise"], Lower] = "none"
    learn_rate_drop_factor: float = Field(0.1, ge=0, le=1)
    learn_rate_drop_period: PositiveInt = 10
    shuffle: Annotated[Literal["once", "every-epoch", "never"], Lower] = "once"
    validation_data: str | None = Field(None, description="the spec's expression; data comes from --data")
    validation_frequency: PositiveInt = 50
    validation_patience: Annotated[float, Field(gt=0)] = math.inf
    verbose: bool = True
    verbose_frequency: PositiveInt = 50
    plots: Annotated[Literal["none", "training-progress"], Lower] = "none"
    execution_environment: Annotated[Literal["auto", "cpu", "gpu", "multi-gpu", "parallel"], Lower] = "auto"
    checkpoint_path: str = ""
    checkpoint_frequency: PositiveInt = 1
    checkpoint_frequency_unit: Annotated[Literal["epoch", "iteration"], Lower] = "epoch"
    gradient_threshold: Annotated[float, Field(gt=0)] = math.inf
    gradient_threshold_method: Annotated[Literal["l2norm", "global-l2norm", "absolute-value"], Lower] = "l2norm"
    output_network: Annotated[Literal["last-iteration", "best-validation-loss"], Lower] = "last-iteration"
    reset_input_normalization: bool = True
    batch_normalization_statistics: Annotated[Literal["population", "moving"], Lower] = "population"
    sequence_length: Annotated[Literal["longest", "shortest"], Lower] | PositiveInt = "longest"
    """Mini-batches of sequences: padded to the longest, truncated to the shortest, or padded and split
    into windows of this many time steps."""
    sequence_padding_direction: Annotated[Literal["right", "left"], Lower] = "right"
    sequence_padding_value: float = 0.0
    span: Span | None = None

    @model_validator(mode="before")
    @classmethod
    def _solver_defaults(cls, data: Any) -> Any:
        """Defaults that depend on the solver (MATLAB: 0.01 for sgdm, 0.001 for adam/rmsprop)."""
        if isinstance(data, dict) and isinstance(data.get("solver"), str):
            defaults = SOLVER_DEFAULTS.get(data["solver"].lower(), {})
            data = {**defaults, **data}
        return data
