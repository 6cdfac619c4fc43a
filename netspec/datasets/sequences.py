"""Sequence data without torch: the time-series archive `.ts` format, CSV files of one sequence,
folders of per-class CSV files, the bundled Japanese Vowels data, and MATLAB's padding of a
mini-batch (trainingOptions' SequenceLength, SequencePaddingDirection, SequencePaddingValue).

A sequence is a float32 array of T time steps × C channels (a CSV file's rows are its time
steps); a padded mini-batch is (N, C, T), the layout the lowered network takes. Missing values
(`?` in .ts, empty / NaN / ? in CSV) are read as NaN; training refuses them where they are.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..diagnostics import Span, error

__all__ = ["SequenceDataset", "read_ts", "read_sequence_csv", "read_csv_folder", "japanese_vowels",
           "load_sequences", "test_file_beside", "pad_batch", "pad_to", "split_windows", "is_sequence_file",
           "check_sequences", "read_sequence_files", "BUILTIN"]

BUILTIN = "builtin"
MISSING = {"", "?", "nan", "NaN", "NAN"}
JAPANESE_VOWELS = ("JapaneseVowels_TRAIN.ts.gz", "JapaneseVowels_TEST.ts.gz")


@dataclass
class SequenceDataset:
    """Labelled sequences: `sequences[i]` is (T_i, C) float32, `labels[i]` an index into `classes`,
    `origins[i]` where it was read ("file:line" or a CSV file), for messages and predictions."""

    sequences: list[np.ndarray]
    labels: np.ndarray  # int64 (N,)
    classes: list[str]
    origins: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> "SequenceDataset":
        return SequenceDataset([self.sequences[i] for i in index], self.labels[index], self.classes,
                               [self.origins[i] for i in index] if self.origins else [])

    @property
    def channels(self) -> int | None:
        return self.sequences[0].shape[1] if self.sequences else None

    @property
    def lengths(self) -> np.ndarray:
        return np.asarray([len(s) for s in self.sequences], dtype=np.int64)


def _span(path: Path | str, line: int, text: str = "") -> Span:
    return Span(str(path), line, 1, line, max(2, len(text) + 1))


def _values(text: str, path: Path | str, line: int, what: str) -> np.ndarray:
    """Comma-separated numbers, `?` (or empty, NaN) for a missing one."""
    fields = [f.strip() for f in text.split(",")]
    try:
        return np.asarray([math.nan if f in MISSING else float(f) for f in fields], dtype=np.float64)
    except ValueError:
        bad = next(f for f in fields if f not in MISSING and not _is_number(f))
        raise error("D012", f"{what}: '{bad[:40]}' is not a number", _span(path, line, text),
                    hint="values are numbers separated by ','; '?' marks a missing one") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _open_text(path: Path) -> list[str]:
    """The lines of a text file, .gz or plain."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                return handle.read().splitlines()
        return path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise error("D006", f"no such data file: {path}",
                    hint="--data takes a .ts file, a folder of per-class CSV folders, or builtin") from None
    except UnicodeDecodeError:
        raise error("D012", f"{path} is not a text file",
                    hint="a sequence network reads .ts files and CSV files (one sequence each)") from None
    except (OSError, EOFError) as exc:
        raise error("D012", f"cannot read {path}: {exc}") from None


def _ts_header(lines: list[str], path: Path) -> tuple[dict[str, str], int]:
    """The `@name value` lines up to `@data`: (lower-cased name -> value, index of the first data line)."""
    header: dict[str, str] = {}
    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        if not text.startswith("@"):
            raise error("D012", "a data line before @data", _span(path, number, text),
                        hint="a .ts file declares @problemName ... @classLabel, then @data, then one case a line")
        name, _, value = text[1:].partition(" ")
        if name.lower() == "data":
            return header, number
        header[name.lower()] = value.strip()
    raise error("D012", f"{path} has no @data line: it is not a time-series archive .ts file",
                _span(path, max(1, len(lines))))


def _ts_labels(header: dict[str, str], path: Path) -> list[str]:
    """The declared class labels (`@classLabel true a b c`): netspec reads classification files."""
    if header.get("timestamps", "false").lower() == "true":
        raise error("D012", f"{path} has time stamps (@timeStamps true), which netspec does not read",
                    hint="write the values without time stamps")
    words = header.get("classlabel", "").split()
    if not words or words[0].lower() != "true" or len(words) < 2:
        raise error("D012", f"{path} declares no class labels (@classLabel true LABEL ...)",
                    hint="netspec trains classifiers from .ts files: declare the labels after @classLabel true")
    return words[1:]


def read_ts(path: Path) -> SequenceDataset:
    """A time-series archive file (sktime's and aeon's .ts): after `@data`, one case a line, its
    dimensions separated by ':', each a comma-separated series, the class label last. Trailing
    steps missing in every dimension are dropped (how variable lengths are often stored)."""
    path = Path(path)
    lines = _open_text(path)
    header, start = _ts_header(lines, path)
    classes = _ts_labels(header, path)
    index = {name: i for i, name in enumerate(classes)}
    declared = int(header["dimensions"]) if header.get("dimensions", "").isdigit() else \
        1 if header.get("univariate", "").lower() == "true" else None
    sequences, labels, origins = [], [], []
    for number in range(start + 1, len(lines) + 1):
        text = lines[number - 1].strip()
        if not text or text.startswith("#"):
            continue
        *parts, label = text.split(":")
        where = _span(path, number, text)
        if declared is None:
            declared = len(parts)
        if len(parts) != declared:
            raise error("D012", f"a case of {len(parts)} dimensions; the file has {declared}", where,
                        hint="separate dimensions with ':' and end the line with ':LABEL'")
        if label.strip() not in index:
            raise error("D012", f"the class label '{label.strip()[:40]}' is not one of @classLabel's "
                        f"({' '.join(classes[:10])}{' ...' if len(classes) > 10 else ''})", where)
        series = [_values(part, path, number, f"dimension {d + 1}") for d, part in enumerate(parts)]
        if len({len(s) for s in series}) > 1:
            raise error("D012", f"the dimensions of a case differ in length ({', '.join(str(len(s)) for s in series)})",
                        where, hint="every dimension of a case has one value per time step ('?' when missing)")
        sequences.append(_trim_missing(np.stack(series, axis=1), where))
        labels.append(index[label.strip()])
        origins.append(f"{path}:{number}")
    if not sequences:
        raise error("D012", f"{path} has no case after @data", _span(path, start))
    return SequenceDataset(sequences, np.asarray(labels, dtype=np.int64), classes, origins)


def _trim_missing(sequence: np.ndarray, where: Span) -> np.ndarray:
    """The sequence without the trailing time steps that are missing in every channel."""
    present = np.flatnonzero(~np.isnan(sequence).all(axis=1))
    if not present.size:
        raise error("D012", "a case whose every value is missing", where)
    return sequence[:present[-1] + 1].astype(np.float32)


def read_sequence_csv(path: Path) -> np.ndarray:
    """One sequence: a CSV file of T rows (time steps) × C columns; a first row that is not all
    numbers is a header and skipped."""
    path = Path(path)
    rows = [(number, row) for number, row in enumerate(csv.reader(io.StringIO("\n".join(_open_text(path)))), 1)
            if any(cell.strip() for cell in row)]
    if rows and not all(c.strip() in MISSING or _is_number(c) for c in rows[0][1]):
        rows = rows[1:]  # a header row
    if not rows:
        raise error("D012", f"{path} holds no time step", _span(path, 1),
                    hint="a sequence CSV file has one row per time step and one column per channel")
    width = len(rows[0][1])
    values = []
    for number, row in rows:
        if len(row) != width:
            raise error("D012", f"a row of {len(row)} values; the first has {width}", _span(path, number, ",".join(row)),
                        hint="every row of a sequence file has one value per channel")
        values.append(_values(",".join(row), path, number, "a time step"))
    return np.stack(values).astype(np.float32)


def read_csv_folder(folder: Path) -> SequenceDataset:
    """A folder of class folders of CSV files, one sequence a file (the folder names are the labels)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise error("D006", f"no such data folder: {folder}",
                    hint="--data takes a .ts file, a folder of per-class CSV folders, or builtin")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise error("D007", f"{folder} has no sub-folders: the sub-folder names are the labels",
                    hint=f"put each class's CSV files in its own folder, e.g. {folder}/a/*.csv, {folder}/b/*.csv")
    sequences, labels, origins = [], [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (folder / name).rglob("*") if p.suffix.lower() == ".csv" and p.is_file())
        if not files:
            raise error("D008", f"the class folder {folder / name} has no .csv file",
                        hint="each class folder holds CSV files of one sequence each (rows: time steps)")
        for path in files:
            sequences.append(read_sequence_csv(path))
            labels.append(label)
            origins.append(str(path))
    dataset = SequenceDataset(sequences, np.asarray(labels, dtype=np.int64), classes, origins)
    check_sequences(dataset, dataset.channels or 0, 1, what="the first file's")
    return dataset


def check_sequences(dataset: SequenceDataset, channels: int, min_length: int | None, *,
                    what: str = "the input layer's") -> None:
    """Every sequence has `channels` channels, `min_length` steps or more (MATLAB's MinLength
    error; None: 1) and no missing value: the first that does not is named."""
    min_length = min_length or 1
    for sequence, origin in zip(dataset.sequences, dataset.origins or [""] * len(dataset)):
        where = origin or "a sequence"
        if sequence.shape[1] != channels:
            raise error("D014", f"{where} has {sequence.shape[1]} channels; {what} {channels}",
                        hint="give every sequence the channels sequenceInputLayer takes (its InputSize)")
        if len(sequence) < min_length:
            raise error("D015", f"{where} has {len(sequence)} time steps; the network's MinLength is {min_length}",
                        hint="remove or pad the short sequences, or lower sequenceInputLayer's MinLength")
        if np.isnan(sequence).any():
            step = int(np.flatnonzero(np.isnan(sequence).any(axis=1))[0]) + 1
            raise error("D013", f"{where} has a missing value at time step {step}",
                        hint="fill the missing values first (MATLAB's fillmissing), or drop the sequence")


def japanese_vowels() -> tuple[SequenceDataset, SequenceDataset]:
    """The Japanese Vowels data shipped with netspec: (270 training, 370 test) sequences of 12
    channels, 9 speakers (datasets/japanese_vowels.md says where it comes from)."""
    package = resources.files("netspec.datasets")
    sets = []
    for name in JAPANESE_VOWELS:
        with resources.as_file(package.joinpath(name)) as path:
            dataset = read_ts(path)
        dataset.origins = [f"{name}:{o.rsplit(':', 1)[1]}" for o in dataset.origins]
        sets.append(dataset)
    return sets[0], sets[1]


def is_sequence_file(path: Path | str) -> bool:
    name = str(path).lower()
    return name.endswith(".ts") or name.endswith(".ts.gz")


def test_file_beside(path: Path) -> Path | None:
    """X_TEST.ts beside X_TRAIN.ts (the archive's naming), when there is one."""
    name = path.name
    for train, test in (("TRAIN", "TEST"), ("Train", "Test"), ("train", "test")):
        at = name.rfind(train)
        if at >= 0:
            beside = path.with_name(name[:at] + test + name[at + len(train):])
            return beside if beside.is_file() else None
    return None


def load_sequences(source: str) -> tuple[SequenceDataset, SequenceDataset | None]:
    """(training, test-or-None) for `--data SOURCE` of a sequence network: builtin (Japanese
    Vowels), a .ts file (the test file beside it is the test set), or a folder of class folders."""
    if source == BUILTIN:
        return japanese_vowels()
    path = Path(source).expanduser()
    if is_sequence_file(path):
        test = test_file_beside(path)
        train = read_ts(path)
        return train, (_same_classes(read_ts(test), train) if test is not None else None)
    return read_csv_folder(path), None


def _same_classes(test: SequenceDataset, train: SequenceDataset) -> SequenceDataset:
    if test.classes != train.classes:
        raise error("D012", f"{test.origins[0].rsplit(':', 1)[0]} declares the classes {test.classes[:6]}, "
                    f"its training file {train.classes[:6]}", hint="a test file declares the training file's labels")
    return test


def split_windows(length: int, size: int | None, direction: str = "right") -> list[slice]:
    """The time windows a padded mini-batch of `length` steps is split into (SequenceLength N):
    N steps each; where N does not divide the length, the window holding the sequences' ends
    ('right') or starts ('left') is shorter. None: one window, the whole batch."""
    if size is None or size >= length:
        return [slice(0, length)]
    count = -(-length // size)
    if direction == "right":
        return [slice(i * size, min((i + 1) * size, length)) for i in range(count)]
    return [slice(max(0, length - (count - i) * size), length - (count - i - 1) * size) for i in range(count)]


def pad_batch(sequences: list[np.ndarray], length: str | int = "longest", direction: str = "right",
              value: float = 0.0) -> np.ndarray:
    """MATLAB's mini-batch of sequences as (N, C, T) float32: 'longest' pads every sequence to the
    longest, 'shortest' truncates every one to the shortest, a number N pads to the longest (the
    caller then splits it: split_windows). 'right' pads or truncates at the end, 'left' at the start
    (so that the sequences end at the same time step)."""
    lengths = [len(s) for s in sequences]
    return pad_to(sequences, min(lengths) if length == "shortest" else max(lengths), direction, value)


def pad_to(sequences: list[np.ndarray], steps: int, direction: str = "right", value: float = 0.0) -> np.ndarray:
    """(N, C, steps) float32: each sequence padded with `value` or truncated to `steps` time steps,
    at the end ('right') or at the start ('left')."""
    channels = sequences[0].shape[1]
    batch = np.full((len(sequences), channels, steps), value, dtype=np.float32)
    for i, sequence in enumerate(sequences):
        kept = sequence[:steps] if direction == "right" else sequence[len(sequence) - min(steps, len(sequence)):]
        if direction == "right":
            batch[i, :, :len(kept)] = kept.T
        else:
            batch[i, :, steps - len(kept):] = kept.T
    return batch


def read_sequence_files(paths: list[Path]) -> SequenceDataset:
    """The sequences to predict: every case of each .ts file (named file:line) and the one sequence
    of each other (CSV) file, unlabelled."""
    found, origins = [], []
    for path in paths:
        if is_sequence_file(path):
            cases = read_ts(path)
            found += cases.sequences
            origins += cases.origins
        else:
            found.append(read_sequence_csv(path))
            origins.append(str(path))
    return SequenceDataset(found, np.zeros(len(found), dtype=np.int64), [], origins)
