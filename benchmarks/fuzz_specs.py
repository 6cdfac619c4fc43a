"""Fuzz the command line with mutants of every spec and example, in process.

    python benchmarks/fuzz_specs.py [--mutants 20000] [--workers 2] [--seed 0] [--save DIR]

Each mutant (token edits, byte edits, truncation, huge numbers and strings, spliced lines)
is written to a file and run through `netspec analyze` (or `check`) exactly as a user's
shell would, but inside a worker process: `netspec.cli.main` with its stdout and stderr
captured. The table prints the exit codes, the mutation kinds, and the slowest and largest
cases. Target (issue 12): no exit 3, no traceback, every case under 2 s and 500 MiB.
Memory is the worker's peak resident memory during the case (the whole process, with the
program already loaded; see `run_case`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import signal
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECONDS = 2.0
MIB = 500
CASE_TIMEOUT = 30  # a runaway case is stopped here and reported as a timeout

TOKEN = re.compile(r"""[A-Za-z_]\w*|\d+\.?\d*(?:[eE][+-]?\d+)?|'[^'\n]*'|"[^"\n]*"|\S""")
HUGE_NUMBERS = ["1e308", "1e12", "9999999999", "-1", "0", "NaN", "Inf", "-Inf", "1e-308", "0.5", "2^62",
                "123456789012345678901234567890"]
ALPHABET = "()[]{};,'\"=+-*/:.%\\ \n\t~@!&|^<>" + "abcdefgxyzANXend0123456789"
BINDINGS = ["--set", "numClasses=4"]


def corpus() -> list[tuple[str, str]]:
    """(name, text) of every spec, zoo network and example shipped in the repository."""
    folders = [ROOT / "specs", ROOT / "examples", ROOT / "examples" / "errors", ROOT / "netspec" / "zoo"]
    files = sorted(p for folder in folders if folder.is_dir() for p in folder.glob("*.net"))
    return [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in files]


# -- mutations: each takes the text (str) and returns str or bytes -------------------------

def _tokens(text: str) -> list[re.Match]:
    return list(TOKEN.finditer(text))


def delete_token(rng: random.Random, text: str) -> str:
    tokens = _tokens(text)
    if not tokens:
        return text
    token = rng.choice(tokens)
    return text[:token.start()] + text[token.end():]


def duplicate_token(rng: random.Random, text: str) -> str:
    tokens = _tokens(text)
    if not tokens:
        return text
    token, where = rng.choice(tokens), rng.choice(tokens)
    return text[:where.start()] + token.group() + " " + text[where.start():]


def swap_tokens(rng: random.Random, text: str) -> str:
    tokens = _tokens(text)
    if len(tokens) < 2:
        return text
    a, b = sorted(rng.sample(tokens, 2), key=lambda m: m.start())
    return text[:a.start()] + b.group() + text[a.end():b.start()] + a.group() + text[b.end():]


def huge_number(rng: random.Random, text: str) -> str:
    numbers = [m for m in _tokens(text) if m.group()[0].isdigit()]
    if not numbers:
        return text
    token = rng.choice(numbers)
    return text[:token.start()] + rng.choice(HUGE_NUMBERS) + text[token.end():]


def huge_string(rng: random.Random, text: str) -> str:
    strings = [m for m in _tokens(text) if m.group()[0] in "'\""]
    if not strings:
        return text
    token = rng.choice(strings)
    quote = token.group()[0]
    filler = rng.choice(["A", "ab\\n", "%d", "\x1b[2J", "é", "\u2028", " "]) * rng.choice([1000, 100_000])
    return text[:token.start()] + quote + filler + quote + text[token.end():]


def insert_chars(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8))) + text[at:]


def delete_span(rng: random.Random, text: str) -> str:
    if not text:
        return text
    at = rng.randrange(len(text))
    return text[:at] + text[at + rng.randint(1, 60):]


def splice_lines(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines) + 1)
    if rng.random() < 0.5:
        lines.insert(j, lines[i])
    else:
        j = min(j, len(lines) - 1)
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def truncate(rng: random.Random, text: str) -> str:
    return text[:rng.randrange(len(text) + 1)]


def byte_edit(rng: random.Random, text: str) -> bytes:
    data = bytearray(text.encode("utf-8"))
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        choice = rng.random()
        if choice < 0.4:
            data[at:at] = bytes([rng.randrange(256)])
        elif choice < 0.7 and at < len(data):
            data[at] = rng.randrange(256)
        else:
            del data[at:at + rng.randint(1, 4)]
    return bytes(data)


TEXT_MUTATIONS = [delete_token, duplicate_token, swap_tokens, huge_number, huge_string, insert_chars,
                  delete_span, splice_lines, truncate]


def mutate(rng: random.Random, text: str) -> tuple[str, bytes]:
    """A mutant of `text` and the name of its kind (the mutations applied, in order)."""
    kinds = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        mutation = rng.choice(TEXT_MUTATIONS)
        kinds.append(mutation.__name__)
        text = mutation(rng, text)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.1:
        kinds.append("byte_edit")
        data = byte_edit(rng, text)
    return "+".join(kinds), data


# -- running a case -------------------------------------------------------------------------

@dataclass
class Outcome:
    case: int
    source: str
    kind: str
    command: str
    exit: int
    seconds: float
    mib: float
    traceback: bool
    message: str


class _Timeout(BaseException):
    """Not an Exception: netspec's own handler must not catch it as an internal error."""


def _alarm(signum, frame):
    raise _Timeout()


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """`netspec ARGV` in this process: exit code, stdout, stderr."""
    from netspec.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["netspec", *argv]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    return code, out.getvalue(), err.getvalue()


def _reset_peak() -> bool:
    """Reset this process's peak resident memory (Linux: `clear_refs` 5); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as stream:
            stream.write("5")
        return True
    except OSError:
        return False


def _peak_mib() -> float:
    with open("/proc/self/status") as stream:
        return next(int(line.split()[1]) for line in stream if line.startswith("VmHWM:")) / 1024


def run_case(args: tuple[int, str, str, bytes, str, str]) -> Outcome:
    """One mutant through `netspec COMMAND`: its exit code, time and peak memory.

    The peak is the worker's whole resident memory during the case (its peak counter reset
    before it), which costs nothing; where the kernel cannot reset it, tracemalloc's peak of
    Python's allocations, which slows the case down."""
    case, source, kind, data, command, folder = args
    path = Path(folder) / f"case{case}.net"
    path.write_bytes(data)
    argv = [command, str(path), *BINDINGS] + (["--format", "json"] if command == "analyze" else [])
    resident = _reset_peak()
    if not resident:
        tracemalloc.start()
    start = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_TIMEOUT)
    try:
        code, _, err = run_cli(argv)
    except _Timeout:
        code, err = -1, f"timed out after {CASE_TIMEOUT} s"
    except BaseException as exc:  # noqa: BLE001 - anything escaping main() is a finding
        code, err = 3, f"escaped main(): {type(exc).__name__}: {exc}\nTraceback (most recent call last)"
    finally:
        signal.alarm(0)
        seconds = time.perf_counter() - start
        if resident:
            mib = _peak_mib()
        else:
            mib = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        path.unlink(missing_ok=True)
    first = next((line for line in err.splitlines() if line.strip()), "")
    return Outcome(case, source, kind, command, code, seconds, mib, "Traceback (most recent call last)" in err,
                   first[:120])


def _init_worker() -> None:
    import netspec.cli  # noqa: F401  (import once per worker, outside the measured cases)


def cases(count: int, seed: int, folder: str):
    rng = random.Random(seed)
    texts = corpus()
    for case in range(count):
        source, text = rng.choice(texts)
        kind, data = mutate(rng, text)
        yield case, source, kind, data, rng.choice(["check", "analyze"]), folder


def _failed(o: Outcome) -> bool:
    return o.exit not in (0, 1, 2) or o.traceback or o.seconds >= SECONDS or o.mib >= MIB


def report(outcomes: list[Outcome], elapsed: float, save: Path | None) -> bool:
    console = Console(highlight=False, width=max(Console().width, 160))
    codes = Counter(o.exit for o in outcomes)
    table = Table(title=f"{len(outcomes):,} mutants in {elapsed:.0f} s")
    for column in ("exit code", "cases", "share"):
        table.add_column(column, justify="right")
    for code, count in sorted(codes.items()):
        label = {0: "0 (ok)", 1: "1 (located error)", 2: "2 (usage)", 3: "3 (internal error)",
                 -1: "timeout"}.get(code, str(code))
        table.add_row(label, f"{count:,}", f"{100 * count / len(outcomes):.1f}%")
    console.print(table)

    kinds = Counter(kind for o in outcomes for kind in o.kind.split("+"))
    console.print("mutations applied: " + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common()))

    for title, key in (("slowest cases", lambda o: o.seconds), ("largest cases", lambda o: o.mib)):
        table = Table(title=title)
        for column in ("case", "source", "mutation", "command", "exit", "seconds", "MiB", "first line"):
            table.add_column(column)
        for o in sorted(outcomes, key=key, reverse=True)[:8]:
            table.add_row(str(o.case), o.source, o.kind, o.command, str(o.exit), f"{o.seconds:.3f}",
                          f"{o.mib:.1f}", o.message)
        console.print(table)

    bad = [o for o in outcomes if _failed(o)]
    verdict = Table(title="target (issue 12)")
    for column in ("check", "found", "target", "result"):
        verdict.add_column(column)
    worst_s = max(o.seconds for o in outcomes)
    worst_m = max(o.mib for o in outcomes)
    for check, found, target, ok in (
            ("exit 3 or timeout", f"{sum(o.exit not in (0, 1, 2) for o in outcomes)}", "0",
             all(o.exit in (0, 1, 2) for o in outcomes)),
            ("traceback", f"{sum(o.traceback for o in outcomes)}", "0", not any(o.traceback for o in outcomes)),
            ("slowest case", f"{worst_s:.2f} s", f"< {SECONDS:g} s", worst_s < SECONDS),
            ("largest case", f"{worst_m:.0f} MiB", f"< {MIB} MiB", worst_m < MIB)):
        verdict.add_row(check, found, target, "PASS" if ok else "FAIL")
    console.print(verdict)
    if bad and save is not None:
        save.mkdir(parents=True, exist_ok=True)
        console.print(f"{len(bad)} failing cases: re-run one with --only CASE; reproductions in {save}")
    return not bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutants", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, help="write failing mutants here")
    parser.add_argument("--only", type=int, help="run one case number (prints its stderr)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="netspec-fuzz-") as folder:
        if args.only is not None:
            for item in cases(args.only + 1, args.seed, folder):
                if item[0] == args.only:
                    path = Path(folder) / "case.net"
                    path.write_bytes(item[3])
                    print(f"{item[1]} {item[2]} {item[4]}")
                    code, out, err = run_cli([item[4], str(path), *BINDINGS])
                    print(err or out, f"exit {code}", sep="\n")
            return
        start = time.perf_counter()
        outcomes: list[Outcome] = []
        with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
            for outcome in pool.map(run_case, cases(args.mutants, args.seed, folder), chunksize=64):
                outcomes.append(outcome)
        ok = report(outcomes, time.perf_counter() - start, args.save)
        if args.save and not ok:
            failing = {o.case for o in outcomes if _failed(o)}
            for case, _, _, data, _, _ in cases(args.mutants, args.seed, folder):
                if case in failing:
                    (args.save / f"case{case}.net").write_bytes(data)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
