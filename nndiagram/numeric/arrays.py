""".npy and .npz files, read from their headers first: nothing is read that was not checked.

Every file is opened by ``files.open_regular`` (a FIFO is refused, not waited on). A ``.npy``
header gives the element type, the order and the shape: only bool, integer and float types of
at most 8 bytes are accepted (never objects, so never a pickle; no strings, structures,
complex numbers, dates, time deltas or long doubles), and the data the header declares must be
exactly what the file holds. A ``.npz`` is a zip of such files: each member must be stored or
deflated (no encryption, no other method), its header passes the same checks, and its
uncompressed size must be exactly header plus data, all before any data is decompressed.
Callers then check shapes against the network and only then read (``Stored.read``, or the
memory map of a .npy), so an array of the wrong shape or an oversized one costs nothing.
Every problem is one ``SpecError``.
"""

from __future__ import annotations

import io
import math
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

import numpy as np

from ..errors import SpecError
from ..files import open_regular

MAX_HEADER_BYTES = 10_000  # NumPy's own default bound on a header
MAX_MEMBERS = 10_000  # arrays in one .npz
ACCEPTED_KINDS = "biuf"  # bool, signed and unsigned integers, floats
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
    KeyError,
)


@dataclass(frozen=True)
class Stored:
    """One array as its header describes it; ``read()`` reads its data (after the checks)."""

    name: str  # the member name without .npy, or "" for a .npy file
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    fortran_order: bool
    reader: Callable[[], np.ndarray]

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def read(self) -> np.ndarray:
        return self.reader()


def _header(stream: BinaryIO, path: str, where: str) -> tuple[np.dtype[Any], tuple[int, ...], bool]:
    """dtype, shape and order of the .npy header at ``stream``'s position; ``where`` names the
    array in messages ("the array " for a .npy file, "W0: " for a member)."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"unknown .npy version {version}")
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran_order, dtype = reader(stream, max_header_size=MAX_HEADER_BYTES)
    except (ValueError, EOFError, OSError, SyntaxError, TypeError, *_ZIP_ERRORS) as error:
        message = " ".join(str(error).split())[:200]
        raise SpecError(f"{where}has no valid .npy header: {message}", path=path) from None
    shape = tuple(int(n) for n in shape)
    _check_dtype(dtype, path, where)
    return dtype, shape, bool(fortran_order)


def _check_dtype(dtype: np.dtype[Any], path: str, where: str) -> None:
    if dtype.hasobject:
        raise SpecError(
            f"{where}holds Python objects (dtype object): pickled data is never read; "
            "it must hold real numbers",
            path=path,
        )
    if dtype.kind not in ACCEPTED_KINDS or dtype.fields is not None or dtype.subdtype:
        raise SpecError(
            f"{where}has dtype {dtype}; it must hold real numbers (float, int or bool)", path=path
        )
    if dtype.itemsize > 8:
        raise SpecError(
            f"{where}has dtype {dtype} ({dtype.itemsize * 8}-bit); use float64 or smaller",
            path=path,
        )


def _declared_bytes(dtype: np.dtype[Any], shape: tuple[int, ...]) -> int:
    return dtype.itemsize * math.prod(shape)  # Python integers: no overflow, no warning


def _from_bytes(data: bytes, dtype: np.dtype[Any], shape: tuple[int, ...], fortran: bool) -> Any:
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C")


# --- .npy ------------------------------------------------------------------------------------


def _npy(file: BinaryIO, path: str) -> np.ndarray:
    """The array of a checked .npy file, memory-mapped: its data is read when it is used."""
    dtype, shape, fortran = _header(file, path, "the array ")
    offset = file.tell()
    size = os.fstat(file.fileno()).st_size
    declared = _declared_bytes(dtype, shape)
    if size - offset != declared:
        relation = "greater than" if declared > size - offset else "less than"
        raise SpecError(
            f"the .npy header declares shape {shape} of {dtype}: {declared:,} bytes of data, "
            f"{relation} file size allows ({size - offset:,})",
            path=path,
        )
    if declared == 0:
        return np.zeros(shape, dtype=dtype)
    order: Literal["F", "C"] = "F" if fortran else "C"
    mapped: np.ndarray = np.memmap(
        file,
        dtype=dtype,
        mode="r",
        offset=offset,
        shape=shape,
        order=order,
    )
    return mapped


# --- .npz ------------------------------------------------------------------------------------


class Archive:
    """The checked members of a .npz, by name (``W0`` for ``W0.npy``); close it when done."""

    def __init__(self, file: BinaryIO, path: str) -> None:
        self.path = path
        self._file = file
        try:
            self._zip = zipfile.ZipFile(file)
            infos = self._zip.infolist()
        except _ZIP_ERRORS as error:
            raise self.error(f"not a valid .npz (zip) archive: {error}") from None
        if len(infos) > MAX_MEMBERS:
            raise self.error(f"more than {MAX_MEMBERS:,} arrays in the archive")
        self.members: dict[str, Stored] = {}
        for info in infos:
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            self.members[name] = self._member(info, name)

    def error(self, message: str) -> SpecError:
        return SpecError(message, path=self.path)

    def _member(self, info: zipfile.ZipInfo, name: str) -> Stored:
        where = f"{name}: "
        if info.flag_bits & 0x1:
            raise self.error(f"{where}the member is encrypted; save the arrays with numpy.savez")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.error(
                f"{where}compression method {info.compress_type} is not supported (stored or "
                "deflate only, as numpy.savez and savez_compressed write)"
            )
        try:
            with self._zip.open(info) as member:
                head = member.read(MAX_HEADER_BYTES + 16)
        except _ZIP_ERRORS as error:
            raise self.error(f"{where}unreadable member: {error}") from None
        stream = io.BytesIO(head)
        dtype, shape, fortran = _header(stream, self.path, where)
        offset = stream.tell()
        declared = _declared_bytes(dtype, shape)
        if info.file_size != offset + declared:
            raise self.error(
                f"{where}the header declares shape {shape} of {dtype} ({declared:,} bytes of "
                f"data) but the member holds {max(info.file_size - offset, 0):,}"
            )

        def read() -> np.ndarray:
            try:
                with self._zip.open(info) as member:
                    member.read(offset)
                    data = member.read(declared)
            except _ZIP_ERRORS as error:
                raise self.error(f"{where}unreadable member: {error}") from None
            if len(data) != declared:
                raise self.error(f"{where}the member is truncated")
            return _from_bytes(data, dtype, shape, fortran)

        return Stored(name, dtype, shape, fortran, read)

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_arrays(path: str | os.PathLike[str]) -> np.ndarray | Archive:
    """A .npy file's array (memory-mapped, read only where it is used) or a .npz file's
    checked members (close the ``Archive``); which one the file's first bytes decide."""
    name = str(os.fspath(path))
    file = open_regular(path)
    try:
        magic = file.read(6)
        file.seek(0)
        if magic.startswith(_ZIP_MAGIC):
            return Archive(file, name)  # closes the file when it is closed
        if magic == _NPY_MAGIC:
            with file:  # the memory map keeps its own reference to the data
                return _npy(file, name)
        text = magic.isascii() and all(32 <= byte < 127 or byte in b"\t\r\n" for byte in magic)
        hint = (
            '; it looks like text (a CSV?): convert it first, e.g. python -c "import numpy as '
            "np; np.save('X.npy', np.loadtxt('X.csv', delimiter=',', ndmin=2))\""
            if text and magic
            else ""
        )
        raise SpecError(
            f"not a NumPy .npy/.npz file (it starts with neither \\x93NUMPY nor PK){hint}",
            path=name,
        )
    except BaseException:
        file.close()
        raise
