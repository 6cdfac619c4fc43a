"""`netspec export --format pytorch`: a readable, standalone PyTorch source file.

The file defines the few helper modules netspec's lowering uses (asymmetric padding,
MATLAB's input normalization, ...) and one `nn.Module` whose `forward` lists the
layers in order, one line each, named as in the spec. Its state_dict has the same keys
as the lowered module's, so a netspec checkpoint's weights load into it directly, and the
same parameters are frozen (learn-rate factor 0: `requires_grad` False).
Code generation is its own small step over the lowered module (torch.fx's lesson):
it prints what the lowering built, so the two cannot disagree.
"""

from __future__ import annotations

import inspect
import math

from torch import nn

from .. import __version__
from ..ir import SEQUENCE, Network
from ..text import printable
from . import torch as lowering
from .torch import module_name, to_torch

__all__ = ["to_source"]

HELPERS = (lowering.Pad, lowering.Crop, lowering.InputNormalization, lowering.Linear, lowering.Add,
           lowering.Concat, lowering.Softmax, lowering.Resize, lowering.Multiply, lowering.ChannelShuffle,
           lowering.CropTo, lowering.MaxPoolIndices, lowering.MaxUnpool, lowering.DepthToSpace, lowering.SpaceToDepth,
           lowering.SequenceFold, lowering.SequenceUnfold, lowering.FlattenSteps, lowering.SelfAttention,
           lowering.PositionEmbedding, lowering.SinusoidalEncoding, lowering.TimeStep, lowering.WordEmbedding,
           lowering.Recurrent, lowering.SamePad1d)


def _literal(value: object) -> str:
    """A constructor argument or the class list as Python source that evaluates back to `value`
    (inf and nan too)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list):
        return f"[{', '.join(_literal(item) for item in value)}]"
    if isinstance(value, tuple):
        items = [_literal(item) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise TypeError(f"no Python literal for a {type(value).__name__}")


def _arguments(module: nn.Module) -> str:
    """The module's constructor arguments, read back from its attributes; defaults left out."""
    arguments: list[str] = []
    for name, parameter in inspect.signature(type(module)).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD) or name in ("device", "dtype"):
            continue
        if name == "bias":
            value = module.bias is not None
        elif hasattr(module, name):
            value = getattr(module, name)
        elif parameter.default is not parameter.empty:
            continue
        else:
            raise TypeError(f"{type(module).__name__} keeps no attribute for its argument {name!r}")
        if parameter.default is parameter.empty:
            arguments.append(_literal(value))
        elif type(value) is not type(parameter.default) or value != parameter.default:
            arguments.append(f"{name}={_literal(value)}")
    return ", ".join(arguments)


def _construct(module: nn.Module) -> str:
    """Python source that rebuilds `module` (without its weights); every value a literal."""
    if isinstance(module, nn.Sequential):
        return "nn.Sequential(" + ", ".join(_construct(child) for child in module) + ")"
    if isinstance(module, lowering.InputNormalization):
        return f"InputNormalization({_literal(module.mode)}, {module.mean.shape[0]}, {module.mean.dim() - 1}, {{}})"
    if isinstance(module, lowering.Linear):
        linear = module.linear
        return (f"Linear({linear.in_features}, {linear.out_features}, {linear.bias is not None}, "
                f"per_step={module.per_step}, spatial_dims={module.spatial_dims})")
    prefix = "" if isinstance(module, HELPERS) else "nn."
    return f"{prefix}{type(module).__name__}({_arguments(module)})"


def _docstring_text(text: str) -> str:
    """Spec text inside a triple-quoted docstring, reading back as itself: backslashes and quotes
    escaped, control characters and line breaks as escapes (`printable` writes Python's)."""
    return printable(text.replace("\\", "\\\\").replace('"', '\\"'))


def _variable(layer_name: str) -> str:
    """The local holding a layer's output: x_ + its module key ([0-9A-Za-z_]*), so always an
    identifier, never a keyword or `self`; an input layer's is also its `forward` argument."""
    return f"x_{module_name(layer_name)}"


def _variables(model: lowering.GraphModule) -> dict[str, str]:
    """The local holding each value the graph computes (by `output_key`): a layer's first output
    in `_variable(name)`, its other outputs in that name and the port's, kept distinct."""
    variables = {name: _variable(name) for name, _ in model.plan}
    taken = set(variables.values())
    for name, keys in model.extra_outputs.items():
        for key in keys:
            variable = f"{variables[name]}_{module_name(key.rsplit('/', 1)[1])}"
            while variable in taken:
                variable += "_"
            taken.add(variable)
            variables[key] = variable
    return variables


def _layout(model: lowering.GraphModule) -> str:
    """What the module takes, in its docstring: images (N, C, H, W) as MATLAB feeds them, or
    sequences (N, C, T) of any length T."""
    if all(len(size) == SEQUENCE.rank for size in model.input_sizes):
        return "Layout: sequences are (N, C, T), C channels at each of T time steps; the first"
    return "Layout: images are (N, C, H, W) with pixel values 0-255, as MATLAB feeds them; the first"


def to_source(network: Network, classes: list[str] | None = None) -> str:
    """The module's source. Spec text reaches it only as literals (`_literal`, `repr`), escaped
    docstring text or `module_name` keys, so no layer name, class or path can become code."""
    model = to_torch(network, seed=0)
    lines = [
        f'"""{_docstring_text(network.source or network.name)}, as a standalone PyTorch module '
        f'(netspec {__version__}).',
        "",
        _layout(model),
        "layer applies the spec's input normalization. Load trained weights with",
        "    model.load_state_dict(torch.load('model.pt', weights_only=True))",
        '"""',
        "",
        "import torch",
        "from torch import Tensor, nn",
        "from torch.nn import functional as F",
        "",
        f"CLASSES = {_literal(classes)}",
        "",
    ]
    for helper in HELPERS:
        lines += ["", inspect.getsource(helper).rstrip(), ""]
    lines += ["", "class Net(nn.Module):",
              f'    """{_docstring_text(network.name)}: {len(network.layers)} layers."""', "",
              "    def __init__(self) -> None:", "        super().__init__()", "        self.layers = nn.ModuleDict({"]
    for name, _ in model.plan:
        key = module_name(name)
        lines.append(f"            {key!r}: {_construct(model.layers[key])},")
    lines += ["        })"]
    lines += [f"        self.layers[{key!r}].get_parameter({parameter!r}).requires_grad_(False)  # learn-rate factor 0"
              for key, module in model.layers.items() for parameter, value in module.named_parameters()
              if not value.requires_grad]
    lines += [""]
    variables = _variables(model)
    arguments = ", ".join(f"{variables[n]}: Tensor" for n in model.input_names)
    lines += [f"    def forward(self, {arguments}) -> Tensor:"]
    for name, sources in model.plan:
        key = module_name(name)
        inputs = ", ".join(variables[source] for source in sources or [name])
        results = ", ".join(variables[k] for k in [name, *model.extra_outputs.get(name, [])])
        lines.append(f"        {results} = self.layers[{key!r}]({inputs})  "
                     f"# {name!r} ({network.layer(name).matlab})")
    lines += [f"        return {', '.join(variables[name] for name in model.output_names)}", ""]
    lines += ["", "if __name__ == '__main__':", "    model = Net().eval()",
              "    print(model)", ""]
    return "\n".join(lines)
