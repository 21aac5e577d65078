"""Former name of :mod:`tierlab.reporting.runner`: ``import tierlab.report`` gives that module."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("tierlab.reporting.runner")
