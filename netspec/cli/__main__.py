"""`python -m netspec.cli ARGS`: the same as the `netspec` command."""

from . import main

main()
