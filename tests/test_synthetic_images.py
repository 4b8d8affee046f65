"""hm_lib.synthetic.vocab and hm_lib.synthetic.images: vocabulary integrity, drawing, writing."""
from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image

from hm_lib import schema
from hm_lib.synthetic import vocab
from hm_lib.synthetic.images import N_STYLES, draw_article, write_images

SMALL = (64, 96)
REAL_GROUP_SHARE = {"Garment Upper body": 0.405, "Garment Lower body": 0.188, "Garment Full body": 0.126,
                    "Accessories": 0.106}
INDEX_CODES = {ix.index_code for ix in vocab.INDEXES}


def _diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


# --- vocabulary -------------------------------------------------------------------------------

def test_vocab_sizes_and_unique_codes() -> None:
    assert 120 <= len(vocab.PRODUCT_TYPES) <= 140
    assert len(vocab.GRAPHICAL_APPEARANCES) == 30
    assert len(vocab.COLOURS) == 50
    assert len(vocab.INDEXES) == 10
    assert 50 <= len(vocab.SECTIONS) <= 60
    assert len(vocab.GARMENT_GROUPS) == 21
    assert len(vocab.PRODUCT_GROUPS) == 19
    for rows, key in ((vocab.PRODUCT_TYPES, "product_type_no"), (vocab.PRODUCT_TYPES, "product_type_name"),
                      (vocab.GRAPHICAL_APPEARANCES, "graphical_appearance_no"),
                      (vocab.COLOURS, "colour_group_code"), (vocab.COLOURS, "colour_group_name"),
                      (vocab.INDEXES, "index_code"), (vocab.SECTIONS, "section_no"),
                      (vocab.GARMENT_GROUPS, "garment_group_no")):
        values = [getattr(r, key) for r in rows]
        assert len(set(values)) == len(values), key


def test_real_codes_where_known() -> None:
    types = {t.product_type_no: t.product_type_name for t in vocab.PRODUCT_TYPES}
    assert (types[252], types[272], types[265], types[306]) == ("Sweater", "Trousers", "Dress", "Bra")
    colours = {c.colour_group_code: c.colour_group_name for c in vocab.COLOURS}
    assert colours[9] == "Black" and colours[73] == "Dark Blue" and colours[-1] == "Unknown"
    graph = {g.graphical_appearance_no: g.graphical_appearance_name for g in vocab.GRAPHICAL_APPEARANCES}
    assert graph[1010016] == "Solid" and graph[-1] == "Unknown"
    assert {ix.index_group_no for ix in vocab.INDEXES} == {1, 2, 3, 4, 26}


def test_product_type_fields() -> None:
    garment_groups = {g.garment_group_no for g in vocab.GARMENT_GROUPS}
    assert {t.product_group_name for t in vocab.PRODUCT_TYPES} == set(vocab.PRODUCT_GROUPS)
    for t in vocab.PRODUCT_TYPES:
        assert t.garment_group_no in garment_groups, t
        assert t.silhouette in vocab.SILHOUETTES, t
        assert t.season in (None, *vocab.SEASONS), t
        assert 0.1 < t.price_level < 4 and t.weight > 0, t
        assert t.audiences and set(t.audiences) <= INDEX_CODES, t


def test_weights_sum_to_one() -> None:
    for rows in (vocab.PRODUCT_TYPES, vocab.GRAPHICAL_APPEARANCES, vocab.COLOURS, vocab.INDEXES):
        assert sum(r.weight for r in rows) == pytest.approx(1.0)
    for code in INDEX_CODES:
        assert sum(s.weight for s in vocab.SECTIONS if s.index_code == code) == pytest.approx(1.0)


def test_product_group_shares_match_the_real_catalogue() -> None:
    share = Counter()
    for t in vocab.PRODUCT_TYPES:
        share[t.product_group_name] += t.weight
    # The same shares when an index is drawn first, then a type allowed in it (as the catalogue does).
    implied = Counter()
    type_w = np.array([t.weight for t in vocab.PRODUCT_TYPES])
    for ix in vocab.INDEXES:
        w = type_w * np.array([ix.index_code in t.audiences for t in vocab.PRODUCT_TYPES])
        for t, p in zip(vocab.PRODUCT_TYPES, w / w.sum()):
            implied[t.product_group_name] += ix.weight * p
    for group, real in REAL_GROUP_SHARE.items():
        assert share[group] == pytest.approx(real, abs=0.01), group
        assert implied[group] == pytest.approx(real, abs=0.03), group


def test_headline_shares() -> None:
    colours = {c.colour_group_name: c.weight for c in vocab.COLOURS}
    assert colours["Black"] == pytest.approx(0.21, abs=0.02)
    assert colours["Dark Blue"] == pytest.approx(0.12, abs=0.02)
    solid = next(g for g in vocab.GRAPHICAL_APPEARANCES if g.graphical_appearance_name == "Solid")
    assert solid.weight == pytest.approx(0.47, abs=0.02)
    groups = Counter()
    for ix in vocab.INDEXES:
        groups[ix.index_group_name] += ix.weight
    assert groups["Baby/Children"] == pytest.approx(0.33, abs=0.03) and groups["Sport"] == pytest.approx(0.03)
    for c in vocab.COLOURS:
        assert len(c.rgb) == 3 and all(0 <= v <= 255 for v in c.rgb)


def test_sections_cover_indexes_and_types() -> None:
    sections = {code: [s for s in vocab.SECTIONS if s.index_code == code] for code in INDEX_CODES}
    assert all(sections.values()), "every index code has a section"
    for s in vocab.SECTIONS:
        assert s.product_groups and set(s.product_groups) <= set(vocab.PRODUCT_GROUPS), s
    for t in vocab.PRODUCT_TYPES:  # every type can be sold by a section of each of its indexes
        for code in t.audiences:
            sells = [s for s in sections[code] if t.product_group_name in s.product_groups]
            assert sells, (t.product_type_name, code)
    for s in vocab.SECTIONS:  # and every group a section sells has a type for its index
        for group in s.product_groups:
            assert any(t.product_group_name == group and s.index_code in t.audiences
                       for t in vocab.PRODUCT_TYPES), (s.section_name, group)


def test_garment_group_rules() -> None:
    reachable = set()
    for t, ga, code in itertools.product(vocab.PRODUCT_TYPES, ("Solid", "Denim"), sorted(INDEX_CODES)):
        if code in t.audiences:
            reachable.add(vocab.garment_group(t.product_type_no, ga, code))
    assert reachable == {g.garment_group_no for g in vocab.GARMENT_GROUPS}
    assert vocab.garment_group(272, "Denim", "A") == 1016
    assert vocab.garment_group(265, "Solid", "H") == 1014
    assert vocab.garment_group(306, "Denim", "B") == 1017


def test_departments() -> None:
    garment_groups = [g.garment_group_no for g in vocab.GARMENT_GROUPS]
    names_by_no: dict[int, set[str]] = {}
    for s, group, gg in itertools.product(vocab.SECTIONS, vocab.PRODUCT_GROUPS, garment_groups):
        no, name = vocab.department(s.section_no, group, gg)  # any combination is accepted
        assert 1000 <= no <= 9999 and name
        names_by_no.setdefault(no, set()).add(name)
    assert all(len(names) == 1 for names in names_by_no.values()), "one name per department number"
    feasible = {vocab.department(s.section_no, t.product_group_name,
                                 vocab.garment_group(t.product_type_no, ga, s.index_code))
                for s in vocab.SECTIONS for t in vocab.PRODUCT_TYPES for ga in ("Solid", "Denim")
                if s.index_code in t.audiences and t.product_group_name in s.product_groups}
    assert 200 <= len(feasible) <= 320


def test_names_and_descriptions_are_deterministic() -> None:
    types = np.array([t.product_type_name for t in vocab.PRODUCT_TYPES])
    colours = np.array([vocab.COLOURS[i % 50].colour_group_name for i in range(types.size)])
    graph = np.array([vocab.GRAPHICAL_APPEARANCES[i % 30].graphical_appearance_name
                      for i in range(types.size)])
    names = vocab.product_names(np.random.default_rng(7), types)
    assert names == vocab.product_names(np.random.default_rng(7), types)
    assert len(names) == types.size and all(n.strip() for n in names)
    assert len(set(names)) > 0.8 * types.size
    descs = vocab.detail_descs(np.random.default_rng(7), types, colours, graph)
    assert descs == vocab.detail_descs(np.random.default_rng(7), types, colours, graph)
    assert len(descs) == types.size and all(d[0].isupper() and d.endswith(".") for d in descs)


# --- images -----------------------------------------------------------------------------------

def test_every_referenced_silhouette_and_pattern_is_drawable() -> None:
    assert {t.silhouette for t in vocab.PRODUCT_TYPES} == set(vocab.SILHOUETTES)
    assert {g.pattern for g in vocab.GRAPHICAL_APPEARANCES} == set(vocab.PATTERNS)


@pytest.mark.parametrize("silhouette", vocab.SILHOUETTES)
def test_every_silhouette_and_style_draws(silhouette: str) -> None:
    for style in range(N_STYLES):
        img = draw_article(silhouette, (200, 40, 60), "solid", style, SMALL, seed=style)
        assert img.size == SMALL and img.mode == "RGB"
        pixels = np.asarray(img)
        assert pixels[0, 0].min() > 235, "off-white background in the corner"
        assert (np.abs(pixels.astype(int) - (200, 40, 60)).sum(axis=2) < 60).mean() > 0.01, "garment is drawn"


@pytest.mark.parametrize("pattern", vocab.PATTERNS)
def test_every_pattern_draws(pattern: str) -> None:
    img = draw_article("longsleeve", (28, 38, 74), pattern, 1, (128, 192), seed=3)
    assert img.size == (128, 192) and img.mode == "RGB"
    if pattern != "solid":  # the pattern changes the garment
        assert _diff(img, draw_article("longsleeve", (28, 38, 74), "solid", 1, (128, 192), seed=3)) > 0.5


def test_drawing_is_deterministic() -> None:
    args = ("dress", (244, 200, 204), "print", 2, (128, 192))
    assert draw_article(*args, seed=11).tobytes() == draw_article(*args, seed=11).tobytes()
    other = draw_article(*args, seed=12)
    assert 0 < _diff(draw_article(*args, seed=11), other), "the seed jitters the image"


@pytest.mark.parametrize("silhouette,rgb,pattern", [
    ("top", (24, 24, 26), "solid"), ("trousers", (250, 250, 248), "stripes"),
    ("shoe", (52, 92, 170), "denim"),
    ("bag", (200, 176, 140), "check"), ("bra", (244, 200, 204), "lace"), ("dress", (198, 24, 36), "dots"),
])
def test_styles_give_different_images(silhouette: str, rgb: tuple[int, int, int], pattern: str) -> None:
    images = [draw_article(silhouette, rgb, pattern, style, SMALL, seed=5) for style in range(N_STYLES)]
    for a, b in itertools.combinations(images, 2):
        assert _diff(a, b) > 0.3


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        draw_article("cape", (0, 0, 0), "solid", 0)
    with pytest.raises(ValueError):
        draw_article("top", (0, 0, 0), "paisley", 0)
    with pytest.raises(ValueError):
        draw_article("top", (0, 0, 0), "solid", N_STYLES)


def _rows(n: int) -> pl.DataFrame:
    ids = [108775015 + 1000 * i + i % 7 for i in range(n)] + [959462001]
    k = len(ids)
    return pl.DataFrame({
        "article_id": ids, "silhouette": [vocab.SILHOUETTES[i % len(vocab.SILHOUETTES)] for i in range(k)],
        **{channel: [vocab.COLOURS[i % 50].rgb[c] for i in range(k)] for c, channel in enumerate("rgb")},
        "pattern": [vocab.PATTERNS[i % len(vocab.PATTERNS)] for i in range(k)],
        "style": [i % N_STYLES for i in range(k)], "seed": ids,
    })


def test_write_images_paths_and_determinism(tmp_path: Path) -> None:
    rows = _rows(60)
    assert write_images(rows, tmp_path / "a", workers=2, progress=False) == rows.height
    assert write_images(rows.to_dicts(), tmp_path / "b", workers=1, progress=False) == rows.height
    files = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*.jpg"))
    assert files == sorted(schema.image_relpath(a) for a in rows["article_id"])
    assert "images/095/0959462001.jpg" in files
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    with Image.open(tmp_path / "a" / files[0]) as img:
        assert img.format == "JPEG" and img.size == (128, 192) and img.mode == "RGB"


def test_write_images_accepts_an_rgb_column(tmp_path: Path) -> None:
    rows = [{"article_id": 108775015, "silhouette": "skirt", "rgb": (72, 92, 170), "pattern": "check",
             "style": 3, "seed": 1}]
    assert write_images(rows, tmp_path, size=SMALL, workers=2, progress=False) == 1
    with Image.open(tmp_path / schema.image_relpath(108775015)) as img:
        assert img.size == SMALL
