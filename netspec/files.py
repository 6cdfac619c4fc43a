"""Writing output files so that a failure never leaves a broken one behind.

Every output path goes through here, so an output that cannot be written (a read-only
folder, a file where a folder should be, a full disk) is one clear user error naming the
path and the operating system's reason, never a traceback.
"""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from .diagnostics import error

__all__ = ["write_atomically", "write_text", "writing", "check_writable", "remove_temporaries"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """An OSError while writing `path` becomes error F001 naming `path` (not a temporary file)."""
    try:
        yield
    except OSError as exc:
        raise error("F001", f"cannot write {path}: {exc.strerror or exc}",
                    hint="choose a path in a folder you can write to") from None


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}."


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """`write` fills a temporary file next to `path`, which is then renamed over it: a kill or
    an error at any point leaves the previous file (checkpoint, export, picture) as it was."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                write(stream)
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)


def write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda stream: stream.write(text.encode("utf-8")))


def remove_temporaries(folder: Path, names: list[str]) -> None:
    """Remove what `write_atomically` left for `names` in `folder` when a kill -9 skipped its cleanup."""
    with writing(folder):
        for name in names:
            for leftover in folder.glob(f"{_temporary_prefix(Path(name))}*.tmp"):
                leftover.unlink(missing_ok=True)


def check_writable(path: Path, *, folder: bool) -> None:
    """A cheap look before expensive work: `path` (a folder, or a file, to create or replace) must
    not be the other kind, and must lie in a folder this process can write."""
    target = existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == target and target.is_dir() != folder:
        raise error("F001", f"cannot write {path}: it is a {'folder' if target.is_dir() else 'file'}, "
                            f"not a {'folder' if folder else 'file'}")
    if existing != target and not existing.is_dir():
        raise error("F001", f"cannot write {path}: {existing} is a file, not a folder")
    where = existing if existing.is_dir() else existing.parent
    if not os.access(where, os.W_OK | os.X_OK):
        raise error("F001", f"cannot write {path}: {os.strerror(errno.EACCES)} (in {where})",
                    hint="choose a path in a folder you can write to")
