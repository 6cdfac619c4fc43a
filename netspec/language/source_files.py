"""Reading spec files: regular files only, and no more bytes than one load may read.

Loading a spec takes 100 to 150 times its size in memory (tokens, parse tree, values), so a
load reads at most `Limits.source_bytes` for the file and everything it imports together,
each file once: 2 MiB unless `--max-file-size` says otherwise (GoogLeNet's spec is 5 KB; a
100,000-layer array written out, one layer a line, needs the option). A FIFO, a device or a
socket is refused before it is read: opening one for reading could wait forever for a writer,
or never reach its end.

Text is read as UTF-8 first (MATLAB's default since R2020a). Older files are often saved in the
editor's legacy encoding (Windows-1252, GBK, Shift-JIS comments): their encoding is detected
by charset-normalizer and the caller warns that the file was not UTF-8. A file with NUL bytes,
or one no encoding reads, is binary (a `.mat` or a zipped `.mlx` live script) and refused.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Span, error

__all__ = ["read_source", "SourceText"]

_MIB = 1024 * 1024

_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


@dataclass(frozen=True, slots=True)
class SourceText:
    text: str
    size: int
    """Bytes read."""
    encoding: str | None = None
    """The detected encoding of a file that is not UTF-8; None for UTF-8."""


def read_source(path: Path, read_before: int, limit: int, span: Span | None = None) -> SourceText:
    """The text of the spec file `path`, its size in bytes and its encoding if not UTF-8.

    `read_before` bytes of this load's `limit` are spent on files already read. Errors are
    located at `span` (an import) or at the file itself.
    """
    where = span or Span(file=str(path), line=1, column=1, end_line=1, end_column=1)
    try:
        # O_NONBLOCK: a FIFO opens at once instead of waiting for a writer (no effect on files)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error("E001", f"no such file: {path}", span, hint="check the path") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise error("E001", f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}", span) from None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise error("E001", f"{path} is a folder, not a .net file", span)
        if not stat.S_ISREG(status.st_mode):
            kind = next((name for test, name in _KINDS if test(status.st_mode)), "a special file")
            raise error("E002", f"{path} is {kind}, not a file netspec can read", where,
                        hint="netspec reads specs from regular files; save the text to a .net file first")
        _check_size(path, status.st_size, read_before, limit, where)
        with open(descriptor, "rb", closefd=False) as stream:
            data = stream.read(limit - read_before + 1)  # the file may have grown since fstat
    except OSError as exc:
        raise error("E001", f"cannot read {path}: {exc.strerror or exc}", span) from None
    finally:
        os.close(descriptor)
    _check_size(path, len(data), read_before, limit, where)
    try:
        return SourceText(data.decode("utf-8-sig"), len(data))  # -sig: an editor's byte-order mark is no text
    except UnicodeDecodeError:
        pass
    text, encoding = _decode_legacy(data)
    if text is None:
        hint = ("a live script (.mlx) is a zipped file: in MATLAB, save it as a plain .m file"
                if path.suffix == ".mlx" else "netspec reads MATLAB source text (.m or .net files)")
        raise error("E003", f"{path} is a binary file, not source text", where, hint=hint)
    return SourceText(text, len(data), encoding)


def _decode_legacy(data: bytes) -> tuple[str | None, str | None]:
    """Text that is not UTF-8, decoded with the encoding charset-normalizer finds; (None, None)
    for binary data (NUL bytes, or no encoding that reads it)."""
    if b"\0" in data:
        return None, None
    from charset_normalizer import from_bytes  # only for files that are not UTF-8

    best = from_bytes(data).best()
    if best is None:
        return None, None
    return str(best), best.encoding


def _check_size(path: Path, size: int, read_before: int, limit: int, where: Span) -> None:
    if read_before + size <= limit:
        return
    if read_before:
        message = (f"{path} is {size:,} bytes; with the {read_before:,} bytes read before it, the spec's files "
                   f"add up to more than netspec reads ({limit:,} bytes)")
    else:
        message = f"{path} is {size:,} bytes, more than netspec reads ({limit:,} bytes)"
    needed = -(-(read_before + size) // _MIB)
    raise error("E507", message, where, hint=f"netspec bounds the source it reads; to read this spec, raise the "
                                             f"limit: --max-file-size {needed}M")
