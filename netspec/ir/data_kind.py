"""The kinds of data that flow between layers: images (H×W×C), sequences (T×C), image sequences
(T×H×W×C), feature vectors (C).

Each kind is one object that answers what layers and backends ask about it (its axes, how
MATLAB numbers them, how PyTorch lays it out), so no code switches on a kind's name and a
new kind is one more instance here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DataKind", "IMAGE", "SEQUENCE", "IMAGE_SEQUENCE", "FEATURE", "KINDS", "SIZE", "STEPS"]


@dataclass(frozen=True, eq=False)
class DataKind:
    """One kind of activation; the instances below are the only ones, compared by identity."""

    name: str
    """What messages call it: `image`, `sequence`, `feature`."""
    description: str
    """The kind in a sentence: 'needs an image (H×W×C)'."""
    axes: tuple[str, ...]
    """MATLAB's size order, channels last: ('H', 'W', 'C')."""
    time: bool
    """The first axis is time: fully connected and flatten layers act per time step."""
    torch_layout: str
    """PyTorch's (and the ONNX export's) layout with the batch: `NCHW`."""
    matlab_dims: dict[int, int] = field(repr=False)
    """MATLAB dimension number (concatenationLayer's `dim`) -> index into the axes."""
    holds_size: bool = False
    """The value is a size, not an activation (maxPooling2dLayer's 'size' output): it holds as
    many numbers as it has axes."""

    @property
    def rank(self) -> int:
        """Numbers in one sample's size (`--input-size` gives this many)."""
        return len(self.axes)

    @property
    def spatial_dims(self) -> int:
        """Axes a window slides over (H and W, or T): PyTorch's 2d or 1d modules."""
        return self.rank - 1

    @property
    def size_names(self) -> str:
        """The size as a user writes it: 'H W C'."""
        return " ".join(self.axes)

    def torch_axis(self, axis: int) -> int:
        """Index into MATLAB-ordered axes -> PyTorch dimension (batch 0, channels 1, then space)."""
        return 1 if axis == self.rank - 1 else axis + 2

    def torch_order(self, dims: tuple) -> tuple:
        """One sample's size in PyTorch's order: (H, W, C) -> (C, H, W)."""
        return (dims[-1], *dims[:-1])

    @staticmethod
    def of_rank(rank: int) -> "DataKind | None":
        """The kind whose size has `rank` numbers (4: image sequence, 3: image, 2: sequence, 1: feature)."""
        return next((kind for kind in KINDS if kind.rank == rank), None)

    def __str__(self) -> str:
        return self.name


IMAGE = DataKind("image", "an image (H×W×C)", ("H", "W", "C"), time=False, torch_layout="NCHW",
                 matlab_dims={1: 0, 2: 1, 3: 2})
SEQUENCE = DataKind("sequence", "a sequence (T×C)", ("T", "C"), time=True, torch_layout="NCT",
                    matlab_dims={1: 1})
"""MATLAB numbers a sequence's channels first (C×T), and concatenates sequences along channels only."""
IMAGE_SEQUENCE = DataKind("image sequence", "an image sequence (T×H×W×C)", ("T", "H", "W", "C"), time=True,
                          torch_layout="NCTHW", matlab_dims={1: 1, 2: 2, 3: 3})
"""MATLAB's H×W×C×T (sequenceInputLayer([H W C])), written time first as netspec writes every
sequence (T×C). PyTorch holds it as N×C×T×H×W: channels at 1 like every other kind, time where
Conv3d keeps depth, so a sequenceFoldingLayer is a transpose and a reshape."""
FEATURE = DataKind("feature", "a feature vector", ("C",), time=False, torch_layout="NC", matlab_dims={1: 0})
KINDS = (IMAGE, SEQUENCE, FEATURE, IMAGE_SEQUENCE)
"""The kinds of data a network takes and layers compute."""
SIZE = DataKind("size", "the size of an image (a maxPooling2dLayer's 'size' output)", ("H", "W", "C"), time=False,
                torch_layout="", matlab_dims={}, holds_size=True)
"""What maxPooling2dLayer's 'size' port carries to maxUnpooling2dLayer: its input's H×W×C."""
STEPS = DataKind("time steps", "the time steps of a folded sequence (a sequenceFoldingLayer's 'miniBatchSize' "
                 "output)", ("T",), time=False, torch_layout="N", matlab_dims={}, holds_size=True)
"""What sequenceFoldingLayer's 'miniBatchSize' port tells sequenceUnfoldingLayer: how the folded
batch of images was a batch of sequences (for the analysis: T, the steps of one sample)."""
