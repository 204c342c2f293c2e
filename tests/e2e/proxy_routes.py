"""A route module written by hand in the shape `sipc build` emits, for the SIPp tests.

It stands for this script:

    route {
        if (!mf_process_maxfwd_header(10)) {
            sl_send_reply(483, "Too Many Hops");
            exit;
        }
        if (has_totag()) {
            if (loose_route()) { forward(); exit; }
            forward();
            exit;
        }
        record_route();
        forward();
    }

Run alone: `python tests/e2e/proxy_routes.py -l udp:127.0.0.1:5060 --stats-file s.json`.
"""

from __future__ import annotations

import sys

from runtime.api import Ctx, RouteTable, ScriptExit, serve_main
from stdlib import core, maxfwd, rr, signaling, sipmsgops


def route_main(ctx: Ctx) -> int:  # proxy.cfg:1 route
    if maxfwd.mf_process_maxfwd_header(ctx, 10) < 0:  # proxy.cfg:2
        signaling.send_reply(ctx, 483, "Too Many Hops")  # proxy.cfg:3
        raise ScriptExit  # proxy.cfg:4
    if sipmsgops.has_totag(ctx) > 0:  # proxy.cfg:6
        if rr.loose_route(ctx) > 0:  # proxy.cfg:7
            core.forward(ctx)  # proxy.cfg:7
            raise ScriptExit  # proxy.cfg:7
        core.forward(ctx)  # proxy.cfg:8
        raise ScriptExit  # proxy.cfg:9
    rr.record_route(ctx)  # proxy.cfg:11
    core.forward(ctx)  # proxy.cfg:12
    return 1


ROUTES = RouteTable(main=route_main)

__sipc_linemap__ = {
    30: ("proxy.cfg", 1, "route"),
    31: ("proxy.cfg", 2, "route"),
    32: ("proxy.cfg", 3, "route"),
    34: ("proxy.cfg", 6, "route"),
    35: ("proxy.cfg", 7, "route"),
    40: ("proxy.cfg", 11, "route"),
}

if __name__ == "__main__":
    sys.exit(serve_main(ROUTES, ["udp:127.0.0.1:5060"]))
