"""`python -m compiler` is the `sipc` command (for environments without the entry point)."""

from compiler.cli import main

main(prog_name="sipc")
