"""Run the hostile corpus: every case through the real CLI entry point, each in its own process.

``manifest.tsv`` lists the cases: a file (in this folder, in ``../malformed``, or made by a
generator below), the command line that feeds it to nndiagram (``{case}`` the file,
``{folder}`` a folder holding only a copy of it, for ``generate``) and a fragment the one-line
error must contain. Each case gets a fresh workspace: ``data/`` (a valid spec with matching
``P.npz``, ``X.npy`` and ``Y.npy``) and ``out/``, pre-populated with files that every ``-o``
points into, so "the output folder is unchanged" is a byte-for-byte comparison.

The modules are imported once; each case then runs ``nndiagram.cli.main`` in a forked child
(what the console script runs, minus the interpreter start), so the per-case wall time, CPU
time and peak RSS (``os.wait4``) measure the case and not the imports. A child is killed after
``HARD_LIMIT_S`` of its own CPU time (our work: the same verdict on a busy machine) or
``HARD_WALL_S`` of wall time (a hang that uses no CPU, such as waiting on a FIFO), and may not
map more than ``MEMORY_LIMIT`` bytes, so a bomb that gets through fails its case instead of
the machine. Peak RSS includes the ~``baseline_kb`` the child
inherits from this process (reported separately).

Run standalone: ``python tests/hostile/runner.py [NAME...]`` prints one JSON object per case.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import signal
import struct
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MANIFEST = HERE / "manifest.tsv"
HARD_LIMIT_S = 20  # CPU seconds: a case still running after this is killed (and fails)
HARD_WALL_S = 90  # wall seconds, however little CPU it used
MEMORY_LIMIT = 3 * 2**30  # address space of a case: a bomb fails instead of swapping


@dataclass(frozen=True)
class Case:
    name: str  # the corpus file, relative to this folder (``generated/…`` for generated ones)
    command: str  # with {case}, {data} and {out}
    fragment: str  # the one-line error must contain this

    def argv(self, case: Path, data: Path, out: Path) -> list[str]:
        folder = data.parent / "case-folder"  # beside data/ and out/, never in the corpus
        if "{folder}" in self.command:
            folder.mkdir(exist_ok=True)
            (folder / case.name).write_bytes(case.read_bytes())
        fields = {"case": str(case), "data": str(data), "out": str(out), "folder": str(folder)}
        return [word.format(**fields) for word in self.command.split()]


@dataclass
class Outcome:
    name: str
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    maxrss_kb: int
    changed: list[str]  # files of out/ added, removed or changed (should be empty)


# The cases of the second outside attack (issue 19), reported on their own by bench_hostile.
ROUND_TWO = frozenset(
    {
        "text-del-link-title.yaml",
        "text-csi-title.yaml",
        "text-noncharacter-title.json",
        "text-nel-description.toml",
        "text-bidi-title.yaml",
        "text-line-separator-graph.yaml",
        "text-terminal-title.yaml",
        "text-terminal-description.json",
        "text-terminal-title.toml",
        "text-control-key.yaml",
        "deriv-control-title.yaml",
        "deriv-bidi-latex.yaml",
        "generated/npz-void-dtype-bomb.npz",
        "generated/npz-unicode-dtype-bomb.npz",
        "generated/npz-deflate-bomb.npz",
        "generated/npz-encrypted-member.npz",
        "generated/npz-method-99.npz",
        "generated/npz-corrupt-deflate.npz",
        "generated/npz-timedelta.npz",
        "generated/npy-longdouble-inf.npy",
        "generated/npy-timedelta.npy",
        "generated/npy-shape-overflow.npy",
        "generated/npy-sparse-1gb.npy",
        "generated/npy-zero-samples.npy",
        "generated/fifo-spec.yaml",
        "generated/fifo-input.npy",
        "generated/fifo-params.npz",
        "generated/fifo-target.npy",
        "generated/fifo-derivation.yaml",
        "generated/deriv-shape-5000-digits.yaml",
        "generated/toml-inputs-5000-digits.toml",
        "params-over-cap.yaml",
        "generated/custom-33-distinct.yaml",
        "generated/edges-chain-9999-layers.json",
        "generated/graph-chain-1001-layers.yaml",
        "custom-pole-between-probes.yaml",
        "deriv-definitions-doubling.yaml",
        "deriv-many-big-steps.yaml",
        "deriv-nfkc-collision.yaml",
        "generated/description-10000-brackets.yaml",
        "generated/max-neurons-1000-network.yaml",
        "generated/network-view-1000-layers.yaml",
        "generated/npz-huge-weights.npz",
        "generated/npz-huge-weights-gradients.npz",
        "yaml-sexagesimal-units.yaml",
        "inputs-named-like-the-bias.yaml",
    }
)


def load_manifest(path: Path = MANIFEST) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, command, fragment = line.split("\t")
        cases.append(Case(name, command, fragment))
    return cases


# The foundation's malformed specs (tests/malformed, checked there with `validate`) are fed to
# the commands that write files, in turn: each must refuse them the same way and write nothing.
MALFORMED_COMMANDS = (
    "render {case} -o {out}/diagram.svg",
    "equations {case} -o {out}/equations.tex",
    "render {case} --format dot -o {out}/diagram.dot",
    "check {case}",
)


def malformed_cases() -> list[Case]:
    table = HERE.parent / "malformed" / "expected.tsv"
    cases: list[Case] = []
    for line in table.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, _, fragment = line.split("\t")
            command = MALFORMED_COMMANDS[len(cases) % len(MALFORMED_COMMANDS)]
            cases.append(Case(f"../malformed/{name}", command, fragment))
    return cases


def all_cases() -> list[Case]:
    return [*load_manifest(), *malformed_cases()]


# --- generated cases: binary or large inputs not worth committing -----------------------------


def _npy(header: dict[str, object], payload: bytes = b"", version: int = 1) -> bytes:
    """A .npy file with an arbitrary (possibly lying) header, written by hand."""
    text = repr(header).encode("latin1")
    text += b" " * ((64 - (10 + len(text) + 1) % 64) % 64) + b"\n"
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + payload
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text)) + text + payload


def _npz(members: dict[str, bytes], compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            archive.writestr(info, data)
    return buffer.getvalue()


def _array(values: Sequence[object], shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    import numpy as np

    data = np.asarray(values, dtype=np.dtype(descr)).tobytes()
    return _npy({"descr": descr, "fortran_order": False, "shape": shape}, data)


def _xor_params(**replace: bytes) -> bytes:
    """A P.npz for the 2-2-1 data spec with some members replaced."""
    members = {
        "W0.npy": _array([1, 2, 3, 4], (2, 2)),
        "b0.npy": _array([0, 0], (2,)),
        "W1.npy": _array([1, 1], (1, 2)),
        "b1.npy": _array([0], (1,)),
    }
    members.update({f"{k}.npy": v for k, v in replace.items()})
    return _npz(members)


def _pickled_object_array() -> bytes:
    # The header declares an object array; the payload is a pickle that would run a command.
    payload = b"cos\nsystem\n(S'echo pwned > pwned.txt'\ntR."
    return _npy({"descr": "|O", "fortran_order": False, "shape": (2, 1)}, payload)


def _yaml_with_bom(encoding: str) -> bytes:
    return "inputs: 2\nlayers:\n  - units: 1\n".encode(encoding)


def _zip_bomb() -> bytes:
    """X.npy inside a zip of 8 GB of declared zeros (deflate: ~8 MB would be needed; the
    header alone says 1e9 samples)."""
    header = _npy({"descr": "<f8", "fortran_order": False, "shape": (2, 500_000_000)})
    return _npz({"W0.npy": header, "b0.npy": header, "W1.npy": header, "b1.npy": header})


@dataclass(frozen=True)
class Sparse:
    """A file of ``size`` bytes that starts with ``head``; the rest is a hole (no disk used)."""

    head: bytes
    size: int


FIFO = "fifo"  # a generator returning this makes a named pipe with no writer


def _patched_npz(flag_bits: int = 0, method: int | None = None) -> bytes:
    """The data P.npz with W0's zip flags or compression method overwritten in both of its
    headers (local and central), as another zip writer could have written them."""
    raw = bytearray(_xor_params())
    local = raw.find(b"PK\x03\x04")
    central = raw.find(b"PK\x01\x02")
    for offset, flags_at, method_at in ((local, 6, 8), (central, 8, 10)):
        flags = struct.unpack_from("<H", raw, offset + flags_at)[0]
        struct.pack_into("<H", raw, offset + flags_at, flags | flag_bits)
        if method is not None:
            struct.pack_into("<H", raw, offset + method_at, method)
    return bytes(raw)


def _corrupt_deflate() -> bytes:
    members = {
        "W0.npy": _array([float(i) for i in range(400)], (20, 20)),
        "b0.npy": _array([0, 0], (2,)),
        "W1.npy": _array([1, 1], (1, 2)),
        "b1.npy": _array([0], (1,)),
    }
    raw = bytearray(_npz(members, compress=True))
    start = raw.find(b"W0.npy") + len("W0.npy") + 20  # inside W0's compressed data
    raw[start : start + 40] = b"\xff" * 40
    return bytes(raw)


def _deflate_bomb(megabytes: int = 200) -> bytes:
    """W0's header says (2, 2) float64, and 200 MB of zeros follow it, deflated to ~200 KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("W0.npy", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            member.write(_array([1, 2, 3, 4], (2, 2)))
            chunk = bytes(2**20)
            for _ in range(megabytes):
                member.write(chunk)
        for name, data in (("b0", _array([0, 0], (2,))), ("W1", _array([1, 1], (1, 2)))):
            archive.writestr(f"{name}.npy", data)
        archive.writestr("b1.npy", _array([0], (1,)))
    return buffer.getvalue()


def _onnx_external(location: str) -> bytes:
    """A one-Gemm ONNX model whose weight lives in an external file at ``location``."""
    from onnx import TensorProto, helper

    tensor = TensorProto(name="W", data_type=TensorProto.DOUBLE, dims=[1, 2])
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value=location)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)],
        "escape",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["n", 2])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["n", 1])],
        initializer=[tensor],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return bytes(model.SerializeToString())


def _safetensors_lying_header() -> bytes:
    """A header that puts a (2, 2) float64 tensor 4 GB into a 100-byte file."""
    header = b'{"0.weight": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 4294967296]}}'
    return len(header).to_bytes(8, "little") + header + bytes(100)


def _npy_header_only(descr: str, shape: tuple[int, ...]) -> bytes:
    return _npy({"descr": descr, "fortran_order": False, "shape": shape})


GENERATORS: dict[str, Callable[[], bytes | Sparse | str]] = {
    # files over the size limit: YAML, JSON, TOML, and one whose first MB is a valid spec
    "generated/oversized.yaml": lambda: b"inputs: 2\n" + b"# padding\n" * 110_000,
    "generated/oversized.json": lambda: b'{"inputs": 2, "title": "' + b"a" * 1_100_000 + b'"}',
    "generated/oversized.toml": lambda: b"inputs = 2\n" + b"\n" * 1_100_000,
    "generated/oversized-derivation.yaml": lambda: b"symbols: {}\n" + b"#" * 1_100_000,
    "generated/number-million-digits.yaml": lambda: (
        b"inputs: 2\nlayers:\n  - units: " + b"9" * 999_000 + b"\n"
    ),
    "generated/custom-million-digit-literal.yaml": lambda: (
        b"inputs: 2\nlayers:\n  - units: 1\n    activation: {custom: 'z*" + b"7" * 999_000 + b"'}\n"
    ),
    # under 1 MB, but hundreds of thousands of nodes: refused before they are all composed
    "generated/yaml-flow-list.yaml": lambda: (
        b"inputs: 2\nlayers: [{units: 1}]\nx: [" + b"1," * 490_000 + b"1]\n"
    ),
    "generated/yaml-block-list.yaml": lambda: b"inputs: 2\nx:\n" + b"- 1\n" * 240_000,
    "generated/json-many-values.json": lambda: b'{"inputs": 2, "x": [' + b"1," * 490_000 + b"1]}",
    "generated/derivation-flow-steps.yaml": lambda: (
        b"symbols: {s: []}\nsteps: [" + b"s," * 160_000 + b"s]\n"
    ),
    # explicit graphs one edge over the cap, written both ways
    "generated/graph-too-many-edges.yaml": lambda: (
        b"graph: |\n" + b"".join(b"  x_%d -> z_0_%d\n" % (i // 101, i % 101) for i in range(10_001))
    ),
    "generated/edges-too-many.json": lambda: json.dumps(
        {"edges": [[f"x_{i // 101}", f"z_0_{i % 101}"] for i in range(10_001)]}
    ).encode(),
    "generated/utf16-bom.yaml": lambda: _yaml_with_bom("utf-16"),
    "generated/utf32-bom.yaml": lambda: _yaml_with_bom("utf-32"),
    "generated/latin1.yaml": lambda: "title: Caf\u00e9\ninputs: 2\nlayers: [{units: 1}]\n".encode(
        "latin-1"
    ),
    "generated/overlong-utf8-slash.yaml": lambda: b"title: a\xc0\xafb\ninputs: 2\n",
    "generated/surrogate-utf8.yaml": lambda: b"title: \xed\xa0\x80\ninputs: 2\n",
    # .npy / .npz attacks on evaluate and gradients
    "generated/npy-object-pickle.npy": _pickled_object_array,
    "generated/npy-huge-shape.npy": lambda: _npy(
        {"descr": "<f8", "fortran_order": False, "shape": (2, 10**15)}
    ),
    "generated/npy-huge-shape-8gb.npy": lambda: _npy(
        {"descr": "<f8", "fortran_order": False, "shape": (2, 500_000_000)}
    ),
    "generated/npy-negative-shape.npy": lambda: _npy(
        {"descr": "<f8", "fortran_order": False, "shape": (2, -1)}
    ),
    "generated/npy-truncated.npy": lambda: _array([1.0, 2.0, 3.0, 4.0], (2, 2))[:-9],
    "generated/npy-bad-magic.npy": lambda: b"\x93NUMPX\x01\x00" + b"\0" * 120,
    "generated/npy-header-code.npy": lambda: (
        b"\x93NUMPY\x01\x00"
        + struct.pack("<H", 54)
        + b"__import__('os').system('echo pwned > pwned.txt')    \n"
    ),
    "generated/npy-huge-header.npy": lambda: _npy(
        {"descr": "<f8", "fortran_order": False, "shape": (2, 1), "x": "y" * 300_000},
        b"\0" * 16,
        version=2,
    ),
    "generated/npy-strings.npy": lambda: _array(["1", "2"], (2, 1), "<U1"),
    "generated/npy-complex.npy": lambda: _array([1 + 1j, 2], (2, 1), "<c16"),
    "generated/npy-structured.npy": lambda: _npy(
        {"descr": [("a", "<f8")], "fortran_order": False, "shape": (2, 1)}, b"\0" * 16
    ),
    "generated/npy-datetime.npy": lambda: _array([1, 2], (2, 1), "<M8[s]"),
    "generated/npy-nan.npy": lambda: _array([float("nan"), 1.0], (2, 1)),
    "generated/npy-inf.npy": lambda: _array([float("inf"), 1.0], (2, 1)),
    "generated/npy-3d.npy": lambda: _array([1.0, 2.0], (2, 1, 1)),
    "generated/npy-wrong-rows.npy": lambda: _array([1.0, 2.0, 3.0], (3, 1)),
    "generated/npy-is-npz.npy": lambda: _xor_params(),
    "generated/npz-is-npy.npz": lambda: _array([1.0, 2.0], (2, 1)),
    "generated/npz-object-pickle.npz": lambda: _xor_params(W0=_pickled_object_array()),
    "generated/npz-huge-shape.npz": lambda: _xor_params(
        W0=_npy({"descr": "<f8", "fortran_order": False, "shape": (2, 10**15)})
    ),
    "generated/npz-zip-bomb-header.npz": _zip_bomb,
    "generated/npz-nan-weight.npz": lambda: _xor_params(W1=_array([float("nan"), 1], (1, 2))),
    "generated/npz-inf-bias.npz": lambda: _xor_params(b0=_array([float("-inf"), 1], (2,))),
    "generated/npz-bool-weights.npz": lambda: _xor_params(W0=_array([1, 0, 1, 0], (2, 2), "|b1")),
    "generated/npz-wrong-shape.npz": lambda: _xor_params(W0=_array([1, 2, 3], (3, 1))),
    "generated/npz-missing-array.npz": lambda: _npz({"W0.npy": _array([1, 2, 3, 4], (2, 2))}),
    "generated/npz-extra-array.npz": lambda: _xor_params(W9=_array([1.0], (1,))),
    "generated/npz-not-zip.npz": lambda: b"PK\x03\x04" + b"\xff" * 200,
    "generated/npz-path-member.npz": lambda: _npz({"../../W0.npy": _array([1, 2, 3, 4], (2, 2))}),
    # issue 19: element types refused from the header, zip members refused before decompressing
    "generated/npz-void-dtype-bomb.npz": lambda: _xor_params(
        W0=_npy_header_only("|V500000000", (2, 2))
    ),
    "generated/npz-unicode-dtype-bomb.npz": lambda: _xor_params(
        W0=_npy_header_only("<U100000000", (2, 2))
    ),
    "generated/npz-deflate-bomb.npz": _deflate_bomb,
    "generated/npz-encrypted-member.npz": lambda: _patched_npz(flag_bits=0x1),
    "generated/npz-method-99.npz": lambda: _patched_npz(method=99),
    "generated/npz-corrupt-deflate.npz": _corrupt_deflate,
    "generated/npz-timedelta.npz": lambda: _xor_params(W0=_array([1, 2, 3, 4], (2, 2), "<m8[s]")),
    "generated/npy-longdouble-inf.npy": lambda: _array([float("inf"), 1.0], (2, 1), "<f16"),
    "generated/npy-timedelta.npy": lambda: _array([1, 2], (2, 1), "<m8[s]"),
    "generated/npy-shape-overflow.npy": lambda: _npy_header_only("<f8", (2**62, 2**62)),
    "generated/npy-sparse-1gb.npy": lambda: Sparse(
        _npy_header_only("<f8", (2, 2**26)), len(_npy_header_only("<f8", (2, 2**26))) + 2**30
    ),
    "generated/npy-zero-samples.npy": lambda: _array([], (2, 0)),
    # issue 19: a FIFO as every kind of file argument is refused, not waited on
    # model files for `nndiagram import` (issue 15)
    "generated/model-text.onnx": lambda: b"this is a text file renamed .onnx\n",
    "generated/model-oversized.onnx": lambda: Sparse(b"\x08\x07", 2 * 1024**3 + 1),
    "generated/model-external-escape.onnx": lambda: _onnx_external("../../../etc/passwd"),
    "generated/model-not-zip.keras": lambda: b"PK\x03\x04 not really a zip archive",
    "generated/model-header-lies.safetensors": lambda: _safetensors_lying_header(),
    "generated/fifo-spec.yaml": lambda: FIFO,
    "generated/fifo-input.npy": lambda: FIFO,
    "generated/fifo-params.npz": lambda: FIFO,
    "generated/fifo-target.npy": lambda: FIFO,
    "generated/fifo-derivation.yaml": lambda: FIFO,
    # issue 19: budgets that refuse in one line
    "generated/description-10000-brackets.yaml": lambda: (
        b"description: '" + b"[" * 10_000 + b"'\ninputs: 2\nlayers:\n  - units: 1\n"
    ),
    "generated/max-neurons-1000-network.yaml": lambda: (
        b"inputs: 1000\nmax_neurons: 1000\nview: network\nlayers:\n" + b"  - units: 1000\n" * 2
    ),
    "generated/network-view-1000-layers.yaml": lambda: (
        b"inputs: 2\nlayers:\n" + b"  - units: 2\n    activation: relu\n" * 1000
    ),
    "generated/npz-huge-weights.npz": lambda: _xor_params(
        W0=_array([1e308, 1e308, 1e308, 1e308], (2, 2)), W1=_array([1e308, 1e308], (1, 2))
    ),
    "generated/npz-huge-weights-gradients.npz": lambda: _xor_params(
        W0=_array([1e308, 1e308, 1e308, 1e308], (2, 2)), W1=_array([1e308, 1e308], (1, 2))
    ),
    "generated/custom-33-distinct.yaml": lambda: (
        b"inputs: 2\nlayers:\n"
        + b"".join(
            b"  - units: 2\n    activation: {custom: 'max(0.%02d*z, z)'}\n" % (i + 1)
            for i in range(33)
        )
    ),
    "generated/edges-chain-9999-layers.json": lambda: json.dumps(
        {
            "edges": [["x_0", "z_0_0"]]
            + [[f"z_{i}_0", f"z_{i + 1}_0"] for i in range(9_998)]
            + [["z_9998_0", "output"]]
        }
    ).encode(),
    "generated/graph-chain-1001-layers.yaml": lambda: (
        b"graph: |\n  x_0 -> z_0_0\n"
        + b"".join(b"  z_%d_0 -> z_%d_0\n" % (i, i + 1) for i in range(1_000))
        + b"  z_1000_0 -> output\n"
    ),
    # issue 19: numbers Python refuses to convert (more than 4,300 digits)
    "generated/deriv-shape-5000-digits.yaml": lambda: (
        b"symbols: {x: [" + b"9" * 5000 + b", 1]}\nsteps: [x, x]\n"
    ),
    "generated/toml-inputs-5000-digits.toml": lambda: (
        b"inputs = " + b"9" * 5000 + b"\n[[layers]]\nunits = 1\n"
    ),
}


def materialise(case: Case, folder: Path) -> Path:
    """The case's input file: from the corpus, or generated into ``folder``."""
    if case.name in GENERATORS:
        path = folder / Path(case.name).name
        made = GENERATORS[case.name]()
        if made == FIFO:
            os.mkfifo(path)
        elif isinstance(made, Sparse):
            with open(path, "wb") as file:
                file.write(made.head)
                file.truncate(made.size)
        else:
            assert isinstance(made, bytes)
            path.write_bytes(made)
        return path
    return HERE / case.name


# --- the workspace --------------------------------------------------------------------------

DATA_SPEC = """\
title: data
inputs: 2
layers:
  - units: 2
    activation: sigmoid
  - units: 1
    activation: sigmoid
loss: bce
"""
OLD_OUTPUTS = {
    "diagram.svg": b"<svg>old diagram</svg>\n",
    "diagram.dot": b"digraph old {}\n",
    "equations.tex": b"% old equations\n",
    "Y.npy": b"old Y\n",
    "G.npz": b"old G\n",
    "gallery/index.md": b"# old gallery\n",
    "gallery/xor.md": b"old page\n",
}


def make_workspace(parent: Path) -> tuple[Path, Path]:
    """``data/`` with a valid 2-2-1 spec, parameters, inputs and targets; ``out/`` with old
    outputs that every case must leave exactly as they are."""
    import numpy as np

    data, out = parent / "data", parent / "out"
    data.mkdir(parents=True)
    (data / "net.yaml").write_text(DATA_SPEC, encoding="utf-8")
    # The same shapes without activations: what overflows there is not saturated away.
    linear = DATA_SPEC.replace("sigmoid", "identity").replace("loss: bce", "loss: mse")
    (data / "linear.yaml").write_text(linear, encoding="utf-8")  # bce needs outputs in (0, 1)
    rng = np.random.default_rng(0)
    arrays = {"W0": (2, 2), "b0": (2,), "W1": (1, 2), "b1": (1,)}
    params = {k: rng.normal(size=s) for k, s in arrays.items()}
    np.savez(data / "P.npz", W0=params["W0"], b0=params["b0"], W1=params["W1"], b1=params["b1"])
    np.save(data / "X.npy", rng.normal(size=(2, 3)))
    np.save(data / "Y.npy", rng.uniform(0.1, 0.9, size=(1, 3)))
    (data / "specs").mkdir()
    (data / "specs" / "net.yaml").write_text(DATA_SPEC, encoding="utf-8")
    for name, content in OLD_OUTPUTS.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return data, out


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder below ``folder`` with a hash of its bytes (temp leftovers too)."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[key] = "link:" + os.readlink(path)
        elif path.is_dir():
            found[key] = "dir"
        else:
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


# --- running one case in a forked child -----------------------------------------------------


def preload() -> None:
    """Import everything a command may import, once, before forking."""
    import nndiagram.cli
    import nndiagram.derivation
    import nndiagram.diagram
    import nndiagram.numeric
    import nndiagram.site.gallery
    import nndiagram.spec
    import nndiagram.symbolic
    import nndiagram.verify  # noqa: F401


def child_cpu_s(pid: int) -> float:
    """CPU seconds used so far by the running process ``pid`` and the children it has waited
    for (Graphviz's ``dot``): user + system from ``/proc/PID/stat``; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_forked(
    argv: list[str], cwd: Path, hard_limit: float = HARD_LIMIT_S
) -> tuple[int, str, str, float, float, int]:
    """``nndiagram ARGV`` in a forked child: exit code, stdout, stderr, wall s, CPU s, peak KB."""
    from nndiagram.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        out_path, err_path = Path(tmp, "stdout"), Path(tmp, "stderr")
        sys.stdout.flush()
        sys.stderr.flush()
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: behave exactly like the console script
            code = 1
            try:
                os.chdir(cwd)
                for fd, path in ((1, out_path), (2, err_path)):
                    os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
                resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
                sys.argv = ["nndiagram", *argv]
                code = main(argv)
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 1
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        # The parent keeps the time: the child's own timers belong to the code under test.
        wall_limit = max(HARD_WALL_S, 4 * hard_limit)
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if child_cpu_s(pid) > hard_limit or time.perf_counter() - start > wall_limit:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)
        wall = time.perf_counter() - start
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
    return code, stdout, stderr, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def run_case(case: Case, parent: Path) -> Outcome:
    data, out = make_workspace(parent)
    generated = parent / "generated"
    generated.mkdir()
    source = materialise(case, generated)
    argv = case.argv(source, data, out)
    before = snapshot(out)
    code, stdout, stderr, wall, cpu, rss = run_forked(argv, out)
    return Outcome(
        case.name, argv, code, stdout, stderr, wall, cpu, rss, changes(before, snapshot(out))
    )


def run_all(cases: Sequence[Case]) -> Iterator[Outcome]:
    preload()
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="nndiagram-hostile-") as tmp:
            yield run_case(case, Path(tmp))


def baseline_kb() -> int:
    """Peak RSS of this process after ``preload`` (what every forked child starts with)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only these cases (default: all)")
    parser.add_argument("--commands", help="instead: a JSON list of argument lists to run")
    parser.add_argument("--cwd", default=".", help="working directory of --commands")
    parser.add_argument("--limit", type=float, default=HARD_LIMIT_S, help="CPU seconds per command")
    args = parser.parse_args(argv)
    if args.commands:
        preload()
        for command in json.loads(args.commands):
            code, stdout, stderr, wall, cpu, rss = run_forked(command, Path(args.cwd), args.limit)
            outcome = Outcome(" ".join(command), command, code, stdout, stderr, wall, cpu, rss, [])
            print(json.dumps(asdict(outcome)), flush=True)
        return 0
    cases = [c for c in all_cases() if not args.names or c.name in args.names]
    for outcome in run_all(cases):
        print(json.dumps(asdict(outcome)), flush=True)
    print(json.dumps({"baseline_kb": baseline_kb()}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
