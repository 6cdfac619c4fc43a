"""`netspec export --format pytorch`: a readable, standalone PyTorch source file.

The file defines the few helper modules netspec's lowering uses (asymmetric padding,
MATLAB's input normalization, ...) and one `nn.Module` whose `forward` lists the
layers in order, one line each, named as in the spec. Its state_dict has the same keys
as the lowered module's, so a netspec checkpoint's weights load into it directly.
Code generation is its own small step over the lowered module (torch.fx's lesson):
it prints what the lowering built, so the two cannot disagree.
"""

from __future__ import annotations

import inspect
import math

from torch import nn

from .. import __version__
from ..ir import Network
from . import torch as lowering
from .torch import module_name, to_torch

__all__ = ["to_source"]

HELPERS = (lowering.Pad, lowering.Crop, lowering.InputNormalization, lowering.Linear, lowering.Flatten,
           lowering.Add, lowering.Concat, lowering.Softmax, lowering.Resize)


def _value(value: object) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "float('-inf')" if value < 0 else "float('inf')"
    return repr(value)


def _construct(module: nn.Module) -> str:
    """Python source that rebuilds `module` (without its weights)."""
    if isinstance(module, nn.Sequential):
        return "nn.Sequential(" + ", ".join(_construct(child) for child in module) + ")"
    if isinstance(module, lowering.Pad):
        return f"Pad({module.pads!r}, {_value(module.value)})"
    if isinstance(module, lowering.Crop):
        return f"Crop({module.top}, {module.left}, {module.size!r})"
    if isinstance(module, lowering.InputNormalization):
        return f"InputNormalization({module.mode!r}, {module.mean.shape[0]}, {module.mean.dim() - 1}, {{}})"
    if isinstance(module, lowering.Linear):
        linear = module.linear
        return f"Linear({linear.in_features}, {linear.out_features}, {linear.bias is not None}, {module.kind!r})"
    if isinstance(module, lowering.Flatten):
        return f"Flatten({module.kind!r})"
    if isinstance(module, (lowering.Add, lowering.Softmax)):
        return f"{type(module).__name__}()"
    if isinstance(module, lowering.Concat):
        return f"Concat({module.dim})"
    if isinstance(module, lowering.Resize):
        return f"Resize({module.size!r}, {module.mode!r})"
    return f"nn.{module!r}".replace("\n", " ")


def to_source(network: Network, classes: list[str] | None = None) -> str:
    model = to_torch(network, seed=0)
    lines = [
        f'"""{network.source or network.name}, as a standalone PyTorch module (netspec {__version__}).',
        "",
        "Layout: images are (N, C, H, W) with pixel values 0-255, as MATLAB feeds them; the first",
        "layer applies the spec's input normalization. Load trained weights with",
        "    model.load_state_dict(torch.load('model.pt', weights_only=True))",
        '"""',
        "",
        "import torch",
        "from torch import Tensor, nn",
        "from torch.nn import functional as F",
        "",
        f"CLASSES = {classes!r}",
        "",
    ]
    for helper in HELPERS:
        lines += ["", inspect.getsource(helper).rstrip(), ""]
    lines += ["", "class Net(nn.Module):", f'    """{network.name}: {len(network.layers)} layers."""', "",
              "    def __init__(self) -> None:", "        super().__init__()", "        self.layers = nn.ModuleDict({"]
    for name, _ in model.plan:
        key = module_name(name)
        lines.append(f"            {key!r}: {_construct(model.layers[key])},")
    lines += ["        })", ""]
    arguments = ", ".join(f"x_{module_name(n)}: Tensor" for n in model.input_names)
    lines += [f"    def forward(self, {arguments}) -> Tensor:"]
    variables: dict[str, str] = {}
    for name, sources in model.plan:
        key = module_name(name)
        target = f"x_{key}" if not sources else key
        if not sources:
            call = f"self.layers[{key!r}](x_{key})"
        else:
            call = f"self.layers[{key!r}](" + ", ".join(variables[s] for s in sources) + ")"
        lines.append(f"        {target} = {call}  # {name} ({network.layer(name).matlab})")
        variables[name] = target
    outputs = [variables[name] for name in model.output_names]
    lines += [f"        return {', '.join(outputs)}", ""]
    lines += ["", "if __name__ == '__main__':", "    model = Net().eval()",
              "    print(model)", ""]
    return "\n".join(lines)
