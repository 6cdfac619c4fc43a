"""What a recurrent layer's lowering (`backends.torch.Recurrent`) keeps for the backward pass on
the CPU, as measured with `netspec.train.memory` (PyTorch 2.13, oneDNN 3.12).

- nn.LSTM (tanh and sigmoid) runs oneDNN's RNN, one call per direction. It keeps its input in
  (T, N, C) order (one copy for both directions, none when the input is held so already), the
  initial hidden and cell states, each direction's output sequence and final states, and a
  workspace of its own: seven regions (the gates and hidden states of every step, the layer and
  cell states and their gradients at every step and one more), leading dimensions padded to 64
  bytes (`good_ld`), each region rounded up to a 4 KiB page. The estimate counts the regions
  unrounded per sequence and seven pages per direction and batch: an upper bound, at most 28 KiB
  per direction above.
- nn.GRU runs PyTorch's own cell at each step: its input in (T, N, C) order, the initial state,
  and per step the recurrent product of the gates (3H) and four H-vectors.
- The other activations and 'before-multiplication' run the steps one by one in PyTorch
  operations (`_step_units`): what each element-wise operation saves.

A batch of one keeps a little less: the initial states are then views of the module's buffers,
and (N, T, C) is then also (T, N, C). On a GPU, cuDNN keeps a reserve space of its own: not modelled.
"""

from __future__ import annotations

from typing import Any

from .saved import OUTPUT, STEP_ORDER, TIME_ORDER, Kept
from .shape import Dim, Shape, is_known

__all__ = ["recurrent_kept", "good_ld", "onednn_lstm_workspace", "onednn_lstm_workspace_bytes", "PAGE",
           "WORKSPACE_REGIONS"]

PAGE = 4096
WORKSPACE_REGIONS = 7
FLOAT_BYTES = 4


def good_ld(dim: int) -> int:
    """oneDNN's leading dimension for floats: a multiple of 16 (64 bytes), not of 256 (4K aliasing)."""
    ld = -(-dim // 16) * 16
    return ld + 16 if ld % 256 == 0 else ld


def _regions(steps: Dim, hidden: int, channels: Dim) -> list[Dim]:
    """Floats per sequence of each region of oneDNN's LSTM training workspace (one direction)."""
    states = good_ld(max(int(channels), hidden)) if is_known(channels) else channels + hidden
    every_state = 2 * (steps + 1)  # the layer's input and output, at each step and one more
    return [steps * good_ld(4 * hidden), steps * good_ld(hidden), every_state * states, every_state * hidden,
            every_state * states, every_state * states, every_state * hidden]


def onednn_lstm_workspace(steps: Dim, hidden: int, channels: Dim) -> Dim:
    """Floats per sequence of one direction's workspace, its regions unrounded."""
    return sum(_regions(steps, hidden, channels), 0)


def onednn_lstm_workspace_bytes(steps: int, batch: int, hidden: int, channels: int) -> int:
    """The bytes oneDNN allocates: each region of the batch rounded up to a page."""
    return sum(-(-region * batch * FLOAT_BYTES // PAGE) * PAGE for region in _regions(steps, hidden, channels))


def recurrent_kept(layer: Any, inputs: list[Shape]) -> tuple[Kept, ...]:
    """The kept tensors of a `RecurrentLayer` (module docstring)."""
    steps, hidden, directions = layer.steps(inputs), layer.num_hidden_units, layer.directions
    states = [Kept.new(layer.width)] * (2 if layer.has_cell else 1)  # hidden (and cell): one storage each
    if layer.fused and layer.has_cell:
        own = OUTPUT if directions == 1 else Kept.new(steps * hidden)
        workspace = onednn_lstm_workspace(steps, hidden, layer.input_channels(inputs))
        pages = Kept.new(WORKSPACE_REGIONS * PAGE // FLOAT_BYTES, per_batch=True)
        return (Kept.input_in(TIME_ORDER), *states,
                *[kept for _ in range(directions) for kept in
                  (own, Kept.new(hidden), Kept.new(hidden), Kept.new(workspace), pages)])
    if layer.fused:  # 3H + 4H a step, the first step's previous hidden state being the initial one
        return Kept.input_in(TIME_ORDER), *states, Kept.new(directions * (steps * 7 * hidden - hidden))
    per_direction = _step_units(layer, steps)
    return (*[Kept.input_in(STEP_ORDER)] * directions, *states, Kept.new(directions * per_direction * hidden))


def _step_units(layer: Any, steps: Dim) -> Dim:
    """H-vectors per sequence and direction that the step-by-step recurrence keeps (past the
    initial states): each gate's activation (sigmoid its result; hard sigmoid its argument and
    result, the first step's forget or update gate unkept as the initial state needs no gradient),
    the state activations (tanh and relu their result; softsign its argument, 1 + |x| and result),
    the cell states and hidden states the next step reads, and the products of the recurrence."""
    hard = int(layer.gate_activation_function == "hard-sigmoid")  # counts in sympy formulas of T
    softsign = layer.state_activation_function == "softsign"
    if layer.has_cell:
        gates = steps * (6 if hard else 3) - hard
        candidate = steps * (6 if softsign else 1)  # softsign keeps the step's 4H gates as its argument
        cell = steps * 3 if softsign else steps + (steps - 1)
        return gates + candidate + cell + (steps - 1)
    before = layer.reset_gate_mode == "before-multiplication"
    gates = steps * (4 if hard else 2) - hard * (2 if before else 1)
    recurrent = steps * (1 if before else 3)  # r ⊙ h, or the recurrent product that r scales
    return gates + recurrent + steps + steps * (3 if softsign else 1) + (steps - 1)
