"""`python -m schemadiff.cli`."""

from schemadiff.cli import main

main()
