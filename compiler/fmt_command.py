"""`sipc fmt`: rewrite scripts in the canonical layout (compiler/fmt.py does the work).

Exit codes, as black and gofmt use them: 0 nothing to do or done, 1 a file would be
reformatted (`--check`) or does not parse, 2 a usage problem (a file that cannot be read)
or an internal error. A file with syntax errors is never touched.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass

import click

from compiler.cli import printable, printable_context
from compiler.diagnostics import RenderContext, render_all
from compiler.fmt import format_source

STDIN = "-"
EXIT_OK, EXIT_CHANGES, EXIT_USAGE = 0, 1, 2


class _Unreadable(Exception):
    """A file that cannot be read as UTF-8 text: a usage problem, reported in one line."""


class _Unwritable(Exception):
    """A reformatted file that cannot be written back: a usage problem, in one line."""


@dataclass(slots=True)
class _Tally:
    changed: int = 0
    unchanged: int = 0
    failed: int = 0  # syntax errors
    unreadable: int = 0
    unwritable: int = 0
    exit_code: int = EXIT_OK

    def worst(self, code: int) -> None:
        self.exit_code = max(self.exit_code, code)


@click.command("fmt")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; list the files that would change and exit 1 if there are any.",
)
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff.")
def fmt_command(files: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Rewrite OpenSIPS scripts in the one canonical layout.

    Four-space indentation, braces on the header line, one statement per line, spaces
    around operators, `f(a, b)`, conditions longer than 100 columns split at `&&`/`||`.
    Comments stay where they were; strings, numbers and variables are printed exactly as
    written. The program itself never changes: the formatted text parses to the same tree
    as the original.

    FILE is rewritten in place when its layout changes (`reformatted FILE` on stderr).
    `-` reads a script from stdin and writes it, formatted, to stdout. A file of bare
    statements (one included inside a route) is formatted as a route body. A file with
    syntax errors is left alone and its errors are printed.

    \b
    Exit status: 0 nothing to change (or all rewritten), 1 a file would be reformatted
    (--check) or has syntax errors, 2 a file cannot be read (or is not UTF-8) or written
    back, or an internal error.
    """
    tally = _Tally()
    for name in files:
        try:
            _format_one(name, check=check, show_diff=show_diff, tally=tally)
        except _Unreadable as exc:
            click.echo(f"sipc: {exc}", err=True)
            tally.unreadable += 1
            tally.worst(EXIT_USAGE)
        except _Unwritable as exc:
            click.echo(f"sipc: {exc}", err=True)
            tally.unwritable += 1
            tally.worst(EXIT_USAGE)
        except Exception as exc:  # never a traceback: one line, and the next file
            click.echo(f"sipc: internal error: {name}: {type(exc).__name__}: {exc}", err=True)
            tally.worst(EXIT_USAGE)
    if any(name != STDIN for name in files):
        click.echo(_summary(tally, check or show_diff), err=True)
    sys.exit(tally.exit_code)


def _format_one(name: str, *, check: bool, show_diff: bool, tally: _Tally) -> None:
    original = _read(name)
    result = format_source(original, name)
    if result.text is None:
        ctx = printable_context(RenderContext(sources={name: original}, color=sys.stderr.isatty()))
        click.echo(render_all(printable(result.diagnostics), "full", ctx), err=True)
        click.echo(f"sipc: cannot format {name}: it has syntax errors", err=True)
        tally.failed += 1
        tally.worst(EXIT_CHANGES)
        return
    formatted = result.text
    changed = formatted != original
    if not changed:
        tally.unchanged += 1
    elif check or show_diff or name == STDIN:
        tally.changed += 1  # would be reformatted; a file written back counts once written
    if show_diff and changed:
        _write_stdout("".join(_diff(name, original, formatted)))
    if check:
        if changed:
            click.echo(f"would reformat {name}", err=True)
            tally.worst(EXIT_CHANGES)
        return
    if show_diff:
        return
    if name == STDIN:
        _write_stdout(formatted)
    elif changed:
        try:
            with open(name, "w", encoding="utf-8", newline="") as out:
                out.write(formatted)
        except OSError as exc:
            raise _Unwritable(f"cannot write {name}: {exc.strerror}") from exc
        tally.changed += 1
        click.echo(f"reformatted {name}", err=True)


def _read(name: str) -> str:
    """The text as stored: no newline translation, so `\\r\\n` files are seen as they are."""
    try:
        if name == STDIN:
            data = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as f:
                data = f.read()
    except FileNotFoundError as exc:
        raise _Unreadable(f"cannot read {name}: no such file") from exc
    except IsADirectoryError as exc:
        raise _Unreadable(f"cannot read {name}: it is a directory") from exc
    except OSError as exc:
        raise _Unreadable(f"cannot read {name}: {exc.strerror}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Unreadable(f"cannot read {name}: not UTF-8 text (byte {exc.start})") from exc


def _write_stdout(text: str) -> None:
    # Bytes, so a `\r\n` file comes out with `\r\n` on every platform.
    sys.stdout.flush()
    stream = sys.stdout.buffer
    stream.write(text.encode("utf-8"))
    stream.flush()


def _diff(name: str, original: str, formatted: str) -> list[str]:
    return list(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            formatted.splitlines(keepends=True),
            fromfile=f"{name}\t(original)",
            tofile=f"{name}\t(formatted)",
        )
    )


def _summary(tally: _Tally, dry_run: bool) -> str:
    def files(n: int) -> str:
        return f"{n} file{'s' if n != 1 else ''}"

    verb = "would be reformatted" if dry_run else "reformatted"
    parts = [f"{files(tally.changed)} {verb}", f"{files(tally.unchanged)} left unchanged"]
    if tally.failed:
        parts.append(f"{files(tally.failed)} with syntax errors")
    if tally.unreadable:
        parts.append(f"{files(tally.unreadable)} not read")
    if tally.unwritable:
        parts.append(f"{files(tally.unwritable)} not written")
    return ", ".join(parts)
