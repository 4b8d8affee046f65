"""hm_lib: the library behind the hm-fashion-recsys notebooks and the `hm` command."""
from hm_lib.config import Config
from hm_lib.progress import show_progress

__all__ = ["Config", "show_progress"]
__version__ = "0.1.0"
