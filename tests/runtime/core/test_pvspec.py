"""The pseudo-variable and transformation tables against spec/pseudo-variables.md itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runtime.core.pvspec import (
    ALL_ROUTES,
    MESSAGE_ROUTES,
    PV_ALIASES,
    PV_SPECS,
    ROUTE_KINDS,
    SIPC_SPELLING_NOTE,
    TRANSFORM_SPECS,
    lookup_pv,
    lookup_transform,
    merge_comma_arguments,
    split_indexed_nameaddr,
)

SPEC_PATH = Path(__file__).resolve().parents[3] / ".." / "shared" / "spec" / "pseudo-variables.md"


def _spec_text() -> str:
    if not SPEC_PATH.is_file():
        pytest.skip(f"{SPEC_PATH} is absent: the shared spec lives beside the checkout")
    return SPEC_PATH.read_text(encoding="utf-8")


def _section(text: str, heading_prefix: str) -> str:
    start = text.index(heading_prefix)
    following = text.find("\n## ", start + 1)
    return text[start : following if following >= 0 else len(text)]


def _table_rows(section: str) -> list[list[str]]:
    """Cells of the data rows of every markdown table in the section (header row dropped)."""
    rows: list[list[str]] = []
    previous_was_table = False
    for line in section.splitlines():
        if not line.startswith("|"):
            previous_was_table = False
            continue
        # Escaped or code-quoted '|' ("int|str") is not a cell border: split on " | " only.
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if set("".join(cells)) <= set("-| "):
            continue
        if previous_was_table:
            rows.append(cells)
        previous_was_table = True
    return rows


def _core_rows() -> list[list[str]]:
    return _table_rows(_section(_spec_text(), "## 2. Core variables"))


def _module_rows() -> list[list[str]]:
    return _table_rows(_section(_spec_text(), "## 3. Module variables"))


def _pv_name(cell: str) -> str:
    match = re.fullmatch(r"`\$([A-Za-z_][\w.]*)(?:\(.*\))?`", cell)
    assert match is not None, f"unexpected variable cell {cell!r}"
    return match.group(1)


def test_the_spec_tables_parse() -> None:
    assert len(_core_rows()) > 100
    assert len(_module_rows()) > 20


def test_every_core_variable_of_the_spec_is_known() -> None:
    missing = [name for name in map(_pv_name, (r[0] for r in _core_rows())) if not lookup_pv(name)]
    assert missing == []


def test_every_module_variable_of_the_spec_is_known_with_its_module() -> None:
    for module, variable, *_ in _module_rows():
        spec = lookup_pv(_pv_name(variable))
        assert spec is not None, variable
        assert spec.module == module, variable


def test_variables_mentioned_outside_the_tables() -> None:
    json_spec = lookup_pv("json")
    assert json_spec is not None and json_spec.module == "json" and json_spec.inner == "required"
    for sipc_only in ("Ri", "Rp", "proto", "br"):
        spec = lookup_pv(sipc_only)
        assert spec is not None and spec.module == "core"
        assert SIPC_SPELLING_NOTE in spec.doc
    event = lookup_pv("$event")
    assert event is not None
    assert (event.value_type, event.writable, event.routes) == ("int|str", False, ALL_ROUTES)


def _expected_type(cell: str) -> str:
    has_int, has_str = "int" in cell, "str" in cell
    return "int|str" if has_int and has_str else ("int" if has_int else "str")


def test_types_and_access_follow_the_spec() -> None:
    for row in _core_rows():
        name, type_cell, access = _pv_name(row[0]), row[3], row[4]
        spec = lookup_pv(name)
        assert spec is not None
        if spec.name != name:
            continue  # an alias row describes its target
        assert spec.value_type == _expected_type(type_cell), name
        assert spec.writable == access.startswith(("rw", "w")), name
        assert spec.readable == (access != "w"), name
    for _module, variable, _meaning, type_cell, access, _routes in _module_rows():
        spec = lookup_pv(_pv_name(variable))
        assert spec is not None
        assert spec.value_type == _expected_type(type_cell), variable
        assert spec.writable == (access == "rw"), variable


def _forms(syntax: str) -> list[tuple[str, bool]]:
    """(name, has an inner name) for each form of the syntax column."""
    forms = []
    for form in re.findall(r"\$\(?[^\s]+", syntax.strip("`")):
        match = re.match(r"\$\(?(?:<\w+>)?([A-Za-z_][\w.]*)(\()?", form)
        assert match is not None, form
        forms.append((match.group(1), match.group(2) is not None))
    return forms


def test_inner_names_and_indexes_follow_the_syntax_column() -> None:
    for row in _core_rows():
        name, syntax = _pv_name(row[0]), row[1]
        spec = PV_SPECS.get(name)
        if spec is None:
            continue  # aliases share their target's syntax
        with_inner = [inner for form_name, inner in _forms(syntax) if form_name == name]
        expected = "required" if all(with_inner) else "optional" if any(with_inner) else "none"
        assert spec.inner == expected, name
        assert spec.indexable == ("[" in syntax), name


def _expected_routes(cell: str) -> frozenset[str] | None:
    if cell.startswith("all with a real message"):
        return MESSAGE_ROUTES
    if "with a" in cell:
        return None  # "with a dialog", "all with a transaction": judged by the module
    if cell.startswith("all"):
        return ALL_ROUTES
    words = re.findall(r"[a-z_]+", cell.split("(")[0])
    return frozenset("error" if word == "error_route" else word for word in words)


def test_route_kinds_follow_the_spec() -> None:
    for row in [*_core_rows(), *(r[1:] for r in _module_rows())]:
        name = _pv_name(row[0])
        spec = lookup_pv(name)
        assert spec is not None
        assert spec.routes and spec.routes <= ROUTE_KINDS, name
        if spec.name != name:
            continue
        expected = _expected_routes(row[-1])
        if expected is not None:
            assert spec.routes == expected, name


def test_aliases_resolve_to_the_variable_the_spec_names() -> None:
    checked = 0
    for row in _core_rows():
        match = re.match(r"(?:alias of|same as) \$([\w.]+)", row[2])
        if match is None:
            continue
        alias_spec, target_spec = lookup_pv(_pv_name(row[0])), lookup_pv(match.group(1))
        assert alias_spec is not None and alias_spec is target_spec, row[0]
        checked += 1
    assert checked >= 10


def test_alias_index_is_consistent() -> None:
    assert not set(PV_ALIASES) & set(PV_SPECS)
    for alias, canonical in PV_ALIASES.items():
        assert alias in PV_SPECS[canonical].aliases
    assert all(not name.startswith("$") for name in PV_SPECS)


def test_lookup_accepts_a_dollar_and_rejects_unknown_names() -> None:
    assert lookup_pv("$ruri") is lookup_pv("ru")
    assert lookup_pv("$ruri") is PV_SPECS["ru"]
    assert lookup_pv("$Ru") is None  # names are case-sensitive: $rU and $ru differ
    assert lookup_pv("rU") is not lookup_pv("ru")
    assert lookup_pv("nosuchvar") is None
    assert lookup_pv("") is None and lookup_pv("$") is None


def test_write_only_and_read_only_examples() -> None:
    branch = lookup_pv("msg.branch")
    assert branch is not None and branch.writable and not branch.readable
    cseq = lookup_pv("cs")
    assert cseq is not None and cseq.value_type == "str" and not cseq.writable
    method = lookup_pv("rm")
    assert method is not None and method.value_type == "int|str"


# --- transformations ---------------------------------------------------------------------


def _transform_rows() -> list[tuple[str, int, int, str]]:
    """(name, min args, max args, result cell) for every `{...}` form of the §4 table."""
    section = _section(_spec_text(), "## 4. Transformations")
    found = []
    for row in _table_rows(section):
        for form in re.findall(r"`\{([^`]+)\}`", row[0]):
            name, _, arguments = form.partition(",")
            required = [a for a in arguments.split("[")[0].split(",") if a]
            optional = re.findall(r"\[,", arguments)
            found.append((name, len(required), len(required) + len(optional), row[3]))
    return found


def test_every_transformation_of_the_spec_is_known_with_its_arity() -> None:
    rows = _transform_rows()
    assert len(rows) > 60
    for name, min_args, max_args, _result in rows:
        lookup_name = "nameaddr.1.uri" if name == "nameaddr.N.field" else name
        spec = lookup_transform(lookup_name)
        assert spec is not None, name
        assert (spec.min_args, spec.max_args) == (min_args, max_args), name
        assert len(spec.arg_kinds) == spec.max_args, name


def test_transformations_elided_by_the_spec_are_there() -> None:
    # The table writes "{s.sha1_hmac,key} … {s.sha512_hmac,key}".
    for bits in ("224", "256", "384"):
        spec = TRANSFORM_SPECS[f"s.sha{bits}_hmac"]
        assert spec.arg_kinds == ("str",)


def test_integer_results_are_typed_int() -> None:
    for name, _min, _max, result in _transform_rows():
        spec = lookup_transform("nameaddr.1.len" if name == "nameaddr.N.field" else name)
        assert spec is not None
        if result.startswith("int") and "/" not in result.split()[0]:
            assert spec.output_type in ("int", "int|str"), name
    assert TRANSFORM_SPECS["s.len"].output_type == "int"
    assert TRANSFORM_SPECS["uri.port"].output_type == "int|str"


def test_indexed_nameaddr_lookup() -> None:
    assert split_indexed_nameaddr("nameaddr.1.uri") == (1, "uri")
    assert split_indexed_nameaddr("nameaddr.-1.name") == (-1, "name")
    assert split_indexed_nameaddr("nameaddr.x.uri") is None
    assert split_indexed_nameaddr("nameaddr.1.bogus") is None
    first_len = lookup_transform("nameaddr.-2.len")
    assert first_len is not None and first_len.output_type == "int"
    param = lookup_transform("nameaddr.0.param")
    assert param is not None and (param.min_args, param.max_args) == (1, 1)
    assert lookup_transform("nameaddr.1") is None
    assert lookup_transform("s.nosuch") is None


def test_transform_families() -> None:
    families = {spec.family for spec in TRANSFORM_SPECS.values()}
    assert families == {"s", "uri", "via", "param", "nameaddr", "ip", "csv", "sdp", "re"}
    assert not any(spec.implemented for spec in TRANSFORM_SPECS.values() if spec.family == "sdp")


def test_a_comma_argument_written_as_an_empty_position() -> None:
    # "{s.select,1,,}" split on every comma
    assert merge_comma_arguments("s.select", ["1", "", ""]) == ["1", ","]
    assert merge_comma_arguments("s.select", ["1", ","]) == ["1", ","]
    assert merge_comma_arguments("s.select", ["1", "x", ""]) == ["1", "x", ""]  # still too many
    assert merge_comma_arguments("sdp.line", ["", "", "2"]) == [",", "2"]
    assert merge_comma_arguments("s.substr", ["1", "", ""]) == ["1", "", ""]  # no char argument
    assert merge_comma_arguments("no.such", ["", ""]) == ["", ""]


def test_the_checker_s_lists_of_what_the_runtime_cannot_do_are_the_runtime_s() -> None:
    from runtime.core import pvaccess
    from runtime.core.pvspec import NOT_READ_BY_RUNTIME, NOT_WRITTEN_BY_RUNTIME, PV_SPECS

    readable = pvaccess.known_names()
    writable = frozenset(pvaccess._SETTERS)
    assert {n for n in PV_SPECS if n not in readable} == NOT_READ_BY_RUNTIME
    unwritten = {
        n for n, s in PV_SPECS.items() if s.writable and n in readable and n not in writable
    }
    assert unwritten == NOT_WRITTEN_BY_RUNTIME
