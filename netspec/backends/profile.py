"""Measured time per spec layer of the lowered network (`netspec profile`).

torch: forward pre- and post-hooks on each layer's module time it, with CUDA events on a GPU
(read after one synchronization per run, so the measurement does not serialize the layers) and
`time.perf_counter` on the CPU. onnx: onnxruntime's own profiler, with graph optimizations off so
no node is fused across layers; every node the export names `layer` or `layer/Op_i` is that
layer's (`_owners`). Both run `warmup` passes first, then `repeat` measured ones, on random input, without
gradients. The caller turns the samples into medians and spreads.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..ir import Network

__all__ = ["Measured", "profile", "BACKENDS", "resolve_device"]

BACKENDS = ("torch", "onnx")


@dataclass
class Measured:
    """Seconds per measured run: of each lowered layer (in execution order), of the whole forward
    pass, and (onnx) of nodes that belong to no layer."""

    backend: str
    device: str
    batch: int
    warmup: int
    repeat: int
    layers: dict[str, list[float]]
    runs: list[float]
    unattributed: list[float] = field(default_factory=list)


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; 'cpu' and 'cuda' as given."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def profile(network: Network, *, backend: str = "torch", batch: int = 1, repeat: int = 10, warmup: int = 3,
            device: str = "auto") -> Measured:
    """Run the network `warmup + repeat` times on random input of `batch` samples and time its layers."""
    chosen = resolve_device(device)
    run = _profile_torch if backend == "torch" else _profile_onnx
    return run(network, batch=batch, repeat=repeat, warmup=warmup, device=chosen)


class _WallClock:
    """Per-layer wall time on the CPU."""

    def __init__(self, names: list[str]) -> None:
        self.begun: dict[str, float] = {}
        self.spent: dict[str, float] = dict.fromkeys(names, 0.0)

    def start(self, name: str) -> None:
        self.begun[name] = time.perf_counter()

    def stop(self, name: str) -> None:
        self.spent[name] += time.perf_counter() - self.begun[name]

    def read(self) -> dict[str, float]:
        spent, self.spent = self.spent, dict.fromkeys(self.spent, 0.0)
        return spent


class _CudaClock:
    """Per-layer GPU time from CUDA events, read once the run is over."""

    def __init__(self, names: list[str]) -> None:
        import torch

        self.synchronize = torch.cuda.synchronize
        self.events = {name: (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                       for name in names}

    def start(self, name: str) -> None:
        self.events[name][0].record()

    def stop(self, name: str) -> None:
        self.events[name][1].record()

    def read(self) -> dict[str, float]:
        self.synchronize()
        return {name: begin.elapsed_time(end) / 1000 for name, (begin, end) in self.events.items()}


def _profile_torch(network: Network, *, batch: int, repeat: int, warmup: int, device: str) -> Measured:
    import torch

    from .torch import module_name, to_torch

    model = to_torch(network, seed=0).eval().to(device)
    names = [name for name, _ in model.plan]
    clock = _CudaClock(names) if device == "cuda" else _WallClock(names)
    hooks = []
    for name in names:
        module = model.layers[module_name(name)]
        hooks.append(module.register_forward_pre_hook(lambda _m, _a, name=name: clock.start(name)))
        hooks.append(module.register_forward_hook(lambda _m, _a, _o, name=name: clock.stop(name)))
    generator = torch.Generator().manual_seed(0)
    inputs = [torch.randn(batch, *size, generator=generator).to(device) for size in model.input_sizes]
    layers: dict[str, list[float]] = {name: [] for name in names}
    runs: list[float] = []
    with torch.inference_mode():
        for index in range(warmup + repeat):
            begin = time.perf_counter()
            model(*inputs)
            spent = clock.read()  # on a GPU this waits for the run to finish
            elapsed = time.perf_counter() - begin
            if index >= warmup:
                runs.append(elapsed)
                for name in names:
                    layers[name].append(spent[name])
    for hook in hooks:
        hook.remove()
    return Measured("torch", _device_name(device), batch, warmup, repeat, layers, runs)


def _device_name(device: str) -> str:
    import torch

    return f"cuda ({torch.cuda.get_device_name()})" if device == "cuda" else "cpu"


def _profile_onnx(network: Network, *, batch: int, repeat: int, warmup: int, device: str) -> Measured:
    import numpy as np
    import onnxruntime

    from .onnx import to_onnx

    proto = to_onnx(network)
    providers = ["CUDAExecutionProvider"] if device == "cuda" and \
        "CUDAExecutionProvider" in onnxruntime.get_available_providers() else ["CPUExecutionProvider"]
    with tempfile.TemporaryDirectory(prefix="netspec-profile-") as folder:
        options = onnxruntime.SessionOptions()
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(folder) / "onnxruntime")
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = onnxruntime.InferenceSession(proto.SerializeToString(), options, providers=providers)
        generator = np.random.default_rng(0)
        feed = {item.name: generator.standard_normal((batch, *item.shape[1:])).astype(np.float32)
                for item in session.get_inputs()}
        for _ in range(warmup + repeat):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text(encoding="utf-8"))
    layers, unattributed = _node_times(events, _owners(proto, network),
                                       [layer.name for layer in network.layers if layer.output_names], warmup)
    runs = [event["dur"] / 1e6 for event in events if event.get("name") == "model_run"][warmup:]
    device_name = "cuda" if providers[0].startswith("CUDA") else "cpu"
    return Measured("onnx", f"{device_name} (onnxruntime)", batch, warmup, repeat, layers, runs, unattributed)


def _owners(proto, network: Network) -> dict[str, str]:
    """Exported node -> the spec layer it belongs to: nodes named `layer` or `layer/Op_i`, and the
    Identity nodes the exporter adds to share a layer's parameter (output `layers.MODULE.bias`)."""
    from .torch import module_name

    names = {layer.name for layer in network.layers}
    by_module = {module_name(name): name for name in names}
    owners: dict[str, str] = {}
    for node in proto.graph.node:
        head = node.name
        while head not in names and "/" in head:
            head = head.rsplit("/", 1)[0]
        parameter = node.output[0].split(".") if node.output else []
        if head in names:
            owners[node.name] = head
        elif len(parameter) == 3 and parameter[0] == "layers" and parameter[1] in by_module:
            owners[node.name] = by_module[parameter[1]]
    return owners


def _node_times(events: list[dict], owners: dict[str, str], names: list[str], warmup: int) \
        -> tuple[dict[str, list[float]], list[float]]:
    """Seconds per measured run of each layer's nodes, and of nodes of no layer, from onnxruntime's
    trace (a node's `NAME_kernel_time` event lies inside the `model_run` event of its run)."""
    runs = sorted((event["ts"], event["ts"] + event["dur"]) for event in events if event.get("name") == "model_run")
    layers = {name: [0.0] * len(runs) for name in names}
    unattributed = [0.0] * len(runs)
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith("_kernel_time"):
            continue
        index = next((i for i, (begin, end) in enumerate(runs) if begin <= event["ts"] <= end), None)
        if index is None:
            continue
        layer = owners.get(event["name"].removesuffix("_kernel_time"))
        (layers[layer] if layer is not None else unattributed)[index] += event["dur"] / 1e6
    return {name: samples[warmup:] for name, samples in layers.items()}, unattributed[warmup:]
