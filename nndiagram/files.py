"""Every file a user names is opened here, one way: a regular file, read with a size cap.

A FIFO, a device, a socket or a folder given as a spec, ``--params``, ``--input``, ``--target``,
a derivation or a fence's ``spec:`` is refused in one line instead of hanging the tool (the open
is non-blocking, then ``fstat`` decides), and no file is read past its cap, so a sparse 400 MB
file costs what its cap costs. Outputs go through ``output.write_atomic``.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from .errors import SpecError

_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
    stat.S_IFLNK: "a symbolic link",
}


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages: ``a named pipe (FIFO)``, ``a folder`` …"""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for reading if it is a regular file; else a ``SpecError`` naming it.

    Opened with ``O_NONBLOCK`` (a FIFO with no writer would block ``open`` itself) and checked
    with ``fstat`` on the open descriptor, so a file swapped in between cannot slip through.
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise SpecError("no such file", path=str(name)) from None
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise SpecError(f"cannot read: {reason}", path=str(name)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise SpecError(
                f"not a regular file: it is {file_kind(mode)}; give a file", path=str(name)
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], max_bytes: int, what: str = "") -> bytes:
    """The bytes of the regular file ``path``, refused in one line when larger than
    ``max_bytes`` (read: at most one byte more). ``what`` ends the message: "a spec is a few
    lines"."""
    with open_regular(path) as file:
        try:
            raw = file.read(max_bytes + 1)
        except OSError as error:
            raise SpecError(
                f"cannot read: {error.strerror or error}", path=str(os.fspath(path))
            ) from None
    if len(raw) > max_bytes:
        hint = f"; {what}" if what else ""
        raise SpecError(f"file is larger than {max_bytes:,} bytes{hint}", path=str(os.fspath(path)))
    return raw
