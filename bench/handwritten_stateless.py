"""samples/stateless.cfg written by hand in the shape `sipc build` emits.

`make bench` serves it and the compiled sample in the same run, to show what compilation
costs over hand-written Python (the target: the compiled one within 1.1x). It stands for
this script:

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
        if (is_method("REGISTER")) { send_reply(405, "This proxy has no registrar"); exit; }
        record_route();
        forward();
    }

Run alone: `python bench/handwritten_stateless.py -l udp:127.0.0.1:5060`.
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
    if sipmsgops.is_method(ctx, "REGISTER") > 0:  # proxy.cfg:10
        signaling.send_reply(ctx, 405, "This proxy has no registrar")  # proxy.cfg:10
        raise ScriptExit  # proxy.cfg:10
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
