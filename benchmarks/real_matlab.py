"""`netspec check` over a folder of real MATLAB network files, as a new user would run it.

    python benchmarks/real_matlab.py DIR [--expected-broken FILE] [--verbose] [--json] [--timeout 30]

Every `.m` file under DIR (recursively) is checked by a whole `netspec check FILE` process
(cwd DIR). When it fails and an error's help line suggests `--set NAME=VALUE`, it runs again with
those names bound, and again while new names are asked for (at most 5 runs more; not a file
listed broken: it is judged as it stands). A script
cannot know the user's data, so VALUE is guessed from the name (`BINDING_GUESSES`:
`numClasses` → 10, `filterSize` → 3, `inputSize` → [64 64 3] (12 where the file reads sequences),
else 32), unless the help line
gives the value (`--set "poolType='max'"`, a text the code compares the name with); the
verbose listing shows what was bound. Each file ends in one outcome:

- read directly / read after the suggested bindings;
- located error that is right: the file is listed in --expected-broken (its source is
  broken: MATLAB fails on it too) and netspec stops with a located diagnostic (and, when
  the list names a code, with that code);
- wrong failure, grouped by cause: the first error's code and message, names and numbers
  masked. When the error after the bindings is about a bound name, the binding did not help
  and the first run's error is the cause. Tracebacks / internal errors (exit 3) and
  timeouts are counted apart; they are always wrong, on any file.

Files that are not network definitions are counted apart and left out of the percentages:
`classdef` files, scripts and function files that build no layers, and function files with parameters
that another `.m` file of the same top-level folder of DIR calls (helpers: they are measured
through their callers, as MATLAB runs them).

The --expected-broken file is kept by hand: one `PATH [CODE]  # why MATLAB fails` a line,
PATH relative to DIR. Target (issue 14): files that use only layer types netspec supports
are read (directly or with the bindings netspec asks for) in ≥ 95% of cases (the last row:
listed-broken files and files stopped by a layer type netspec lacks or by a class of the
user's, which netspec does not read by design, are left out); every
other file ends with a located diagnostic naming the real cause; no traceback, no timeout.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from rich.console import Console
from rich.table import Table

_SCRIPT = Path(sys.executable).with_name("netspec")
NETSPEC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "netspec.cli"]
TIMEOUT = 30

BINDING_GUESSES = (
    (re.compile(r"(image|img|input|patch|crop)_?size|imsize", re.I), "[64 64 3]"),
    (re.compile(r"filter|kernel|pool|stride|window", re.I), "3"),
    (re.compile(r"class|label|categor|response|output|target", re.I), "10"),
    (re.compile(r"rate|prob|dropout|factor|ratio|momentum", re.I), "0.5"),
    (re.compile(r"name|path|file|dir|folder|mode|type|method|solver|activation|norm", re.I), "'x'"),
    (re.compile(r"channel|band|depth|colou?r", re.I), "3"),
)
"""The value bound for a suggested name: the first pattern that matches it, else DEFAULT_VALUE."""
DEFAULT_VALUE = "32"
SEQUENCE_INPUT_SIZE = re.compile(r"^(?!.*(image|img|patch|crop)).*(input_?size|num_?features|feature_?dim)", re.I)
FEATURES_VALUE = "12"
"""A sequence network's input size (sequenceInputLayer(inputSize)) is its channel count, not an image size."""
VECTOR_VALUE = "[64 64 3]"
ROUNDS = 5
"""Runs with bindings after the first: each binds the names the last one's errors asked for."""

HEADER = re.compile(r"^(error|warning|note)\[(\w+)\]: (.*)$")
LOCATION = re.compile(r"^\s*--> (.+):(\d+):(\d+)$")
HELP = re.compile(r"^\s*= help: (.*)$")
SOURCE_LINE = re.compile(r"^\s*\d+ \| (.*)$")
SUGGESTED_SET = re.compile(r"--set (?!NAME=)([A-Za-z_]\w*)=VALUE")  # not the placeholder of a generic hint
SUGGESTED_TEXT = re.compile(r'--set "([A-Za-z_]\w*)=(' + r"'(?:[^']|'')*'" + ')"')
"""A `--set` that names its value: a text the code compares the name with (bound as suggested)."""
OK_LINE = re.compile(r": ok \((\d+) layers?")

CODE_ONLY = re.compile(r"%.*$", re.M)
PRETRAINED = (r"alexnet|googlenet|squeezenet|vgg1[69]|resnet\d+|inceptionv3|inceptionresnetv2|densenet201"
              r"|mobilenetv2|xception|shufflenet|darknet\d+|efficientnetb0|nasnet\w*|imagePretrainedNetwork"
              r"|pretrainedEncoderNetwork")
LAYER_BUILDING = re.compile(
    r"\b\w+Layers?\b|\blayerGraph\b|\bdlnetwork\b|\bunet\b|\bencoderDecoderNetwork\b|\bblockedNetwork\b"
    rf"|\b({PRETRAINED})\b")
MISSING_LAYER = re.compile(rf"`(\w+Layers?|{PRETRAINED})`, which is not a function netspec knows")
"""An E406 message that names a layer type or architecture netspec lacks (not a user's own function)."""
CUSTOM_CLASS = re.compile(r"`([\w.]+)`, a class defined in \S+ \(classdef\)")
"""An E409 message: the network needs a class of the user's (a custom layer, a class of constants)."""
FUNCTION_LINE = re.compile(r"^\s*function\b(?:[^=(]*=)?\s*([A-Za-z]\w*)\s*(\(([^)]*)\))?", re.M)


class Outcome(str, Enum):
    READ = "read directly"
    READ_WITH_BINDINGS = "read after the suggested bindings"
    RIGHT_ERROR = "located error, source broken (right)"
    WRONG = "wrong failure"
    CRASH = "traceback / internal error (wrong)"
    TIMEOUT = "timeout (wrong)"
    NOT_A_NETWORK = "not a network file"


MEASURED = (Outcome.READ, Outcome.READ_WITH_BINDINGS, Outcome.RIGHT_ERROR, Outcome.WRONG, Outcome.CRASH,
            Outcome.TIMEOUT)


@dataclass
class Diagnostic:
    severity: str
    code: str
    message: str
    located: bool = False
    source: str = ""  # the excerpt's source line
    hints: list[str] = field(default_factory=list)


@dataclass
class Run:
    """One `netspec check` process."""
    returncode: int | None  # None: killed at the timeout
    output: str
    seconds: float
    bindings: dict[str, str]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return parse_diagnostics(self.output)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def crashed(self) -> bool:
        return self.returncode not in (0, 1, None) or "Traceback (most recent call last)" in self.output

    @property
    def crash_message(self) -> str:
        crash = (line for line in self.output.splitlines() if "internal error" in line or line.startswith("Traceback"))
        return next(crash, f"exit {self.returncode}")[:120]


@dataclass
class FileResult:
    file: str
    outcome: Outcome
    kind: str
    cause: str = ""
    located: bool = False
    bindings: dict[str, str] = field(default_factory=dict)
    bindings_helped: bool = True  # False: the error after the bindings is about a bound name
    function_file: bool = False
    missing_layer: str = ""  # the layer type netspec lacks that stops the file, if that is the cause
    listed_broken: bool = False
    layers: int | None = None
    seconds: float = 0.0


def parse_diagnostics(output: str) -> list[Diagnostic]:
    """The diagnostics of netspec's stderr, in Rust's layout (header, `-->`, `= help:`)."""
    found: list[Diagnostic] = []
    for line in output.splitlines():
        if header := HEADER.match(line):
            found.append(Diagnostic(*header.groups()))
        elif found and LOCATION.match(line):
            found[-1].located = True
        elif found and (hint := HELP.match(line)):
            found[-1].hints.append(hint.group(1))
        elif found and not found[-1].source and (source := SOURCE_LINE.match(line)):
            found[-1].source = source.group(1)
    return found


def guessed_value(name: str, sequences: bool = False) -> str:
    """In a file that reads sequences, an input size (not an image's) is a feature count."""
    if sequences and SEQUENCE_INPUT_SIZE.search(name):
        return FEATURES_VALUE
    return next((value for pattern, value in BINDING_GUESSES if pattern.search(name)), DEFAULT_VALUE)


def suggested_bindings(run: Run, sequences: bool = False) -> dict[str, str]:
    """`--set` names the errors' help lines ask for (warnings only note unknown names), with guessed values,
    or with the value the help line gives."""
    hints = [hint for d in run.errors for hint in d.hints]
    given = dict(pair for hint in hints for pair in SUGGESTED_TEXT.findall(hint))
    names = [name for hint in hints for name in [*SUGGESTED_SET.findall(hint), *given]]
    return {name: given.get(name) or guessed_value(name, sequences) for name in dict.fromkeys(names)}


def check(folder: Path, path: Path, bindings: dict[str, str], timeout: float) -> Run:
    command = [*NETSPEC, "check", str(path.relative_to(folder))]
    command += [arg for name, value in bindings.items() for arg in ("--set", f"{name}={value}")]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, errors="replace",
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return Run(None, "", time.perf_counter() - start, bindings)
    return Run(done.returncode, done.stdout + done.stderr, time.perf_counter() - start, bindings)


def _other_guess(value: str) -> str:
    """The guess of the other shape: a size vector where a number was wrong, and the reverse."""
    return DEFAULT_VALUE if value.startswith("[") else VECTOR_VALUE


def bind_as_asked(folder: Path, path: Path, first: Run, timeout: float) -> Run:
    """Runs again while errors ask for new `--set` names (as a user binds one name after another),
    at most ROUNDS times; a name whose guessed value was wrong (the error is about it) is tried
    once more with the other shape of value."""
    final, retried = first, set()
    for _ in range(ROUNDS):
        if final.returncode != 1:
            break
        bindings = dict(final.bindings)
        sequences = "sequenceInputLayer" in path.read_text(errors="replace")
        new = {name: value for name, value in suggested_bindings(final, sequences).items() if name not in bindings}
        if not new:
            error = next(iter(final.errors), None)
            new = {name: _other_guess(value) for name, value in bindings.items()
                   if name not in retried and error is not None and _about(error, {name: value})}
            retried.update(new)
        if not new:
            break
        final = check(folder, path, {**bindings, **new}, timeout)
    return final


def _about(diagnostic: Diagnostic, bindings: dict[str, str]) -> bool:
    """Whether the diagnostic's message or source line uses a bound name (the binding did not get past it)."""
    return any(re.search(rf"\b{re.escape(name)}\b", f"{diagnostic.message} {diagnostic.source}") for name in bindings)


def short_cause(diagnostic: Diagnostic, path: str) -> str:
    """The code and the message with the file, names, quoted text and numbers masked, so that causes group."""
    message = diagnostic.message.replace(path, "FILE")
    message = re.sub(r"codec can't decode .*", "codec can't decode …", message)
    message = re.sub(r"`[^`]*`", "`…`", message)
    message = re.sub(r"'[^']*'", "'…'", message)
    message = re.sub(r"0x[0-9a-fA-F]+|\d+(\.\d+)?", "N", message)
    return f"{diagnostic.code} {message[:100]}"


# -- which files are network definitions -----------------------------------------------------

def _code(path: Path) -> str:
    return CODE_ONLY.sub("", path.read_bytes().decode("utf-8", "replace"))


def _scope(folder: Path, path: Path) -> Path:
    """The folder whose files may call this one: DIR's top-level folder that holds it (one repository)."""
    parts = path.relative_to(folder).parts
    return folder / parts[0] if len(parts) > 1 else folder


def _first_statement(code: str) -> str:
    return next((line.strip() for line in code.splitlines() if line.strip()), "")


def file_kind(folder: Path, path: Path, codes: dict[Path, str]) -> str:
    """'network', or why the file is not one: 'classdef', 'helper (no layers)', 'script (no layers)' (data
    preparation, plotting), 'helper called by NAME.m'."""
    code = codes[path]
    first = _first_statement(code)
    if first.startswith("classdef"):
        return "classdef"
    if not LAYER_BUILDING.search(code):
        return "helper (no layers)" if first.startswith("function") else "script (no layers)"
    if not first.startswith("function"):
        return "network"
    signature = FUNCTION_LINE.search(code)
    if signature and (signature.group(3) or "").strip():
        called = re.compile(rf"\b{re.escape(path.stem)}\b")
        scope = _scope(folder, path)
        callers = sorted(other.name for other in codes if other != path and other.is_relative_to(scope)
                         and called.search(codes[other]))
        if callers:
            return f"helper called by {callers[0]}"
    return "network"


# -- classification --------------------------------------------------------------------------

def classify(folder: Path, path: Path, kind: str, expected: dict[str, str | None], timeout: float,
             function_file: bool = False) -> FileResult:
    name = path.relative_to(folder).as_posix()
    first = check(folder, path, {}, timeout)
    bindable = kind == "network" and name not in expected  # a broken file is judged as it stands
    final = bind_as_asked(folder, path, first, timeout) if bindable else first
    result = FileResult(name, Outcome.WRONG, kind, bindings=final.bindings, seconds=first.seconds,
                        function_file=function_file, listed_broken=name in expected)
    error = next(iter(final.errors), None)
    if error and final is not first and _about(error, final.bindings):
        result.bindings_helped = False  # the first run's error is the one that stops the file
        error = next(iter(first.errors))
    if final.returncode is None:  # a timeout or a crash is wrong on any file, network or not
        result.outcome, result.cause = Outcome.TIMEOUT, f"no answer in {timeout:g} s"
    elif final.crashed:
        result.outcome = Outcome.CRASH
        result.cause = final.crash_message
    elif kind != "network":
        result.outcome = Outcome.NOT_A_NETWORK
    elif final.returncode == 0 and name in expected:
        result.cause = "read, but MATLAB fails on it (listed broken)"
    elif final.returncode == 0:
        result.outcome = Outcome.READ if final is first else Outcome.READ_WITH_BINDINGS
        layers = OK_LINE.search(final.output)
        result.layers = int(layers.group(1)) if layers else None
    elif error is None:
        result.cause = "exit 1 without a diagnostic"
    else:
        result.located = error.located
        result.cause = short_cause(error, name)
        wanted = expected.get(name)
        if name in expected and error.located and wanted in (None, error.code):
            result.outcome = Outcome.RIGHT_ERROR
        elif missing := MISSING_LAYER.search(error.message):
            result.missing_layer = missing.group(1)
        elif custom := CUSTOM_CLASS.search(error.message):  # netspec reads no classdef, by design
            result.missing_layer = f"class {custom.group(1)}"
    return result


def read_expected_broken(path: Path | None) -> dict[str, str | None]:
    """PATH -> the code its error must have (None: any located error)."""
    if path is None:
        return {}
    expected: dict[str, str | None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            expected[fields[0]] = fields[1] if len(fields) > 1 else None
    return expected


def classify_folder(folder: Path, expected: dict[str, str | None], timeout: float = TIMEOUT,
                    progress: Console | None = None) -> list[FileResult]:
    folder = folder.resolve()
    files = sorted(folder.rglob("*.m"))
    codes = {path: _code(path) for path in files}
    results = []
    for number, path in enumerate(files, 1):
        if progress:
            progress.print(f"[dim]{number}/{len(files)} {path.relative_to(folder)}[/dim]", highlight=False)
        function_file = _first_statement(codes[path]).startswith("function")
        results.append(classify(folder, path, file_kind(folder, path, codes), expected, timeout, function_file))
    return results


# -- report ------------------------------------------------------------------------------------

def counts(results: list[FileResult]) -> Counter:
    return Counter(result.outcome for result in results)


@dataclass
class Cause:
    cause: str
    files: int
    function_files: int  # of those files, how many are function files
    after_bindings: int  # stopped after the suggested bindings got past the first error
    bindings_did_not_help: int  # the suggested --set did not get past this error


def causes(results: list[FileResult]) -> list[Cause]:
    """Every wrong outcome's cause with the files it stops, most files first."""
    wrong = [r for r in results if r.outcome in (Outcome.WRONG, Outcome.CRASH, Outcome.TIMEOUT)]
    found = []
    for cause, n in Counter(r.cause for r in wrong).most_common():
        stopped = [r for r in wrong if r.cause == cause]
        found.append(Cause(cause, n, sum(r.function_file for r in stopped),
                           sum(bool(r.bindings) and r.bindings_helped for r in stopped),
                           sum(not r.bindings_helped for r in stopped)))
    return found


def supported(results: list[FileResult]) -> int:
    """Network files the target counts: not listed broken, not stopped by a layer type netspec lacks."""
    return sum(r.outcome in MEASURED and not r.listed_broken and not r.missing_layer for r in results)


def summary(results: list[FileResult]) -> dict:
    tally = counts(results)
    measured = sum(tally[o] for o in MEASURED)
    read = tally[Outcome.READ] + tally[Outcome.READ_WITH_BINDINGS]
    kept = supported(results)
    return {
        "files": len(results),
        "network_files": measured,
        "not_network_files": tally[Outcome.NOT_A_NETWORK],
        "outcomes": {o.value: tally[o] for o in Outcome},
        "read_percent": round(100 * read / measured, 1) if measured else 0.0,
        "supported_files": kept,
        "read_percent_of_supported": round(100 * read / kept, 1) if kept else 0.0,
        "missing_layers": dict(Counter(r.missing_layer for r in results if r.missing_layer)),
        "causes": [asdict(cause) for cause in causes(results)],
        "results": [asdict(r) | {"outcome": r.outcome.value} for r in results],
    }


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def print_report(results: list[FileResult], console: Console, verbose: bool) -> None:
    tally = counts(results)
    measured = sum(tally[o] for o in MEASURED)
    table = Table(title=f"netspec check, {measured} network files",
                  caption=f"{tally[Outcome.NOT_A_NETWORK]} other .m files not counted")
    table.add_column("outcome")
    table.add_column("files", justify="right")
    table.add_column("share", justify="right")
    for outcome in MEASURED:
        table.add_row(outcome.value, str(tally[outcome]), _share(tally[outcome], measured))
    read = tally[Outcome.READ] + tally[Outcome.READ_WITH_BINDINGS]
    table.add_section()
    table.add_row("read, of all network files", str(read), _share(read, measured))
    table.add_row(f"read, of the {supported(results)} not broken and with supported layers (target ≥ 95%)",
                  str(read), _share(read, supported(results)))
    console.print(table)

    by_cause = Table(title="wrong failures by cause (first error; names and numbers masked)")
    by_cause.add_column("cause")
    for column in ("files", "function files", "after --set", "--set did not help"):
        by_cause.add_column(column, justify="right")
    for cause in causes(results):
        by_cause.add_row(cause.cause, str(cause.files), str(cause.function_files), str(cause.after_bindings),
                         str(cause.bindings_did_not_help))
    console.print(by_cause)

    missing = Counter(r.missing_layer for r in results if r.missing_layer)
    console.print("layer types netspec lacks and classes it does not read (stopping the file): "
                  + (", ".join(f"{name} {n}" for name, n in missing.most_common()) or "none"))
    others = Counter(r.kind.split(" by ")[0] for r in results if r.outcome is Outcome.NOT_A_NETWORK)
    console.print("not counted: " + (", ".join(f"{k} {n}" for k, n in sorted(others.items())) or "none"))
    times = [r.seconds for r in results]
    if times:
        console.print(f"check time per file (first run): median {statistics.median(times):.2f} s, "
                      f"max {max(times):.2f} s")
    if verbose:
        listing = Table(title="per file")
        for column in ("file", "outcome", "cause", "--set", "layers"):
            listing.add_column(column, overflow="fold")
        for r in results:
            bound = " ".join(f"{k}={v}" for k, v in r.bindings.items()) + ("" if r.bindings_helped else " (no help)")
            cause = r.cause if r.outcome is not Outcome.NOT_A_NETWORK else r.kind
            listing.add_row(r.file, r.outcome.value, cause, bound, "" if r.layers is None else str(r.layers))
        console.print(listing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="folder of .m files (searched recursively)")
    parser.add_argument("--expected-broken", type=Path, help="hand-kept list: PATH [CODE]  # why MATLAB fails")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per check process")
    parser.add_argument("--verbose", action="store_true", help="list every file with its outcome")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    args = parser.parse_args()
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    console = Console(width=160)
    results = classify_folder(args.folder, read_expected_broken(args.expected_broken), args.timeout,
                              progress=None if args.json else Console(stderr=True))
    if args.json:
        print(json.dumps(summary(results), indent=1))
    else:
        print_report(results, console, args.verbose)


if __name__ == "__main__":
    main()
