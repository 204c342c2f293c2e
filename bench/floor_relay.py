"""The floor under any uvloop proxy: relay the bench's datagrams without reading them.

Run by `bench/run.py --floor`, never alone in CI. It listens like a proxy (`-l
udp:IP:PORT`) and sends every datagram from the SIPp UAS (PORT + 10) to the SIPp UAC
(PORT + 20) and every other datagram to the UAS: no parsing, no Via, no script. The
SIPp UAS answers the address a request came from, so the bench's calls complete.
What this process costs per call at a given rate is what the event loop and the
socket calls alone cost; the rest of a sipc figure is SIP and script work.

With `--register` it is the floor of a registrar instead: every datagram is answered
with a 200 OK made of the request's own Via, From, To (a tag added), Call-ID, CSeq and
Contact lines, found by splitting the header block at CRLF and nothing more: no
parsing, no location table, no checks.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import uvloop


class Relay(asyncio.DatagramProtocol):
    def __init__(self, uas: tuple[str, int], uac: tuple[str, int]) -> None:
        self.uas = uas
        self.uac = uac
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, self.uac if addr == self.uas else self.uas)


_COPIED = (b"via:", b"v:", b"from:", b"f:", b"call-id:", b"i:", b"cseq:", b"contact:", b"m:")


class Registrar(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        lines = [b"SIP/2.0 200 OK"]
        for line in head[1:]:
            lower = line[:9].lower()
            if lower.startswith(_COPIED):
                lines.append(line)
            elif lower.startswith((b"to:", b"t:")):
                lines.append(line + b";tag=floor")
        lines.append(b"Content-Length: 0\r\n\r\n")
        self.transport.sendto(b"\r\n".join(lines), addr)


async def serve(ip: str, port: int, register: bool) -> None:
    loop = asyncio.get_running_loop()
    protocol: asyncio.DatagramProtocol = (
        Registrar() if register else Relay((ip, port + 10), (ip, port + 20))
    )
    await loop.create_datagram_endpoint(lambda: protocol, local_addr=(ip, port))
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("-l", "--listen", default="udp:127.0.0.1:5060")
    parser.add_argument("--register", action="store_true", help="answer REGISTERs with 200")
    args = parser.parse_args()
    _, ip, port = args.listen.split(":")
    uvloop.run(serve(ip, int(port), args.register))


if __name__ == "__main__":
    main()
