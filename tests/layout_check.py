"""A layout checker for the SVG that Graphviz's ``dot`` writes: what a reader would catch.

It reads nodes (ellipses, polygons, their text), edges (the path, the arrowhead, the label's
text runs) and measures every text run with the DejaVu fonts Graphviz uses (matplotlib ships
them), then reports:

- ``text_overlaps``: two text boxes (of different nodes or labels) that overlap;
- ``text_on_node``: a text box that overlaps a node it does not belong to;
- ``label_on_arrow``: an edge label that overlaps an arrowhead;
- ``foreign_nearest``: an edge label whose nearest edge is another edge;
- ``far_labels``: an edge label farther from its own edge than ``FAR`` points;
- ``crossed_labels``: an edge label that another edge's line passes through (a softer
  measure, reported for comparing layouts).

All coordinates are SVG points, as Graphviz writes them.
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"
SLACK = 0.75  # points two boxes may share before they count as overlapping (anti-aliasing)
FAR = 14.0  # an edge label's centre must lie this close to its own edge (points)

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@cache
def _font(family: str, italic: bool):  # type: ignore[no-untyped-def]
    import matplotlib
    from PIL import ImageFont

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    serif = "serif" in family.lower().split(",")[0].lower() or "Serif" in family.split(",")[0]
    name = "DejaVuSerif" if serif else "DejaVuSans"
    name += "-Oblique" if italic and not serif else "-Italic" if italic else ""
    return ImageFont.truetype(str(folder / f"{name}.ttf"), 100)


def text_width(text: str, family: str, size: float, italic: bool = False) -> float:
    return float(_font(family, italic).getlength(text)) * size / 100


@dataclass
class Shape:
    """A node's outline: an ellipse or a polygon (box3d is several; we keep their hull box)."""

    ellipse: tuple[float, float, float, float] | None = None  # cx, cy, rx, ry
    polygon: list[tuple[float, float]] = field(default_factory=list)

    def overlaps(self, box: Box) -> bool:
        if self.ellipse is not None:
            cx, cy, rx, ry = self.ellipse
            # nearest point of the box to the centre, in the ellipse's unit frame
            nx = min(max(cx, box[0] + SLACK), box[2] - SLACK)
            ny = min(max(cy, box[1] + SLACK), box[3] - SLACK)
            return ((nx - cx) / rx) ** 2 + ((ny - cy) / ry) ** 2 < 1
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return _boxes_overlap(box, (min(xs), min(ys), max(xs), max(ys)))


@dataclass
class Item:
    kind: str  # "node" or "edge"
    title: str
    texts: list[Box] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)
    path: list[tuple[float, float]] = field(default_factory=list)  # sampled edge line
    arrows: list[Box] = field(default_factory=list)
    patches: list[Box] = field(default_factory=list)  # backgrounds drawn under label text

    @property
    def label_box(self) -> Box | None:
        if not self.texts:
            return None
        return (
            min(b[0] for b in self.texts),
            min(b[1] for b in self.texts),
            max(b[2] for b in self.texts),
            max(b[3] for b in self.texts),
        )


def _boxes_overlap(a: Box, b: Box) -> bool:
    return (
        a[0] < b[2] - SLACK and b[0] < a[2] - SLACK and a[1] < b[3] - SLACK and b[1] < a[3] - SLACK
    )


def _text_box(el: ET.Element) -> Box | None:
    content = "".join(el.itertext())
    if not content.strip():
        return None
    size = float(el.get("font-size", "14"))
    family = el.get("font-family", "Times")
    italic = el.get("font-style") == "italic"
    width = text_width(content.replace("\xa0", " "), family, size, italic)
    x, y = float(el.get("x", "0")), float(el.get("y", "0"))
    anchor = el.get("text-anchor", "start")
    x0 = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
    shift = el.get("baseline-shift")
    base = size / 0.72 if shift else size  # scripts are drawn at 0.72 of the label's size
    if shift == "super":
        y -= 0.35 * base
    elif shift == "sub":
        y += 0.2 * base
    # DejaVu: ascent of capitals/ascenders ~0.76 em, descent ~0.24 em
    return (x0, y - 0.76 * size, x0 + width, y + 0.24 * size)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def _points(text: str) -> list[tuple[float, float]]:
    nums = [float(n) for n in _NUMBER.findall(text)]
    return list(zip(nums[0::2], nums[1::2], strict=False))


def _sample_path(d: str) -> list[tuple[float, float]]:
    """Graphviz writes ``M x,y C x1,y1 x2,y2 x3,y3 …``: sample each cubic Bézier piece."""
    pts = _points(d)
    if not pts:
        return []
    out = [pts[0]]
    for i in range(1, len(pts) - 2, 3):
        p0, p1, p2, p3 = out[-1], pts[i], pts[i + 1], pts[i + 2]
        for s in range(1, 13):
            t = s / 12
            u = 1 - t
            out.append(
                (
                    u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                    u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
                )
            )
    return out


def parse_svg(svg: bytes | str) -> list[Item]:
    root = ET.fromstring(svg)
    items: list[Item] = []
    for group in root.iter(f"{SVG}g"):
        # "node", "edge", or either with the view's own classes after it ("edge skip add")
        kind = (group.get("class") or "").split(" ")[0]
        if kind not in ("node", "edge"):
            continue
        title_el = group.find(f"{SVG}title")
        item = Item(kind, "".join(title_el.itertext()) if title_el is not None else "")
        for el in group.iter():
            tag = el.tag.removeprefix(SVG)
            if tag == "text":
                box = _text_box(el)
                if box is not None:
                    item.texts.append(box)
            elif kind == "node" and tag == "ellipse":
                c = (float(el.get(k, "0")) for k in ("cx", "cy", "rx", "ry"))
                item.shapes.append(Shape(ellipse=tuple(c)))  # type: ignore[arg-type]
            elif kind == "node" and tag == "polygon":
                if el.get("stroke") in ("transparent", "none") and el.get("fill") in (
                    "none",
                    "transparent",
                ):
                    continue  # an invisible outline (plaintext node)
                item.shapes.append(Shape(polygon=_points(el.get("points", ""))))
            elif kind == "edge" and tag == "path":
                item.path += _sample_path(el.get("d", ""))
            elif kind == "edge" and tag == "polygon":
                pts = _points(el.get("points", ""))
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                box = (min(xs), min(ys), max(xs), max(ys))
                if el.get("stroke") == "transparent":  # a label's background patch
                    item.patches.append(box)
                else:
                    item.arrows.append(box)
        items.append(item)
    return items


def _distance_to_path(point: tuple[float, float], path: list[tuple[float, float]]) -> float:
    best = math.inf
    px, py = point
    for (ax, ay), (bx, by) in itertools.pairwise(path):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
        best = min(best, math.hypot(px - ax - t * dx, py - ay - t * dy))
    if len(path) == 1:
        best = math.hypot(px - path[0][0], py - path[0][1])
    return best


def _segment_hits_box(a: tuple[float, float], b: tuple[float, float], box: Box) -> bool:
    """Liang–Barsky clipping of segment ab against the box shrunk by SLACK."""
    x0, y0, x1, y1 = box[0] + SLACK, box[1] + SLACK, box[2] - SLACK, box[3] - SLACK
    if x0 >= x1 or y0 >= y1:
        return False
    dx, dy = b[0] - a[0], b[1] - a[1]
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return True


@dataclass
class Report:
    text_overlaps: list[tuple[str, str]] = field(default_factory=list)
    text_on_node: list[tuple[str, str]] = field(default_factory=list)
    label_on_arrow: list[tuple[str, str]] = field(default_factory=list)
    foreign_nearest: list[tuple[str, str]] = field(default_factory=list)
    far_labels: list[tuple[str, float]] = field(default_factory=list)
    crossed_labels: list[tuple[str, str]] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0

    @property
    def problems(self) -> list[str]:
        """Everything the tests assert (``crossed_labels`` is only measured)."""
        out = [f"text of {a} overlaps text of {b}" for a, b in self.text_overlaps]
        out += [f"text of {a} overlaps node {b}" for a, b in self.text_on_node]
        out += [f"label of {a} overlaps the arrowhead of {b}" for a, b in self.label_on_arrow]
        out += [f"label of {a} is nearer to edge {b}" for a, b in self.foreign_nearest]
        out += [f"label of {a} is {d:.0f} pt from its edge" for a, d in self.far_labels]
        return out


def check(svg: bytes | str) -> Report:
    items = parse_svg(svg)
    report = Report()
    root = ET.fromstring(svg)
    view = [float(v) for v in root.get("viewBox", "0 0 0 0").split()]
    report.width, report.height = view[2], view[3]
    boxes: list[tuple[Item, Box]] = []
    for item in items:
        if item.kind == "edge":
            box = item.label_box
            if box is not None:
                boxes.append((item, box))
        else:
            boxes += [(item, b) for b in item.texts]
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            if a is not b and _boxes_overlap(box_a, box_b):
                report.text_overlaps.append((a.title, b.title))
    nodes = [item for item in items if item.kind == "node"]
    edges = [item for item in items if item.kind == "edge" and item.path]
    for owner, box in boxes:
        for node in nodes:
            if node is not owner and any(s.overlaps(box) for s in node.shapes):
                report.text_on_node.append((owner.title, node.title))
    for edge in edges:
        box = edge.label_box
        if box is None:
            continue
        centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        for other in edges:
            if any(_boxes_overlap(box, arrow) for arrow in other.arrows):
                report.label_on_arrow.append((edge.title, other.title))
        own = _distance_to_path(centre, edge.path)
        # A label stands beside its edge: measure from the box's nearest side too.
        half = (box[3] - box[1]) / 2
        if own > FAR + half:
            report.far_labels.append((edge.title, own))
        for other in edges:
            if other is edge:
                continue
            if _distance_to_path(centre, other.path) < own:
                report.foreign_nearest.append((edge.title, other.title))
                break
        for other in edges:
            if other is edge:
                continue
            if any(_segment_hits_box(p, q, box) for p, q in itertools.pairwise(other.path)):
                report.crossed_labels.append((edge.title, other.title))
    return report


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:]:
        r = check(Path(name).read_bytes())
        print(
            f"{name}: {r.width:.0f}x{r.height:.0f} problems={len(r.problems)} "
            f"crossed={len(r.crossed_labels)}"
        )
        for p in r.problems[:8]:
            print("   ", p)
