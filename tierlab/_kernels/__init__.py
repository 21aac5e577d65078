"""Private performance kernels behind the public functions.

Each module here exists for speed or memory and says why at its top; nothing outside tierlab
should import it, and the public functions that call it are tested against plain
implementations (see the tests named in each module).
"""
