"""The layer catalogue: every layer model, and the discriminated union over them."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from . import activation, conv, input_output, norm, pool, structure  # noqa: F401  (registers the layers)
from .base import LAYERS, Layer

__all__ = ["LAYERS", "AnyLayer", "CONSTRUCTORS", "catalogue_rows", "catalogue_markdown"]

AnyLayer = Annotated[Union[tuple(LAYERS.values())], Field(discriminator="kind")]  # type: ignore[valid-type]

CONSTRUCTORS: dict[str, type[Layer]] = {cls.matlab: cls for cls in LAYERS.values()}
"""MATLAB constructor name (`convolution2dLayer`) -> layer model."""


def _show_default(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + " ".join(_show_default(x) for x in value) + "]"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "(none)"
    if isinstance(value, list) and not value:
        return "{}"
    return str(value)


def catalogue_rows() -> list[tuple[str, str, str]]:
    """(signature, default name, options with defaults) for every layer, by MATLAB name."""
    rows = []
    for cls in sorted(LAYERS.values(), key=lambda c: c.matlab.lower()):
        parts = []
        for index, field in enumerate(cls.positional):
            name = cls.matlab_option(field)
            if index < cls.required:
                parts.append(name)
            else:
                parts.append(f"[{name}={_show_default(cls.model_fields[field].default)}]")
        options = [f"{cls.matlab_option(f)}={_show_default(info.default)}"
                   for f, info in cls.model_fields.items()
                   if f not in ("kind", "span", "name") and f not in cls.positional]
        rows.append((f"{cls.matlab}({', '.join(parts)})", cls.base_name, ", ".join(options) or "—"))
    return rows


def catalogue_markdown() -> str:
    lines = ["| constructor | default name | options (default) |", "|---|---|---|"]
    lines += [f"| `{sig}` | `{base}` | {opts} |" for sig, base, opts in catalogue_rows()]
    return "\n".join(lines)
