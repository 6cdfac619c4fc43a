"""Whole `netspec check` and `netspec analyze` processes on generated 100,000-layer specs.

    python benchmarks/large_networks.py [--layers 100000 10000] [--repeat 1]

Targets (issue 12): 100,000 layers checked in under 10 s and analyzed in under 20 s; the
analyze table in about the time of the CSV (a long table shows its ends; `--all` every row).
The specs are parse_speed.py's: written out one layer a line, built by a block function in
a loop, and a residual layer graph edited in a loop (addLayers + connectLayers, as ResNets
are written). Each cell is the median of --repeat processes, output to /dev/null: wall time,
and the process's CPU time (user + system), which other load on a shared machine disturbs
less. The verdict reads the CPU time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from parse_speed import GENERATED, NETSPEC, ROOT  # noqa: E402

from netspec.language import Limits  # noqa: E402

COMMANDS = {
    "check": ["check"],
    "analyze --format csv": ["analyze", "--format", "csv"],
    "analyze --format json": ["analyze", "--format", "json"],
    "analyze (table)": ["analyze"],
    "analyze --all (table)": ["analyze", "--all"],
}
TARGET_S = {"check": 10.0, "analyze": 20.0}
"""Seconds allowed per 100,000 layers (issue 12), scaled to the spec's size."""


def measured(command: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} exited {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title=f"generated specs, whole processes (median of {args.repeat}; {os.cpu_count()} CPUs, "
                        f"load average before {os.getloadavg()[0]:.2f})")
    for column in ("spec", "command", "wall", "CPU", "peak RSS", "vs CSV (CPU)", "target (CPU)"):
        table.add_column(column, justify="left" if column in ("spec", "command") else "right")
    with tempfile.TemporaryDirectory() as tmp:
        for layers in args.layers:
            for label, generate in GENERATED.items():
                path = Path(tmp) / "generated.net"
                path.write_text(generate(layers))
                size = path.stat().st_size  # 100,000 layers written out: 5 MB, past the default limit
                reading = ["--max-file-size", str(size)] if size > Limits().source_bytes else []
                csv_cpu = None
                for name, words in COMMANDS.items():
                    runs = [measured([*NETSPEC, *words, *reading, str(path)]) for _ in range(args.repeat)]
                    wall, cpu, rss = (statistics.median(values) for values in zip(*runs))
                    csv_cpu = cpu if name == "analyze --format csv" else csv_cpu
                    limit = TARGET_S[words[0]] * layers / 100_000
                    verdict = f"< {limit:g} s " + ("[green]PASS[/]" if cpu < limit else "[red]FAIL[/]")
                    table.add_row(f"{layers:,} layers, {label}", f"netspec {name}", f"{wall:.2f} s", f"{cpu:.2f} s",
                                  f"{rss:.0f} MB", f"{cpu / csv_cpu:.2f}×" if "table" in name else "", verdict)
                table.add_section()
    console.print(table)
    console.print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
