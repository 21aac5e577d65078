"""Former name of :mod:`tierlab.reporting.cli`: ``import tierlab.cli`` gives that module."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("tierlab.reporting.cli")
