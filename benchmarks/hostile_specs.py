"""Hostile specs: loops, recursion, nesting, imports, sizes. Each must end fast with a located error.

    python benchmarks/hostile_specs.py [--only NAME]

Every case is written to a fresh folder and checked by a whole `netspec check` process, as
a user would run it; the table gives its wall time, its peak resident memory (the child's
own `ru_maxrss`, from `os.wait4`), its exit code and the first line of its diagnostic.
Target (issue 12): every case ends with a located error (exit 1, `--> file:line:col`) in
under 5 s and 300 MiB; the few that are valid MATLAB (`VALID`) may instead succeed within
those bounds. The `baseline` row is a small valid spec: what any check costs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
_SCRIPT = Path(sys.executable).with_name("netspec")
NETSPEC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "netspec.cli"]
SECONDS = 5.0
MIB = 300
TIMEOUT = 60


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _single(text: str) -> Callable[[Path], Path]:
    return lambda folder: _write(folder, "spec.net", text)


def _import_fan(folder: Path) -> Path:
    """8 files, each importing the next one 10 times: 10^8 file runs without a shared budget."""
    for level in range(8):
        body = f'import "f{level + 1}.net"\n' * 10 if level < 7 else "x = 1;\n"
        _write(folder, f"f{level}.net", body)
    return _write(folder, "spec.net", 'import "f0.net"\n' + NETWORK)


def _import_cycle(folder: Path) -> Path:
    _write(folder, "a.net", 'import "b.net"\n')
    _write(folder, "b.net", 'import "a.net"\n')
    return _write(folder, "spec.net", 'import "a.net"\n')


def _import_outside(folder: Path) -> Path:
    inner = folder / "inner"
    inner.mkdir()
    _write(folder, "secret.m", "password = 'hunter2';\n")
    return _write(inner, "spec.net", 'import "../secret.m"\nlayers = password;\n')


def _fifo(folder: Path) -> Path:
    path = folder / "spec.net"
    os.mkfifo(path)
    return path


def _big_file(folder: Path) -> Path:
    """A 50 MB spec: one comment line repeated."""
    line = "% " + "x" * 97 + "\n"
    path = folder / "spec.net"
    with path.open("w", encoding="utf-8") as stream:
        for _ in range(500_000):
            stream.write(line)
        stream.write(NETWORK)
    return path


def _one_line_array(numbers: int) -> Callable[[Path], Path]:
    """x = [1 2 3 ...] on one line: 600,000 numbers are 2.3 MB (over the default 2 MiB limit),
    450,000 are 1.7 MB."""
    return _single("x = [" + " ".join(str(i % 1000) for i in range(numbers)) + "];\n" + NETWORK)


def _undefined_references(folder: Path) -> Path:
    """600 KB: 300,000 references to a name nobody defined."""
    return _write(folder, "spec.net", "x = [" + "u " * 300_000 + "];\n" + NETWORK)


NETWORK = "layers = [imageInputLayer([8 8 1]) reluLayer];\n"
VALID = {"baseline (valid spec)", "long binary chain (200k)", "one-line array, 1.7 MB", "undefined name x300,000"}
"""Cases that are valid MATLAB: they must succeed (or end with a located error) within the bounds."""

BASELINE = """layers = [imageInputLayer([28 28 1])
    convolution2dLayer(3,16,'Padding',1)
    reluLayer
    fullyConnectedLayer(10)
    softmaxLayer
    classificationLayer];
"""

CASES: dict[str, Callable[[Path], Path]] = {
    "baseline (valid spec)": _single(BASELINE),
    "while true; x = x + 1": _single("x = 0;\nwhile true\n    x = x + 1;\nend\n"),
    "while true with cells": _single("c = {};\nwhile true\n    c = {c};\nend\n"),
    "recursive fib(40)": _single("y = fib(40);\nfunction r = fib(n)\n  if n < 2\n    r = n;\n  else\n"
                                 "    r = fib(n-1) + fib(n-2);\n  end\nend\n"),
    "unbounded recursion": _single("y = f(1);\nfunction r = f(n)\n  r = f(n + 1);\nend\n"),
    "nested for loops 1e4^3": _single("s = 0;\nfor i = 1:1e4\nfor j = 1:1e4\nfor k = 1:1e4\ns = s + 1;\n"
                                      "end\nend\nend\n"),
    "range 1:1e12": _single("x = 1:1e12;\n"),
    "zeros(1e5, 1e5)": _single("x = zeros(1e5, 1e5);\n"),
    "ones(1e9, 1)": _single("x = ones(1e9, 1);\n"),
    "repmat('a', 1e9, 1)": _single("x = repmat('a', 1e9, 1);\n"),
    "x(1e6) = v in a loop": _single("x = zeros(1, 1000000);\nfor i = 1:100000\n    x(1000000) = i;\nend\n"),
    "x(1e6, 1e6) = 1": _single("x = 0;\nx(1e6, 1e6) = 1;\n"),
    "string doubling": _single("s = 'ab';\nfor i = 1:64\n    s = [s s];\nend\n"),
    "cell doubling": _single("c = {1};\nfor i = 1:64\n    c = [c c];\nend\n"),
    "matrix product blow-up": _single("a = ones(3000, 3000);\nb = a * a;\n"),
    "sprintf huge width": _single("s = sprintf('%1000000000d', 1);\n"),
    "1e6 layers in a loop": _single("layers = imageInputLayer([8 8 1]);\nfor i = 1:1e6\n"
                                    "    layers = [layers; reluLayer];\nend\n"),
    "deep parentheses (100k)": _single("x = " + "(" * 100_000 + "1" + ")" * 100_000 + ";\n"),
    "deep brackets (100k)": _single("x = " + "[" * 100_000 + "1" + "]" * 100_000 + ";\n"),
    "deep if nesting (5k)": _single("if true\n" * 5_000 + "x = 1;\n" + "end\n" * 5_000),
    "long binary chain (200k)": _single("x = 1" + " + 1" * 200_000 + ";\n" + NETWORK),
    "undefined name x300,000": _undefined_references,
    "one-line array, 2.3 MB": _one_line_array(600_000),
    "one-line array, 1.7 MB": _one_line_array(450_000),
    "50 MB spec file": _big_file,
    "FIFO instead of a file": _fifo,
    "import fan-out 10^8": _import_fan,
    "import cycle": _import_cycle,
    "import outside the folder": _import_outside,
}


def run_case(make: Callable[[Path], Path]) -> tuple[float, float, int, str]:
    """(seconds, peak MiB, exit code, stderr) of one `netspec check` process on the case.

    The child is reaped with `os.wait4`, whose rusage is that child's alone (its peak RSS)."""
    with tempfile.TemporaryDirectory(prefix="netspec-hostile-") as folder, \
            tempfile.TemporaryFile() as err:
        spec = make(Path(folder))
        start = time.perf_counter()
        process = subprocess.Popen([*NETSPEC, "check", str(spec)], stdout=subprocess.DEVNULL, stderr=err,
                                   stdin=subprocess.DEVNULL)
        killer = threading.Timer(TIMEOUT, process.kill)
        killer.start()
        _, status, usage = os.wait4(process.pid, 0)
        killer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        return seconds, usage.ru_maxrss / 1024, process.returncode, err.read().decode("utf-8", "replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run the cases whose name contains this text")
    args = parser.parse_args()
    console = Console(highlight=False, width=max(Console().width, 140))
    table = Table(title="netspec check on hostile specs")
    for column in ("case", "seconds", "peak MiB", "exit", "located", "result", "diagnostic"):
        table.add_column(column)
    failures = 0
    for name in CASES:
        if args.only and args.only not in name:
            continue
        seconds, mib, code, err = run_case(CASES[name])
        first = next((line for line in err.splitlines() if line.strip()), "")
        located = "-->" in err
        ended_well = code == 1 and located or (code == 0 and name in VALID)
        ok = seconds < SECONDS and mib < MIB and ended_well and "Traceback" not in err
        failures += not ok
        table.add_row(name, f"{seconds:.2f}", f"{mib:.0f}", str(code), "yes" if located else "no",
                      "PASS" if ok else "FAIL", first[:90])
    console.print(table)
    console.print(f"target: exit 1 with a located error, < {SECONDS:g} s and < {MIB} MiB per case; "
                  f"{failures} case(s) fail")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
