"""Same inputs, same bytes: every output of every shipped spec (DOT, SVG, PNG, PDF, LaTeX, text,
equations JSON, check JSON, gallery pages), every derivation report and a whole built site,
compared across processes with different ``PYTHONHASHSEED`` values (so no set or dict order,
id(), timestamp or random id can leak into an output).

MkDocs itself writes the build date into sitemap.xml, sitemap.xml.gz (gzip mtime) and, with
its built-in themes, a "Build Date UTC" comment in every page; all of them come from
``SOURCE_DATE_EPOCH`` when it is set, and otherwise change only from one day to the next
(Material writes no build date into pages). The site build below sets it, as a reproducible
build should.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import DIAGRAMS, ROOT

pytestmark = pytest.mark.exe

# Run in a fresh interpreter per hash seed: prints {output name: sha256 of its bytes}.
DIGEST_SCRIPT = r"""
import hashlib, json, sys
from pathlib import Path
from nndiagram.spec import load_spec
from nndiagram.diagram import build_dot, render, render_svg_inline
from nndiagram.symbolic import derive
from nndiagram.verify import check
from nndiagram.derivation.checker import check as check_derivation, parse_derivation, report_json
from nndiagram.site.cache import ArtefactCache
from nndiagram.site.gallery import gallery_files

root, diagrams = Path(sys.argv[1]), Path(sys.argv[2])
out = {}
def put(name, data):
    out[name] = hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()
for path in sorted(diagrams.glob("*.yaml")):
    net = load_spec(path)
    for labels in ("math", "plain"):
        put(f"{path.name}.{labels}.dot", build_dot(net, labels=labels))
    for fmt in ("svg", "png", "pdf"):
        put(f"{path.name}.{fmt}", render(net, fmt))
    put(f"{path.name}.dark.svg", render(net, "svg", theme="dark"))
    put(f"{path.name}.inline.svg", render_svg_inline(net))
    if net.graph is not None and not net.graph.is_valid:
        continue
    derivation = derive(net)
    put(f"{path.name}.tex", derivation.to_latex())
    put(f"{path.name}.txt", derivation.to_text())
    put(f"{path.name}.equations.json", json.dumps(derivation.to_json(), sort_keys=True))
    put(f"{path.name}.check.json", json.dumps(check(net, seed=0).to_json(), sort_keys=True))
derivations = [*root.glob("tests/derivations/*.yaml"), *root.glob("docs/**/*.derivation.yaml")]
# corpus.yaml is a list of labelled cases for the verdict tests, not one derivation
derivations = [path for path in derivations if path.name != "corpus.yaml"]
for path in sorted(derivations):
    derivation = parse_derivation(path.read_text(encoding="utf-8"), path.name)
    report = report_json(derivation, check_derivation(derivation))
    put(f"{path.name}.report.json", json.dumps(report, sort_keys=True))
for name, text in gallery_files(diagrams, ArtefactCache(None), root=root, workers=1).items():
    put(f"gallery/{name}", text)
print(json.dumps(out, sort_keys=True))
"""


def _digests(seed: int) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", DIGEST_SCRIPT, str(ROOT), str(DIAGRAMS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONHASHSEED": str(seed)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, str] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def digests() -> list[dict[str, str]]:
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(_digests, (1, 2)))


def test_every_output_of_every_spec_is_byte_identical_across_hash_seeds(
    digests: list[dict[str, str]],
) -> None:
    first, second = digests
    specs = sorted(DIAGRAMS.glob("*.yaml"))
    assert len(first) >= 12 * len(specs)  # every spec, every format, gallery and derivations
    assert any(name.endswith(".report.json") for name in first)
    assert any(name.startswith("gallery/") for name in first)
    differ = sorted(
        name for name in first.keys() | second.keys() if first.get(name) != second.get(name)
    )
    assert differ == []


@pytest.mark.parametrize(
    "args",
    [
        ("render", "xor.yaml", "--format", "png", "-o", "-"),
        ("render", "mnist-mlp.yaml", "--format", "pdf", "-o", "-"),
        ("equations", "multilayer.yaml", "--format", "json"),
        ("check", "xor.yaml", "--format", "json"),
    ],
)
def test_cli_output_is_byte_identical_across_processes(args: tuple[str, ...]) -> None:
    def run(seed: int) -> bytes:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "nndiagram"), *args],
            cwd=DIAGRAMS,
            capture_output=True,
            timeout=300,
            env={**os.environ, "PYTHONHASHSEED": str(seed), "NO_COLOR": "1"},
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        return done.stdout

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(run, (3, 4))
    assert first == second and len(first) > 100


MKDOCS_YML = """\
site_name: determinism
theme:
  name: material
  font: false
plugins:
  - search
  - nndiagram:
      cache: false
markdown_extensions:
  - pymdownx.arithmatex:
      generic: true
  - pymdownx.superfences
"""
PAGE = """\
# Determinism

```nndiagram
spec: diagrams/xor.yaml
include: [diagram, equations, check, source]
```

```nndiagram
inputs: [x_0, x_1]
layers:
  - units: 2
    activation: {custom: "max(0.01*z, z)"}
  - units: 1
    activation: softmax
```

```activation
relu
```

```derivation
symbols:
  W0: [2, 2]
  W1: [1, 2]
  x: [2, 1]
steps:
  - W1*(W0*x)
  - (W1*W0)*x
```
"""


@pytest.mark.site
@pytest.mark.slow
def test_building_every_page_twice_gives_identical_bytes(tmp_path: Path) -> None:
    """Two builds (no cache, different hash seeds) of a site with every fence and a gallery."""
    import shutil

    from test_atomic_build import manifest

    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "diagrams").mkdir()
    (project / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    (project / "docs" / "index.md").write_text(PAGE, encoding="utf-8")
    for name in ("xor.yaml", "neuron.yaml", "not-fully-connected.yaml", "mnist-mlp.yaml"):
        shutil.copy(DIAGRAMS / name, project / "diagrams" / name)

    def build(seed: int) -> dict[str, str]:
        site = tmp_path / f"site-{seed}"
        done = subprocess.run(
            [str(Path(sys.executable).parent / "mkdocs"), "build", "-d", str(site)],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONHASHSEED": str(seed), "SOURCE_DATE_EPOCH": "1700000000"},
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return manifest(site)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(build, (5, 6))
    assert len(first) > 20 and "gallery/xor/index.html" in first
    differ = sorted(
        name for name in first.keys() | second.keys() if first.get(name) != second.get(name)
    )
    assert differ == []
