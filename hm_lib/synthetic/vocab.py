"""Category vocabularies of the synthetic H&M catalogue, modelled on the real articles.csv.

Codes and names follow the real file (product types 252 Sweater, 272 Trousers...; graphical
appearances 1010016 Solid...; colour groups 09 Black...; indexes A..J and S; garment groups
1001..1025). Each row also carries latent attributes the simulation and the image drawer use
(silhouette, season, price level, weight, audiences, pattern, rgb): they never reach the CSV.

Weights are shares of articles: product-type weights sum to 1 and reproduce the real product
groups' shares (Upper body 40.5%, Lower body 18.8%, Full body 12.6%, Accessories 10.6%...).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SILHOUETTES: tuple[str, ...] = (
    "top", "vest", "longsleeve", "hoodie", "jacket", "coat", "trousers", "shorts", "skirt", "dress",
    "jumpsuit", "bodysuit", "bra", "briefs", "swimsuit", "swim_top", "socks", "tights", "shoe", "boot",
    "sandal", "bag", "hat", "beanie", "cap", "scarf", "gloves", "belt", "jewellery", "sunglasses",
    "umbrella", "small_item",
)
PATTERNS: tuple[str, ...] = (
    "solid", "stripes", "dots", "check", "melange", "denim", "print", "placement", "lace", "blocks",
    "sheen", "argyle", "rib", "mesh",
)
SEASONS: tuple[str, ...] = ("summer", "winter")

# Articles per product group in the real catalogue (105,542 articles).
GROUP_ARTICLES: dict[str, int] = {
    "Garment Upper body": 42741, "Garment Lower body": 19812, "Garment Full body": 13292,
    "Accessories": 11158, "Underwear": 5490, "Shoes": 5283, "Swimwear": 3127, "Socks & Tights": 2442,
    "Nightwear": 1899, "Unknown": 121, "Underwear/nightwear": 54, "Cosmetic": 49, "Bags": 25,
    "Items": 17, "Furniture": 13, "Garment and Shoe care": 9, "Stationery": 5, "Interior textile": 3,
    "Fun": 2,
}
PRODUCT_GROUPS: tuple[str, ...] = tuple(GROUP_ARTICLES)


@dataclass(frozen=True, slots=True)
class GarmentGroup:
    garment_group_no: int
    garment_group_name: str


@dataclass(frozen=True, slots=True)
class ProductType:
    product_type_no: int
    product_type_name: str
    product_group_name: str
    garment_group_no: int
    silhouette: str             # one of SILHOUETTES
    season: str | None          # "summer", "winter" or None
    price_level: float          # relative price multiplier, about 1.0
    weight: float               # share of articles (sums to 1 over PRODUCT_TYPES)
    audiences: tuple[str, ...]  # index codes it can appear in


@dataclass(frozen=True, slots=True)
class GraphicalAppearance:
    graphical_appearance_no: int
    graphical_appearance_name: str
    pattern: str                # one of PATTERNS
    weight: float               # share of articles


@dataclass(frozen=True, slots=True)
class Colour:
    colour_group_code: int
    colour_group_name: str
    rgb: tuple[int, int, int]
    perceived_colour_value_id: int
    perceived_colour_value_name: str
    perceived_colour_master_id: int
    perceived_colour_master_name: str
    weight: float               # share of articles


@dataclass(frozen=True, slots=True)
class Index:
    index_code: str
    index_name: str
    index_group_no: int
    index_group_name: str
    weight: float               # share of articles
    audience: str               # "women", "young", "men", "kids" or "sport"
    shopper_age: float          # typical age of the buyer (parents for kids' indexes)


@dataclass(frozen=True, slots=True)
class Section:
    section_no: int
    section_name: str
    index_code: str
    product_groups: tuple[str, ...]  # product groups the section sells
    weight: float                    # share of its index's articles


GARMENT_GROUPS: tuple[GarmentGroup, ...] = tuple(GarmentGroup(no, name) for no, name in (
    (1001, "Unknown"), (1002, "Jersey Basic"), (1003, "Knitwear"), (1005, "Jersey Fancy"),
    (1006, "Woven/Jersey/Knitted mix Baby"), (1007, "Outdoor"), (1008, "Dressed"), (1009, "Trousers"),
    (1010, "Blouses"), (1011, "Shirts"), (1012, "Skirts"), (1013, "Dresses Ladies"),
    (1014, "Dresses/Skirts girls"), (1016, "Trousers Denim"), (1017, "Under-, Nightwear"),
    (1018, "Swimwear"), (1019, "Accessories"), (1020, "Shoes"), (1021, "Socks and Tights"),
    (1023, "Special Offers"), (1025, "Shorts"),
))

_UP, _LO, _FU = "Garment Upper body", "Garment Lower body", "Garment Full body"
_AC, _UW, _SH, _SW, _ST, _NW = "Accessories", "Underwear", "Shoes", "Swimwear", "Socks & Tights", "Nightwear"
_S, _W = "summer", "winter"

# no, name, group, garment group, silhouette, season, price level, real-like article count, indexes
_TYPE_ROWS: tuple[tuple, ...] = (
    (252, "Sweater", _UP, 1003, "longsleeve", _W, 1.3, 9302, "ADFGHIS"),
    (255, "T-shirt", _UP, 1002, "top", None, 0.7, 7904, "ADFGHIS"),
    (258, "Blouse", _UP, 1010, "longsleeve", None, 1.2, 3979, "ADHI"),
    (254, "Top", _UP, 1005, "top", None, 0.9, 4155, "ADGHIS"),
    (262, "Jacket", _UP, 1007, "jacket", None, 1.9, 3940, "ADFGHIS"),
    (259, "Shirt", _UP, 1011, "longsleeve", None, 1.2, 3405, "ADFHI"),
    (253, "Vest top", _UP, 1002, "vest", _S, 0.6, 2991, "ADFHIS"),
    (308, "Hoodie", _UP, 1005, "hoodie", None, 1.2, 2356, "ADFHIS"),
    (245, "Cardigan", _UP, 1003, "jacket", _W, 1.3, 1550, "ADFGHI"),
    (263, "Blazer", _UP, 1008, "jacket", None, 2.0, 1110, "ADF"),
    (256, "Bodysuit", _UP, 1002, "bodysuit", None, 0.7, 913, "ADG"),
    (264, "Coat", _UP, 1007, "coat", _W, 2.6, 460, "ADFHI"),
    (257, "Polo shirt", _UP, 1005, "top", _S, 1.0, 449, "DFHI"),
    (266, "Outdoor Waistcoat", _UP, 1007, "vest", _W, 1.7, 200, "ADFHI"),
    (261, "Tailored Waistcoat", _UP, 1008, "vest", None, 1.5, 73, "AF"),
    (272, "Trousers", _LO, 1009, "trousers", None, 1.3, 11169, "ADFGHIS"),
    (274, "Shorts", _LO, 1025, "shorts", _S, 0.9, 3939, "ADFGHIS"),
    (275, "Skirt", _LO, 1012, "skirt", None, 1.1, 2696, "ADHI"),
    (273, "Leggings/Tights", _LO, 1002, "tights", None, 0.7, 1878, "ADGHIS"),
    (276, "Outdoor trousers", _LO, 1007, "trousers", _W, 1.5, 200, "GHIS"),
    (265, "Dress", _FU, 1013, "dress", _S, 1.5, 10362, "ABDGHI"),
    (270, "Garment Set", _FU, 1006, "jumpsuit", None, 1.2, 1320, "GHI"),
    (267, "Jumpsuit/Playsuit", _FU, 1013, "jumpsuit", _S, 1.4, 1147, "ADGHI"),
    (271, "Dungarees", _FU, 1009, "jumpsuit", None, 1.3, 300, "ADGH"),
    (269, "Outdoor overall", _FU, 1007, "jumpsuit", _W, 2.0, 250, "GH"),
    (277, "Costumes", _FU, 1005, "jumpsuit", None, 1.3, 100, "GH"),
    (75, "Hat/beanie", _AC, 1019, "beanie", _W, 0.6, 1349, "CDFJS"),
    (66, "Bag", _AC, 1019, "bag", None, 1.2, 1280, "CDFJ"),
    (70, "Earring", _AC, 1019, "jewellery", None, 0.4, 1159, "CD"),
    (78, "Other accessories", _AC, 1019, "small_item", None, 0.5, 1034, "CDFJ"),
    (80, "Scarf", _AC, 1019, "scarf", _W, 0.8, 1013, "CDFJ"),
    (74, "Hair/alice band", _AC, 1019, "small_item", None, 0.3, 854, "CDJ"),
    (81, "Sunglasses", _AC, 1019, "sunglasses", _S, 0.6, 621, "CDFJ"),
    (77, "Necklace", _AC, 1019, "jewellery", None, 0.5, 581, "CD"),
    (69, "Cap/peaked", _AC, 1019, "cap", _S, 0.6, 573, "CDFJS"),
    (67, "Belt", _AC, 1019, "belt", None, 0.6, 458, "CDFJ"),
    (76, "Hat/brim", _AC, 1019, "hat", _S, 0.8, 396, "CDFJ"),
    (71, "Gloves", _AC, 1019, "gloves", _W, 0.6, 367, "CDFJS"),
    (72, "Hair clip", _AC, 1019, "small_item", None, 0.3, 244, "CDJ"),
    (79, "Ring", _AC, 1019, "jewellery", None, 0.3, 240, "CD"),
    (73, "Hair string", _AC, 1019, "small_item", None, 0.3, 238, "CDJ"),
    (68, "Bracelet", _AC, 1019, "jewellery", None, 0.4, 180, "CD"),
    (82, "Tie", _AC, 1019, "scarf", None, 0.7, 141, "F"),
    (84, "Wallet", _AC, 1019, "small_item", None, 0.7, 77, "CDF"),
    (85, "Watch", _AC, 1019, "jewellery", None, 1.2, 73, "CF"),
    (512, "Beanie", _AC, 1019, "beanie", _W, 0.6, 56, "CFJ"),
    (513, "Cap", _AC, 1019, "cap", None, 0.6, 50, "CFJ"),
    (510, "Straw hat", _AC, 1019, "hat", _S, 0.8, 30, "CJ"),
    (83, "Umbrella", _AC, 1019, "umbrella", None, 0.8, 26, "CF"),
    (523, "Waterbottle", _AC, 1019, "small_item", None, 0.5, 25, "CS"),
    (86, "Earrings", _AC, 1019, "jewellery", None, 0.4, 22, "C"),
    (499, "Braces", _AC, 1019, "belt", None, 0.6, 20, "F"),
    (515, "Hair ties", _AC, 1019, "small_item", None, 0.3, 20, "CJ"),
    (521, "Dog Wear", _AC, 1019, "small_item", None, 0.8, 20, "C"),
    (511, "Bucket hat", _AC, 1019, "hat", _S, 0.7, 15, "CDJ"),
    (519, "Giftbox", _AC, 1023, "small_item", None, 0.8, 15, "CF"),
    (509, "Felt hat", _AC, 1019, "hat", _W, 1.0, 10, "CF"),
    (518, "Accessories set", _AC, 1023, "small_item", None, 0.6, 7, "CJ"),
    (516, "Alice band", _AC, 1019, "small_item", None, 0.3, 6, "CJ"),
    (520, "Keychain", _AC, 1019, "small_item", None, 0.3, 5, "CF"),
    (522, "Baby Bib", _AC, 1019, "small_item", None, 0.4, 3, "GJ"),
    (514, "Eyeglasses", _AC, 1019, "sunglasses", None, 0.6, 2, "C"),
    (517, "Hairband", _AC, 1019, "small_item", None, 0.3, 2, "C"),
    (94, "Sneakers", _SH, 1020, "shoe", None, 1.6, 1621, "CFJS"),
    (87, "Boots", _SH, 1020, "boot", _W, 2.3, 1100, "CFJ"),
    (89, "Other shoe", _SH, 1020, "shoe", None, 1.5, 1000, "CFJ"),
    (91, "Sandals", _SH, 1020, "sandal", _S, 1.3, 700, "CFJ"),
    (95, "Ballerinas", _SH, 1020, "shoe", None, 1.2, 400, "CJ"),
    (90, "Pumps", _SH, 1020, "shoe", None, 1.7, 350, "C"),
    (93, "Slippers", _SH, 1020, "shoe", _W, 0.8, 330, "CFJ"),
    (97, "Heeled sandals", _SH, 1020, "sandal", _S, 1.7, 300, "C"),
    (88, "Flat shoe", _SH, 1020, "shoe", None, 1.4, 240, "CJ"),
    (96, "Flip flop", _SH, 1020, "sandal", _S, 0.6, 230, "CFJ"),
    (99, "Heels", _SH, 1020, "shoe", None, 1.8, 200, "C"),
    (100, "Bootie", _SH, 1020, "boot", _W, 2.0, 200, "C"),
    (98, "Wedge", _SH, 1020, "sandal", _S, 1.6, 100, "C"),
    (102, "Pre-walkers", _SH, 1020, "shoe", None, 0.8, 100, "J"),
    (101, "Moccasins", _SH, 1020, "shoe", None, 1.3, 40, "F"),
    (103, "Flat shoes", _SH, 1020, "shoe", None, 1.4, 30, "C"),
    (59, "Swimwear bottom", _SW, 1018, "briefs", _S, 0.7, 1307, "BDFJ"),
    (57, "Swimsuit", _SW, 1018, "swimsuit", _S, 1.4, 900, "BDJS"),
    (298, "Bikini top", _SW, 1018, "swim_top", _S, 0.9, 850, "BDJ"),
    (58, "Swimwear set", _SW, 1018, "swim_top", _S, 1.3, 60, "BJ"),
    (60, "Swimwear top", _SW, 1018, "swim_top", _S, 1.0, 40, "B"),
    (62, "Sarong", _SW, 1018, "skirt", _S, 0.9, 30, "B"),
    (286, "Underwear bottom", _UW, 1017, "briefs", None, 0.5, 2748, "ABDFGHI"),
    (306, "Bra", _UW, 1017, "bra", None, 1.0, 2212, "ABDIS"),
    (307, "Kids Underwear top", _UW, 1017, "vest", None, 0.5, 200, "HI"),
    (288, "Underwear body", _UW, 1017, "bodysuit", None, 1.0, 180, "B"),
    (290, "Underwear set", _UW, 1017, "bra", None, 1.1, 60, "BI"),
    (287, "Long John", _UW, 1017, "tights", _W, 0.8, 40, "FHI"),
    (285, "Underdress", _UW, 1017, "dress", None, 1.0, 20, "B"),
    (289, "Underwear corset", _UW, 1017, "bra", None, 1.3, 10, "B"),
    (291, "Bra extender", _UW, 1017, "small_item", None, 0.2, 5, "B"),
    (292, "Nipple covers", _UW, 1017, "small_item", None, 0.3, 5, "B"),
    (302, "Socks", _ST, 1021, "socks", None, 0.4, 1889, "ABDFGHIS"),
    (304, "Underwear Tights", _ST, 1021, "tights", _W, 0.6, 546, "ABGHI"),
    (303, "Leg warmers", _ST, 1021, "socks", _W, 0.5, 7, "BI"),
    (297, "Pyjama set", _NW, 1017, "jumpsuit", None, 1.1, 1000, "ABFGHI"),
    (296, "Pyjama bottom", _NW, 1017, "trousers", None, 0.8, 300, "BFHI"),
    (295, "Pyjama jumpsuit/playsuit", _NW, 1017, "jumpsuit", None, 1.0, 250, "BGH"),
    (294, "Night gown", _NW, 1017, "dress", None, 1.0, 200, "B"),
    (293, "Robe", _NW, 1017, "coat", _W, 1.5, 150, "BF"),
    (-1, "Unknown", "Unknown", 1001, "small_item", None, 1.0, 121, "ADFH"),
    (305, "Sleep Bag", "Underwear/nightwear", 1017, "dress", _W, 1.2, 30, "G"),
    (309, "Sleeping sack", "Underwear/nightwear", 1017, "dress", None, 1.2, 24, "G"),
    (484, "Chem. cosmetics", "Cosmetic", 1019, "small_item", None, 0.4, 30, "CD"),
    (485, "Fine cosmetics", "Cosmetic", 1019, "small_item", None, 0.6, 19, "C"),
    (486, "Backpack", "Bags", 1019, "bag", None, 1.4, 8, "CDFJS"),
    (487, "Shoulder bag", "Bags", 1019, "bag", None, 1.3, 5, "CD"),
    (488, "Tote bag", "Bags", 1019, "bag", None, 0.9, 4, "CD"),
    (489, "Weekend/Gym bag", "Bags", 1019, "bag", None, 1.5, 3, "FS"),
    (490, "Bumbag", "Bags", 1019, "bag", None, 1.0, 3, "CDF"),
    (491, "Cross-body bag", "Bags", 1019, "bag", None, 1.2, 2, "CD"),
    (493, "Mobile case", "Items", 1019, "small_item", None, 0.6, 6, "CD"),
    (494, "Wash bag", "Items", 1023, "bag", None, 0.7, 5, "CF"),
    (492, "Wireless earphone case", "Items", 1019, "small_item", None, 0.6, 4, "CD"),
    (495, "Zipper head", "Items", 1019, "small_item", None, 0.2, 2, "C"),
    (496, "Side table", "Furniture", 1001, "small_item", None, 3.0, 13, "C"),
    (500, "Clothing mist", "Garment and Shoe care", 1019, "small_item", None, 0.5, 3, "C"),
    (501, "Stain remover spray", "Garment and Shoe care", 1019, "small_item", None, 0.5, 3, "CF"),
    (502, "Sewing kit", "Garment and Shoe care", 1019, "small_item", None, 0.5, 3, "C"),
    (503, "Marker pen", "Stationery", 1019, "small_item", None, 0.2, 5, "CJ"),
    (504, "Towel", "Interior textile", 1001, "small_item", None, 1.0, 1, "C"),
    (505, "Blanket", "Interior textile", 1001, "small_item", _W, 1.5, 1, "CG"),
    (506, "Cushion", "Interior textile", 1001, "small_item", None, 1.0, 1, "C"),
    (507, "Toy", "Fun", 1019, "small_item", None, 0.6, 1, "GJ"),
    (508, "Soft Toys", "Fun", 1019, "small_item", None, 0.6, 1, "GJ"),
)


def _product_types() -> tuple[ProductType, ...]:
    """Rows of _TYPE_ROWS with weights rescaled so each product group keeps its real share."""
    group_total: dict[str, float] = {}
    for row in _TYPE_ROWS:
        group_total[row[2]] = group_total.get(row[2], 0) + row[7]
    n_real = sum(GROUP_ARTICLES.values())
    return tuple(
        ProductType(no, name, group, gg, sil, season, price,
                    GROUP_ARTICLES[group] / n_real * count / group_total[group], tuple(codes))
        for no, name, group, gg, sil, season, price, count, codes in _TYPE_ROWS
    )


PRODUCT_TYPES: tuple[ProductType, ...] = _product_types()


def _normalised(rows: tuple[tuple, ...], cls: type, weight_at: int) -> tuple:
    total = sum(r[weight_at] for r in rows)
    return tuple(cls(*r[:weight_at], r[weight_at] / total, *r[weight_at + 1:]) for r in rows)


GRAPHICAL_APPEARANCES: tuple[GraphicalAppearance, ...] = _normalised((
    (1010016, "Solid", "solid", 49747), (1010001, "All over pattern", "print", 17165),
    (1010010, "Melange", "melange", 5938), (1010017, "Stripe", "stripes", 4990),
    (1010023, "Denim", "denim", 4842), (1010008, "Front print", "placement", 3215),
    (1010005, "Colour blocking", "blocks", 1830), (1010014, "Placement print", "placement", 1513),
    (1010019, "Lace", "lace", 1513), (1010013, "Other pattern", "print", 1502),
    (1010026, "Other structure", "rib", 1502), (1010002, "Application/3D", "placement", 1322),
    (1010004, "Check", "check", 1289), (1010006, "Dot", "dots", 1211),
    (1010007, "Embroidery", "lace", 1041), (1010011, "Metallic", "sheen", 1023),
    (1010012, "Mixed solid/pattern", "blocks", 1019), (1010022, "Jacquard", "argyle", 830),
    (1010009, "Glittering/Metallic", "sheen", 616), (1010020, "Contrast", "blocks", 362),
    (1010018, "Treatment", "melange", 304), (1010021, "Transparent", "mesh", 268),
    (1010024, "Chambray", "denim", 180), (1010003, "Argyle", "argyle", 158),
    (1010015, "Sequin", "sheen", 158), (1010027, "Mesh", "mesh", 103), (1010025, "Slub", "rib", 100),
    (1010029, "Neps", "melange", 73), (-1, "Unknown", "solid", 52), (1010028, "Hologram", "sheen", 12),
), GraphicalAppearance, 3)

_VALUES = {-1: "Unknown", 1: "Dusty Light", 2: "Medium Dusty", 3: "Light", 4: "Dark", 5: "Bright",
           6: "Undefined", 7: "Medium"}
_MASTERS = {-1: "Unknown", 1: "Mole", 2: "Blue", 3: "Orange", 4: "Pink", 5: "Black", 6: "Lilac Purple",
            7: "Turquoise", 8: "Yellow", 9: "White", 10: "Yellowish Green", 11: "Beige", 12: "Grey",
            13: "Brown", 14: "undefined", 15: "Metal", 17: "Bluish Green", 18: "Red", 19: "Green",
            20: "Khaki green"}
# code, name, rgb, perceived value id, perceived master id, real-like article count
_COLOUR_ROWS: tuple[tuple, ...] = (
    (9, "Black", (24, 24, 26), 4, 5, 22670), (73, "Dark Blue", (28, 38, 74), 4, 2, 12171),
    (10, "White", (250, 250, 248), 3, 9, 9542), (51, "Light Pink", (244, 200, 204), 1, 4, 5811),
    (7, "Grey", (150, 150, 152), 2, 12, 4487), (12, "Light Beige", (228, 210, 180), 1, 11, 3356),
    (72, "Blue", (52, 92, 170), 2, 2, 3308), (42, "Red", (198, 24, 36), 5, 18, 3056),
    (71, "Light Blue", (170, 200, 230), 1, 2, 3012), (19, "Greenish Khaki", (120, 118, 78), 2, 20, 2767),
    (8, "Dark Grey", (78, 78, 82), 4, 12, 2731), (11, "Off White", (240, 234, 218), 1, 9, 2726),
    (13, "Beige", (200, 176, 140), 2, 11, 2712), (43, "Dark Red", (118, 22, 36), 4, 18, 2340),
    (93, "Dark Green", (30, 72, 44), 4, 19, 2106), (6, "Light Grey", (202, 202, 204), 1, 12, 2105),
    (52, "Pink", (234, 118, 160), 5, 4, 2063), (17, "Yellowish Brown", (160, 108, 48), 2, 13, 1471),
    (5, "Gold", (212, 175, 55), 2, 15, 1377), (14, "Dark Beige", (150, 124, 92), 4, 1, 1237),
    (31, "Light Orange", (246, 182, 140), 1, 3, 1234), (15, "Greyish Beige", (172, 162, 146), 2, 1, 1180),
    (22, "Yellow", (246, 212, 40), 5, 8, 1100), (3, "Silver", (192, 194, 200), 2, 15, 1000),
    (53, "Dark Pink", (178, 48, 98), 2, 4, 900), (21, "Light Yellow", (250, 238, 160), 3, 8, 900),
    (33, "Dark Orange", (190, 86, 30), 4, 3, 900), (23, "Dark Yellow", (200, 160, 30), 2, 8, 860),
    (32, "Orange", (240, 122, 30), 5, 3, 800), (50, "Other Pink", (228, 132, 170), 7, 4, 700),
    (81, "Light Turquoise", (170, 226, 220), 1, 7, 700), (61, "Light Purple", (200, 182, 222), 1, 6, 700),
    (63, "Dark Purple", (70, 30, 82), 4, 6, 600), (91, "Light Green", (182, 220, 170), 1, 19, 600),
    (62, "Purple", (120, 60, 142), 2, 6, 500), (92, "Green", (60, 140, 70), 2, 19, 500),
    (40, "Other Red", (200, 62, 60), 7, 18, 500), (41, "Light Red", (230, 122, 120), 1, 18, 400),
    (82, "Turquoise", (30, 180, 180), 5, 7, 400), (83, "Dark Turquoise", (20, 98, 100), 4, 17, 300),
    (30, "Other Orange", (230, 140, 80), 7, 3, 300), (20, "Other Yellow", (222, 200, 92), 7, 8, 300),
    (60, "Other Purple", (150, 100, 170), 7, 6, 200), (70, "Other Blue", (70, 110, 180), 7, 2, 200),
    (4, "Bronze/Copper", (176, 110, 60), 2, 15, 170), (90, "Other Green", (140, 180, 80), 7, 10, 150),
    (80, "Other Turquoise", (60, 170, 170), 7, 7, 100), (1, "Other", (150, 122, 140), 6, 14, 60),
    (2, "Transparent", (226, 228, 232), 3, 9, 50), (-1, "Unknown", (128, 128, 128), -1, -1, 30),
)
COLOURS: tuple[Colour, ...] = _normalised(tuple(
    (code, name, rgb, v, _VALUES[v], m, _MASTERS[m], count) for code, name, rgb, v, m, count in _COLOUR_ROWS
), Colour, 7)

INDEXES: tuple[Index, ...] = tuple(Index(*row) for row in (
    ("A", "Ladieswear", 1, "Ladieswear", 0.235, "women", 38.0),
    ("B", "Lingeries/Tights", 1, "Ladieswear", 0.065, "women", 36.0),
    ("C", "Ladies Accessories", 1, "Ladieswear", 0.085, "women", 30.0),
    ("D", "Divided", 2, "Divided", 0.145, "young", 22.0),
    ("F", "Menswear", 3, "Menswear", 0.115, "men", 34.0),
    ("G", "Baby Sizes 50-98", 4, "Baby/Children", 0.085, "kids", 32.0),
    ("H", "Children Sizes 92-140", 4, "Baby/Children", 0.11, "kids", 36.0),
    ("I", "Children Sizes 134-170", 4, "Baby/Children", 0.09, "kids", 40.0),
    ("J", "Children Accessories, Swimwear", 4, "Baby/Children", 0.04, "kids", 36.0),
    ("S", "Sport", 26, "Sport", 0.03, "sport", 30.0),
))

_GARMENTS = (_UP, _LO, _FU)
_SECTION_ROWS: tuple[tuple, ...] = (
    (15, "Womens Everyday Collection", "A", _GARMENTS, 4.0),
    (16, "Womens Everyday Basics", "A", _GARMENTS, 2.5),
    (18, "Womens Trend", "A", _GARMENTS, 2.0),
    (6, "Womens Casual", "A", _GARMENTS, 1.5),
    (11, "Womens Tailoring", "A", _GARMENTS, 1.5),
    (19, "Womens Jackets", "A", (_UP,), 0.8),
    (3, "Womens Premium", "A", _GARMENTS, 0.6),
    (14, "Collaborations", "A", _GARMENTS, 0.3),
    (2, "H&M+", "A", _GARMENTS + (_UW,), 1.0),
    (8, "Mama", "A", _GARMENTS + (_UW, _NW, _ST), 0.8),
    (7, "Ladies Other", "A", ("Unknown",), 0.05),
    (61, "Womens Lingerie", "B", (_UW,), 3.0),
    (62, "Womens Nightwear, Socks & Tigh", "B", (_NW, _ST), 2.0),
    (60, "Womens Swimwear, beachwear", "B", (_SW, _FU), 1.5),
    (66, "Womens Small accessories", "C",
     (_AC, "Cosmetic", "Items", "Stationery", "Garment and Shoe care"), 3.0),
    (65, "Womens Big accessories", "C", (_AC, "Bags", "Furniture", "Interior textile"), 1.5),
    (64, "Womens Shoes", "C", (_SH,), 1.5),
    (53, "Divided Collection", "D", _GARMENTS, 4.0),
    (51, "Divided Basics", "D", _GARMENTS + (_ST,), 2.0),
    (57, "Ladies Denim", "D", _GARMENTS, 1.0),
    (58, "Divided Selected", "D", _GARMENTS, 1.0),
    (50, "Divided Projects", "D", _GARMENTS, 0.6),
    (49, "EQ Divided", "D", _GARMENTS, 0.3),
    (54, "Divided Asia keys", "D", (_UP, _LO), 0.2),
    (52, "Divided Accessories", "D", (_AC, "Bags", "Cosmetic", "Items"), 1.2),
    (56, "Divided Complements Other", "D", (_UW, _SW, "Unknown"), 0.8),
    (21, "Contemporary Casual", "F", (_UP, _LO), 2.0),
    (20, "Contemporary Smart", "F", (_UP, _LO), 1.5),
    (55, "Contemporary Street", "F", (_UP, _LO), 1.2),
    (23, "Men Suits & Tailoring", "F", (_UP, _LO), 1.0),
    (29, "Denim Men", "F", (_UP, _LO), 0.8),
    (31, "Mens Outerwear", "F", (_UP, _LO), 0.8),
    (25, "Men Accessories", "F", (_AC, "Bags", "Items", "Garment and Shoe care"), 1.2),
    (26, "Men Underwear", "F", (_UW, _ST, _NW, _SW), 1.2),
    (27, "Men Shoes", "F", (_SH,), 0.6),
    (30, "Men Project", "F", (_UP, _LO), 0.2),
    (32, "Men Edition", "F", (_UP, _LO), 0.2),
    (28, "Men Other 2", "F", (_UP, _LO), 0.1),
    (24, "Men Other", "F", (_UP, "Unknown"), 0.1),
    (44, "Baby Essentials & Complements", "G",
     _GARMENTS + (_UW, _ST, _NW, "Underwear/nightwear", _AC, "Interior textile", "Fun"), 3.0),
    (41, "Baby Boy", "G", _GARMENTS, 1.5),
    (42, "Baby Girl", "G", _GARMENTS, 1.5),
    (46, "Kids Boy", "H", _GARMENTS, 2.5),
    (76, "Kids Girl", "H", _GARMENTS, 2.5),
    (72, "Boys Underwear & Basics", "H", (_UW, _ST, _NW, _UP, _LO), 1.5),
    (40, "Kids Outerwear", "H", _GARMENTS, 0.6),
    (82, "Kids Local Relevance", "H", _GARMENTS + ("Unknown",), 0.2),
    (47, "Young Boy", "I", _GARMENTS, 2.5),
    (77, "Young Girl", "I", _GARMENTS, 2.5),
    (79, "Girls Underwear & Basics", "I", (_UW, _ST, _NW, _UP, _LO), 1.5),
    (80, "Kids Sports", "I", (_UP, _LO), 0.3),
    (43, "Kids Accessories, Swimwear & D", "J", (_AC, _SW, "Bags", "Stationery", "Fun"), 3.0),
    (45, "Kids & Baby Shoes", "J", (_SH,), 1.0),
    (5, "Ladies H&M Sport", "S", (_UP, _LO, _UW, _ST, _SW, _AC, _SH), 2.0),
    (22, "Men H&M Sport", "S", (_UP, _LO, _ST, _AC, _SH, "Bags"), 1.5),
)


def _sections() -> tuple[Section, ...]:
    total: dict[str, float] = {}
    for row in _SECTION_ROWS:
        total[row[2]] = total.get(row[2], 0) + row[4]
    return tuple(Section(no, name, ic, groups, w / total[ic]) for no, name, ic, groups, w in _SECTION_ROWS)


SECTIONS: tuple[Section, ...] = _sections()

_TYPES_BY_NO = {t.product_type_no: t for t in PRODUCT_TYPES}
_TYPES_BY_NAME = {t.product_type_name: t for t in PRODUCT_TYPES}
_SECTION_POS = {s.section_no: i for i, s in enumerate(SECTIONS)}


def garment_group(product_type_no: int, graphical_appearance_name: str, index_code: str) -> int:
    """Garment group of an article: its type's, except denim garments (Trousers Denim), girls'
    dresses and skirts (Dresses/Skirts girls) and baby full-body garments (Woven/Jersey/Knitted
    mix Baby), as in the real catalogue."""
    t = _TYPES_BY_NO[product_type_no]
    if t.product_group_name not in _GARMENTS:
        return t.garment_group_no
    if graphical_appearance_name in ("Denim", "Chambray"):
        return 1016
    if index_code in ("H", "I") and t.silhouette in ("dress", "skirt"):
        return 1014
    if index_code == "G" and t.product_group_name == _FU:
        return 1006
    return t.garment_group_no


# Departments: one per section and department noun. "fine" sections split garments by garment
# group, "coarse" ones by a few families, "single" ones have one garment department.
_FINE_NOUN = {1001: "Other items", 1002: "Jersey Basic", 1003: "Knitwear", 1005: "Jersey Fancy",
              1006: "Woven/Jersey", 1007: "Outdoor", 1008: "Tailoring", 1009: "Trouser", 1010: "Blouse",
              1011: "Shirt", 1012: "Skirt", 1013: "Dress", 1014: "Dresses & Skirts", 1016: "Denim",
              1017: "UW/NW", 1018: "Swimwear", 1019: "Accessories", 1020: "Shoes", 1021: "Socks & Tights",
              1023: "Special Offers", 1025: "Shorts"}
_COARSE_NOUN = {1002: "Jersey", 1005: "Jersey", 1003: "Knitwear", 1010: "Woven Tops", 1011: "Woven Tops",
                1007: "Outwear", 1008: "Outwear", 1009: "Trouser", 1025: "Trouser", 1016: "Denim",
                1012: "Dress", 1013: "Dress", 1014: "Dress", 1006: "Jersey"}
_GROUP_NOUN = {_AC: "Accessories", _UW: "Underwear", _SH: "Shoes", _SW: "Swimwear", _ST: "Socks & Tights",
               _NW: "Nightwear", "Unknown": "Other items", "Underwear/nightwear": "UW/NW",
               "Cosmetic": "Beauty", "Bags": "Bags", "Items": "Other items", "Furniture": "Home",
               "Garment and Shoe care": "Care products", "Stationery": "Stationery",
               "Interior textile": "Home", "Fun": "Other items"}
_DEPT_NOUNS: tuple[str, ...] = tuple(dict.fromkeys(
    [*_FINE_NOUN.values(), *_COARSE_NOUN.values(), *_GROUP_NOUN.values(), "Garments"]))
# section_no: (prefix, mode)
_DEPT_STYLE: dict[int, tuple[str, str]] = {
    15: ("", "fine"), 16: ("Basic", "coarse"), 18: ("Trend", "coarse"), 6: ("Casual", "coarse"),
    11: ("Tailored", "coarse"), 19: ("Jackets", "single"), 3: ("Premium", "coarse"),
    14: ("Collaboration", "single"), 2: ("H&M+", "coarse"), 8: ("Mama", "coarse"),
    7: ("Ladies Other", "single"), 61: ("", "fine"), 62: ("", "fine"), 60: ("", "fine"),
    66: ("Small", "fine"), 65: ("Big", "fine"), 64: ("", "fine"), 53: ("", "fine"),
    51: ("Basic", "coarse"), 57: ("Denim", "coarse"), 58: ("Divided Selected", "single"),
    50: ("Divided Projects", "single"), 49: ("EQ Divided", "single"), 54: ("Asia", "single"),
    52: ("Divided", "fine"), 56: ("Divided", "fine"), 21: ("", "coarse"), 20: ("Smart", "coarse"),
    55: ("Street", "coarse"), 23: ("Suit", "coarse"), 29: ("Men Denim", "coarse"),
    31: ("Men", "coarse"), 25: ("Men", "fine"), 26: ("Men", "fine"), 27: ("Men", "fine"),
    30: ("Men Project", "single"), 32: ("Men Edition", "single"), 28: ("Men Other 2", "single"),
    24: ("Men Other", "single"), 44: ("Baby", "coarse"), 41: ("Baby Boy", "coarse"),
    42: ("Baby Girl", "coarse"), 46: ("Kids Boy", "coarse"), 76: ("Kids Girl", "fine"),
    72: ("Kids Boy", "coarse"), 40: ("Kids Outdoor", "single"), 82: ("Kids Local", "single"),
    47: ("Young Boy", "coarse"), 77: ("Young Girl", "fine"), 79: ("Young Girl", "coarse"),
    80: ("Kids Sport", "single"), 43: ("Kids", "fine"), 45: ("Kids & Baby", "fine"),
    5: ("Ladies Sport", "coarse"), 22: ("Men Sport", "coarse"),
}
_DEPT_NAMES: dict[tuple[int, str], str] = {
    (61, "Underwear"): "Expressive Lingerie", (2, "Underwear"): "Clean Lingerie",
    (8, "Underwear"): "Mama Lingerie", (56, "Underwear"): "Casual Lingerie",
    (61, "UW/NW"): "Functional Lingerie", (62, "Socks & Tights"): "Tights basic",
    (62, "Nightwear"): "Nightwear", (51, "Socks & Tights"): "Shopbasket Socks",
    (26, "Socks & Tights"): "Socks Bin", (66, "Accessories"): "Small Accessories",
    (65, "Accessories"): "Big Accessories", (64, "Shoes"): "Shoes", (43, "Accessories"): "Accessories Boys",
    (72, "UW/NW"): "Kids Boy UW/NW", (79, "UW/NW"): "Young Girl UW/NW", (15, "Jersey Basic"): "Jersey Basic",
    (53, "Jersey Fancy"): "Jersey", (21, "Jersey Fancy"): "Jersey Fancy",
    (5, "Underwear"): "Ladies Sport Bras",
}


def department(section_no: int, product_group_name: str, garment_group_no: int) -> tuple[int, str]:
    """(department_no, department_name) of an article, deterministic in its three arguments.

    About 250 distinct departments over a full catalogue; names repeat across sections (as in
    the real file, e.g. several "Jersey"), numbers are unique per section and department.
    """
    prefix, mode = _DEPT_STYLE[section_no]
    if product_group_name not in _GARMENTS:
        noun = _GROUP_NOUN[product_group_name]
        if product_group_name in (_UW, _NW, "Underwear/nightwear") and mode != "fine":
            noun = "UW/NW"
    elif mode == "fine":
        noun = _FINE_NOUN[garment_group_no]
    elif mode == "coarse":
        noun = _COARSE_NOUN.get(garment_group_no, _FINE_NOUN[garment_group_no])
    else:
        noun = "Garments"
    name = _DEPT_NAMES.get((section_no, noun))
    if name is None:
        words, tail = prefix.split(), noun.split()
        if noun == "Garments" or (words and words[-1] == tail[0]):  # "Men Denim" + "Denim" -> "Men Denim"
            tail = tail[1:] if noun != "Garments" else []
        name = " ".join(words + tail)
    number = 1000 + 160 * _SECTION_POS[section_no] + (37 * _DEPT_NOUNS.index(noun)) % 160
    return number, name


# ---------------------------------------------------------------------------------------------
# Product names and descriptions
# ---------------------------------------------------------------------------------------------

_FIRST_NAMES = (
    "Dorian", "Tilly", "Jade", "Luna", "Timmy", "Stina", "Greg", "Axel", "Malcolm", "Tobie", "Maja",
    "Nora", "Perrie", "Julia", "Hilly", "Billie", "Sally", "Simba", "Theron", "Katarina", "Samantha",
    "Lola", "Honey", "Mike", "Howie", "Alex", "Frank", "Bosse", "Maximus", "Titan", "Erik", "Max",
    "Kim", "Sivan", "Marie", "Tua", "Belle", "Gilly", "Morris", "Agnes", "Alva", "Ebba", "Elsa", "Freja",
    "Hanna", "Ida", "Linnea", "Saga", "Stella", "Wilma", "Astrid", "Britt", "Cleo", "Dagny", "Edith",
    "Frida", "Greta", "Hedda", "Inez", "Juno", "Kaia", "Liv", "Mira", "Nell", "Otto", "Pim", "Rut",
    "Siri", "Tove", "Ulla", "Vera", "Ylva", "Zelda", "Bruno", "Carl", "Dante", "Eddie", "Felix",
    "Gustav", "Hugo", "Isak", "Jonas", "Kalle", "Leo", "Milo", "Nils", "Oscar", "Pelle", "Rasmus",
    "Sixten", "Theo", "Ville", "Penny", "Poppy", "Rosie", "Ruby", "Sunny", "Lily", "Daisy", "Ivy",
    "Jasmine", "Orion", "Venus", "Apollo", "Atlas", "Cosmo", "Nova", "Peach", "Romi", "Victory",
    "Canterbury", "Gustavsberg", "Sahara", "Malibu", "Dakota", "Savannah", "Mallory", "Bella",
    "Camila", "Dolly", "Fanny", "Harper", "Jolene", "Kelly", "Lotta", "Madison", "Nadia", "Olivia",
    "Paris", "Quinn", "Rita", "Sienna", "Tess", "Vilma", "Wendy", "Zoe", "Ronny", "Spencer", "Tanner",
)
_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "Trousers": ("TRS", "trousers", "Trousers", "pants", "jogger", "Slacks", "chino", "trs"),
    "Sweater": ("sweater", "Sweatshirt", "jumper", "l/s", "Sweater", "crew"),
    "T-shirt": ("tee", "T-shirt", "SS", "s/s", "Tee", "T-shirt fancy"),
    "Vest top": ("tank", "tanktop", "vest", "singlet", "Tank"),
    "Top": ("top", "l/s top", "Top", "rib top", "crop"),
    "Dress": ("dress", "Dress", "DRESS", "midi dress", "maxi dress", "slip dress"),
    "Shorts": ("shorts", "Shorts", "short", "bermuda"),
    "Skirt": ("skirt", "Skirt", "midi skirt", "mini skirt"),
    "Blouse": ("blouse", "Blouse", "shirt", "top"),
    "Shirt": ("shirt", "Shirt", "l/s shirt", "s/s shirt", "Oxford"),
    "Jacket": ("jacket", "Jacket", "jkt", "parka", "puffer", "bomber"),
    "Coat": ("coat", "Coat", "parka", "trenchcoat"),
    "Blazer": ("blazer", "Blazer", "jacket"),
    "Cardigan": ("cardigan", "Cardigan", "cardi"),
    "Hoodie": ("hood", "Hoodie", "hoodie", "zip hood"),
    "Leggings/Tights": ("leggings", "Leggings", "tights", "legging"),
    "Socks": ("socks", "sock", "anklesock", "shaftless", "kneehigh"),
    "Underwear bottom": ("brief", "hipster", "thong", "boxer", "Brazilian", "trunk"),
    "Bra": ("bra", "softbra", "push", "padded", "Bralette"),
    "Swimwear bottom": ("bikini bottom", "Brief", "swimshorts", "Tanga"),
    "Bikini top": ("bikini top", "Triangle", "Bandeau", "Push"),
    "Underwear Tights": ("tights", "Tights", "den tights"),
    "Pyjama set": ("PJ", "pyjama", "pj set"),
    "Pyjama bottom": ("pj pant", "pyjama trousers", "Jogger"),
    "Hat/beanie": ("beanie", "hat", "Beanie"),
    "Bag": ("bag", "Bag", "shopper", "tote"),
    "Sneakers": ("sneaker", "Sneaker", "trainer"),
    "Boots": ("boot", "Boot", "chelsea"),
    "Jumpsuit/Playsuit": ("jumpsuit", "playsuit", "Jumpsuit"),
    "Bodysuit": ("body", "LS body", "Body"),
    "Hair/alice band": ("alice band", "headband", "Alice"),
    "Hair string": ("scrunchie", "hairtie", "Scrunchie"),
    "Cap/peaked": ("cap", "Cap", "baseball cap"),
    "Hat/brim": ("hat", "Hat", "fedora"),
}
_DESCRIPTORS: dict[str, tuple[str, ...]] = {
    "upper": ("basic", "fancy", "soft", "rib", "oversized", "boxy", "slim", "regular", "relaxed", "cropped",
              "l/s", "s/s", "structure", "linen", "cotton", "jersey", "printed", "fitted", "seamless",
              "waffle", "pique", "Premium", "Conscious", "Light", "Heavy", "wrap", "tie", "puff"),
    "lower": ("HW", "RW", "LW", "Skinny", "Slim", "Straight", "Wide", "Mom", "Loose", "Flare", "Jogger",
              "Cargo", "Chino", "Paperbag", "Tapered", "Relaxed", "linen", "Sweat", "super skinny", "Denim"),
    "full": ("wrap", "midi", "maxi", "mini", "slip", "shirt", "tiered", "smock", "tie", "jersey", "linen",
             "Viscose", "puff", "strap"),
    "under": ("seamless", "lace", "soft", "padded", "push", "microfibre", "cotton", "Brazilian", "hipster",
              "basic", "fancy"),
    "legwear": ("20 den", "40 den", "shaftless", "ankle", "kneehigh", "fancy", "basic", "support",
                "invisible"),
    "shoes": ("chunky", "leather", "platform", "slingback", "suede", "canvas", "lace-up", "slip-on", "padded",
              "sport"),
    "acc": ("basic", "chunky", "metal", "leather", "knitted", "woven", "pearl", "hoop", "mini", "soft",
            "fancy", "braided", "oversized"),
}
_KIND_BY_GROUP = {_UP: "upper", _LO: "lower", _FU: "full", _UW: "under", _NW: "under", _SW: "under",
                  "Underwear/nightwear": "under", _ST: "legwear", _SH: "shoes"}
_PACK_KINDS = ("under", "legwear")


def _kind(type_name: str) -> str:
    t = _TYPES_BY_NAME.get(type_name)
    return _KIND_BY_GROUP.get(t.product_group_name, "acc") if t else "acc"


def product_names(rng: np.random.Generator, product_type_names: np.ndarray) -> list[str]:
    """A real-looking prod_name per entry ("Jade HW Skinny TRS", "Tilly (1)", "STINA 5-p lace brief").

    One call per product code (names are shared by a code's colour variants); deterministic in `rng`.
    """
    n = len(product_type_names)
    r = rng.integers(0, 1 << 30, size=(n, 7))
    u = rng.random((n, 2))
    out = []
    for i, type_name in enumerate(product_type_names):
        kind = _kind(type_name)
        descs = _DESCRIPTORS[kind]
        words = _TYPE_WORDS.get(type_name, (type_name.split("/")[0].lower(),))
        first = _FIRST_NAMES[r[i, 0] % len(_FIRST_NAMES)]
        if u[i, 1] < 0.12:
            first = first.upper()
        word, d1, d2 = words[r[i, 1] % len(words)], descs[r[i, 2] % len(descs)], descs[r[i, 3] % len(descs)]
        pack = (2, 3, 5, 7, 10)[r[i, 4] % 5]
        template = r[i, 5] % 10
        if kind in _PACK_KINDS and u[i, 0] < 0.35:
            name = (f"{first} {pack}-p {d1} {word}", f"{d1.capitalize()} {pack}p {word}",
                    f"{first} {word} {pack}PACK")[template % 3]
        elif kind == "upper" and u[i, 0] < 0.08:
            name = f"TP {first.upper()} {word} {('BB', 'SB', 'YB')[template % 3]}"
        elif template < 2:
            name = f"{first} ({1 + r[i, 6] % 3})"
        elif template < 5:
            name = f"{first} {d1} {word}"
        elif template < 7:
            name = f"{first} {word}"
        elif template < 9 and d1 != d2:
            name = f"{first} {d1} {d2} {word}"
        else:
            name = f"{first} {d1}"
        out.append(name)
    return out


_NOUNS = {
    "Vest top": "vest top", "Underwear bottom": "briefs", "Swimwear bottom": "bikini bottoms",
    "Underwear Tights": "tights", "Leggings/Tights": "leggings", "Hat/beanie": "hat", "Hat/brim": "hat",
    "Cap/peaked": "cap", "Jumpsuit/Playsuit": "jumpsuit", "Pyjama set": "pyjamas",
    "Pyjama bottom": "pyjama bottoms", "Pyjama jumpsuit/playsuit": "all-in-one pyjamas",
    "Hair/alice band": "alice band", "Kids Underwear top": "tops", "Garment Set": "set",
    "Other accessories": "accessory", "Other shoe": "shoes", "Sneakers": "trainers", "Unknown": "item",
    "Chem. cosmetics": "nail polish", "Fine cosmetics": "lip balm", "Outdoor overall": "all-in-one suit",
    "Costumes": "fancy dress costume", "Sleep Bag": "sleeping bag", "Flip flop": "flip-flops",
    "Hair string": "hair elastics", "Hair clip": "hair clips", "Hair ties": "hair ties",
    "Earring": "earrings", "Pre-walkers": "pre-walkers", "Swimwear set": "bikini",
    "Underwear set": "set", "Wireless earphone case": "earphone case", "Waterbottle": "water bottle",
}
_FABRICS: dict[int, tuple[str, ...]] = {
    1001: ("mixed materials", "a sturdy weave"),
    1002: ("soft cotton jersey", "organic cotton jersey", "stretch jersey", "slub jersey",
           "ribbed cotton jersey"),
    1003: ("a soft, fine knit", "a rib knit containing some wool", "a loose knit", "a cable knit",
           "a soft, fluffy knit"),
    1005: ("soft, airy modal jersey", "sweatshirt fabric", "a soft cotton blend",
           "fast-drying functional fabric", "ribbed jersey", "lyocell-blend jersey"),
    1006: ("soft organic cotton", "a cotton weave", "soft jersey"),
    1007: ("a sturdy weave", "water-repellent fabric", "a padded weave", "a wool blend", "faux shearling"),
    1008: ("a woven fabric", "a stretch weave", "a wool blend", "twill"),
    1009: ("a cotton twill", "a woven fabric", "a linen blend", "sweatshirt fabric", "a stretch weave"),
    1010: ("a viscose weave", "airy chiffon", "a crêpe weave", "satin", "a linen blend"),
    1011: ("premium cotton", "a cotton weave", "Oxford cotton", "a linen blend", "poplin"),
    1012: ("a crêpe weave", "a viscose weave", "satin", "a pleated weave", "jersey"),
    1013: ("a crêpe weave", "a viscose weave", "jersey", "chiffon", "a cotton weave", "satin"),
    1014: ("soft cotton jersey", "a cotton weave", "tulle"),
    1016: ("washed stretch denim", "rigid cotton denim", "washed denim", "soft denim"),
    1017: ("microfibre", "soft cotton jersey", "lace", "a soft modal blend", "a cotton weave"),
    1018: ("recycled swimwear fabric", "crinkled swimwear fabric", "swimwear fabric"),
    1019: ("imitation leather", "metal", "a soft knit", "woven fabric", "cotton canvas"),
    1020: ("imitation leather", "canvas", "imitation suede", "leather", "mesh"),
    1021: ("a soft cotton blend", "a fine knit", "semi-shiny fabric", "matt fabric"),
    1023: ("mixed materials", "a soft knit"),
    1025: ("a cotton twill", "sweatshirt fabric", "a linen blend", "a cotton weave"),
}
# Two complementary slots per silhouette: (neckline / closure / cut, further details).
_FEATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "top": (("a round neckline", "a V-neck", "a ribbed neckline", "a boat neck", "a chest pocket"),
            ("short sleeves", "dropped shoulders", "a rounded hem", "short, puff sleeves",
             "a slightly wider hem", "cap sleeves")),
    "vest": (("narrow shoulder straps", "adjustable straps", "a racer back", "wide shoulder straps"),
             ("a deep neckline", "a rounded hem", "a lace trim at the top", "a straight-cut hem")),
    "longsleeve": (("a round neckline", "a high collar", "a collar and buttons down the front", "a V-neck",
                    "a polo neck"),
                   ("long sleeves", "ribbing at the cuffs and hem", "dropped shoulders",
                    "long raglan sleeves", "buttoned cuffs", "a yoke at the back")),
    "hoodie": (("a lined drawstring hood", "a zip down the front", "a jersey-lined hood"),
               ("a kangaroo pocket", "ribbing at the cuffs and hem", "dropped shoulders", "side pockets")),
    "jacket": (("a zip down the front", "notch lapels", "a stand-up collar", "press-studs down the front",
                "a detachable hood"),
               ("side pockets", "long sleeves", "flap chest pockets", "ribbing at the cuffs and hem",
                "a lined hood")),
    "coat": (("notch lapels", "a double-breasted fastening", "a stand-up collar",
              "a concealed button placket"),
             ("a tie belt at the waist", "welt pockets", "a padded lining", "a detachable faux fur trim",
              "a vent at the back")),
    "trousers": (("an elasticated waist", "a zip fly and button", "a high waist", "a drawstring waist",
                  "an elasticated drawstring waist"),
                 ("side pockets", "straight legs", "tapered legs", "wide legs", "welt back pockets",
                  "ribbed hems", "creases")),
    "shorts": (("an elasticated waist", "a zip fly and button", "a drawstring waist", "a high waist"),
               ("side pockets", "raw-edge hems", "turn-ups at the hems", "back pockets")),
    "skirt": (("a high waist", "an elasticated waist", "a concealed zip at the back", "a wrapover front"),
              ("a flared hem", "a slit at the back", "a tiered design", "pleats", "a lining")),
    "dress": (("narrow adjustable shoulder straps", "a V-neck", "a round neckline", "short puff sleeves",
               "smocking at the top"),
              ("a concealed zip at the back", "a flared skirt", "a tie belt at the waist",
               "a seam at the waist", "a slit at the hem")),
    "jumpsuit": (("short sleeves", "narrow shoulder straps", "a zip down the front", "press-studs"),
                 ("an elasticated waist", "side pockets", "long legs", "ribbed cuffs")),
    "bodysuit": (("an envelope-style neckline", "a round neckline", "press-studs on one shoulder"),
                 ("press-studs at the crotch", "long sleeves", "short sleeves")),
    "bra": (("underwired, padded cups", "non-wired cups", "moulded cups", "soft, padded cups"),
            ("adjustable shoulder straps", "a hook-and-eye fastening at the back", "lace trims",
             "a racer back")),
    "briefs": (("a low waist", "a high waist", "a wide waistband", "an elasticated waist"),
               ("a lined gusset", "lace trims", "high-cut legs", "a cotton gusset")),
    "swimsuit": (("adjustable shoulder straps", "a V-neck", "a halterneck"),
                 ("a low-cut back", "high-cut legs", "a lined front", "a cut-out detail")),
    "swim_top": (("padded cups", "underwired cups", "triangle cups"),
                 ("ties at the back and neck", "detachable straps", "gathers at the front")),
    "socks": (("elasticated tops", "ribbed tops", "soft tops"),
              ("anti-slip protectors", "reinforced heels and toes", "a terry sole")),
    "tights": (("an elasticated waist", "a wide waistband"),
               ("a gusset", "reinforced toes", "a shaping section")),
    "shoe": (("lacing at the front", "elastic side panels", "a buckle at the side", "a rounded toe",
              "a pointed toe"),
             ("a padded footbed", "imitation leather insoles", "rubber soles", "fabric linings")),
    "boot": (("a zip on one side", "elastic side panels", "lacing at the front"),
             ("a block heel", "a chunky sole", "a pull-on loop at the back", "a warm lining")),
    "sandal": (("narrow straps", "crossover straps", "a toe post"),
               ("an adjustable ankle strap", "a moulded footbed", "a covered heel", "a buckle fastening")),
    "bag": (("a zip at the top", "a magnetic fastener", "a flap with a press-stud"),
            ("two handles", "an adjustable shoulder strap", "an inner compartment", "a detachable strap")),
    "hat": (("a wide brim", "a narrow brim"), ("a grosgrain band", "a tie-string", "a soft lining")),
    "beanie": (("a turned-up hem", "a fold-over cuff"),
               ("a pompom on the top", "a soft fleece lining", "an appliqué")),
    "cap": (("a curved peak", "a flat peak"), ("an adjustable strap at the back", "an appliqué at the front",
                                               "ventilation holes")),
    "scarf": (("fringes at the short ends", "raw edges", "narrow hems"),
              ("a soft finish", "a brushed finish")),
    "gloves": (("ribbed cuffs", "elasticated cuffs"), ("touchscreen fingertips", "a soft lining")),
    "belt": (("a metal buckle", "a D-ring buckle"),
             ("a leather trim", "imitation leather details", "a loop")),
    "jewellery": (("a lobster clasp", "a spring ring clasp", "a hinged fastening"),
                  ("an extender chain", "pendants", "sparkly stones", "faux pearls")),
    "sunglasses": (("tinted lenses", "mirrored lenses"), ("UV protection", "metal temples")),
    "umbrella": (("an automatic opening", "a fold-up design"), ("a wrist strap", "a case")),
    "small_item": (("a zip", "a press-stud"),
                   ("a printed motif", "a hanging loop", "a mirror on the inside")),
}
# Materials and closing sentences of accessories, by silhouette (garment groups 1001, 1019, 1023).
_ACC_FABRICS: dict[str, tuple[str, ...]] = {
    "bag": ("imitation leather", "cotton canvas", "woven paper straw", "quilted fabric", "imitation suede"),
    "hat": ("felted wool", "paper straw", "a cotton twill", "a soft knit"),
    "beanie": ("a soft rib knit", "a fine knit containing some wool", "a soft, fluffy knit"),
    "cap": ("a cotton twill", "sturdy cotton", "corduroy"),
    "scarf": ("a soft weave", "a soft, fine knit", "a woven fabric", "satin"),
    "gloves": ("a fine knit", "imitation leather", "a soft knit", "fleece"),
    "belt": ("imitation leather", "leather", "braided elastic", "imitation suede"),
    "jewellery": ("metal", "metal with faux pearls", "plastic beads"),
    "sunglasses": ("plastic", "metal"),
    "umbrella": ("woven fabric",),
    "small_item": ("mixed materials", "plastic", "a soft fabric", "metal", "imitation leather"),
}
_ACC_EXTRA: dict[str, tuple[str, ...]] = {
    "belt": ("Width approx. 3.5 cm.", "Width 2.5 cm."), "jewellery": ("Diameter 2.5 cm.", "Length 45 cm."),
    "bag": ("Size approx. 20x25 cm.", "Size 30x40 cm."), "sunglasses": ("UV protection.",),
}
_FITS: dict[str, tuple[str, ...]] = {
    "top": ("Fitted", "Relaxed-fit", "Short", "Boxy", "Oversized", "", ""),
    "longsleeve": ("Fitted", "Relaxed-fit", "Wide", "Oversized", "Long", "", ""),
    "trousers": ("Slim-fit", "Wide", "Straight-cut", "Relaxed", "Ankle-length", "High-waisted", ""),
    "shorts": ("Short", "Knee-length", "Wide", "Relaxed", ""),
    "skirt": ("Short", "Calf-length", "Long", "Fitted", ""),
    "dress": ("Short", "Calf-length", "Long", "Fitted", "Straight-cut", ""),
    "jacket": ("Short", "Boxy", "Fitted", "Oversized", ""),
    "coat": ("Long", "Knee-length", "Oversized", ""),
}
_PATTERN_WORDS: dict[str, tuple[str, str]] = {  # appearance: (adjective before the fabric, extra sentence)
    "All over pattern": ("patterned", ""), "Melange": ("marl", ""), "Stripe": ("striped", ""),
    "Check": ("checked", ""), "Dot": ("spotted", ""), "Jacquard": ("jacquard-knit", ""),
    "Lace": ("lace", ""), "Metallic": ("metallic", ""), "Glittering/Metallic": ("glittery", ""),
    "Sequin": ("sequined", ""), "Mesh": ("mesh", ""), "Transparent": ("sheer", ""),
    "Other structure": ("textured", ""), "Slub": ("slub", ""), "Neps": ("flecked", ""),
    "Treatment": ("washed", ""), "Argyle": ("argyle-patterned", ""), "Hologram": ("holographic", ""),
    "Colour blocking": ("colour-block", ""), "Other pattern": ("patterned", ""),
    "Mixed solid/pattern": ("", "Patterned panels."), "Embroidery": ("", "Embroidered details."),
    "Front print": ("", "Printed motif on the front."), "Placement print": ("", "Printed motif."),
    "Application/3D": ("", "Appliqué details."), "Contrast": ("", "Contrasting colour details."),
}
_EXTRA: dict[str, tuple[str, ...]] = {
    "upper": ("The cotton content is organic.", "Unlined.", "Some of the polyester content is recycled.",
              "Regular fit."),
    "lower": ("Unlined.", "Lined.", "Regular waist.", "The cotton content is partly recycled."),
    "full": ("Lined.", "Unlined.", "Jersey lining.", "The viscose content is sustainably sourced."),
    "under": ("Fully lined.", "Lined gusset.", "The cotton content is organic."),
    "legwear": ("20 denier.", "40 denier.", "Anti-slip protectors.", "Soft, non-elastic tops."),
    "shoes": ("Heel 7 cm.", "Rubber soles.", "Fabric linings and insoles."),
}


def _with_adjective(fabric: str, adj: str) -> str:
    """'a viscose weave' + 'striped' -> 'a striped viscose weave'."""
    if not adj:
        return fabric
    if fabric.startswith("a "):
        article = "an" if adj[0] in "aeiou" else "a"
        return f"{article} {adj} {fabric[2:]}"
    return f"{adj} {fabric}"


def detail_descs(rng: np.random.Generator, product_type_names: np.ndarray, colour_names: np.ndarray,
                 pattern_names: np.ndarray) -> list[str]:
    """An H&M-style detail_desc per entry ("Fitted top in soft cotton jersey with a round neckline
    and short sleeves.").

    `pattern_names` are graphical appearance names (Stripe, Denim...); `colour_names` only matter
    for metal colours of jewellery. Deterministic in `rng`.
    """
    n = len(product_type_names)
    r = rng.integers(0, 1 << 30, size=(n, 6))
    u = rng.random((n, 2))
    out = []
    for i, (type_name, colour, pattern) in enumerate(zip(product_type_names, colour_names, pattern_names)):
        t = _TYPES_BY_NAME.get(type_name)
        sil = t.silhouette if t else "small_item"
        gg = t.garment_group_no if t else 1001
        noun = _NOUNS.get(type_name, type_name if type_name == "T-shirt" else type_name.lower())
        fabrics = _ACC_FABRICS[sil] if gg in (1001, 1019, 1023) and sil in _ACC_FABRICS else _FABRICS[gg]
        fabric = fabrics[r[i, 0] % len(fabrics)]
        if pattern in ("Denim", "Chambray") and t is not None and t.product_group_name in _GARMENTS:
            fabric = "washed denim" if pattern == "Denim" else "chambray"
        if sil == "jewellery" and colour in ("Gold", "Silver"):
            fabric = f"{colour.lower()}-coloured metal"
        adj, extra = _PATTERN_WORDS.get(str(pattern), ("", ""))
        fabric = _with_adjective(fabric, adj)
        slot_a, slot_b = _FEATURES[sil]
        f1, f2 = slot_a[r[i, 1] % len(slot_a)], slot_b[r[i, 2] % len(slot_b)]
        fits = _FITS.get(sil, ("",))
        fit = fits[r[i, 3] % len(fits)]
        head = f"{fit} {noun}" if fit else noun[0].upper() + noun[1:]
        with_ = f"{f1} and {f2}" if u[i, 0] < 0.75 else (f1 if u[i, 0] < 0.9 else f2)
        sentence = f"{head} in {fabric} with {with_}."
        if not extra and "sweatshirt" in fabric:
            extra = "Soft brushed inside."
        elif not extra and u[i, 1] < 0.35:
            kind = _kind(type_name)
            pool = _EXTRA[kind] if kind != "acc" else _ACC_EXTRA.get(sil, ("One size.",))
            extra = pool[r[i, 4] % len(pool)]
        out.append(f"{sentence} {extra}" if extra else sentence)
    return out
