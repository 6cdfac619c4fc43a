"""`netspec analyze` against torchinfo, fvcore, ptflops and torch FlopCounterMode, as whole
processes in one run, on the same networks at 224×224 and 1024×1024.

    pip install -e ".[bench]"
    python benchmarks/analyze_vs_peers.py [--repeat 3] [--warmup 1] [--timeout 300]

Each peer process imports torch and its library, builds the hand-written module of
`benchmarks/peer_models.py` and counts it on a 1×C×S×S input — what a user of that tool pays
to get the numbers `netspec analyze` prints — the fastest way the tool allows (META_PEERS).
netspec runs as `netspec analyze SPEC --format json [--input-size S S C]`, output to /dev/null.
Every cell is the median wall time of --repeat processes after --warmup unmeasured ones; the
processes of one row run in alternation (netspec, each peer, netspec, ...), so load that comes
and goes on the machine falls on all of them alike.

Before timing, in a child process and on the meta device, each module's sum(p.numel()) must
equal netspec's learnables and FlopCounterMode's total / 2 its MACs (column "check"); a row
whose check fails cannot PASS its target, whatever its times.
The "224" tier is each spec's own input (AlexNet 227×227, mnist 28×28, which runs in this
tier only). The 1024 rows use `--input-size 1024 1024 3`, so AlexNet's and VGG-16's fc6 is
sized for that input on both sides (ResNet-50 has global pooling).

Targets (issue): fastest peer / netspec ≥ 10× at 224, ≥ 50× at 1024; a 10,000-layer spec
analyzed (whole process) in < 2 s. The "peer / stack floor" column divides the fastest peer
by STACK_FLOOR, a typer command that validates one pydantic model and nothing else: what
the stack netspec must stand on costs before netspec does any work.

A peer run that fails, runs out of memory or past --timeout is shown as "—" with the reason.
Internal mode, one peer process: --peer NAME --net NET --size S (prints one JSON line).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = Path(sys.executable).with_name("netspec")
NETSPEC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "netspec.cli"]
"""The console script a user runs (`-m netspec.cli` would run the package as __main__, compiled again in every process)."""
HERE = Path(__file__).resolve().parent

PEERS = ("torchinfo", "fvcore", "ptflops", "FlopCounterMode")
STACK_FLOOR = """
import os
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
import typer
from pydantic import BaseModel

class Layer(BaseModel):
    name: str = ""

app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)

@app.command()
def analyze(file: str, format: str = "table") -> None:
    Layer(name=file)

app(["x.net", "--format", "json"], standalone_mode=False)
"""
"""The least a typer command line that validates one pydantic model costs: the stack SPEC §4
(pydantic IR) and the project's standards (typer CLI) put under every `netspec analyze`.
`fastest peer / this` is the highest ratio any netspec built on them could reach."""
META_PEERS = frozenset({"torchinfo", "FlopCounterMode"})
"""Peers that count on the meta device (no weights allocated or initialised, no arithmetic) and
report there what they report on CPU. fvcore's jit trace fails on meta tensors, and ptflops'
default backend counts differently there, so those two run on CPU, on a module built on meta
and then given uninitialised memory (`to_empty`): their counts never read a weight, and the
initialisation a plain build pays (VGG-16 at 1024: 2.2 G parameters) is not theirs to pay."""
TARGETS = {224: 10.0, 1024: 50.0}
LARGE_SPEC_TARGET_S = 2.0


# --------------------------------------------------------------------------- peer process

def run_peer(peer: str, net: str, size: int) -> None:
    """One peer, as a user runs it: import torch + the tool, build, count. Prints a JSON line."""
    import resource

    import torch

    sys.path.insert(0, str(HERE))
    from peer_models import build, input_shape

    if peer not in PEERS:
        raise SystemExit(f"unknown peer {peer!r}")
    shape = input_shape(net, size)
    with torch.device("meta"):
        model = build(net, size)
        x = torch.empty(shape)
    if peer not in META_PEERS:
        model, x = model.to_empty(device="cpu"), torch.zeros(shape)
    result: dict[str, object] = {"peer": peer}
    if peer == "torchinfo":
        import torchinfo

        stats = torchinfo.summary(model, input_data=x, device=x.device, verbose=1)
        result.update(learnables=stats.trainable_params, macs=stats.total_mult_adds)
    elif peer == "fvcore":
        from fvcore.nn import FlopCountAnalysis, parameter_count

        with torch.no_grad():
            analysis = FlopCountAnalysis(model, x)
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            result.update(learnables=parameter_count(model)[""], macs=analysis.total())
    elif peer == "ptflops":
        from ptflops import get_model_complexity_info

        with torch.no_grad():
            macs, params = get_model_complexity_info(model, shape[1:], as_strings=False,
                                                     print_per_layer_stat=False)
        result.update(learnables=params, macs=macs)
    else:
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(x)
        result.update(learnables=sum(p.numel() for p in model.parameters()),
                      macs=counter.get_total_flops() // 2)
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


# --------------------------------------------------------------------------- driver

@dataclass
class Timing:
    seconds: float | None = None  # median wall time; None when the tool did not finish
    reason: str = ""               # why it did not finish
    max_rss_mb: float = 0.0        # largest peak RSS seen over the runs
    cpu: float | None = None       # median user + sys CPU time
    report: dict = field(default_factory=dict)  # the tool's own counts (peers)


def _once(command: list[str], timeout: float, out: Path | None) -> tuple[float, int, float, str, bool, float]:
    """Run one process; (wall s, return code, peak RSS MB, stderr tail, timed out, CPU s)."""
    with tempfile.TemporaryFile() as err, (open(out, "wb") if out else open(os.devnull, "wb")) as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=err, stdin=subprocess.DEVNULL)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-1:] or [""]
    return (seconds, proc.returncode, usage.ru_maxrss / 1024, tail[0][:120], killed.is_set(),
            usage.ru_utime + usage.ru_stime)


def time_rounds(commands: dict[str, list[str]], repeat: int, warmup: int, timeout: float,
                reports: Collection[str] = ()) -> dict[str, Timing]:
    """Each command's Timing, measured in rounds that run every command once, in order. A command
    that fails or runs past `timeout` leaves the later rounds (its Timing says why). The commands
    named in `reports` print a JSON report as their last line, kept from their first run."""
    timings = {name: Timing() for name in commands}
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stdout"
        for run in range(warmup + repeat):
            for name, command in commands.items():
                timing = timings[name]
                if timing.reason:
                    continue
                seconds, rc, rss, tail, timed_out, cpu = _once(command, timeout, out if name in reports else None)
                timing.max_rss_mb = max(timing.max_rss_mb, rss)
                if timed_out or rc != 0:
                    timing.reason = (f"> {timeout:.0f} s" if timed_out else
                                     "killed (OOM?)" if rc == -9 else f"exit {rc}: {tail}")
                    continue
                if name in reports and not timing.report:
                    lines = out.read_text(errors="replace").strip().splitlines()
                    timing.report = json.loads(lines[-1]) if lines else {}
                if run >= warmup:
                    times[name].append(seconds)
                    cpus[name].append(cpu)
    for name, timing in timings.items():
        if not timing.reason:
            timing.seconds = statistics.median(times[name])
            timing.cpu = statistics.median(cpus[name])
    return timings


def time_process(command: list[str], repeat: int, warmup: int, timeout: float) -> Timing:
    return time_rounds({"": command}, repeat, warmup, timeout)[""]


def netspec_command(spec: str, net: str | None, size: int | None, channels: int = 3) -> list[str]:
    command = [*NETSPEC, "analyze", spec, "--format", "json"]
    if size is not None:
        command += ["--input-size", str(size), str(size), str(channels)]
    return command


def netspec_totals(command: list[str]) -> dict:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["totals"]


def run_verify(net: str, size: int) -> None:
    """Child mode: the peer module's learnables and FlopCounterMode total / 2, on the meta device."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    sys.path.insert(0, str(HERE))
    from peer_models import build, input_shape

    with torch.device("meta"):
        model = build(net, size)
        x = torch.empty(input_shape(net, size))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    print(json.dumps({"learnables": sum(p.numel() for p in model.parameters()),
                      "macs": counter.get_total_flops() // 2,
                      "torch_flops": counter.get_total_flops()}))


def verify(net: str, size: int, totals: dict) -> tuple[bool, str]:
    """Run the check in its own process (the driver stays free of torch, so the timed
    children do not inherit its memory) and compare with netspec's totals."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--verify", "--net", net,
                           "--size", str(size)], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        return False, f"check failed: {done.stderr.strip().splitlines()[-1:]}"
    peer = json.loads(done.stdout.strip().splitlines()[-1])
    problems = [f"{key} {peer[key]:,} vs netspec {totals[key]:,}"
                for key in ("learnables", "macs", "torch_flops") if peer[key] != totals[key]]
    return not problems, "; ".join(problems)


def fmt_s(timing: Timing) -> str:
    return f"{timing.seconds:.2f} s" if timing.seconds is not None else f"— ({timing.reason})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="measured processes per cell (median)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured processes before them")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a peer run is given up")
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 1024])
    parser.add_argument("--nets", nargs="+", default=None, help="subset of mnist alexnet vgg16 resnet50")
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("--net", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:  # child mode: keep it free of rich and of the driver's imports
        run_peer(args.peer, args.net, args.size)
        return
    if args.verify:
        run_verify(args.net, args.size)
        return

    from rich.console import Console
    from rich.table import Table

    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    from parse_speed import LAYERS, literal_spec, loop_spec
    from peer_models import CHANNELS, NATIVE, NETS, SPECS

    console = Console(width=None if sys.stdout.isatty() else 200)
    nets = args.nets or list(NETS)
    cases = []  # (net, tier, input side, netspec --input-size or None)
    for size in args.sizes:
        for net in nets:
            if size == 224:  # the "224" tier is each spec's own input: AlexNet 227, mnist 28
                cases.append((net, 224, NATIVE[net], None))
            elif net != "mnist":  # mnist runs at its 28×28 only
                cases.append((net, size, size, None if size == NATIVE[net] else size))

    load_before = os.getloadavg()
    floor = time_process([sys.executable, "-c", STACK_FLOOR], args.repeat, args.warmup, args.timeout)

    # ---- checks, once, before timing (in a child process, on the meta device)
    checks = {}
    for net, label, size, override in cases:
        totals = netspec_totals(netspec_command(SPECS[net], net, override, CHANNELS[net]))
        checks[(net, size)] = (totals, *verify(net, size, totals))

    # ---- timings
    devices = ", ".join(f"{peer} on {'meta' if peer in META_PEERS else 'CPU'}" for peer in args.peers)
    table = Table(title=f"netspec analyze vs peers, whole processes in alternation (median of {args.repeat}, "
                        f"{args.warmup} warm-up; import + build + count: {devices})")
    for column in ("network", "input", "netspec", *args.peers, "fastest peer", "peer / netspec",
                   "target", "CPU-time ratio", "peer / stack floor", "check"):
        table.add_column(column, justify="left" if column in ("network", "check", "fastest peer") else "right")
    counts = Table(title="what each tool reports (learnables / MACs; peers in their own conventions)")
    for column in ("network", "input", "netspec", *args.peers):
        counts.add_column(column, justify="left" if column == "network" else "right")
    memory = {}
    verdicts = []
    for net, label, size, override in cases:
        totals, ok, problem = checks[(net, size)]
        command = netspec_command(SPECS[net], net, override, CHANNELS[net])
        console.log(f"{net} {size}: netspec and {', '.join(args.peers)}, in alternation")
        commands = {"netspec": command, **{
            peer: [sys.executable, str(Path(__file__).resolve()), "--peer", peer, "--net", net, "--size", str(size)]
            for peer in args.peers}}
        timings = time_rounds(commands, args.repeat, args.warmup, args.timeout, reports=args.peers)
        ours, peers = timings.pop("netspec"), timings
        memory[(net, size)] = {name: t.max_rss_mb for name, t in (("netspec", ours), *peers.items())}
        finished = {name: t.seconds for name, t in peers.items() if t.seconds is not None}
        target = TARGETS.get(label, TARGETS[224])
        if finished and ours.seconds:
            fastest = min(finished, key=finished.get)
            ratio = finished[fastest] / ours.seconds
            passed = ratio >= target and ok  # fast is worth nothing if the counts disagree
            verdicts.append(passed)
            ratio_text = f"{ratio:.1f}×"
            verdict = (f"≥ {target:.0f}× [green]PASS[/]" if passed else
                       f"≥ {target:.0f}× [red]FAIL[/]" + ("" if ok else " (check)"))
            fastest_text = f"{fastest} {finished[fastest]:.2f} s"
            cpu_text = f"{peers[fastest].cpu / ours.cpu:.1f}×"
            ceiling_text = f"{finished[fastest] / floor.seconds:.1f}×" if floor.seconds else "—"
        else:
            ratio_text, verdict, fastest_text, cpu_text, ceiling_text = "—", f"≥ {target:.0f}× —", "—", "—", "—"
        check = "[green]✓ learnables, MACs[/]" if ok else f"[red]✗ {problem}[/]"
        table.add_row(net, f"{size}×{size}×{CHANNELS[net]}", fmt_s(ours),
                      *(fmt_s(peers[p]) for p in args.peers), fastest_text, ratio_text, verdict, cpu_text, ceiling_text,
                      check)

        def pair(learnables, macs) -> str:
            if learnables is None:
                return "—"
            mark = "" if (learnables, macs) == (totals["learnables"], totals["macs"]) else " [yellow]≠[/]"
            return f"{learnables:,} / {macs:,}{mark}"

        counts.add_row(net, f"{size}", pair(totals["learnables"], totals["macs"]),
                       *(pair(peers[p].report.get("learnables"), peers[p].report.get("macs"))
                         for p in args.peers))

    # ---- the 10,000-layer spec and the torch floor
    large = Table(title=f"{LAYERS:,}-layer generated specs and floors, whole processes "
                        f"(median of {args.repeat})")
    for column in ("command", "time", "target"):
        large.add_column(column, justify="left" if column == "command" else "right")
    with tempfile.TemporaryDirectory() as tmp:
        for label, text in (("loop + function", loop_spec()), ("written out", literal_spec())):
            path = Path(tmp) / f"{label.split()[0]}.net"
            path.write_text(text)
            timing = time_process(netspec_command(str(path), None, None), args.repeat, args.warmup, args.timeout)
            layers = netspec_totals(netspec_command(str(path), None, None))["layers"]
            passed = timing.seconds is not None and timing.seconds < LARGE_SPEC_TARGET_S
            verdicts.append(passed)
            large.add_row(f"netspec analyze ({layers:,} layers, {label}) --format json", fmt_s(timing),
                          "< 2 s [green]PASS[/]" if passed else "< 2 s [red]FAIL[/]")
    for label, command in (("python -c 'import torch' (floor of every peer)", [sys.executable, "-c", "import torch"]),
                           ("python -c pass (interpreter start)", [sys.executable, "-c", "pass"])):
        large.add_row(label, fmt_s(time_process(command, args.repeat, args.warmup, args.timeout)), "")
    large.add_row("stack floor: a typer command validating one pydantic model (floor of netspec)", fmt_s(floor), "")

    rss = Table(title="peak RSS of one process (MB)")
    for column in ("network", "input", "netspec", *args.peers):
        rss.add_column(column, justify="left" if column == "network" else "right")
    for (net, label), row in memory.items():
        rss.add_row(net, str(label), *(f"{row[name]:,.0f}" for name in ("netspec", *args.peers)))

    console.print(f"{os.cpu_count()} CPUs; load average (1/5/15 min) before: "
                  f"{' '.join(f'{x:.2f}' for x in load_before)}, after: "
                  f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    console.print(table)
    console.print("CPU-time ratio: the same fastest peer, user + sys CPU seconds of the process tree "
                  "(less sensitive to other load on the machine than wall time).")
    console.print("peer / stack floor: the fastest peer against a typer command that validates one pydantic "
                  "model and does nothing else, the highest ratio a netspec on that stack could reach.")
    console.print(counts)
    console.print(rss)
    console.print(large)
    mismatches = [k for k, v in checks.items() if not v[1]]
    console.print(f"targets met: {sum(verdicts)}/{len(verdicts)}; "
                  f"peer-module checks failed: {len(mismatches)}"
                  + (f" ({', '.join(f'{n} {s}' for n, s in mismatches)})" if mismatches else ""))


if __name__ == "__main__":
    main()
