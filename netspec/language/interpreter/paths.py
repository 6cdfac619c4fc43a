"""The path, as MATLAB sees it for a file netspec loads: the folder of the calling file, the
loaded file's folder, the `--path` folders (`Limits.search_folders`) and the folders the file
adds with `addpath` — only inside the loaded file's folder tree or a `--path` folder.

A function no file defines is `NAME.m` (else `NAME.net`) in the first of these folders that
has one. Nothing else is read: no other kind of file, no folder outside those trees.

Also the functions that read or change the caller's workspace or the path, so are no
builtins: `exist`, `addpath`, `genpath`, `run` and `load`.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..builtins import BUILTINS, Arg
from ..library import LIBRARY
from ..spans import node_span
from ..tree import Tree
from ..values import Char, Matrix, Opaque, Str, Value
from .state import Scope, State

__all__ = ["Paths"]

MAX_FOLDER_ENTRIES = 10_000
"""Entries of one folder netspec looks through for `.m` and `.net` files."""
MAX_GENPATH_FOLDERS = 1_000
"""Folders `genpath` lists (a folder tree of data could have millions)."""
_GENPATH_SKIPPED = ("+", "@", ".")
"""Folders genpath leaves out, as MATLAB's does: packages, classes, hidden folders (and `private`)."""
_PATH_FLAGS = frozenset({"-begin", "-end", "-frozen"})


class Paths(State):
    """Folder listings, path lookup, and the functions of the path."""

    def _on_path(self) -> dict[str, Path]:
        """Function name -> its file, for the folders the current file sees (the first folder
        that has a name wins; `.m` before `.net`). Built once per file and path."""
        found = self._path_names.get(self.file)
        if found is None:
            found = {}
            for folder in reversed(self._path_folders()):
                found.update(self._listing(folder))
            self._path_names[self.file] = found
        return found

    def _path_folders(self) -> list[Path]:
        """The folders the current file sees, first to last: its own folder (when it was read from
        a file), the loaded file's, the `--path` folders, then `addpath`'s, the latest first."""
        folders: list[Path] = []
        if self.file in self._trees:
            folders.append(Path(self.file).parent.resolve())
        if self.root_folder is not None:
            folders.append(self.root_folder)
        folders += [Path(f).resolve() for f in self.limits.search_folders]
        folders += reversed(self.added_folders)
        return list(dict.fromkeys(folders))

    def _allowed(self, path: Path) -> bool:
        """Inside the loaded file's folder tree or a `--path` folder's."""
        roots = [self.root_folder] if self.root_folder is not None else []
        roots += [Path(f).resolve() for f in self.limits.search_folders]
        return any(path.is_relative_to(root) for root in roots)

    def _listing(self, folder: Path) -> dict[str, Path]:
        """The `.m` and `.net` files of one folder, by name (a file's real place must be in
        an allowed tree: a link out of it is not followed)."""
        cached = self._listings.get(folder)
        if cached is not None:
            return cached
        nets: dict[str, Path] = {}
        found: dict[str, Path] = {}
        try:
            with os.scandir(folder) as entries:
                for count, entry in enumerate(entries):
                    if count >= MAX_FOLDER_ENTRIES:
                        break
                    stem, dot, suffix = entry.name.rpartition(".")
                    if dot and suffix in ("m", "net") and stem.isidentifier() and entry.is_file():
                        (found if suffix == "m" else nets)[stem] = Path(entry.path)
        except OSError:
            pass
        listing = {name: path for name, path in {**nets, **found}.items() if self._allowed(path.resolve())}
        self._listings[folder] = listing
        return listing

    def _scoped_exist(self, args: list[Arg], nargout: int, node: Tree, scope: Scope) -> Value:
        """`exist(name)` and `exist(name, 'var')`: variables and the functions netspec knows; a
        file or folder netspec does not look for is unknown."""
        texts = [a.value.text if isinstance(a.value, (Char, Str)) else None for a in args]
        if not texts or None in texts:
            return Opaque("exist", node_span(node, self.file))
        name, kind = texts[0], (texts[1] if len(texts) > 1 else None)
        if kind in (None, "var") and name in scope.variables:
            return Matrix.scalar(1.0)
        if kind == "var":
            return Matrix.scalar(0.0)
        if kind in (None, "file") and (name in self._file_functions.get(self.file, self.functions)
                                       or name in self._on_path() or name in LIBRARY):
            return Matrix.scalar(2.0)
        if kind in (None, "builtin") and name in BUILTINS:
            return Matrix.scalar(5.0)
        return Opaque("exist", node_span(node, self.file))

    def _scoped_addpath(self, args: list[Arg], nargout: int, node: Tree, scope: Scope) -> list[Value]:
        """`addpath('helpers')`, `addpath(genpath('src'))`: folders inside the allowed trees join
        the path (a folder elsewhere is not read: a warning says so)."""
        for arg in args:
            if not isinstance(arg.value, (Char, Str)) or arg.value.text in _PATH_FLAGS:
                continue
            for text in arg.value.text.replace(";", os.pathsep).split(os.pathsep):
                folder = self._folder(text)
                if folder is None:
                    if text.strip() and self.root_folder is not None:
                        self.warn("W107", f"addpath('{text}') {self._unread_because(text)}: netspec does not read it",
                                  arg.span, hint="to read helper files there, pass the folder with --path DIR")
                    continue
                if folder not in self.added_folders:
                    self.added_folders.append(folder)
                    self._path_names.clear()
        return [Matrix.empty()] * min(nargout, 1)

    def _scoped_genpath(self, args: list[Arg], nargout: int, node: Tree, scope: Scope) -> Value:
        """`genpath(folder)`: the folder and the folders below it (not packages, classes or
        `private`), joined by the path separator; unknown for a folder outside the allowed trees."""
        text = args[0].value.text if args and isinstance(args[0].value, (Char, Str)) else None
        folder = self._folder(text) if text is not None else None
        if folder is None:
            return Opaque("genpath", node_span(node, self.file))
        folders = [str(folder)]
        for parent, children, _ in os.walk(folder):
            children[:] = sorted(c for c in children if not c.startswith(_GENPATH_SKIPPED) and c != "private")
            folders += [os.path.join(parent, c) for c in children]
            if len(folders) >= MAX_GENPATH_FOLDERS:
                break
        return Char(os.pathsep.join(folders[:MAX_GENPATH_FOLDERS]))

    def _scoped_load(self, args: list[Arg], nargout: int, node: Tree, scope: Scope) -> list[Value]:
        """`data = load('x.mat')` is unknown data; `load net` (no output) puts variables netspec
        cannot name in the workspace: names the file uses but never defines may be those."""
        span = node_span(node, self.file)
        if nargout == 0:
            self.loaded = span
        return [Opaque("load", span)] * nargout

    def _scoped_run(self, args: list[Arg], nargout: int, node: Tree, scope: Scope) -> list[Value]:
        """`run('setup.m')`, `run setup`: a script of the path (or a path inside the allowed trees)
        run in the caller's workspace; any other is unknown, as an unknown function."""
        text = args[0].value.text if len(args) == 1 and isinstance(args[0].value, (Char, Str)) else None
        path = self._script_path(text) if text else None
        if path is None:
            return self._unknown("run", nargout, node, node_span(node, self.file))
        tree, file = self._read(path, node_span(node, self.file))
        if tree is None:
            return self._unknown("run", nargout, node, node_span(node, self.file))
        self._run_script(tree, file, node, scope)
        return []

    def _script_path(self, text: str) -> Path | None:
        """The file `run(text)` names: a name on the path, or a relative path in the allowed trees."""
        name = text[:-2] if text.endswith(".m") else text
        if name.isidentifier():
            return self._on_path().get(name)
        base = Path(self.file).parent if self.file in self._trees else self.root_folder
        if base is None or "\0" in text:
            return None
        path = (base / (text if text.endswith((".m", ".net")) else text + ".m")).resolve()
        return path if self._allowed(path) and path.is_file() else None

    def _folder(self, text: str) -> Path | None:
        """The folder a path text names (relative to the loaded file's folder), if it is inside an
        allowed tree and exists."""
        folder = self._resolved(text)
        return folder if folder is not None and self._allowed(folder) and folder.is_dir() else None

    def _unread_because(self, text: str) -> str:
        """Why `_folder` gave nothing for a path text: where it points, or that nothing is there."""
        folder = self._resolved(text)
        return "names no folder" if folder is not None and self._allowed(folder) else "is outside the file's folder"

    def _resolved(self, text: str) -> Path | None:
        text = text.strip()
        if not text or self.root_folder is None or "\0" in text:
            return None
        try:
            return (self.root_folder / text.replace("\\", "/")).resolve()
        except (OSError, RuntimeError):
            return None

