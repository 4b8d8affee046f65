"""hm_lib: the library behind the hm-fashion-recsys notebooks and the `hm` command."""
from hm_lib.config import Config

__all__ = ["Config"]
__version__ = "0.1.0"
