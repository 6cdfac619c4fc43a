"""The code registry (netspec/codes.py) against the program.

Every code the source can emit is registered and every registered code is emitted; every
entry is documented; every example whose command needs nothing but its spec is run through
the real entry point and must report exactly its code; `netspec explain` prints the entries,
rendered diagnostics point to it, and docs/codes.md is the registry as generated.
"""

from __future__ import annotations

import ast
import re
import shlex
import sys
from pathlib import Path

import pytest

from netspec.codes import CODES, FAMILIES, closest_codes, explanation, markdown
from netspec.diagnostics import Diagnostic, Severity, explain_footer
from netspec.train.hardware import PEAKS_TFLOPS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "netspec"
CODE_SHAPE = re.compile(r"[A-Z][0-9]{3}")

CODE_ARGUMENT = {"error": 0, "warn": 0, "_keeps_warning": 0, "add": 1, "OperatorLimit": 1}
"""Calls that take a code by position, and which position: error(code, ...), ctx.add(severity, code, ...)."""

NOT_CODES = set(PEAKS_TFLOPS)
"""Code-shaped strings that are no codes: accelerator names (H100, A100) in train/hardware.py."""

UNREPRODUCIBLE = {"E104", "E506", "E700", "A101", "T002"}
"""Codes no input is known to set off (defensive checks, a damaged installation): no example."""


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE_SHAPE.fullmatch(node.value):
        return node.value
    return None


def _source_codes() -> tuple[set[str], set[str]]:
    """(codes written where they are emitted, every code-shaped literal) in netspec/ but the registry.

    Emitted: an argument in a code position (CODE_ARGUMENT), a `code=` keyword of any call (Diagnostic,
    ShapeError, BuiltinError), and the default of a parameter named `code` (ShapeError's "A101")."""
    emitted, shaped = set(), set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "codes.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (literal := _literal(node)) is not None:
                shaped.add(literal)
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                position = CODE_ARGUMENT.get(name)
                if position is not None and position < len(node.args):
                    emitted.add(_literal(node.args[position]))
                emitted.update(_literal(keyword.value) for keyword in node.keywords if keyword.arg == "code")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = node.args.args + node.args.kwonlyargs
                defaults = [None] * (len(node.args.args) - len(node.args.defaults)) + node.args.defaults + \
                    node.args.kw_defaults
                emitted.update(_literal(default) for argument, default in zip(arguments, defaults)
                               if argument.arg == "code")
    return emitted - {None}, shaped


EMITTED, SHAPED = _source_codes()


# -- (a) the registry is the program's codes -------------------------------------------------------

def test_every_emitted_code_is_registered():
    assert sorted(EMITTED - set(CODES)) == []


def test_every_registered_code_is_emitted():
    assert sorted(set(CODES) - EMITTED) == []


def test_no_code_escapes_the_scan():
    """Every code-shaped string in netspec/ is a code emitted where the scan looks (or names no code):
    a code produced some other way would be missed by the two tests above."""
    assert sorted(SHAPED - EMITTED - NOT_CODES) == []
    assert len(EMITTED) > 140  # the scan found the codes, not an empty set


# -- (b) every entry is documented ------------------------------------------------------------------

@pytest.mark.parametrize("code", CODES)
def test_entry_is_documented(code: str):
    entry = CODES[code]
    assert code[0] in FAMILIES
    assert entry.title and "\n" not in entry.title and not entry.title.endswith(".")
    for text in (entry.explanation, entry.fix):
        assert len(text) > 20 and text.endswith((".", ")")), text
    assert entry.severity in (Severity.error, Severity.warning)
    assert set(entry.also) <= set(CODES) - {code}
    assert (entry.command == "") == (code in UNREPRODUCIBLE)
    assert bool(entry.example) == ("example.net" in entry.command)  # the command reads the example
    if entry.command:
        assert all(part.startswith(("netspec ", "torchrun ")) for part in entry.command.split(" && "))


def test_registry_is_in_family_order():
    letters = [code[0] for code in CODES]
    assert letters == sorted(letters, key=list(FAMILIES).index)
    assert all(a < b for a, b in zip(CODES, list(CODES)[1:]) if a[0] == b[0])


# -- (c) the examples report their codes -------------------------------------------------------------

def netspec(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """`netspec ARGV` in this process through the real entry point (main): its exit status and output."""
    from netspec.cli import main

    monkeypatch.setattr(sys, "argv", ["netspec", *argv])
    monkeypatch.delenv("NETSPEC_DEBUG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    status = 0
    try:
        main()
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return status, out, err


def reported(stderr: str) -> set[tuple[str, str]]:
    """(severity, code) of every diagnostic a command printed."""
    return set(re.findall(r"^(error|warning)\[([A-Z][0-9]{3})\]", stderr, flags=re.M))


RUNNABLE = [code for code, entry in CODES.items() if entry.command and not entry.needs]


@pytest.mark.parametrize("code", RUNNABLE)
def test_example_reports_exactly_its_code(code: str, tmp_path: Path, monkeypatch, capsys):
    entry = CODES[code]
    monkeypatch.chdir(tmp_path)
    if entry.example:
        (tmp_path / "example.net").write_text(entry.example, encoding="utf-8")
    *before, last = entry.command.split(" && ")
    for command in before:  # setting the scene: F002's first export
        status, _, err = netspec(shlex.split(command)[1:], monkeypatch, capsys)
        assert status == 0, err
    status, out, err = netspec(shlex.split(last)[1:], monkeypatch, capsys)
    found = reported(err)
    assert {c for _, c in found} == {code, *entry.also}, err
    assert (entry.severity.value, code) in found, err
    assert status == (1 if entry.severity is Severity.error else 0), err
    assert "Traceback" not in err + out


@pytest.mark.parametrize("code", [c for c, e in CODES.items() if e.needs and e.example])
def test_example_of_a_command_that_needs_more_is_a_clean_spec(code: str, tmp_path: Path, monkeypatch, capsys):
    """Where the code comes from what the command adds (data, a run), the spec itself is fine."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.net").write_text(CODES[code].example, encoding="utf-8")
    status, _, err = netspec(["check", "example.net"], monkeypatch, capsys)
    assert status == 0 and err == "", err


def test_every_command_of_the_examples_exists():
    from netspec.cli import app
    from netspec.cli.app import visualize_app

    commands = {info.name or info.callback.__name__ for info in app.registered_commands}
    visualize = {info.name or info.callback.__name__ for info in visualize_app.registered_commands}
    for code, entry in CODES.items():
        for command in filter(None, entry.command.split(" && ")):
            words = shlex.split(command)
            name = words[words.index("netspec.cli") + 1] if "netspec.cli" in words else words[1]
            if name == "visualize":
                assert words[2] in visualize, code
            else:
                assert name in commands | {"train"}, code  # train's function is train_command


# -- (d) netspec explain -----------------------------------------------------------------------------------

def test_explain_prints_the_entry_in_any_case(monkeypatch, capsys):
    status, out, err = netspec(["explain", " e204"], monkeypatch, capsys)
    assert status == 0 and err == ""
    assert out == explanation("E204") + "\n"
    assert out.startswith("error[E204]: unknown option\n")
    assert "    convolution2dLayer(3, 16, 'Stide', 2)];" in out  # the example, indented
    assert "    $ netspec check example.net" in out
    assert "Fix: Spell the option as MATLAB does" in out


def test_explain_names_what_an_example_needs_and_the_severity(monkeypatch, capsys):
    status, out, _ = netspec(["explain", "V001"], monkeypatch, capsys)
    assert status == 0
    assert out.startswith("error[V001]: no layer of that name\n")
    assert "Example, with a trained run `runs/mnist`:" in out
    assert netspec(["explain", "W105"], monkeypatch, capsys)[1].startswith("warning[W105]: ")


def test_explain_of_a_code_without_example_has_no_example_section():
    text = explanation("E104")
    assert text is not None and "Example" not in text and "Fix: Complete the last statement" in text


def test_explain_unknown_code_lists_the_closest(monkeypatch, capsys):
    status, out, err = netspec(["explain", "E408"], monkeypatch, capsys)
    assert status == 1 and out == ""
    assert err == "netspec: no diagnostic code 'E408'; the closest are E407, E409, E406 (every code: docs/codes.md)\n"
    status, _, err = netspec(["explain", "\x1b[2Jbanana"], monkeypatch, capsys)
    assert status == 1 and "\x1b" not in err and "'\\x1b[2Jbanana'" in err
    assert netspec(["explain"], monkeypatch, capsys)[0] == 2  # CODE is required: a usage error


def test_closest_codes():
    assert closest_codes("e999") == ["E700", "E605", "E604"]
    assert closest_codes("A100") == ["A101", "A102", "A103"]
    assert closest_codes("E2O4") == ["E204", "E124"]  # letter O for zero: resembles
    assert closest_codes("banana") == []


# -- the footer under rendered diagnostics ------------------------------------------------------------

def test_footer_names_the_explain_command():
    error = Diagnostic(code="E407", message="m")
    warning = Diagnostic(severity=Severity.warning, code="W105", message="m")
    assert explain_footer([]) is None
    assert explain_footer([error]) == "For more information about this error, try `netspec explain E407`."
    assert explain_footer([warning, warning]) == \
        "For more information about this warning, try `netspec explain W105`."
    assert explain_footer([warning, error]) == \
        "For more information about E407, W105, try `netspec explain CODE` (e.g. `netspec explain E407`)."


def test_cli_prints_the_footer_after_the_diagnostics(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.net").write_text(CODES["E204"].example, encoding="utf-8")
    status, _, err = netspec(["check", "example.net"], monkeypatch, capsys)
    assert status == 1
    blocks = err.split("\n\n")
    assert blocks[0].startswith("error[E204]")
    assert blocks[1] == "For more information about this error, try `netspec explain E204`."
    assert blocks[2] == "1 of 1 file failed\n"


# -- docs/codes.md ----------------------------------------------------------------------------------------

def test_docs_page_is_the_registry():
    page = (ROOT / "docs" / "codes.md").read_text(encoding="utf-8")
    assert page == markdown(), "docs/codes.md is out of date: run `python -m netspec.codes docs/codes.md`"
    for code, entry in CODES.items():
        assert f"### {code}: {entry.title}" in page


def test_readme_links_the_codes_page():
    assert "(docs/codes.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
