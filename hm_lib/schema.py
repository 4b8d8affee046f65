"""Column names and encodings of the raw competition files and of the processed tables.

The single source of truth for the file format: the synthetic generator writes it, the
loaders and validators check it.
"""
from __future__ import annotations

ARTICLES_FILE = "articles.csv"
CUSTOMERS_FILE = "customers.csv"
TRANSACTIONS_FILE = "transactions_train.csv"
IMAGES_DIR = "images"
SUBMISSION_FILE = "submission.csv"

ARTICLE_COLUMNS: tuple[str, ...] = (
    "article_id", "product_code", "prod_name", "product_type_no", "product_type_name",
    "product_group_name", "graphical_appearance_no", "graphical_appearance_name",
    "colour_group_code", "colour_group_name", "perceived_colour_value_id",
    "perceived_colour_value_name", "perceived_colour_master_id", "perceived_colour_master_name",
    "department_no", "department_name", "index_code", "index_name", "index_group_no",
    "index_group_name", "section_no", "section_name", "garment_group_no", "garment_group_name",
    "detail_desc",
)
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id", "FN", "Active", "club_member_status", "fashion_news_frequency", "age", "postal_code",
)
TRANSACTION_COLUMNS: tuple[str, ...] = ("t_dat", "customer_id", "article_id", "price", "sales_channel_id")

# Integer-coded article columns (stored as int32 in the processed table).
ARTICLE_INT_COLUMNS: tuple[str, ...] = (
    "product_code", "product_type_no", "graphical_appearance_no", "colour_group_code",
    "perceived_colour_value_id", "perceived_colour_master_id", "department_no", "index_group_no",
    "section_no", "garment_group_no",
)
ARTICLE_ID_DIGITS = 10
PRODUCT_CODE_DIGITS = 7
COLOUR_CODE_DIGITS = 2
HEX_ID_LENGTH = 64
SALES_CHANNELS = (1, 2)

K = 12  # predictions per customer, MAP@12


def image_relpath(article_id: int) -> str:
    """Relative path of an article's photo: images/010/0108775015.jpg."""
    aid = f"{int(article_id):0{ARTICLE_ID_DIGITS}d}"
    return f"{IMAGES_DIR}/{aid[:3]}/{aid}.jpg"


def format_article_id(article_id: int) -> str:
    """Zero-padded 10-digit article id as written in the raw files and the submission."""
    return f"{int(article_id):0{ARTICLE_ID_DIGITS}d}"


# Processed tables (data/processed/*.parquet), written by hm_lib.data.prepare:
#   transactions.parquet: t_dat Date, customer Int32 (index into customers), article_id Int32,
#                         price Float32, sales_channel_id Int8; sorted by t_dat, customer.
#   customers.parquet:    customer Int32 (0..n-1, order of customers.csv), customer_id Utf8 (hex),
#                         FN Float32, Active Float32, club_member_status Utf8,
#                         fashion_news_frequency Utf8, age Float32 (null when missing), postal_code Utf8.
#   articles.parquet:     article_id Int32, the ARTICLE_INT_COLUMNS as Int32, the *_name columns,
#                         index_code and detail_desc as Utf8.
# Predictions (every model and baseline): a long frame customer Int32, article_id Int32,
# rank Int32 (1 = best), optionally score Float32.
CUSTOMER = "customer"
ARTICLE = "article_id"
RANK = "rank"
SCORE = "score"
