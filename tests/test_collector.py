"""`collector.paused()` stops the cyclic collector for a phase and gives back the state it found."""

from __future__ import annotations

import gc

import pytest

from netspec import collector


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


def test_loading_and_analyzing_leave_the_collector_running():
    from netspec.analysis import analyze
    from netspec.language import load_source

    analyze(load_source("layers = [imageInputLayer([8 8 1]) reluLayer];\n").network)
    assert gc.isenabled()
