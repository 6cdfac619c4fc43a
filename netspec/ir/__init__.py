"""The typed IR: one pydantic model per layer type, networks and training options."""

from .activation import *  # noqa: F401,F403
from .base import LAYERS, Layer, option_key
from .catalogue import CONSTRUCTORS, AnyLayer
from .conv import *  # noqa: F401,F403
from .input_output import *  # noqa: F401,F403
from .network import Connection, Network
from .norm import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .structure import *  # noqa: F401,F403
from .training import TrainingOptions

__all__ = ["LAYERS", "CONSTRUCTORS", "AnyLayer", "Layer", "Network", "Connection", "TrainingOptions",
           "option_key"]
