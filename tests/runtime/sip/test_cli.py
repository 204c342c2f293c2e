"""`sipc sip parse`: JSON out, located errors on stderr, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from runtime.cli import sip_group

GOOD = (
    b"INVITE sip:bob@biloxi.example.com;transport=tcp SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.example.com:5062;branch=z9hG4bK776;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b'From: "Alice" <sip:alice@example.com>;tag=19\r\n'
    b"Call-ID: a84b4c76e66710\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: <sip:alice@pc33.example.com>;expires=60\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
BAD = GOOD.replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE")


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(sip_group, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_parse_prints_fields_as_json(tmp_path: Path) -> None:
    path = tmp_path / "invite.sip"
    path.write_bytes(GOOD)
    code, out, err = run("parse", str(path))
    assert code == 0 and err == ""
    document = json.loads(out)
    assert document["method"] == "INVITE"
    assert document["request_uri"]["host"] == "biloxi.example.com"
    assert document["request_uri"]["params"] == [["transport", "tcp"]]
    assert document["via"][0]["port"] == 5062 and document["via"][0]["rport"] is True
    assert document["from"]["display_name"] == "Alice" and document["from"]["tag"] == "19"
    assert document["cseq"] == {"number": 1, "method": "INVITE"}
    assert document["contact"][0]["params"] == [["expires", "60"]]
    assert [h["name"] for h in document["headers"]][:3] == ["Via", "Max-Forwards", "To"]


def test_invalid_file_is_reported_with_its_offset_and_exit_1(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.sip", tmp_path / "bad.sip"
    good.write_bytes(GOOD)
    bad.write_bytes(BAD)
    code, out, err = run("parse", "--compact", str(good), str(bad))
    assert code == 1
    assert len(out.splitlines()) == 1
    offset = BAD.index(b"1 BYE")
    assert err.strip() == (
        f"{bad}: error at byte {offset}: CSeq method 'BYE' differs from the request method 'INVITE'"
    )


def test_no_validate_still_parses(tmp_path: Path) -> None:
    path = tmp_path / "bad.sip"
    path.write_bytes(BAD)
    code, out, _ = run("parse", "--no-validate", str(path))
    assert code == 0 and json.loads(out)["cseq"]["method"] == "BYE"


def test_stdin_and_tcp_stream() -> None:
    code, out, _ = run("parse", "--tcp", "--compact", "-", stdin=GOOD + b"\r\n\r\n" + GOOD)
    assert code == 0
    documents = [json.loads(line) for line in out.splitlines()]
    assert [d["index"] for d in documents] == [0, 1]
    assert all(d["file"] == "<stdin>" for d in documents)


def test_tcp_error_offset_counts_from_the_start_of_the_stream() -> None:
    stream = GOOD + BAD
    code, _, err = run("parse", "--tcp", "-", stdin=stream)
    assert code == 1
    assert f"error at byte {len(GOOD) + BAD.index(b'1 BYE')}:" in err


def test_help_speaks_sip() -> None:
    code, out, _ = run("parse", "--help")
    assert code == 0 and "Content-Length" in out and "error at byte N" in out


def test_a_folder_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    code, out, err = run("parse", str(tmp_path))
    assert code == 2 and out == ""
    assert "is a directory" in err and "Traceback" not in err


def test_help_states_every_exit_code() -> None:
    code, out, _ = run("parse", "--help")
    assert code == 0 and "2 when a" in out and "FILE cannot be read" in out
