"""A network: named layers, port-to-port connections and the training options."""


from pydantic import BaseModel, ConfigDict, model_validator

from .catalogue import AnyLayer
from .training import TrainingOptions

__all__ = ["Connection", "Network"]


class Connection(BaseModel):
    """An edge from `source/source_port` to `destination/destination_port` (MATLAB's table)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    source: str
    source_port: str = "out"
    destination: str
    destination_port: str = "in"

    def __str__(self) -> str:
        return f"{self.source}/{self.source_port} -> {self.destination}/{self.destination_port}"


class Network(BaseModel):
    """The IR every later stage reads: analysis, graph drawing, PyTorch and ONNX."""

    model_config = ConfigDict(ser_json_inf_nan="constants", defer_build=True)

    name: str
    layers: list[AnyLayer]
    connections: list[Connection] = []
    inputs: list[str] = []
    outputs: list[str] = []
    training: TrainingOptions | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Network":
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            seen: set[str] = set()
            dup = next(n for n in names if n in seen or seen.add(n))
            raise ValueError(f"duplicate layer name '{dup}'")
        by_name = {layer.name: layer for layer in self.layers}
        for edge in self.connections:
            src, dst = by_name.get(edge.source), by_name.get(edge.destination)
            if src is None or dst is None:
                raise ValueError(f"connection {edge} names a layer that is not in the network")
            if edge.source_port not in src.output_names or edge.destination_port not in dst.input_names:
                raise ValueError(f"connection {edge} names a port the layer does not have")
        return self

    def layer(self, name: str):
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)
