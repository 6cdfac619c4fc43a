"""Bounded work and memory while loading a spec (issue 12): one budget for a whole load, imports
included; loops that leave no garbage for the cyclic collector; warnings and their suggestions
computed a bounded number of times; regular files of a bounded size only."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netspec.cli import app
from netspec.diagnostics import NetspecError, Severity
from netspec.language import Limits, interpreter, load_file, load_source

ROOT = Path(__file__).resolve().parents[2]
NETWORK = "layers = [imageInputLayer([8 8 1]) reluLayer];\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _load_error(path: Path, **kwargs) -> NetspecError:
    with pytest.raises(NetspecError) as caught:
        load_file(path, **kwargs)
    return caught.value


class _TooSlow(Exception):
    pass


def _within_cpu_seconds(seconds: float, run):
    """`run()`, failing the test past `seconds` of this process's CPU time (not wall time, which
    other work on a busy machine decides)."""
    def alarm(signum, frame):
        raise _TooSlow(f"still running after {seconds} s of CPU time")
    previous = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        return run()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


# -- no garbage for the cyclic collector ------------------------------------------------------------

EVERYDAY = """
x = 0; c = {}; s.a = 1;
for i = 1:40
  if i > 3 && mod(i, 2) == 0 || i == 7
    x = x + -2^2 * (i - 1);
  elseif ~(i < 2)
    continue
  end
  c{end+1} = sprintf('a%d', i);
  if i == 30, break; end
end
f = @(a) a * 2 + 1;
y = f(3) + twice(4);
[p, q] = pair(2);
w = undefinedFunction(3);
lgraph = layerGraph([imageInputLayer([8 8 1], 'Name', 'in') convolution2dLayer(3, 4, 'Name', 'c')
                     reluLayer('Name', 'r')]);
lgraph = addLayers(lgraph, additionLayer(2, 'Name', 'add'));
lgraph = connectLayers(lgraph, 'r', 'add/in1');
lgraph = connectLayers(lgraph, 'c', 'add/in2');
function r = twice(a)
  r = a;
  while r < 100
    r = r * 2;
  end
end
function [a, b] = pair(v)
  a = v; b = v + 1;
end
"""


def test_evaluating_a_spec_leaves_no_reference_cycles():
    """Reference counting alone frees what an evaluation drops: the cyclic collector finds nothing."""
    load_source(EVERYDAY, "everyday.net")  # builds what is built once per process (pydantic schemas)
    gc.collect()
    gc.disable()
    try:
        load_source(EVERYDAY, "everyday.net")
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_runaway_loop_holds_little_memory():
    """`while true; x = x + 1; end` to its step limit: the memory stays that of one pass."""
    spec = "x = 0;\nwhile true\n  x = x + 1;\nend\n" + NETWORK
    tracemalloc.start()
    try:
        with pytest.raises(NetspecError) as caught:
            load_source(spec, "loop.net", limits=Limits(steps=20_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.diagnostics[-1].code == "E501"
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MB"


# -- imports: one budget for the whole load ---------------------------------------------------------

def _fan_out(folder: Path, levels: int, fan: int) -> Path:
    """f0 imports f1 `fan` times, f1 imports f2 `fan` times, ...: fan**levels runs of the last file."""
    for level in range(levels):
        _write(folder / f"f{level}.net", f'import "f{level + 1}.net"\n' * fan)
    _write(folder / f"f{levels}.net", "z = 1;\n")
    return _write(folder / "main.net", 'import "f0.net"\n' + NETWORK)


def test_a_file_imported_many_times_is_read_and_parsed_once(tmp_path: Path, monkeypatch):
    parsed = Counter()
    parse = interpreter.files.parse

    def counting(text: str, file: str):
        parsed[Path(file).name] += 1
        return parse(text, file)
    monkeypatch.setattr(interpreter.files, "parse", counting)
    result = load_file(_fan_out(tmp_path, levels=3, fan=4))
    assert result.variables["z"].data == [1.0]
    assert parsed == {"main.net": 1, "f0.net": 1, "f1.net": 1, "f2.net": 1, "f3.net": 1}


def test_an_import_fan_out_ends_fast_with_a_located_step_error(tmp_path: Path):
    """8 files, each importing the next 10 times: the one step budget ends it at an import."""
    main = _fan_out(tmp_path, levels=8, fan=10)
    with pytest.raises(NetspecError) as caught:
        _within_cpu_seconds(3, lambda: load_file(main, limits=Limits(steps=200_000)))
    diagnostic = caught.value.diagnostics[-1]
    assert diagnostic.code == "E501" and diagnostic.message == "the spec ran more than 200,000 steps"
    assert Path(diagnostic.span.file).parent == tmp_path
    assert diagnostic.span.column == 1


def test_imported_files_share_the_source_limit(tmp_path: Path):
    block = "% " + "x" * 97 + "\n"  # 100 bytes
    _write(tmp_path / "a.net", block * 3 + "a = 1;\n")
    _write(tmp_path / "b.net", block * 3 + "b = 2;\n")
    main = _write(tmp_path / "main.net", 'import "a.net"\n  import "b.net"\n' + NETWORK)
    size = sum(len(p.read_bytes()) for p in (main, tmp_path / "a.net", tmp_path / "b.net"))
    assert load_file(main, limits=Limits(source_bytes=size)).variables["b"].data == [2.0]
    exc = _load_error(main, limits=Limits(source_bytes=size - 1))
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E507"
    assert (diagnostic.span.file, diagnostic.span.line, diagnostic.span.column) == (str(main), 2, 10)
    assert diagnostic.message == (f"{(tmp_path / 'b.net').resolve()} is 307 bytes; with the {size - 307:,} bytes "
                                  f"read before it, the spec's files add up to more than netspec reads "
                                  f"({size - 1:,} bytes)")
    assert "--max-file-size 1M" in diagnostic.hint


def test_a_file_imported_twice_defines_its_functions_again_without_error(tmp_path: Path):
    _write(tmp_path / "blocks.net", "function y = twice(x)\n  y = 2 * x;\nend\n")
    main = _write(tmp_path / "main.net", 'import "blocks.net"\nimport "blocks.net"\nn = twice(3);\n' + NETWORK)
    assert load_file(main).variables["n"].data == [6.0]


def test_a_function_defined_twice_in_one_file_is_still_an_error():
    with pytest.raises(NetspecError) as caught:
        load_source("function y = f(x)\n  y = x;\nend\nfunction y = f(x)\n  y = x;\nend\n" + NETWORK, "x.net")
    diagnostic = caught.value.diagnostics[-1]
    assert diagnostic.code == "E112" and diagnostic.span.line == 4


# -- warnings and suggestions: a bounded number --------------------------------------------------

def _count_suggestions(monkeypatch) -> list[str]:
    asked: list[str] = []
    suggest = interpreter.calls.suggest

    def counting(word, candidates):
        asked.append(word)
        return suggest(word, candidates)
    for module in (interpreter.calls, interpreter.network, interpreter.arguments, interpreter.indexing):  # every part that suggests
        monkeypatch.setattr(module, "suggest", counting)
    return asked


def test_an_unknown_function_called_many_times_is_looked_up_once(monkeypatch):
    asked = _count_suggestions(monkeypatch)
    result = load_source("for i = 1:1000\n  y = convolution2dLayr(3);\nend\n" + NETWORK, "x.net")
    assert asked == ["convolution2dLayr"]
    [warning] = result.diagnostics
    assert warning.code == "W105" and warning.hint == "did you mean `convolution2dLayer`?"


def test_an_undefined_name_referenced_many_times_asks_for_no_suggestion(monkeypatch):
    asked = _count_suggestions(monkeypatch)
    result = load_source("y = [" + " undefinedThing" * 3000 + "];\n" + NETWORK, "x.net")
    assert asked == []
    assert [d.code for d in result.diagnostics] == ["W105"]


def test_an_unknown_function_the_network_needs_still_gets_its_suggestion():
    with pytest.raises(NetspecError) as caught:
        load_source("layers = [imageInputLayer([8 8 1]) reluLayr()];\n", "x.net")
    diagnostic = caught.value.diagnostics[-1]
    assert diagnostic.code == "E406" and diagnostic.hint == "did you mean `reluLayer`?"


def test_warnings_of_one_code_stop_at_a_hundred_then_a_note_counts_the_rest(monkeypatch):
    asked = _count_suggestions(monkeypatch)
    calls = "".join(f"y{i} = someFunction{i}(1);\n" for i in range(300))
    result = load_source(calls + NETWORK, "x.net")
    warnings = [d for d in result.diagnostics if d.severity is Severity.warning]
    assert len(warnings) == 100 and {d.code for d in warnings} == {"W105"}
    assert warnings[-1].message.startswith("unknown function `someFunction99`")
    assert len(asked) == 100
    note = result.diagnostics[-1]
    assert note.severity is Severity.note and note.code == "W105"
    assert note.message == "… and 200 more W105 warnings (netspec shows the first 100 of each code)"


def test_a_warning_in_a_loop_is_counted_not_repeated():
    spec = "for i = 1:500\n  f = featureInputLayer(4, 'SplitComplexInputs', false);\nend\n" + NETWORK
    result = load_source(spec, "x.net")
    assert [d.code for d in result.diagnostics] == ["W201"]
    assert result.diagnostics[0].notes == ["this came 500 times (the statement ran again); shown once"]


def test_warnings_of_two_statements_in_a_loop_are_kept_apart():
    spec = "for i = 1:3\n  if a\n    x = 1;\n  end\n  if b\n    x = 2;\n  end\nend\n" + NETWORK
    result = load_source(spec, "x.net")
    assert [(d.code, d.span.line, d.notes) for d in result.diagnostics if d.code == "W102"] == [
        ("W102", line, ["this came 3 times (the statement ran again); shown once"]) for line in (2, 5)]


def test_the_note_also_comes_with_an_error(monkeypatch):
    calls = "".join(f"y{i} = someFunction{i}(1);\n" for i in range(150))
    with pytest.raises(NetspecError) as caught:
        load_source(calls + "layers = 3;\n", "x.net")
    codes = [d.code for d in caught.value.diagnostics]
    assert codes == ["W105"] * 101 + ["E404"]
    assert caught.value.diagnostics[100].message.startswith("… and 50 more W105 warnings")


# -- what is read: regular files, within a size --------------------------------------------------

def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path):
    spec = _write(tmp_path / "big.net", "% padding\n" * 20 + NETWORK)
    exc = _load_error(spec, limits=Limits(source_bytes=100))
    diagnostic = exc.diagnostics[-1]
    assert diagnostic.code == "E507"
    assert diagnostic.message == f"{spec} is {spec.stat().st_size:,} bytes, more than netspec reads (100 bytes)"
    assert (diagnostic.span.file, diagnostic.span.line, diagnostic.span.column) == (str(spec), 1, 1)
    assert diagnostic.hint.endswith("raise the limit: --max-file-size 1M")


def test_the_default_limit_is_two_mebibytes(tmp_path: Path):
    assert Limits().source_bytes == 2 * 1024 * 1024
    spec = tmp_path / "huge.net"
    with spec.open("w") as stream:
        stream.write(NETWORK)
        stream.truncate(2 * 1024 * 1024 + 1)  # NUL bytes, never read
    diagnostic = _load_error(spec).diagnostics[-1]
    assert diagnostic.code == "E507" and "2,097,153 bytes, more than netspec reads (2,097,152 bytes)" in \
        diagnostic.message
    assert diagnostic.hint.endswith("--max-file-size 3M")


def test_a_character_device_is_refused():
    diagnostic = _load_error(Path(os.devnull)).diagnostics[-1]
    assert diagnostic.code == "E002"
    assert diagnostic.message == f"{os.devnull} is a character device, not a file netspec can read"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_check_on_a_fifo_ends_at_once_with_a_located_error(tmp_path: Path):
    fifo = tmp_path / "spec.net"
    os.mkfifo(fifo)
    run = subprocess.run([sys.executable, "-m", "netspec.cli", "check", str(fifo)], capture_output=True,
                         text=True, timeout=60, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert run.returncode == 1
    assert f"error[E002]: {fifo} is a FIFO, not a file netspec can read" in run.stderr
    assert f"--> {fifo}:1:1" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_importing_a_fifo_is_refused_at_the_import(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe.net")
    main = _write(tmp_path / "main.net", 'x = 1;\nimport "pipe.net"\n' + NETWORK)
    diagnostic = _load_error(main).diagnostics[-1]
    assert diagnostic.code == "E002" and "is a FIFO" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 8)


# -- the command line's --max-file-size ------------------------------------------------------------

runner = CliRunner()


@pytest.mark.parametrize("command", [
    ["check"], ["parse"], ["analyze"], ["graph"], ["export", "-o", "model.onnx"], ["train"],
])
def test_every_command_that_loads_a_spec_takes_max_file_size(tmp_path: Path, command: list[str]):
    spec = _write(tmp_path / "spec.net", NETWORK)
    result = runner.invoke(app, [command[0], str(spec), *command[1:], "--max-file-size", "10"])
    assert result.exit_code == 1, result.output
    assert "error[E507]" in result.stderr and "more than netspec reads (10 bytes)" in result.stderr
    assert "Traceback" not in result.stderr


def test_max_file_size_raises_the_limit_with_a_unit(tmp_path: Path):
    spec = _write(tmp_path / "spec.net", "% padding\n" * 500 + NETWORK)
    assert runner.invoke(app, ["check", str(spec), "--max-file-size", "4k"]).exit_code == 1
    result = runner.invoke(app, ["check", str(spec), "--max-file-size", "8K"])
    assert result.exit_code == 0, result.stderr
    assert runner.invoke(app, ["check", str(spec), "--max-file-size", "1MiB"]).exit_code == 0


@pytest.mark.parametrize("size", ["0", "-1", "1.5M", "8X", "lots"])
def test_max_file_size_refuses_what_is_not_a_size(tmp_path: Path, size: str):
    spec = _write(tmp_path / "spec.net", NETWORK)
    result = runner.invoke(app, ["check", str(spec), "--max-file-size", size])
    assert result.exit_code == 2
    assert "--max-file-size" in result.stderr and "is not a size" in result.stderr


# -- memory in proportion to the file ------------------------------------------------------------------

def test_a_long_line_of_numbers_takes_memory_in_proportion_to_its_size():
    """30,000 numbers on one line: the peak stays under 135 times the text (it was 184: a
    scalar per number before the array, and each token's text held twice)."""
    text = "x = [" + " ".join(str(i % 1000) for i in range(30_000)) + "];\n" + NETWORK
    tracemalloc.start()
    try:
        result = load_source(text, "numbers.net")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.variables["x"].cols == 30_000
    assert peak < 135 * len(text), f"{peak / len(text):.0f} times the text"


def test_indexed_assignment_in_a_loop_is_charged_for_the_array_it_copies():
    """`x(n) = v` makes a new array each time: a million elements a step once ran for minutes."""
    spec = "x = zeros(1, 1000000);\nfor i = 1:100000\n    x(1000000) = i;\nend\nlayers = reluLayer;\n"
    with pytest.raises(NetspecError) as caught:
        load_source(spec, "store.net")
    diagnostic = caught.value.diagnostics[-1]
    assert diagnostic.code == "E501" and "array elements" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 5)


@pytest.mark.parametrize("grow", ["x = 0; x(1e6, 1e6) = 1;", "c = {}; c{1e6, 1e6} = 1;"])
def test_growing_an_array_past_the_element_limit_is_refused_before_it_is_built(grow: str):
    with pytest.raises(NetspecError) as caught:
        load_source(grow + "\nlayers = reluLayer;\n", "grow.net")
    diagnostic = caught.value.diagnostics[-1]
    assert diagnostic.code == "E502" and "1,000,000x1,000,000" in diagnostic.message
    assert diagnostic.span.line == 1


def test_a_process_that_loads_many_specs_keeps_only_the_latest_texts(tmp_path: Path):
    """Every load registered its text for spans forever: a fuzzer's worker grew to 700 MB."""
    from netspec.language import spans

    for index in range(spans.KEPT_TEXTS + 50):
        spec = tmp_path / f"spec{index}.net"
        spec.write_text(NETWORK)
        load_file(spec)
    kept = [name for name in spans._TEXTS if name.startswith(str(tmp_path))]
    assert len(spans._TEXTS) <= spans.KEPT_TEXTS and str(spec) in kept
