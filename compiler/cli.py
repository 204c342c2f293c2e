"""The `sipc` command (`main`), and `sipc check` without click when it can start faster.

The commands are click commands (compiler/commands.py); `main` stands for their group
and imports it when first used. `sipc check` is what editors and CI run on every save, and
importing click is an eighth of its run on a small script, so when the program is run as
`sipc check FILE... [--output-format F] [--color C] [--warnings-as-errors]` with nothing
click would read differently (no `--help`, no unknown option, no `SIPC_CHECK_*` variable,
no folder for a FILE, plain UTF-8 output), `main` runs the check itself: the same function
the click command runs, printing as `click.echo` prints. Anything else goes to click, which
so keeps every message, `--help` and usage error as it was.

Exit codes follow the ecosystem: 0 clean, 1 the input has errors, 2 usage or internal
error, 3 a server that cannot start.
"""

from __future__ import annotations

import codecs
import gc
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from compiler.diagnostics import Diagnostic, RenderContext

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
RECURSION_LIMIT = 20_000

Echo = Callable[..., None]  # click.echo(message, err=False)


def use_color(choice: str, stream: object) -> bool:
    """`--color auto` means a terminal and no NO_COLOR in the environment."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def internal_error(exc: BaseException, echo: Echo) -> NoReturn:
    """A bug in sipc, not in the user's script: one line, and the traceback only on request."""
    echo(f"sipc: internal error: {type(exc).__name__}: {exc}", err=True)
    if os.environ.get("SIPC_DEBUG"):
        traceback.print_exc()
    else:
        echo("sipc: set SIPC_DEBUG=1 to see the traceback, and please report it", err=True)
    sys.exit(EXIT_USAGE)


def run_check(
    files: Sequence[str], output_format: str, color: str, warnings_as_errors: bool, echo: Echo
) -> int:
    """`sipc check`: report the mistakes of `files` through `echo`; the exit status."""
    # What a check makes (modules, the parser, trees) stays until it is done and has no
    # cycles to collect: the cycle collector waits (see `compiler.driver.analyze`).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check_files(files, output_format, color, warnings_as_errors, echo)
    finally:
        if collecting:
            gc.enable()


def _check_files(
    files: Sequence[str], output_format: str, color: str, warnings_as_errors: bool, echo: Echo
) -> int:
    from compiler import registry_snapshot

    registry_snapshot.allow()  # this process only checks: no need to import the runtime
    from compiler.diagnostics import render_all, summary
    from compiler.driver import analyze

    failed = unreadable = False
    try:
        for name in files:
            if name == "-":
                name = STDIN_NAME
                data = _read_stdin()
                text = data.decode("utf-8", "replace")
                analysis = analyze(name, text=text, display=name)
            else:
                if not os.path.isfile(name):
                    echo(f"sipc: cannot read `{name}`: no such file", err=True)
                    unreadable = True  # and the next file is checked all the same
                    continue
                try:
                    analysis = analyze(name)
                except OSError as exc:  # no permission, a file gone while it was read
                    echo(f"sipc: cannot read `{name}`: {exc.strerror}", err=True)
                    unreadable = True
                    continue
                data = None
            texts = analysis.parse.source_map.texts
            diags = printable(analysis.diagnostics + not_utf8_warnings(texts, {name: data}))
            colored = use_color(color, sys.stdout) and output_format == "full"
            if diags:
                context = printable_context(analysis.render_context(color=colored))
                echo(render_all(diags, output_format, context), color=colored or None)
            if output_format in ("full", "concise") and diags:
                if output_format == "full":
                    echo("")
                echo(f"{name}: {summary(diags)}", err=True)
            if analysis.errors or (warnings_as_errors and diags):
                failed = True
    except SystemExit:
        raise
    except Exception as exc:  # a bug in sipc: say so plainly, never a raw traceback
        internal_error(exc, echo)
    if unreadable:
        return EXIT_USAGE
    return EXIT_ERRORS if failed else EXIT_OK


STDIN_NAME = "<stdin>"  # what `-` is called in diagnostics and summaries


def _read_stdin() -> bytes:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        data: bytes = buffer.read()
        return data
    return sys.stdin.read().encode("utf-8", "surrogateescape")


# ------------------------------------------------------------- what reaches the terminal


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _escape(text: str) -> str:
    """`text` with its non-printable characters (but newline and tab) written `\\x01`."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in "\n\t" else _escape_char(c) for c in text)


def printable(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics with control characters of the script (a binary file, an escape
    sequence) escaped in their texts, so that a message never writes them to a terminal."""
    from dataclasses import replace

    out: list[Diagnostic] = []
    for d in diagnostics:
        texts = [d.message, d.help or "", *(note.message for note in d.notes)]
        if all(text.isprintable() for text in texts):
            out.append(d)
            continue
        notes = tuple(replace(note, message=_escape(note.message)) for note in d.notes)
        help_text = None if d.help is None else _escape(d.help)
        out.append(replace(d, message=_escape(d.message), help=help_text, notes=notes))
    return out


# C0 controls but tab and line ends, and DEL: shown in source lines as their Unicode
# pictures (U+2401 ...), one column each, so the carets under the line stay in place.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return "\u2421" if code == 0x7F else chr(0x2400 + code)


def printable_context(ctx: RenderContext) -> RenderContext:
    """`ctx` with the control characters of its source lines drawn as their pictures."""
    if not any(_CONTROL.search(text) for text in ctx.sources.values()):
        return ctx
    from dataclasses import replace

    sources = {name: _CONTROL.sub(_picture, text) for name, text in ctx.sources.items()}
    return replace(ctx, sources=sources)


def not_utf8_warnings(
    texts: dict[str, str], raw: dict[str, bytes | None] | None = None
) -> list[Diagnostic]:
    """A `not-utf8` warning for each script file that is not UTF-8 text, at its first bad
    byte. Such a file is read with U+FFFD in place of the bytes it cannot decode (`check`
    and `build` go on; `fmt` will not rewrite it), so only a text with U+FFFD is looked at
    again, as bytes. `raw` gives the bytes of a file that cannot be read again (stdin)."""
    from compiler.ast import Span
    from compiler.diagnostics import make

    found: list[Diagnostic] = []
    for name, text in texts.items():
        if "\ufffd" not in text:
            continue
        data = (raw or {}).get(name)
        if data is None:
            try:
                with open(name, "rb") as f:
                    data = f.read()
            except OSError:
                continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line_start = data.rfind(b"\n", 0, exc.start) + 1
            line = data.count(b"\n", 0, line_start) + 1
            col = len(data[line_start : exc.start].decode("utf-8")) + 1
            found.append(
                make(
                    "not-utf8",
                    Span(name, line, col, line, col + 1),
                    f"the file is not UTF-8 text: byte `\\x{data[exc.start]:02x}` cannot be decoded",
                    help="sipc reads such a byte as U+FFFD and `sipc fmt` leaves the file alone; "
                    "save the file as UTF-8 (`iconv -f latin1 -t utf-8`)",
                )
            )
    return found


# ---------------------------------------------------------------------------- fast start

_VALUED = {"--output-format": "full", "--color": "auto"}
_COLORS = ("auto", "always", "never")
# click reads these (auto_envvar_prefix "SIPC"); with one set, click decides
_CLICK_VARIABLES = ("SIPC_CHECK_", "SIPC_VERSION", "SIPC_HELP")


def plain_check(argv: Sequence[str]) -> tuple[list[str], str, str, bool] | None:
    """(files, output format, color, warnings as errors) of an argument list click would
    read just so, with nothing to print but the check's own output; None otherwise."""
    if not argv or argv[0] != "check":
        return None
    if any(name.startswith(_CLICK_VARIABLES) for name in os.environ):
        return None
    from compiler.diagnostics import RENDERERS

    values = dict(_VALUED)
    strict = False
    files: list[str] = []
    rest = list(argv[1:])
    while rest:
        arg = rest.pop(0)
        if arg == "--warnings-as-errors":
            strict = True
        elif arg.startswith("--") and arg.split("=", 1)[0] in values:
            option, equals, value = arg.partition("=")
            if not equals:
                if not rest:
                    return None
                value = rest.pop(0)
            if value not in (RENDERERS if option == "--output-format" else _COLORS):
                return None
            values[option] = value
        elif arg.startswith("-") and arg != "-":
            return None  # --help, `--`, an unknown or misspelt option: click says what to say
        elif arg != "-" and os.path.isdir(arg):
            return None  # click's "is a directory" error
        else:
            files.append(arg)
    if not files:
        return None
    output_format, color = values["--output-format"], values["--color"]
    if use_color(color, sys.stdout) and output_format == "full":
        return None  # colour: click decides whether the terminal gets it
    if not all(_utf8(stream) for stream in (sys.stdout, sys.stderr)):
        return None
    return files, output_format, color, strict


def _utf8(stream: object) -> bool:
    encoding = getattr(stream, "encoding", None)
    try:
        return encoding is not None and codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


_ANSI = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")  # click's strip_ansi


def echo(message: str = "", err: bool = False, color: bool | None = None) -> None:
    """`click.echo` for text on standard streams: escape sequences only for a terminal,
    or when `color` asks for them."""
    stream = sys.stderr if err else sys.stdout
    try:
        terminal = stream.isatty()
    except Exception:
        terminal = False
    if not (terminal or color):
        message = _ANSI.sub("", message)
    stream.write(message + "\n")
    stream.flush()


def _run_plain_check(files: list[str], output_format: str, color: str, strict: bool) -> NoReturn:
    """What click's group and `check` command do for these arguments, in standalone mode."""
    import errno

    # the group's callback
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        code = run_check(files, output_format, color, strict, echo)
    except (EOFError, KeyboardInterrupt):
        echo(err=True)
        echo("Aborted!", err=True)
        sys.exit(1)
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        from click import utils

        pacify: Any = utils.PacifyFlushWrapper  # as click does: no second EPIPE at exit
        sys.stdout, sys.stderr = pacify(sys.stdout), pacify(sys.stderr)
        sys.exit(1)
    sys.exit(code)


class _Main:
    """`compiler.commands.main` (the click group), imported when first used; run as the
    program, a plain `sipc check` starts without click (see the module's docs)."""

    def __call__(self, args: Sequence[str] | None = None, **extra: Any) -> Any:
        if set(extra) - {"prog_name"}:  # standalone_mode=False and such: click's business
            return self.group(args, **extra)
        plain = plain_check(sys.argv[1:] if args is None else list(args))
        if plain is not None:
            _run_plain_check(*plain)
        return self.group(args, **extra)

    @property
    def group(self) -> Any:
        from compiler.commands import main as group

        return group

    def __getattr__(self, name: str) -> Any:
        return getattr(self.group, name)


if TYPE_CHECKING:
    from compiler.commands import main as main
else:
    main = _Main()
