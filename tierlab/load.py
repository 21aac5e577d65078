"""Former name of :mod:`tierlab.io.load`: ``import tierlab.load`` gives that module."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("tierlab.io.load")
