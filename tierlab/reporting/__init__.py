"""Running notebooks as reports, the command line, and the files reports write.

- :mod:`~tierlab.reporting.runner`: run a notebook into a dated folder, publish, prune;
- :mod:`~tierlab.reporting.runs`: run folders: running marker, failed runs, publish, prune;
- :mod:`~tierlab.reporting.kernel`: how cells are executed (papermill engine, kernel client whose
  waits are bounded; why: the widget-cell stall);
- :mod:`~tierlab.reporting.limits`: time limits per cell and per run;
- :mod:`~tierlab.reporting.parameters`: notebooks by name, parameters parsed and checked;
- :mod:`~tierlab.reporting.html`: the executed notebook as HTML without code;
- :mod:`~tierlab.reporting.cli`: the ``tierlab`` command;
- :mod:`~tierlab.reporting.arguments`: its option types and CLI-worded errors;
- :mod:`~tierlab.reporting.paths`: project root, input files, output folders;
- :mod:`~tierlab.reporting.outputs`: ``metrics.json`` and CSV tables;
- :mod:`~tierlab.reporting.threads`: the thread limit notebooks set first.

Nothing here imports :mod:`tierlab.study` (the notebook recipes sit above this package).
"""
