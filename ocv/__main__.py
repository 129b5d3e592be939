"""`python -m ocv` is the `ocv` command."""

from ocv.cli import main

main()
