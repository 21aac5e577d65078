"""Former name of :mod:`tierlab.tiers.scheme`: ``import tierlab.schemes`` gives that module."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("tierlab.tiers.scheme")
