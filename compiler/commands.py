"""The `sipc` command line as click commands: check, fmt, build, run, explain, and the SIP
debugging tools. `compiler.cli.main` is this module's `main` (see there for the fast start
of a plain `sipc check`).

Exit codes follow the ecosystem: 0 clean, 1 the input has errors, 2 usage or internal
error, 3 a server that cannot start.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from compiler.cli import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    RECURSION_LIMIT,
    not_utf8_warnings,
    printable,
    printable_context,
    run_check,
    use_color,
)
from compiler.cli import internal_error as _internal_error
from compiler.diagnostics import CODES, RENDERERS, Diagnostic, RenderContext, render_all, summary
from compiler.version import __version__


def internal_error(exc: BaseException) -> NoReturn:
    """A bug in sipc, not in the user's script: one line, and the traceback only on request."""
    _internal_error(exc, click.echo)


class LazyGroup(click.Group):
    """A group whose heavier subcommands are imported only when they run (or for --help).

    `lazy` maps a command name to `"module:attribute"`; `sipc check` so never imports the
    formatter, the code generator or the runtime's SIP tools.
    """

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module_name, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "SIPC"},
    lazy={
        # the `sipc sip` tools live with the runtime
        "sip": "runtime.cli:sip_group",
        "fmt": "compiler.fmt_command:fmt_command",
    },
)
@click.version_option(__version__, prog_name="sipc")
def main() -> None:
    """sipc — compile OpenSIPS-style routing scripts to Python and run them.

    \b
    sipc check proxy.cfg        find the script's mistakes (CI, editors)
    sipc fmt proxy.cfg          rewrite it in the canonical layout
    sipc sip parse msg.sip      show how a SIP message parses
    """
    # The tree passes recurse once per nesting level of the script; give them room for
    # machine-written scripts (thousands of chained `else if`) beyond Python's default 1000.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--output-format",
    type=click.Choice(sorted(RENDERERS)),
    default="full",
    show_default=True,
    help="full: rustc-like with source lines; concise: one line each; "
    "json: one object per line; github: workflow annotations.",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the full output (auto: on a terminal, unless NO_COLOR is set).",
)
@click.option("--warnings-as-errors", is_flag=True, help="Exit 1 on warnings too.")
def check(files: tuple[str, ...], output_format: str, color: str, warnings_as_errors: bool) -> None:
    """Parse FILES and report their mistakes, without writing anything.

    Reports syntax errors (several per run), unknown core parameters, routes that are
    called but never defined or defined twice, unknown pseudo-variables and
    transformations, read-only variables assigned, statements that can never run, and
    2.x spellings 3.x rejects. `-` reads the script from standard input. Exit status:
    0 no errors, 1 errors found, 2 usage error (a FILE that cannot be read; the other
    FILES are still checked) or internal error.
    """
    sys.exit(run_check(files, output_format, color, warnings_as_errors, click.echo))


def _report(analysis_diags: list[Diagnostic], render_ctx: RenderContext, name: str) -> None:
    if analysis_diags:
        diags = printable(analysis_diags)
        click.echo(render_all(diags, "full", printable_context(render_ctx)), err=True)
        click.echo(f"{name}: {summary(diags)}", err=True)


def usage_error(message: str) -> NoReturn:
    """A mistake in what the user asked for (a file, a folder): one line, exit 2."""
    click.echo(f"sipc: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _compile_or_exit(file: str, out_dir: str) -> Path:
    """Compile FILE, print its diagnostics, and write the module to `out_dir`; exit 1
    (nothing written) when the script has errors, 2 when the module cannot be written."""
    from compiler import build as builder

    result = builder.compile_script(file)
    texts = result.analysis.parse.source_map.texts
    _report(
        result.diagnostics + not_utf8_warnings(texts),
        result.analysis.render_context(color=use_color("auto", sys.stderr)),
        file,
    )
    if not result.ok:
        sys.exit(EXIT_ERRORS)
    target = Path(out_dir) / f"{builder.module_name(file)}.py"
    try:
        return builder.write(result, out_dir, file)
    except OSError as exc:  # a read-only folder, a file where a folder should be
        usage_error(f"cannot write {target}: {exc.strerror or exc}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o", "--output", "out_dir", default="build", show_default=True, type=click.Path(file_okay=False),
    help="Folder for the generated module (FILE's name with .py).",
)  # fmt: skip
@click.option("--mypy", "with_mypy", is_flag=True, help="Also run mypy --strict on the output.")
def build(file: str, out_dir: str, with_mypy: bool) -> None:
    """Check FILE and compile it into a Python module of routes.

    Nothing is written when the script has errors. The module is black-formatted, passes
    `mypy --strict`, and runs alone: `python build/proxy.py [-l udp:IP:PORT]`.
    """
    from compiler import build as builder

    try:
        target = _compile_or_exit(file, out_dir)
        click.echo(f"wrote {target}", err=True)
        if with_mypy:
            ok, output = builder.run_mypy(target)
            if not ok:
                click.echo(output, err=True)
                click.echo(f"sipc: mypy --strict failed on {target}", err=True)
                sys.exit(EXIT_ERRORS)
            click.echo(f"mypy --strict: {target} is clean", err=True)
    except SystemExit:
        raise
    except Exception as exc:
        internal_error(exc)
    sys.exit(EXIT_OK)


def _listen_specs(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """--listen values that name a socket, or a usage error (exit 2) saying the form."""
    from runtime.transport.socketinfo import ListenSpecError, parse_listen

    for spec in value:
        try:
            parse_listen(spec)
        except ListenSpecError as exc:
            raise click.BadParameter(
                f"{exc}; expected PROTO:IP:PORT, e.g. udp:127.0.0.1:5060 or tcp:[::1]:5060 "
                "(PROTO udp or tcp, PORT 0-65535)",
                ctx,
                param,
            ) from None
    return value


@main.command(short_help="Serve a script (.cfg) or a module sipc build wrote.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-l", "--listen", multiple=True, metavar="SOCKET", callback=_listen_specs,
    help="Serve on SOCKET (udp:IP:PORT, tcp:IP:PORT) instead of the script's socket= lines; repeatable.",
)  # fmt: skip
@click.option(
    "--stats-file", type=click.Path(dir_okay=False), help="Write the counters here as JSON on exit."
)
@click.option(
    "--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default=None, help="Logging threshold (default: from the script's log_level).",
)  # fmt: skip
def run(file: str, listen: tuple[str, ...], stats_file: str | None, log_level: str | None) -> None:
    """Serve FILE (a .cfg script, compiled first, or a module `sipc build` wrote).

    Binds every socket=/listen= of the script unless --listen is given (with neither,
    udp:127.0.0.1:5060), serves SIP until SIGTERM or SIGINT, lets work in progress
    finish, and exits 0. A .cfg is compiled into ~/.cache/sipc (SIPC_CACHE_DIR
    overrides). Exit 1 when the script has errors, 2 for a bad option or a FILE that
    is not a script or a module sipc build wrote, 3 when a socket cannot be bound.
    """
    from compiler import build as builder
    from compiler.runner import NotARouteModule, load_module, run_module

    try:
        if file.endswith(".py"):
            module = load_module(file)
        else:
            module = load_module(_compile_or_exit(file, builder.cache_dir()))
    except SystemExit:
        raise
    except NotARouteModule as exc:
        usage_error(str(exc))
    except OSError as exc:
        usage_error(f"cannot read {exc.filename or file}: {exc.strerror or exc}")
    except Exception as exc:
        internal_error(exc)
    sys.exit(run_module(module, listen=listen, stats_file=stats_file, log_level=log_level))


@main.command(short_help="Describe a diagnostic code, or list them all.")
@click.argument("code", required=False)
def explain(code: str | None) -> None:
    """Describe a diagnostic code (`sipc explain unknown-route`), or list them all."""
    if code is None:
        for name, info in sorted(CODES.items()):
            click.echo(f"{name:24} {info.severity:8} {info.summary}")
        return
    found = CODES.get(code)
    if found is None:
        click.echo(f"sipc: no diagnostic code `{code}` (see `sipc explain`)", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{code} ({found.severity}): {found.summary}")
