"""Former name of :mod:`tierlab.tiers.engine`: ``import tierlab.engine`` gives that module."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("tierlab.tiers.engine")
