"""`collector.paused()` stops the cyclic collector for a phase and gives back the state it found;
`collector.rarely()` makes it run rarely, so a spec's loop cannot pile up cyclic garbage;
`skip_final_collection()` spares a short command the collection at exit."""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from netspec import collector

ROOT = Path(__file__).resolve().parents[1]


def test_paused_disables_then_restores_a_running_collector():
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_paused_restores_the_collector_after_an_error():
    with pytest.raises(ValueError), collector.paused():
        raise ValueError("a bad spec")
    assert gc.isenabled()


def test_paused_leaves_a_stopped_collector_stopped():
    gc.disable()
    try:
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_rarely_raises_the_first_threshold_then_restores_all():
    before = gc.get_threshold()
    with collector.rarely():
        assert gc.isenabled()
        assert gc.get_threshold() == (collector.RARE_COLLECTION_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before


def test_rarely_still_frees_cyclic_garbage():
    """600,000 passes of a loop that each leave a reference cycle behind: about 50 MB if nothing
    collected them (as under `paused`), a tenth of it under `rarely`."""
    gc.collect()
    tracemalloc.start()
    try:
        with collector.rarely():
            for _ in range(600_000):
                cycle: list = []
                cycle.append(cycle)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 25 * 2**20, f"{peak / 2**20:.0f} MB"


def test_loading_and_analyzing_leave_the_collector_running():
    from netspec.analysis import analyze
    from netspec.language import load_source

    before = gc.get_threshold()
    analyze(load_source("layers = [imageInputLayer([8 8 1]) reluLayer];\n").network)
    assert gc.isenabled() and gc.get_threshold() == before


def _run_cli(command: list[str]) -> list[str]:
    """Run netspec's entry point in a fresh process; an atexit hook registered first runs
    last, after netspec's, and reports whether the objects were frozen for the exit."""
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: print('AT EXIT', gc.get_freeze_count() > 0))\n"
            "from netspec.cli import main\n"
            f"sys.argv = ['netspec', *{command!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('AFTER THE COMMAND', gc.get_freeze_count())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    return [line for line in done.stdout.splitlines() if line.startswith(("AT EXIT", "AFTER"))]


def test_a_short_command_skips_only_the_final_collection():
    """`netspec check` freezes the heap at exit (so the exit does not walk it), not while the
    process may still run: a test or a notebook calling main() keeps its collector."""
    assert _run_cli(["check", "specs/mnist_matlab.net"]) == ["AFTER THE COMMAND 0", "AT EXIT True"]


def test_commands_that_may_leave_work_behind_exit_as_usual():
    """train, export, predict… (torch, worker processes) keep Python's ordinary exit."""
    assert _run_cli(["export", "--help"]) == ["AFTER THE COMMAND 0", "AT EXIT False"]
