"""The floor under any uvloop proxy: relay the bench's datagrams without reading them.

Run by `bench/run.py --floor`, never alone in CI. It listens like a proxy (`-l
udp:IP:PORT`) and sends every datagram from the SIPp UAS (PORT + 10) to the SIPp UAC
(PORT + 20) and every other datagram to the UAS: no parsing, no Via, no script. The
SIPp UAS answers the address a request came from, so the bench's calls complete.
What this process costs per call at a given rate is what the event loop and the
socket calls alone cost; the rest of a sipc figure is SIP and script work.
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


async def serve(ip: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    relay = Relay((ip, port + 10), (ip, port + 20))
    await loop.create_datagram_endpoint(lambda: relay, local_addr=(ip, port))
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("-l", "--listen", default="udp:127.0.0.1:5060")
    _, ip, port = parser.parse_args().listen.split(":")
    uvloop.run(serve(ip, int(port)))


if __name__ == "__main__":
    main()
