"""Long per-layer tables (`netspec analyze`, `netspec parse`): the ends of the table and a count
of the hidden rows by default, every row with --all, drawn as rich draws the whole table."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from netspec.cli import app
from netspec.tables import SHOWN_ROWS, layer_table

runner = CliRunner()
LAYERS = 500


@pytest.fixture(scope="module")
def long_spec(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("long") / "long.net"
    path.write_text("layers = imageInputLayer([8 8 3], 'Name', 'input');\n"
                    f"for i = 1:{LAYERS - 1}\n"
                    "    layers = [layers; reluLayer('Name', sprintf('relu%d', i))];\n"
                    "end\n")
    return path


def layer_rows(output: str) -> list[int]:
    """The layer numbers of the table's body rows, in order."""
    return [int(m.group(1)) for m in re.finditer(r"^│ +(\d+) +│", output, flags=re.M)]


@pytest.mark.parametrize("command", [["analyze"], ["parse"]])
def test_a_long_table_shows_its_ends_and_counts_the_rest(long_spec, command):
    result = runner.invoke(app, [*command, str(long_spec)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    half = SHOWN_ROWS // 2
    assert layer_rows(result.stdout) == [*range(1, half + 1), *range(LAYERS - half + 1, LAYERS + 1)]
    assert re.search(r"^│ +… +│ …", result.stdout, flags=re.M)
    caption = f"{LAYERS - SHOWN_ROWS} of {LAYERS} layers not shown (use --all)"
    assert caption in " ".join(result.stdout.split())  # a caption wraps inside a narrow table
    if command == ["analyze"]:
        assert f"{LAYERS} layers" in result.stdout  # the totals still cover every layer


@pytest.mark.parametrize("command", [["analyze"], ["parse"]])
def test_all_shows_every_row(long_spec, command):
    result = runner.invoke(app, [*command, str(long_spec), "--all"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert layer_rows(result.stdout) == list(range(1, LAYERS + 1))
    assert "not shown" not in result.stdout
    assert "relu499" in result.stdout


def test_a_table_of_shown_rows_is_whole(tmp_path):
    path = tmp_path / "short.net"
    path.write_text("layers = imageInputLayer([8 8 3], 'Name', 'input');\n"
                    f"for i = 1:{SHOWN_ROWS - 1}\n"
                    "    layers = [layers; reluLayer('Name', sprintf('relu%d', i))];\n"
                    "end\n")
    result = runner.invoke(app, ["analyze", str(path)], env={"COLUMNS": "200"})
    assert layer_rows(result.stdout) == list(range(1, SHOWN_ROWS + 1))
    assert "not shown" not in result.stdout


def columns_table(**options) -> Table:
    table = Table(title=Text("long.net — layers"), show_footer=True, footer_style="bold", title_style="bold",
                  **options)
    table.add_column("#", justify="right", footer="")
    table.add_column("name", footer="total")
    table.add_column("output", footer="300 layers")
    table.add_column("MACs", justify="right", footer="1,234,567")
    return table


def cells(index: int) -> list[str]:
    """Cells of varied widths, wide characters and text rich would read as markup."""
    return [str(index + 1), f"[bold]layer{index}" if index % 7 else "層" * (index % 5), "28×28×16",
            f"{index ** 3:,}"]


def printed(renderable, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, highlight=False).print(renderable, crop=False)
    return out.getvalue()


@pytest.mark.parametrize("width", [80, 120])
def test_every_row_is_drawn_as_rich_draws_the_table(width):
    rows = 300
    whole = columns_table()
    for index in range(rows):
        whole.add_row(*(Text(cell) for cell in cells(index)))
    assert printed(layer_table(columns_table(), rows, cells, show_all=True), width) == printed(whole, width)


def test_every_row_stays_one_line_on_a_narrow_terminal():
    output = printed(layer_table(columns_table(), 300, cells, show_all=True), 30)
    assert len(layer_rows(output)) == 300
    assert "[bold]layer1 " in output  # text, not markup
