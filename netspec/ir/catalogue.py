"""The layer catalogue: every layer model, and the discriminated union over them."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BaseModel, Field

from . import activation, conv, input_output, norm, pool, recurrent, sequence, structure  # noqa: F401 (registers)
from .base import LAYERS, Layer

__all__ = ["LAYERS", "AnyLayer", "CONSTRUCTORS", "CatalogueParameter", "CatalogueEntry", "catalogue_entries",
           "catalogue_rows", "catalogue_markdown", "show_value"]

AnyLayer = Annotated[Union[tuple(LAYERS.values())], Field(discriminator="kind")]  # type: ignore[valid-type]

CONSTRUCTORS: dict[str, type[Layer]] = {cls.matlab: cls for cls in LAYERS.values()}
"""MATLAB constructor name (`convolution2dLayer`) -> layer model."""


def show_value(value: object) -> str:
    """An option's value as MATLAB writes it: [3 3], 'same', true, 0.01."""
    if isinstance(value, tuple):
        return "[" + " ".join(show_value(x) for x in value) + "]"
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


class CatalogueParameter(BaseModel):
    """One positional argument or name-value option of a layer constructor."""

    name: Annotated[str, Field(description="MATLAB spelling, e.g. FilterSize")]
    required: bool = False
    default: Annotated[Any, Field(description="MATLAB's default (null when required or when there is none)")] = None


class CatalogueEntry(BaseModel):
    """A layer constructor netspec reads (`netspec layers --format json`)."""

    constructor: Annotated[str, Field(description="MATLAB constructor, e.g. convolution2dLayer")]
    default_name: Annotated[str, Field(description="base of the names unnamed layers get (conv -> conv_1)")]
    arguments: Annotated[list[CatalogueParameter], Field(description="positional arguments, in MATLAB's order")]
    options: Annotated[list[CatalogueParameter], Field(description="name-value options besides 'Name'")]


def catalogue_entries() -> list[CatalogueEntry]:
    """Every layer constructor, by MATLAB name, with its arguments and options."""
    entries = []
    for cls in sorted(LAYERS.values(), key=lambda c: c.matlab.lower()):
        fields = cls.model_fields
        arguments = [CatalogueParameter(name=cls.matlab_option(field), required=index < cls.required,
                                        default=None if index < cls.required else fields[field].default)
                     for index, field in enumerate(cls.positional)]
        options = [CatalogueParameter(name=cls.matlab_option(field), default=info.default)
                   for field, info in fields.items()
                   if field not in ("kind", "span", "name") and field not in cls.positional]
        entries.append(CatalogueEntry(constructor=cls.matlab, default_name=cls.base_name, arguments=arguments,
                                      options=options))
    return entries


def catalogue_rows() -> list[tuple[str, str, str]]:
    """(signature, default name, options with defaults) for every layer, by MATLAB name."""
    rows = []
    for entry in catalogue_entries():
        parts = [p.name if p.required else f"[{p.name}={show_value(p.default)}]" for p in entry.arguments]
        options = [f"{p.name}={show_value(p.default)}" for p in entry.options]
        rows.append((f"{entry.constructor}({', '.join(parts)})", entry.default_name, ", ".join(options) or "—"))
    return rows


def catalogue_markdown() -> str:
    lines = ["| constructor | default name | options (default) |", "|---|---|---|"]
    lines += [f"| `{sig}` | `{base}` | {opts} |" for sig, base, opts in catalogue_rows()]
    return "\n".join(lines)
