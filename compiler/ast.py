"""The typed syntax tree of an OpenSIPS script.

Every node is a frozen record (`compiler.records`: a frozen dataclass, made for less) with
a `span`. Spans never take part in equality, so two parses of the same program laid out
differently compare equal (the `sipc fmt` round trip relies on this). The parse tree becomes this tree at once (compiler/parse.py); nothing
after the parser sees a `lark.Tree`.

Two expression languages live here, as in OpenSIPS: conditions (`if`, `while`, `assert`:
`&&`/`||`/`!`, comparisons whose left side is a variable) and arithmetic (right-hand sides of
assignments and `[ ... ]` tests). They share the leaf nodes.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal, TypeAlias

from compiler.records import record

# ---------------------------------------------------------------------------- positions


@record
class Span:
    """A range of source text: 1-based lines and columns, end column exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of `other`."""
        return Span(self.file, self.line, self.col, other.end_line, other.end_col)


NO_SPAN = Span("<none>", 0, 0, 0, 0)


# ---------------------------------------------------------------------------- leaves


@record
class Transform:
    """`{s.substr,1,2}`: a transformation name and its arguments (text or variables)."""

    name: str
    args: tuple[str | PVar, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# An index: a number, `*`, a keyword some variables take (`append`, `insert`), or a variable.
PvIndex: TypeAlias = "int | str | PVar"


@record
class PVar:
    """A pseudo-variable reference: `$ru`, `$var(x)`, `$(avp(x)[*])`, `$(hdr(Via)[0]{via.branch})`.

    `inner` is the text between the name's parentheses, or a variable for dynamic names
    (`$avp($var(n))`); `context` is `request` or `reply` for `$(<request>ru)`.
    """

    name: str
    inner: str | PVar | None = None
    index: PvIndex | None = None
    transforms: tuple[Transform, ...] = ()
    context: str | None = None
    text: str = field(default="", compare=False)
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class StringLit:
    """A string literal. `value` is the unescaped text; `raw` the token as written.

    `parts` is the string read as a format (text and variables), or None when the text is
    not a valid format; `format_error` then says why. Whether a string is expanded depends on
    where it is used, which the checker knows and the parser does not.
    """

    value: str
    raw: str = field(compare=False)
    parts: tuple[str | PVar, ...] | None = field(default=None, compare=False)
    format_error: str | None = field(default=None, compare=False)
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def is_format(self) -> bool:
        """True when the text contains variables to expand."""
        return self.parts is not None and any(isinstance(p, PVar) for p in self.parts)


@record
class Number:
    """An integer literal: decimal, hex, octal, or one of yes/no/on/off/true/false/enable/disable."""

    value: int
    text: str = field(compare=False)
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Null:
    """`null` / `NULL`."""

    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class IpLiteral:
    """An IP address or network on the right of `==`/`!=` (`10.0.0.0/8`, `[::1]`)."""

    text: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class BareName:
    """An unquoted word used as an argument (`setflag(NAT)`): 2.x syntax, rejected by 3.x."""

    name: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------------------- expressions


@record
class BinOp:
    """Arithmetic / bitwise / string concatenation: `+ - * / % | & ^ << >>`."""

    op: str
    left: Expr
    right: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class BitNot:
    """`~x`."""

    operand: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Paren:
    """Parentheses as written; kept so formatting and precedence warnings see them."""

    inner: Expr | Cond
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Compare:
    """`$x == "a"`, `$rU =~ "^00"`, `$si == 10.0.0.0/8`, `$du != NULL`."""

    op: str
    left: PVar
    right: PVar | StringLit | Number | Null | IpLiteral
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Logic:
    """`a && b`, `a || b` (`and`/`or` are read as the same): one precedence level, left first."""

    op: Literal["&&", "||"]
    left: Cond
    right: Cond
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Not:
    """`!c` / `not c`."""

    operand: Cond
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class ArithTest:
    """`[ arith ]` inside a condition: true when the value is non-zero or a non-empty string."""

    expr: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------------------- commands

Arg: TypeAlias = "StringLit | Number | PVar | Null | BareName | None"


@record
class Call:
    """A core or module function call. An empty argument (`f(a,,b)`) is None."""

    name: str
    args: tuple[Arg, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
    name_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class RouteName:
    """A route name as written: `relay`, `1`, or `"relay"` (style is how to print it back)."""

    name: str
    style: Literal["id", "number", "string"]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class RouteCall:
    """`route(name, args...)`; `target` may be a variable or a format string (dynamic)."""

    target: RouteName | PVar
    args: tuple[StringLit | Number | PVar | Null, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Return:
    """`return`, `return(n)`, `return $v`, `return(n, v1, ...)`; `code` None means 1."""

    code: Number | PVar | None
    values: tuple[StringLit | Number | PVar | Null, ...] = ()
    parenthesized: bool = field(default=True, compare=False)
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Exit:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Drop:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Break:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Log:
    """`log([level,] "text")`: a literal, never expanded."""

    level: Number | None
    text: StringLit
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Xlog:
    """`xlog([level,] "fmt" ...)` / `xdbg("fmt")`; adjacent format strings are joined."""

    kind: Literal["xlog", "xdbg"]
    level: StringLit | None
    parts: tuple[StringLit, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Assert:
    cond: Cond
    text: StringLit | None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class ErrorCmd:
    """`error("a", "b")`: legacy, only logs."""

    first: StringLit
    second: StringLit
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Async:
    """`async(f(...), resume_route[, timeout])`: the route stops here and resumes in `resume`."""

    call: Call
    resume: RouteName
    timeout: Number | None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Launch:
    """`launch(f(...)[, report_route[, "param"]])`: runs `f` beside the script."""

    call: Call
    report: RouteName | None
    param: StringLit | None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Assign:
    """`$x = e`, `$x := e`, `$x += e` ...; `value` may be Null (deletion)."""

    target: PVar
    op: str
    value: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------------------- statements


@record
class Block:
    """`{ ... }`: a body of statements."""

    body: tuple[Stmt, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class If:
    cond: Cond
    then: Stmt
    orelse: Stmt | None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class While:
    cond: Cond
    body: Stmt
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class ForEach:
    var: PVar
    collection: PVar
    body: Stmt
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Case:
    """`case 1:` / `case "abc":`; `label` None is `default:`."""

    label: Number | StringLit | None
    body: tuple[Stmt, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Switch:
    subject: PVar
    cases: tuple[Case, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Empty:
    """A lone `;`."""

    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class Include:
    """`include_file "x.cfg"` / `import_file "x.cfg"` (kept only when includes are not inlined)."""

    keyword: str
    path: StringLit
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


Command: TypeAlias = (
    "Call | RouteCall | Return | Exit | Drop | Log | Xlog | Assert | ErrorCmd | Async | Launch"
)
Expr: TypeAlias = "BinOp | BitNot | Paren | Compare | Number | StringLit | PVar | Null | Command"
Cond: TypeAlias = (
    "Logic | Not | Paren | ArithTest | Compare | PVar | Number | Command | Assign | If | Block"
)
Stmt: TypeAlias = (
    "Command | Assign | Break | If | While | ForEach | Switch | Empty | Include | Block"
)

# ---------------------------------------------------------------------------- top level

RouteKind = Literal[
    "route",
    "branch_route",
    "failure_route",
    "onreply_route",
    "error_route",
    "local_route",
    "startup_route",
    "timer_route",
    "event_route",
]


@record
class GlobalParam:
    """`name = value` at the top level. `value` is the text as written, parsed by globals.py."""

    name: str
    value: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
    value_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class LoadModule:
    path: StringLit
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def module(self) -> str:
        """The module name: `"/usr/lib/opensips/modules/tm.so"` -> `tm`."""
        base = self.path.value.rsplit("/", 1)[-1]
        return base[:-3] if base.endswith(".so") else base


@record
class ModParam:
    module: StringLit
    param: StringLit
    value: tuple[StringLit, ...] | Number
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@record
class RouteDef:
    """A route block. `name` None is the unnamed form (`route {}`, `onreply_route {}`).

    `interval` is the seconds of a `timer_route[name, N]`; `mode` the 2.x `event_route[E, sync]`.
    """

    kind: RouteKind
    name: RouteName | None
    body: Block
    interval: Number | None = None
    mode: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def title(self) -> str:
        """How diagnostics name this route: `route`, `route[relay]`, `failure_route[missed]`."""
        if self.name is None:
            return self.kind
        return f"{self.kind}[{self.name.name}]"


TopItem: TypeAlias = "GlobalParam | LoadModule | ModParam | RouteDef | Include"


@record
class Script:
    items: tuple[TopItem, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def routes(self) -> tuple[RouteDef, ...]:
        return tuple(i for i in self.items if isinstance(i, RouteDef))
