"""The README's commands run, print what the README shows, and its layer table is current."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from netspec.ir.catalogue import catalogue_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def console_commands() -> list[tuple[str, int, list[str]]]:
    """(command, expected exit code, output lines shown under it) from ```console blocks."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        current = None
        for line in block.splitlines():
            if line.startswith("$ "):
                command, _, comment = line[2:].partition("#")
                code = int(m.group(1)) if (m := re.search(r"exit (\d+)", comment)) else 0
                current = (command.strip(), code, [])
                found.append(current)
            elif current is not None and line.strip():
                current[2].append(line)
    return found


COMMANDS = console_commands()


@pytest.mark.parametrize("command, code, shown", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_readme_command(command: str, code: int, shown: list[str]) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "COLUMNS": "200"}
    result = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, env=env,
                            timeout=900)
    assert result.returncode == code, result.stderr
    output = [line.rstrip() for line in (result.stdout + result.stderr).splitlines()]
    for line in shown:
        assert line.rstrip() in output, f"README shows {line!r}, the command printed:\n" + "\n".join(output)
    assert "Traceback" not in result.stderr


def test_readme_layer_table_is_current() -> None:
    assert catalogue_markdown() in README


def test_readme_install_and_test_commands_are_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    assert len(blocks) == 2, "the README gives exactly two set-up/verify commands"
    for block in blocks:
        assert block.strip() in ci


def test_readme_python_examples_run(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    for block in re.findall(r"```python\n(.*?)```", README, flags=re.S):
        exec(compile(block, "README.md", "exec"), {})  # the README's own example code
