"""Running notebooks as reports, the command line, and the files reports write."""
