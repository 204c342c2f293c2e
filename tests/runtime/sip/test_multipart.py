"""runtime.sip.multipart: the parts of SIP multipart bodies (SDP + ISUP, SDP + PIDF-LO)."""

from __future__ import annotations

from runtime.sip import multipart

CONTENT_TYPE = 'multipart/mixed;boundary="unique-boundary-1"'
SDP = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
ISUP = b"\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03"
BODY = (
    b"--unique-boundary-1\r\n"
    b"Content-Type: application/sdp\r\n"
    b"\r\n" + SDP + b"\r\n"
    b"--unique-boundary-1\r\n"
    b"Content-Type: application/ISUP;version=nxv3;base=etsi121\r\n"
    b"Content-Disposition: signal;handling=optional\r\n"
    b"\r\n" + ISUP + b"\r\n"
    b"--unique-boundary-1--\r\n"
)


def test_media_type_and_boundary() -> None:
    assert multipart.media_type("Application/SDP ; x=y") == "application/sdp"
    assert multipart.boundary_of(CONTENT_TYPE) == "unique-boundary-1"
    assert multipart.boundary_of("multipart/mixed; boundary=abc") == "abc"
    assert multipart.boundary_of("application/sdp") is None


def test_split_gives_each_part_with_its_headers_and_content() -> None:
    parts = multipart.split(CONTENT_TYPE, BODY)
    assert parts is not None and len(parts) == 2
    sdp, isup = parts
    assert sdp.media_type == "application/sdp" and sdp.body == SDP
    assert isup.media_type == "application/isup" and isup.body == ISUP
    assert isup.header("content-disposition") == "signal;handling=optional"


def test_replace_one_part_keeps_every_other_byte() -> None:
    parts = multipart.split(CONTENT_TYPE, BODY)
    assert parts is not None
    new = multipart.replace_body(BODY, parts[0], b"v=0\r\n")
    assert new == BODY.replace(SDP, b"v=0\r\n")
    again = multipart.split(CONTENT_TYPE, new)
    assert again is not None and again[1].body == ISUP


def test_remove_a_part() -> None:
    parts = multipart.split(CONTENT_TYPE, BODY)
    assert parts is not None
    without_sdp = multipart.remove_part(BODY, parts[0])
    left = multipart.split(CONTENT_TYPE, without_sdp)
    assert left is not None and [p.media_type for p in left] == ["application/isup"]
    assert without_sdp.startswith(b"--unique-boundary-1\r\nContent-Type: application/ISUP")
    without_isup = multipart.remove_part(BODY, parts[1])
    assert without_isup.endswith(SDP + b"\r\n--unique-boundary-1--\r\n")


def test_not_multipart_or_no_delimiters() -> None:
    assert multipart.split("application/sdp", SDP) is None
    assert multipart.split(CONTENT_TYPE, SDP) is None
