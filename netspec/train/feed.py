"""How a data set reaches the network: the steps of an epoch (which examples, which time window),
the mini-batches of a step (images by one indexing per tensor; sequences through torch's
DataLoader, padded by a collate function as MATLAB's trainingOptions say), and batches for inference.

Images: a step is a slice of the epoch's order. Sequences: a step is a mini-batch padded to its
longest sequence ('longest', the default), truncated to its shortest ('shortest'), or padded and
split into windows of N time steps (SequenceLength N: each window is a step of its own, as
MATLAB's "extra mini-batches"; netspec starts each window from a zero state, where MATLAB carries
the recurrent state from one window to the next). The padding goes at the end ('right') or the
start ('left'); like MATLAB, a recurrent layer with OutputMode 'last' then reads the padded end.
Inference pads nothing: it runs sequences of equal length together, so that a prediction does
not depend on the other sequences of the file (MATLAB's predict with MiniBatchSize 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from ..datasets.sequences import SequenceDataset, pad_to, split_windows
from ..ir import TrainingOptions
from .data import Dataset

__all__ = ["Step", "ImageFeed", "SequenceFeed", "feed_for", "example_input", "inference_batches", "statistics_input",
           "inputs_of"]

INFERENCE_BATCH = 256


@dataclass(frozen=True)
class Step:
    """One iteration's examples (this process's share) and, for sequences, the mini-batch's
    padded length and the time window trained on."""

    indices: tuple[int, ...]
    length: int = 0
    """Sequences: the time steps the mini-batch is padded or truncated to."""
    window: tuple[int, int] | None = None
    """Sequences split by SequenceLength N: the time steps [start, stop) of this iteration."""


class ImageFeed:
    def __init__(self, dataset: Dataset):
        self.images, self.labels = torch.from_numpy(dataset.images), torch.from_numpy(dataset.labels)
        self.channels_last_ok = dataset.images.ndim == 4

    def plan(self, order: Tensor, batch: int, rank: int = 0, world: int = 1) -> list[Step]:
        """MATLAB drops the last incomplete mini-batch of an epoch."""
        return [Step(tuple(order[i * batch:(i + 1) * batch][rank::world].tolist()))
                for i in range(max(1, len(self.labels) // batch))]

    def loader(self, steps: list[Step]) -> Iterator[tuple[Tensor, Tensor]]:
        """One indexing per tensor and step: a DataLoader would fetch the images one by one and
        stack them. Draws nothing from torch's random stream (augmentation and dropout do, and
        --resume replays it)."""
        for step in steps:
            index = torch.tensor(step.indices, dtype=torch.int64)
            yield self.images[index], self.labels[index]


class _Sequences(torch.utils.data.Dataset):
    """Items keyed by (index, padded length, window): the collate function needs all three."""

    def __init__(self, dataset: SequenceDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int, tuple[int, int] | None]):
        index, length, window = key
        return self.dataset.sequences[index], int(self.dataset.labels[index]), length, window


class SequenceFeed:
    def __init__(self, dataset: SequenceDataset, options: TrainingOptions):
        self.dataset, self.options = dataset, options
        self.labels = torch.from_numpy(dataset.labels)
        self.lengths = dataset.lengths
        self.channels_last_ok = False

    def plan(self, order: Tensor, batch: int, rank: int = 0, world: int = 1) -> list[Step]:
        """The whole mini-batch sets the padded length (every process pads its share alike)."""
        options, result = self.options, []
        for i in range(max(1, len(self.labels) // batch)):
            members = order[i * batch:(i + 1) * batch].tolist()
            lengths = self.lengths[members]
            mine = tuple(members[rank::world])
            if options.sequence_length == "shortest":
                result.append(Step(mine, int(lengths.min())))
                continue
            longest = int(lengths.max())
            size = options.sequence_length if isinstance(options.sequence_length, int) else None
            for window in split_windows(longest, size, options.sequence_padding_direction):
                whole = window.start == 0 and window.stop == longest
                result.append(Step(mine, longest, None if whole else (window.start, window.stop)))
        return result

    def loader(self, steps: list[Step]) -> DataLoader:
        return DataLoader(_Sequences(self.dataset), generator=torch.Generator(), collate_fn=self.collate,
                          batch_sampler=[[(i, s.length, s.window) for i in s.indices] for s in steps])

    def collate(self, items: list) -> tuple[Tensor, Tensor]:
        """(N, C, T) padded as the options say, cut to the step's window; the labels."""
        sequences, labels, length, window = [item[0] for item in items], [item[1] for item in items], \
            items[0][2], items[0][3]
        batch = pad_to(sequences, length, self.options.sequence_padding_direction,
                       self.options.sequence_padding_value)
        if window is not None:
            batch = batch[:, :, window[0]:window[1]]
        return torch.from_numpy(np.ascontiguousarray(batch)), torch.tensor(labels, dtype=torch.int64)


def example_input(dataset: Dataset | SequenceDataset) -> Tensor:
    """One input the network takes: zeros of the images' size, or the first sequence."""
    if isinstance(dataset, SequenceDataset):
        return torch.from_numpy(np.ascontiguousarray(dataset.sequences[0].T[None]))
    return torch.zeros(1, *dataset.images.shape[1:])


def feed_for(dataset: Dataset | SequenceDataset, options: TrainingOptions) -> ImageFeed | SequenceFeed:
    return SequenceFeed(dataset, options) if isinstance(dataset, SequenceDataset) else ImageFeed(dataset)


def inference_batches(inputs: Tensor | SequenceDataset, batch: int = INFERENCE_BATCH
                      ) -> Iterator[tuple[np.ndarray, Tensor]]:
    """(indices, input batch) covering `inputs` once: slices of images (uint8, as stored), or
    sequences of one length together, unpadded, as float32 (N, C, T)."""
    if isinstance(inputs, SequenceDataset):
        lengths = inputs.lengths
        for length in np.unique(lengths):
            members = np.flatnonzero(lengths == length)
            for start in range(0, len(members), batch):
                chosen = members[start:start + batch]
                stacked = np.stack([inputs.sequences[i].T for i in chosen])
                yield chosen, torch.from_numpy(np.ascontiguousarray(stacked))
        return
    for start in range(0, len(inputs), batch):
        yield np.arange(start, min(start + batch, len(inputs))), inputs[start:start + batch]


def statistics_input(dataset: Dataset | SequenceDataset) -> Tensor:
    """What the input layer's statistics are computed over, (N, C, ...): every image, or every time
    step of every sequence (no padding) as one sequence."""
    if isinstance(dataset, SequenceDataset):
        return torch.from_numpy(np.concatenate(dataset.sequences).T[None].copy())
    return torch.from_numpy(dataset.images).float()


def inputs_of(dataset: Dataset | SequenceDataset) -> Tensor | SequenceDataset:
    """What inference_batches takes for a data set."""
    return dataset if isinstance(dataset, SequenceDataset) else torch.from_numpy(dataset.images)
