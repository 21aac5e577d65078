"""Former name of :mod:`tierlab.io.export`: ``import tierlab.export`` gives that module."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("tierlab.io.export")
