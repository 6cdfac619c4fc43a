"""The typed IR: one pydantic model per layer type, networks and training options.

Adding a layer (say a new activation):

1. Its class, in the module of its family (`activation.py`, `conv.py`, ...): the `kind`
   discriminator, `matlab`, `base_name`, `positional`/`required`, MATLAB's options as fields
   with MATLAB's defaults, its rules (`output_shapes`, `learnables`, `macs`, `flops_per_element`,
   `windows`; `learnable_factors` if it has learnables; `training_costs` only where its backward
   is not the generic rule there; `kept_for_backward`: what its lowered operations keep for the
   backward pass), and its traits in its own body: `elementwise`, `family`, `torch_counted` (no
   defaults; `tests/ir/test_layers.py` fails for a class that leaves one out). Ask data kinds
   (`data_kind.IMAGE`, ...) what you need to know about the input; do not compare names.
2. Its row in each backend table, keyed by the class: `backends/torch.py` `LOWER` (or
   `UNSUPPORTED`) and `backends/graphviz.py` `LABELS`; each table has a coverage test in
   `tests/backends/` that fails for a class without a row. A layer whose learnables can be
   given (`learnable_options`, sized by `learnable_sizes`) also has a row in torch.py's `GIVEN`:
   where given values go, and which learnable (so which `learnable_factors`) each parameter holds.
3. Its tests: a `CASES` row in `tests/ir/test_layers.py` (the catalogue test fails without
   one), a `LABELS` row in `tests/backends/test_graphviz.py`, its lowering against MATLAB's
   definition in `tests/backends/test_torch.py`, a layer of it in a network of `EVERY_RULE` in
   `tests/train/test_training_memory.py` (its `kept_for_backward` against a measured training
   step; a coverage test fails without one); `REQUIRED_ARGS` in `tests/ir/test_roundtrip.py`
   if MATLAB requires arguments.

Nothing else: the registry (`LAYERS`, `CONSTRUCTORS`), the interpreter, the JSON schema and
the analysis passes find the class through its `kind` and its traits.
"""

from .activation import *  # noqa: F401,F403
from .base import LAYERS, Layer, option_key
from .catalogue import CONSTRUCTORS, AnyLayer
from .conv import *  # noqa: F401,F403
from .data_kind import FEATURE, IMAGE, IMAGE_SEQUENCE, KINDS, SEQUENCE, DataKind
from .input_output import *  # noqa: F401,F403
from .network import Connection, Network
from .norm import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .sequence import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .structure import *  # noqa: F401,F403
from .training import TrainingOptions

__all__ = ["LAYERS", "CONSTRUCTORS", "AnyLayer", "Layer", "Network", "Connection", "TrainingOptions",
           "option_key", "DataKind", "IMAGE", "SEQUENCE", "IMAGE_SEQUENCE", "FEATURE", "KINDS"]
