"""runtime.sip.sdp: codecs and streams of SDP bodies as phones and browsers send them."""

from __future__ import annotations

from runtime.sip.sdp import Codec, parse_sdp

# A desk phone's offer: audio with static and dynamic payload types, DTMF, then video.
PHONE_OFFER = (
    b"v=0\r\n"
    b"o=- 3712 3712 IN IP4 192.0.2.55\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.55\r\n"
    b"t=0 0\r\n"
    b"m=audio 16384 RTP/AVP 9 0 8 18 96 101\r\n"
    b"a=rtpmap:9 G722/8000\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:18 G729/8000\r\n"
    b"a=fmtp:18 annexb=no\r\n"
    b"a=rtpmap:96 opus/48000/2\r\n"
    b"a=fmtp:96 useinbandfec=1\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-15\r\n"
    b"a=ptime:20\r\n"
    b"a=sendrecv\r\n"
    b"m=video 16386 RTP/AVP 97 98 99\r\n"
    b"b=AS:2048\r\n"
    b"a=rtpmap:97 H264/90000\r\n"
    b"a=fmtp:97 profile-level-id=42e01f;packetization-mode=1\r\n"
    b"a=rtcp-fb:97 nack pli\r\n"
    b"a=rtpmap:98 VP8/90000\r\n"
    b"a=rtcp-fb:98 nack\r\n"
    b"a=rtpmap:99 rtx/90000\r\n"
    b"a=fmtp:99 apt=98\r\n"
    b"a=extmap:8 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    b"a=sendrecv\r\n"
)


def test_unchanged_sdp_comes_back_byte_for_byte() -> None:
    sdp = parse_sdp(PHONE_OFFER)
    assert sdp is not None
    assert sdp.to_bytes() == PHONE_OFFER
    assert [m.media for m in sdp.media] == ["audio", "video"]
    audio = sdp.media[0]
    assert audio.port == "16384" and audio.proto == "RTP/AVP"
    assert audio.formats == ["9", "0", "8", "18", "96", "101"]
    assert audio.codec("96") == ("opus", "48000")
    assert audio.codec("101") == ("telephone-event", "8000")


def test_static_payload_types_without_rtpmap_are_known() -> None:
    sdp = parse_sdp(b"v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0 18 3\r\n")
    assert sdp is not None
    assert [sdp.media[0].codec(p) for p in ("0", "18", "3")] == [
        ("PCMU", "8000"),
        ("G729", "8000"),
        ("GSM", "8000"),
    ]
    assert sdp.media[0].codec("120") is None


def test_delete_a_codec_takes_its_attribute_lines_and_leaves_the_rest() -> None:
    sdp = parse_sdp(PHONE_OFFER)
    assert sdp is not None
    assert sdp.delete_codecs(lambda c: c[0].lower() == "g729")
    out = sdp.to_bytes().decode()
    assert "m=audio 16384 RTP/AVP 9 0 8 96 101\r\n" in out
    assert "G729" not in out and "annexb" not in out
    # a=extmap:8 is not about payload type 8 (PCMA): it stays
    assert "a=extmap:8 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n" in out
    assert out.count("\r\n") == PHONE_OFFER.count(b"\r\n") - 2


def test_delete_follows_rtx_links_and_rtcp_feedback() -> None:
    sdp = parse_sdp(PHONE_OFFER)
    assert sdp is not None
    assert sdp.delete_codecs(lambda c: c[0] == "VP8")
    out = sdp.to_bytes().decode()
    assert "m=video 16386 RTP/AVP 97\r\n" in out
    assert "rtpmap:98" not in out and "rtcp-fb:98" not in out
    assert "rtpmap:99" not in out and "apt=98" not in out
    assert "a=rtcp-fb:97 nack pli\r\n" in out


def test_a_stream_left_without_codecs_is_disabled_with_port_zero() -> None:
    sdp = parse_sdp(PHONE_OFFER)
    assert sdp is not None
    assert sdp.delete_codecs(lambda c: c[1] == "90000")
    out = sdp.to_bytes().decode()
    assert "m=video 0 RTP/AVP\r\n" in out
    assert "b=AS:2048\r\n" in out  # the rest of the section stays
    # nothing left to match: a second pass changes nothing
    assert not sdp.delete_codecs(lambda c: c[1] == "90000")


def test_move_up_and_down_keep_the_order_of_the_moved_codecs() -> None:
    sdp = parse_sdp(PHONE_OFFER)
    assert sdp is not None
    assert sdp.move_codecs(lambda c: c[0].startswith("PCM"), to_front=True)
    assert sdp.media[0].formats == ["0", "8", "9", "18", "96", "101"]
    assert sdp.move_codecs(lambda c: c[0] == "G722", to_front=False)
    assert "m=audio 16384 RTP/AVP 0 8 18 96 101 9\r\n" in sdp.to_bytes().decode()
    assert not sdp.move_codecs(lambda c: c[0] == "iLBC", to_front=True)


def test_streams_are_found_and_deleted_whole() -> None:
    sdp = parse_sdp(PHONE_OFFER)
    assert sdp is not None
    video = sdp.find_stream(lambda m: m.media == "video")
    assert video is not None
    sdp.delete_stream(video)
    out = sdp.to_bytes()
    assert out == PHONE_OFFER[: PHONE_OFFER.index(b"m=video")]


def hold(text: str) -> int:
    sdp = parse_sdp(text.replace("\n", "\r\n").encode())
    assert sdp is not None
    return sdp.audio_hold()


def test_audio_hold_styles() -> None:
    base = "v=0\no=- 1 2 IN IP4 192.0.2.5\ns=-\nc=IN IP4 {ip}\nt=0 0\n{session}m=audio 4000 RTP/AVP 0\n{attr}"
    assert hold(base.format(ip="192.0.2.5", session="", attr="a=sendrecv\n")) == 0
    assert hold(base.format(ip="192.0.2.5", session="", attr="a=sendonly\n")) == 2
    assert hold(base.format(ip="192.0.2.5", session="", attr="a=inactive\n")) == 2
    assert hold(base.format(ip="192.0.2.5", session="", attr="a=recvonly\n")) == 0
    assert hold(base.format(ip="0.0.0.0", session="", attr="")) == 1
    assert hold(base.format(ip="0.0.0.0", session="", attr="a=sendonly\n")) == 2
    # a direction at session level applies to a stream that gives none
    assert hold(base.format(ip="192.0.2.5", session="a=sendonly\n", attr="")) == 2
    assert hold(base.format(ip="192.0.2.5", session="a=sendonly\n", attr="a=sendrecv\n")) == 0
    # only audio counts
    video_held = (
        "v=0\nc=IN IP4 192.0.2.5\nm=audio 4000 RTP/AVP 0\nm=video 4002 RTP/AVP 97\na=inactive\n"
    )
    assert hold(video_held) == 0


def test_not_sdp() -> None:
    assert parse_sdp(b"") is None
    assert parse_sdp(b"<?xml version='1.0'?><presence/>") is None
    assert parse_sdp(b"v=0\r\nm=audio\r\n") is None  # an m= line needs port and proto


def test_bare_lf_bodies_keep_their_line_ends() -> None:
    body = b"v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0 8\na=rtpmap:8 PCMA/8000\n"
    sdp = parse_sdp(body)
    assert sdp is not None
    wanted: Codec = ("PCMA", "8000")
    assert sdp.delete_codecs(lambda c: c == wanted)
    assert sdp.to_bytes() == b"v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n"
