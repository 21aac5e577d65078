"""tierlab — customer tiering in Jupyter."""

from tierlab.errors import DataError, SchemeError, TierlabError

__all__ = ["DataError", "SchemeError", "TierlabError"]
__version__ = "0.1.0"
