"""The `sipc` command line: check, fmt, build, run, and the SIP debugging tools."""

from __future__ import annotations

import click

from compiler.version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sipc")
def main() -> None:
    """sipc — compile OpenSIPS-style routing scripts to Python and run them.

    \b
    sipc check proxy.cfg        find the script's mistakes
    sipc fmt proxy.cfg          rewrite it in the canonical layout
    sipc sip parse msg.sip      show how a SIP message parses
    """
