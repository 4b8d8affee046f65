"""Product photos of synthetic articles, drawn from their attributes.

A garment outline (silhouette) filled with the article's colour and pattern, on an off-white
background like the real H&M photos, in a 2:3 portrait frame. Each product code also has a
hidden `style` (0..N_STYLES-1), recorded in no metadata column and visible only in the image
as an emblem on the garment: none, a disc, a triangle or a cross, in a colour that contrasts
with the garment, with a thin ring of the opposite contrast.

Shapes are defined on a 100 x 150 canvas and drawn at twice the output size, then reduced,
for smooth edges.
"""
from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from hm_lib.progress import bar
from hm_lib.schema import image_relpath
from hm_lib.synthetic.vocab import PATTERNS, SILHOUETTES

N_STYLES = 4
STYLE_NAMES: tuple[str, ...] = ("plain", "disc", "triangle", "cross")
BACKGROUND_TOP = (251, 250, 248)
BACKGROUND_BOTTOM = (243, 242, 240)
_SUPERSAMPLE = 2

Point = tuple[float, float]
Array = np.ndarray
Rng = np.random.Generator
# ("poly", pts) | ("ellipse", box) | ("rrect", box, radius) | ("line", pts, width)
# | ("arc", box, start_deg, end_deg, width), in canvas units
Part = tuple


@dataclass(frozen=True)
class _Shape:
    parts: tuple[Part, ...]                 # filled with the garment texture
    details: tuple[tuple[Point, ...], ...]  # seams, hems, pockets: darker polylines
    anchor: Point                           # centre of the style emblem
    emblem: float = 18.0                    # emblem size in canvas units
    trims: tuple[tuple[Part, tuple[int, int, int]], ...] = ()  # parts in a fixed colour (soles, buckles)


def _sym(*right: Point) -> tuple[Point, ...]:
    """Closed outline symmetric about x = 50 from its right half (top centre to bottom centre)."""
    return tuple(right) + tuple((100 - x, y) for x, y in reversed(right))


def _mirror(*lines: tuple[Point, ...]) -> tuple[tuple[Point, ...], ...]:
    """The lines and their mirror images about x = 50."""
    return tuple(lines) + tuple(tuple((100 - x, y) for x, y in line) for line in lines)


def _shift(points: tuple[Point, ...], dx: float, dy: float) -> tuple[Point, ...]:
    return tuple((x + dx, y + dy) for x, y in points)


def _half_ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 16) -> tuple[Point, ...]:
    a = np.linspace(np.pi, 2 * np.pi, n)
    return tuple((float(cx + rx * np.cos(t)), float(cy + ry * np.sin(t))) for t in a)


_SOLE, _DARK, _METAL = (236, 234, 228), (42, 38, 36), (168, 168, 172)
_LONGSLEEVE = _sym((50, 33), (58, 26), (71, 29), (80, 40), (88, 108), (79, 110), (73, 57), (74, 122),
                   (50, 122))
_CUFFS = _mirror(((87.4, 102), (78.4, 104)))
_SOCK = ((34, 20), (52, 20), (52, 92), (70, 104), (75, 112), (70, 122), (58, 124), (40, 116), (34, 104))

_SHAPES: dict[str, _Shape] = {
    "top": _Shape(
        (("poly", _sym((50, 34), (58, 27), (70, 30), (89, 45), (81, 56), (73, 49), (74, 120), (50, 121))),),
        ((((43, 29), (50, 36.5), (57, 29)), ((27, 115), (73, 115))) + _mirror(((86.5, 43), (78.5, 54)))),
        (50, 72), 20),
    "vest": _Shape(
        (("poly", _sym((50, 42), (56, 22), (63, 22), (66, 40), (72, 52), (72, 122), (50, 122))),),
        (((28, 117), (72, 117)),), (50, 82), 20),
    "longsleeve": _Shape(
        (("poly", _LONGSLEEVE),),
        (((43, 28.5), (50, 35.5), (57, 28.5)), ((27, 116), (73, 116))) + _CUFFS, (50, 72), 20),
    "hoodie": _Shape(
        (("ellipse", (35, 8, 65, 40)), ("poly", _LONGSLEEVE)),
        (((42, 31), (44, 18), (50, 15), (56, 18), (58, 31)), ((46, 36), (45, 54)), ((54, 36), (55, 54)),
         ((35, 90), (65, 90), (69, 110), (31, 110), (35, 90)), ((27, 116), (73, 116))) + _CUFFS,
        (50, 68), 18),
    "jacket": _Shape(
        (("poly", _sym((50, 30), (57, 25), (72, 28), (81, 40), (89, 110), (80, 112), (74, 58), (76, 124),
                       (50, 124))),),
        (((50, 52), (50, 124)), ((43, 27), (50, 52), (57, 27)), ((29, 98), (41, 98)), ((59, 98), (71, 98)))
        + _mirror(((88.4, 104), (79.4, 106))), (64, 72), 17),
    "coat": _Shape(
        (("poly", _sym((50, 30), (57, 23), (72, 26), (82, 38), (89, 114), (80, 116), (75, 58), (79, 140),
                       (50, 140))),),
        (((50, 56), (50, 140)), ((42, 24), (50, 56), (58, 24)), ((25, 84), (75, 84)), ((29, 104), (41, 104)),
         ((59, 104), (71, 104))), (63, 68), 17),
    "trousers": _Shape(
        (("poly", _sym((50, 14), (72, 14), (78, 140), (56, 140), (50, 54))),),
        (((28, 21), (72, 21)), ((52, 21), (52, 40), (50, 46))) + _mirror(((64, 21), (71, 34))),
        (63, 70), 17),
    "shorts": _Shape(
        (("poly", _sym((50, 40), (72, 40), (77, 94), (55, 96), (50, 80))),),
        (((28, 46), (72, 46)),) + _mirror(((64, 46), (71, 58)), ((55.3, 91), (76.6, 89))), (62, 70), 16),
    "skirt": _Shape(
        (("poly", _sym((50, 30), (67, 30), (84, 118), (50, 121))),),
        (((33, 37), (67, 37)), ((18, 113), (82, 113))), (50, 78), 20),
    "dress": _Shape(
        (("poly", _sym((50, 28), (57, 14), (63, 14), (66, 32), (68, 44), (63, 62), (84, 140), (50, 142))),),
        (((37, 62), (63, 62)),), (50, 92), 20),
    "jumpsuit": _Shape(
        (("poly", _sym((50, 26), (57, 14), (64, 14), (76, 22), (73, 34), (67, 31), (66, 62), (72, 140),
                       (54, 140), (50, 92))),),
        (((34, 62), (66, 62)), ((50, 26), (50, 62))), (50, 46), 16),
    "bodysuit": _Shape(
        (("poly", _sym((50, 30), (57, 22), (68, 25), (82, 36), (77, 46), (70, 42), (70, 92), (62, 104),
                       (56, 112), (50, 112))),),
        (((43, 23.5), (50, 32.5), (57, 23.5)),) + _mirror(((68, 94), (61, 104), (55, 109))), (50, 66), 18),
    "bra": _Shape(
        (("poly", _sym((50, 76), (54, 64), (62, 56), (70, 56), (76, 64), (78, 80), (78, 92), (50, 90))),
         ("line", ((64, 57), (65, 28)), 2.5), ("line", ((36, 57), (35, 28)), 2.5)),
        (((22, 82), (78, 82)),), (64, 70), 14),
    "swim_top": _Shape(
        (("poly", ((52, 80), (63, 56), (75, 80))), ("poly", ((48, 80), (37, 56), (25, 80))),
         ("line", ((12, 80), (88, 80)), 2.5), ("line", ((63, 57), (56, 34), (44, 34), (37, 57)), 2)),
        (), (63, 72), 14),
    "briefs": _Shape(
        (("poly", _sym((50, 58), (78, 58), (76, 70), (62, 88), (56, 98), (50, 98))),),
        (((22, 63), (78, 63)),), (50, 75), 16),
    "swimsuit": _Shape(
        (("poly", _sym((50, 34), (56, 16), (62, 16), (66, 38), (68, 52), (64, 74), (70, 100), (60, 110),
                       (54, 116), (50, 116))),),
        (), (50, 70), 18),
    "socks": _Shape(
        (("poly", _shift(_SOCK, 14, 4)), ("poly", _SOCK)),
        (((34, 30), (52, 30)), ((52, 34), (66, 34)), _SOCK + (_SOCK[0],)), (43, 62), 14),
    "tights": _Shape(
        (("poly", _sym((50, 10), (74, 10), (72, 40), (66, 96), (64, 128), (68, 140), (56, 142), (55, 128),
                       (53, 60), (50, 46))),),
        (((26, 16), (74, 16)),), (60, 32), 15),
    "shoe": _Shape(
        (("poly", ((12, 100), (14, 90), (20, 76), (36, 72), (50, 64), (62, 60), (70, 66), (84, 80), (90, 88),
                   (90, 100))),),
        (((36, 72), (48, 74), (56, 66)), ((58, 64), (61, 71)), ((63, 63), (66, 70))),
        (40, 82), 15, ((("rrect", (11, 92, 91, 101), 2), _SOLE),)),
    "boot": _Shape(
        (("poly", ((30, 28), (56, 28), (58, 86), (74, 92), (82, 96), (86, 102), (87, 110), (86, 118),
                   (26, 118), (28, 90))),),
        (((30, 34), (56, 34)),), (43, 64), 16, ((("rrect", (25, 111, 88, 119), 1.5), _DARK),)),
    "sandal": _Shape(
        (("poly", ((12, 104), (30, 100), (70, 98), (88, 100), (88, 108), (12, 110))),
         ("line", ((24, 102), (34, 84), (46, 101)), 4), ("line", ((50, 100), (62, 82), (74, 99)), 4),
         ("line", ((28, 96), (20, 80)), 3)),
        (((12, 106), (88, 104)),), (48, 90), 14),
    "bag": _Shape(
        (("arc", (32, 36, 68, 84), 180, 360, 4), ("poly", ((22, 62), (78, 62), (82, 120), (18, 120)))),
        (((22, 70), (78, 70)), ((46, 70), (46, 78), (54, 78), (54, 70))), (50, 96), 18),
    "hat": _Shape(
        (("ellipse", (10, 76, 90, 96)), ("poly", ((30, 86), (33, 54), (50, 48), (67, 54), (70, 86)))),
        (), (50, 64), 16, ((("poly", ((31.2, 74), (68.8, 74), (69.5, 82), (30.5, 82))), _DARK),)),
    "beanie": _Shape(
        (("ellipse", (24, 38, 76, 100)), ("rrect", (22, 84, 78, 104), 3), ("ellipse", (42, 26, 58, 42))),
        (((22, 86), (78, 86)),) + tuple(((x, 88), (x, 102)) for x in range(28, 76, 6)), (50, 64), 16),
    "cap": _Shape(
        (("poly", _half_ellipse(46, 88, 26, 30)), ("poly", ((60, 86), (92, 90), (90, 96), (60, 94)))),
        (((46, 58), (46, 88)), ((20, 88), (72, 88))), (40, 76), 15),
    "scarf": _Shape(
        (("poly", ((36, 14), (64, 14), (66, 128), (34, 128))),),
        (((36, 40), (64, 52)),) + tuple(((x, 128), (x, 138)) for x in range(36, 66, 4)), (50, 84), 18),
    "gloves": _Shape(
        (("rrect", (35, 30, 42.5, 66), 3.5), ("rrect", (43, 22, 50.5, 66), 3.5),
         ("rrect", (51, 24, 58.5, 66), 3.5), ("rrect", (59, 32, 66, 66), 3.5),
         ("rrect", (34, 56, 67, 112), 6),
         ("poly", ((35, 74), (22, 60), (17, 64), (30, 92))), ("rrect", (33, 106, 68, 128), 2)),
        (((33, 108), (68, 108)),), (50, 86), 16),
    "belt": _Shape(
        (("rrect", (6, 68, 94, 80), 2),),
        (), (56, 74), 15, ((("line", ((10, 63), (24, 63), (24, 85), (10, 85), (10, 63)), 2.2), _METAL),
                           (("line", ((17, 63), (17, 85)), 1.6), _METAL))),
    "jewellery": _Shape(
        (("arc", (20, 14, 80, 100), 15, 165, 3.5), ("ellipse", (40, 92, 60, 116))),
        (((50, 95), (50, 113)),), (50, 70), 14),
    "sunglasses": _Shape(
        (("ellipse", (12, 64, 46, 92)), ("ellipse", (54, 64, 88, 92)),
         ("line", ((44, 72), (50, 69), (56, 72)), 2.5), ("line", ((13, 70), (4, 66)), 2.5),
         ("line", ((87, 70), (96, 66)), 2.5)),
        (), (29, 78), 14),
    "umbrella": _Shape(
        (("poly", ((44, 20), (56, 20), (61, 106), (50, 118), (39, 106))),),
        (((40, 70), (60, 72)), ((50, 22), (50, 116))), (50, 50), 15,
        ((("line", ((50, 114), (50, 134)), 4), _DARK), (("arc", (44, 128, 56, 140), 0, 180, 3), _DARK))),
    "small_item": _Shape(
        (("rrect", (28, 46, 72, 112), 8),),
        (((32, 56), (68, 56)),), (50, 84), 18),
}
assert set(_SHAPES) == set(SILHOUETTES), "every silhouette of the vocabulary needs a shape"


# ---------------------------------------------------------------------------------------------
# Colours and textures
# ---------------------------------------------------------------------------------------------

def _luma(rgb: np.ndarray) -> float:
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def _second_colour(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A colour that reads against `base`: a lighter or darker shade, white, navy, red..."""
    luma = _luma(base)
    if luma < 90:
        options = (base + (255 - base) * 0.6, np.array([246, 244, 238]), np.array([222, 200, 168]),
                   np.array([196, 40, 44]))
    elif luma > 190:
        options = (base * 0.45, np.array([30, 40, 82]), np.array([26, 26, 28]), np.array([196, 40, 44]))
    else:
        options = (base + (255 - base) * 0.55, base * 0.45, np.array([246, 244, 238]), np.array([30, 40, 82]))
    return np.asarray(options[rng.integers(len(options))], dtype=np.float32)


@lru_cache(maxsize=8)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy, xx


@lru_cache(maxsize=8)
def _backdrop(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(background RGB, lighting multiplier) of an h x w canvas."""
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    bg = np.asarray(BACKGROUND_TOP, np.float32) * (1 - t) + np.asarray(BACKGROUND_BOTTOM, np.float32) * t
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    light = 1.04 - 0.10 * x ** 2 - 0.05 * t[..., 0]
    return np.broadcast_to(bg, (h, w, 3)).copy(), light


def _fill(mask: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Colour b where mask (broadcast to the canvas), a elsewhere."""
    return np.where(mask[..., None], b, a).astype(np.float32)


Texture = Callable[[Array, int, int, float, Rng, Point], Array]


def _solid(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    return np.broadcast_to(base, (h, w, 3)).astype(np.float32)


def _stripes(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    yy, xx = _grid(h, w)
    period = rng.uniform(7, 14) * u
    duty = rng.uniform(0.3, 0.55)
    coord = xx[:1] if rng.random() < 0.2 else yy[:, :1]
    stripe = ((coord + rng.uniform(0, period)) % period) < period * duty
    return np.broadcast_to(_fill(stripe, base, _second_colour(base, rng)), (h, w, 3)).copy()


def _dots(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    yy, xx = _grid(h, w)
    p = rng.uniform(8, 13) * u
    r = rng.uniform(0.17, 0.27) * p
    row = np.floor(yy / p)
    dx = ((xx + (row % 2) * p / 2) % p) - p / 2
    dy = (yy % p) - p / 2
    return _fill(dx * dx + dy * dy < r * r, base, _second_colour(base, rng))


def _check(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    yy, xx = _grid(h, w)
    p = rng.uniform(9, 17) * u
    sx = (((xx[:1] + rng.uniform(0, p)) % p) < p / 2).astype(np.float32)
    sy = (((yy[:, :1] + rng.uniform(0, p)) % p) < p / 2).astype(np.float32)
    a = ((sx + sy) / 2)[..., None]
    return (base * (1 - a) + _second_colour(base, rng) * a).astype(np.float32)


def _melange(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    streak = np.repeat(rng.standard_normal((h, w // 4 + 1)).astype(np.float32), 4, axis=1)[:, :w]
    fine = rng.standard_normal((h, w)).astype(np.float32)
    amp = 0.08 * base + 10
    return base + amp * (0.7 * streak + 0.6 * fine)[..., None]


def _denim(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    yy, xx = _grid(h, w)
    twill = np.sin((xx + yy) * (2 * np.pi / (2.4 * u)))
    slub = np.repeat(rng.standard_normal((1, w // 2 + 1)).astype(np.float32), 2, axis=1)[:, :w]
    fade = np.exp(-(((yy / h) - rng.uniform(0.35, 0.6)) / 0.2) ** 2)
    flecks = rng.random((h, w), dtype=np.float32) > 0.985
    tex = base * (1 + 0.10 * twill + 0.05 * slub)[..., None] + (30 * fade + 45 * flecks)[..., None]
    return tex.astype(np.float32)


def _print(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    """All-over print: small flowers, leaves or confetti on a jittered grid."""
    img = Image.new("RGB", (w, h), tuple(int(c) for c in base))
    draw = ImageDraw.Draw(img)
    c1 = tuple(int(c) for c in _second_colour(base, rng))
    c2 = tuple(int(c) for c in _second_colour(base, rng))
    cell = rng.uniform(13, 20) * u
    kind = int(rng.integers(3))
    ny, nx = int(h / cell) + 2, int(w / cell) + 2
    jitter = rng.uniform(-0.3, 0.3, (ny, nx, 2)) * cell
    s = cell * 0.16
    for i in range(ny):
        for j in range(nx):
            cx = (j + 0.5 * (i % 2)) * cell + jitter[i, j, 0]
            cy = i * cell + jitter[i, j, 1]
            if kind == 0:  # flower
                for a in range(5):
                    px, py = cx + 1.6 * s * np.cos(a * 1.2566), cy + 1.6 * s * np.sin(a * 1.2566)
                    draw.ellipse((px - s, py - s, px + s, py + s), fill=c1)
                draw.ellipse((cx - s * 0.7, cy - s * 0.7, cx + s * 0.7, cy + s * 0.7), fill=c2)
            elif kind == 1:  # leaves
                draw.ellipse((cx - 2.6 * s, cy - s, cx, cy + s), fill=c1)
                draw.ellipse((cx, cy - 0.4 * s, cx + 2.2 * s, cy + 1.4 * s), fill=c2)
            else:  # leopard spots: a blob and a bite out of it
                draw.ellipse((cx - 2 * s, cy - 1.4 * s, cx + 2 * s, cy + 1.4 * s), fill=c1)
                draw.ellipse((cx - 1.2 * s, cy - 0.7 * s, cx + 1.4 * s, cy + 0.9 * s), fill=c2)
    return np.asarray(img, dtype=np.float32)


def _placement(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    """A front print: a block with text-like bars, below the emblem position."""
    img = Image.new("RGB", (w, h), tuple(int(c) for c in base))
    draw = ImageDraw.Draw(img)
    c0 = tuple(int(c) for c in base)
    c1 = tuple(int(c) for c in _second_colour(base, rng))
    cx, cy = spot
    bw, bh = rng.uniform(24, 34) * u, rng.uniform(12, 18) * u
    x0, y0 = cx - bw / 2, cy + 12 * u
    draw.rectangle((x0, y0, x0 + bw, y0 + bh), fill=c1)
    lines = int(rng.integers(2, 4))
    for k in range(lines):
        ly = y0 + (k + 0.6) * bh / (lines + 0.2)
        lw = bw * rng.uniform(0.5, 0.85)
        draw.rectangle((cx - lw / 2, ly - 1.2 * u, cx + lw / 2, ly + 1.2 * u), fill=c0)
    return np.asarray(img, dtype=np.float32)


def _lace(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    yy, xx = _grid(h, w)
    p = rng.uniform(6, 9) * u
    dx, dy = (xx % p) - p / 2, (yy % p) - p / 2
    d = np.sqrt(dx * dx + dy * dy)
    ring = np.abs(d - 0.3 * p) < 0.07 * p
    hole = d < 0.14 * p
    light = base + (255 - base) * 0.45
    tex = np.where(ring[..., None], base * 0.75, base).astype(np.float32)
    return np.where(hole[..., None], light, tex).astype(np.float32)


def _blocks(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    yy, xx = _grid(h, w)
    if rng.random() < 0.7:
        split = yy[:, :1] > h * rng.uniform(0.42, 0.6)
    else:
        split = xx[:1] > w * rng.uniform(0.45, 0.55)
    return np.broadcast_to(_fill(split, base, _second_colour(base, rng)), (h, w, 3)).copy()


def _sheen(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    yy, xx = _grid(h, w)
    g = np.sin((xx + 0.6 * yy) * (2 * np.pi / (rng.uniform(50, 80) * u)) + rng.uniform(0, 6.3))
    sparkle = rng.random((h, w), dtype=np.float32) > 0.975
    glow = 40 * (g > 0.3) + 70 * sparkle
    return (base * (0.85 + 0.3 * g)[..., None] + glow[..., None]).astype(np.float32)


def _argyle(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    yy, xx = _grid(h, w)
    p = rng.uniform(18, 26) * u
    q = 1.4 * p
    diamond = (np.abs((xx % p) - p / 2) / (p / 2) + np.abs((yy % q) - q / 2) / (q / 2)) < 1
    alt = ((np.floor(xx / p) + np.floor(yy / q)) % 2) == 0
    c2 = _second_colour(base, rng)
    tex = np.where((diamond & alt)[..., None], c2, base)
    tex = np.where((diamond & ~alt)[..., None], (base + c2) / 2, tex)
    line = np.abs(((xx + yy * p / q) % p) - p / 2) < 0.5 * u
    return np.where(line[..., None], base + (255 - base) * 0.5, tex).astype(np.float32)


def _rib(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    yy, xx = _grid(h, w)
    rib = np.sin(xx[:1] * (2 * np.pi / (2.6 * u)))
    slub = np.repeat(rng.standard_normal((h, w // 6 + 1)).astype(np.float32), 6, axis=1)[:, :w]
    return (base * (1 + 0.09 * rib)[..., None] + (8 * rib + 6 * slub)[..., None]).astype(np.float32)


def _mesh(base: Array, h: int, w: int, u: float, rng: Rng, spot: Point) -> Array:
    yy, xx = _grid(h, w)
    p = 4.5 * u
    row = np.floor(yy / p)
    dx = ((xx + (row % 2) * p / 2) % p) - p / 2
    dy = (yy % p) - p / 2
    hole = dx * dx + dy * dy < (1.3 * u) ** 2
    return np.where(hole[..., None], base + (255 - base) * 0.6, base).astype(np.float32)


_TEXTURES: dict[str, Texture] = {
    "solid": _solid, "stripes": _stripes, "dots": _dots, "check": _check, "melange": _melange,
    "denim": _denim, "print": _print, "placement": _placement, "lace": _lace, "blocks": _blocks,
    "sheen": _sheen, "argyle": _argyle, "rib": _rib, "mesh": _mesh,
}
assert set(_TEXTURES) == set(PATTERNS), "every pattern of the vocabulary needs a texture"


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------

def _draw_part(draw: ImageDraw.ImageDraw, part: Part, tf: Callable[[float, float], Point], unit: float,
               fill: int | tuple[int, ...]) -> None:
    kind = part[0]
    if kind == "poly":
        draw.polygon([tf(x, y) for x, y in part[1]], fill=fill)
    elif kind == "line":
        width = max(1, round(part[2] * unit))
        draw.line([tf(x, y) for x, y in part[1]], fill=fill, width=width, joint="curve")
    else:
        x0, y0, x1, y1 = part[1]
        box = (*tf(x0, y0), *tf(x1, y1))
        if kind == "ellipse":
            draw.ellipse(box, fill=fill)
        elif kind == "rrect":
            draw.rounded_rectangle(box, radius=part[2] * unit, fill=fill)
        else:  # arc
            draw.arc(box, part[2], part[3], fill=fill, width=max(1, round(part[4] * unit)))


def _draw_emblem(draw: ImageDraw.ImageDraw, style: int, cx: float, cy: float, r: float,
                 fill: tuple[int, int, int], ring: tuple[int, int, int], ring_w: float) -> None:
    """The style mark: a disc (1), a triangle (2) or a cross (3), ringed in the opposite contrast."""
    for colour, rr in ((ring, r + ring_w), (fill, r)):
        if style == 1:
            draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=colour)
        elif style == 2:
            k = rr * 1.15
            draw.polygon([(cx, cy - k), (cx + 0.95 * k, cy + 0.7 * k), (cx - 0.95 * k, cy + 0.7 * k)],
                         fill=colour)
        elif style == 3:
            arm = 0.42 * r + (rr - r)
            draw.rectangle((cx - rr, cy - arm, cx + rr, cy + arm), fill=colour)
            draw.rectangle((cx - arm, cy - rr, cx + arm, cy + rr), fill=colour)


def _erode(m: np.ndarray, r: int) -> np.ndarray:
    out = m
    for axis in (0, 1):
        for shift in (r, -r):
            out = np.minimum(out, np.roll(m, shift, axis=axis))
    return out


def draw_article(silhouette: str, rgb: tuple[int, int, int], pattern: str, style: int,
                 size: tuple[int, int] = (128, 192), seed: int = 0) -> Image.Image:
    """An RGB product photo of `size` (width, height): `silhouette` in colour `rgb` with `pattern`,
    marked with the hidden `style`.

    `seed` (>= 0) sets a small jitter of position and scale and the pattern's phase and second
    colours: pass the article id, so colour variants of one product code look alike but differ.
    Deterministic: the same arguments give the same pixels.
    """
    if silhouette not in _SHAPES:
        raise ValueError(f"unknown silhouette {silhouette!r}; choose one of {', '.join(SILHOUETTES)}")
    if pattern not in _TEXTURES:
        raise ValueError(f"unknown pattern {pattern!r}; choose one of {', '.join(PATTERNS)}")
    if not 0 <= style < N_STYLES:
        raise ValueError(f"style must be in 0..{N_STYLES - 1}, got {style}")
    shape = _SHAPES[silhouette]
    rng = np.random.default_rng(seed)
    w, h = size[0] * _SUPERSAMPLE, size[1] * _SUPERSAMPLE
    sx, sy = w / 100, h / 150
    zoom = rng.uniform(0.94, 1.04)
    dx, dy = rng.uniform(-3, 3, 2)
    unit = zoom * min(sx, sy)

    def tf(x: float, y: float) -> Point:
        return (50 + (x - 50) * zoom + dx) * sx, (75 + (y - 75) * zoom + dy) * sy

    mask_img = Image.new("L", (w, h), 0)
    mask_draw = ImageDraw.Draw(mask_img)
    for part in shape.parts:
        _draw_part(mask_draw, part, tf, unit, 255)
    mask = np.asarray(mask_img, dtype=np.float32) / 255

    base = np.asarray(rgb, dtype=np.float32)
    anchor = tf(*shape.anchor)
    tex = _TEXTURES[pattern](base, h, w, unit, rng, anchor)
    bg, light = _backdrop(h, w)
    edge = mask - _erode(mask, _SUPERSAMPLE)
    tex = tex * (light * (1 - 0.35 * edge))[..., None]
    out = bg + (tex - bg) * mask[..., None]
    img = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "RGB")

    draw = ImageDraw.Draw(img)
    line_colour = tuple(int(c) for c in (base * 0.6 if _luma(base) > 60 else base + 50))
    line_width = max(1, round(0.9 * unit))
    for line in shape.details:
        draw.line([tf(x, y) for x, y in line], fill=line_colour, width=line_width, joint="curve")
    for part, colour in shape.trims:
        _draw_part(draw, part, tf, unit, colour)
    r = shape.emblem / 2 * unit * rng.uniform(0.92, 1.08)
    ex, ey = anchor[0] + rng.uniform(-1.5, 1.5) * unit, anchor[1] + rng.uniform(-1.5, 1.5) * unit
    if style:
        # Contrast with what lies under the emblem (pattern and background included).
        under = out[max(0, int(ey - r)):int(ey + r) + 1, max(0, int(ex - r)):int(ex + r) + 1]
        light_c, dark_c = (246, 246, 242), (24, 24, 28)
        dark_under = _luma(under.reshape(-1, 3).mean(axis=0)) < 140
        fill, ring = (light_c, dark_c) if dark_under else (dark_c, light_c)
        _draw_emblem(draw, style, ex, ey, r, fill, ring, 1.2 * unit)
    return img.reduce(_SUPERSAMPLE)


# ---------------------------------------------------------------------------------------------
# Writing many images
# ---------------------------------------------------------------------------------------------

_Task = tuple[int, str, tuple[int, int, int], str, int, int]


def _as_task(row: Mapping[str, Any]) -> _Task:
    rgb = row["rgb"] if "rgb" in row else (row["r"], row["g"], row["b"])
    r, g, b = (int(c) for c in rgb)
    return (int(row["article_id"]), str(row["silhouette"]), (r, g, b), str(row["pattern"]),
            int(row["style"]), int(row["seed"]))


def _write_chunk(args: tuple[list[_Task], str, tuple[int, int], int]) -> int:
    tasks, out_dir, size, quality = args
    for article_id, silhouette, rgb, pattern, style, seed in tasks:
        img = draw_article(silhouette, rgb, pattern, style, size, seed)
        img.save(Path(out_dir) / image_relpath(article_id), "JPEG", quality=quality)
    return len(tasks)


def write_images(rows: Iterable[Mapping[str, Any]] | Any, out_dir: str | Path,
                 size: tuple[int, int] = (128, 192), quality: int = 90, workers: int = 2,
                 progress: bool = True) -> int:
    """Draw and save one JPEG per row to out_dir/images/0xx/0xxxxxxxxx.jpg; return the count.

    `rows`: a polars DataFrame (or an iterable of mappings) with columns article_id (int),
    silhouette (str), r, g, b (ints 0..255; or one `rgb` column of 3-tuples), pattern (str),
    style (int, 0..N_STYLES-1) and seed (int >= 0, e.g. the article id). Files are
    byte-identical for the same inputs, whatever `workers`; `workers` <= 1 draws in-process.
    """
    iterator = rows.iter_rows(named=True) if hasattr(rows, "iter_rows") else rows
    tasks = [_as_task(row) for row in iterator]
    out = Path(out_dir)
    for folder in {image_relpath(t[0]).rsplit("/", 1)[0] for t in tasks}:
        (out / folder).mkdir(parents=True, exist_ok=True)
    chunk = max(16, min(500, len(tasks) // (max(1, workers) * 16) or 1))
    frame = (int(size[0]), int(size[1]))
    jobs = [(tasks[i:i + chunk], str(out), frame, quality) for i in range(0, len(tasks), chunk)]
    with bar(total=len(tasks), desc="images", unit="img", disable=not progress) as progress_bar:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                progress_bar.update(_write_chunk(job))
        else:
            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            with mp.get_context(method).Pool(workers) as pool:
                for n in pool.imap_unordered(_write_chunk, jobs):
                    progress_bar.update(n)
    return len(tasks)
