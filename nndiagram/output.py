"""Atomic output: write aside in the same folder, then rename; a failed run leaves the old file.

The temporary file is named after the target and the writing process (``.out.svg.PID.xyz.tmp``):
a writer killed with ``kill -9`` cannot remove it, so the next write of that target removes
every such file whose process is gone. The rename replaces only a regular file, or makes a new
one: ``-o`` naming a device, a FIFO, a
socket, a folder or a symbolic link (even one to a regular file) is refused in one line, so
``-o /dev/null`` as root or a link to ``/proc/self/fd/1`` never becomes a plain file. ``-o -``
writes to standard output.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import UsageError
from .files import file_kind

Writer = Callable[[BinaryIO], object]


def write_atomic(path: str | os.PathLike[str], data: bytes | str | Writer) -> None:
    """Write ``data`` to ``path`` atomically; ``-`` writes to stdout.

    ``data`` may be a function that writes into the open (binary, seekable) file itself, for
    output too large to hold in memory twice (``P.npz`` of an imported model)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if str(path) == "-":
        if callable(payload):
            buffer = io.BytesIO()
            payload(buffer)
            payload = buffer.getvalue()
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    try:
        mode: int | None = os.lstat(target).st_mode
    except (OSError, ValueError):  # missing (a new file), or a path the write will report
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise UsageError(
            f"{path}:1:1: error: cannot write: it is {file_kind(mode)}; -o replaces only a "
            "regular file or makes a new one (-o - writes to standard output)"
        )
    try:
        _replace(target, payload)
    except OSError as error:  # a folder, a missing parent, no permission: bad -o, not a bug
        reason = error.strerror or str(error)
        raise UsageError(f"{path}:1:1: error: cannot write: {reason}") from None


def _replace(target: Path, payload: bytes | Writer) -> None:
    created = _missing_parents(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_beside(target, payload)
    except BaseException:
        for folder in created:  # deepest first: a failed run leaves no new empty folders
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _missing_parents(target: Path) -> list[Path]:
    missing = []
    for folder in target.parents:
        if folder.exists():
            break
        missing.append(folder)
    return missing


def _temporary_prefix(target: Path) -> str:
    # A short prefix: the temporary name must fit where the target's own name just fits.
    return f".{target.name[:40]}."


def _sweep_leftovers(target: Path) -> None:
    """Remove the temporary files of writers of ``target`` that were killed (``kill -9``
    leaves no chance to clean up): their names carry the writer's process id, and a file whose
    process no longer exists is a leftover. A live writer's file is left alone."""
    prefix = _temporary_prefix(target)
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid_text = name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(target.parent / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process (or no such number)
        return True
    return True


def _write_beside(target: Path, payload: bytes | Writer) -> None:
    _sweep_leftovers(target)
    # The process id in the name: a later run knows a killed writer's file for a leftover.
    prefix = f"{_temporary_prefix(target)}{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    try:
        # mkstemp makes 0600 files; give the result the mode a plain open() would have.
        os.fchmod(fd, _existing_mode(target))
        with os.fdopen(fd, "wb") as handle:
            if callable(payload):
                payload(handle)
            else:
                handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _existing_mode(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
