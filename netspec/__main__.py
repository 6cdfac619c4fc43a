"""`python -m netspec ARGS`: the same as the `netspec` command."""

from .cli import main

main()
