"""OpenSIPS functions sipc does not implement yet: metadata only, from spec/functions.md.

The checker uses this to say "`t_relay` (module `tm`) is not supported by sipc yet"
instead of "unknown function", and to check arity and route kinds all the same.
A function moves out of this table when its module implements it (the registry tests
fail if a name is in both places).

Columns: name, module, minimum and maximum argument count (the minimum counts up to
the last mandatory parameter, since middle ones may be left empty), async mode
(no / yes: also via async() and launch() / only: via async() or launch() only),
allowed routes (REQ FAIL RPL BR ERR LOC START TIMER EV, ALL; ASYNC: only inside async()).
"""

from __future__ import annotations

from runtime.core.script import RouteKind
from stdlib._registry import UnsupportedSpec

_ROUTE_CODES: dict[str, RouteKind] = {
    "REQ": RouteKind.REQUEST,
    "FAIL": RouteKind.FAILURE,
    "RPL": RouteKind.ONREPLY,
    "BR": RouteKind.BRANCH,
    "ERR": RouteKind.ERROR,
    "LOC": RouteKind.LOCAL,
    "START": RouteKind.STARTUP,
    "TIMER": RouteKind.TIMER,
    "EV": RouteKind.EVENT,
    "ALL": RouteKind.ALL,
    # async-only functions are not checked against the route they appear in: async()
    # falls back to a synchronous call where it cannot suspend (language.md §10.1)
    "ASYNC": RouteKind.ALL,
}


def parse_routes(codes: str) -> RouteKind:
    """`"REQ,FAIL"` -> `RouteKind.REQUEST | RouteKind.FAILURE`."""
    kinds = RouteKind(0)
    for code in codes.split(","):
        kinds |= _ROUTE_CODES[code]
    return kinds


_TABLE = """
move_msg_branch           core           0 3  no   ALL
force_tcp_alias           core           0 1  no   ALL
use_blacklist             core           1 1  no   ALL
unuse_blacklist           core           1 1  no   ALL
check_blacklist_rule      core           2 5  no   ALL
add_blacklist_rule        core           2 6  no   ALL
del_blacklist_rule        core           2 5  no   ALL
cache_raw_query           core           2 3  no   ALL
raise_event               core           1 3  no   ALL
subscribe_event           core           2 3  no   ALL
script_trace              core           0 3  no   ALL
sr_check_status           core           1 2  no   ALL
set_via_handling          core           1 1  no   ALL
t_write_req               tm             2 2  no   REQ,FAIL,BR
t_write_unix              tm             2 2  no   REQ,FAIL,BR
t_anycast_replicate       tm             0 0  no   REQ
pn_process_purr           registrar      1 1  only ASYNC
strings_share_lock        cfgutils       1 1  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
sql_avp_load              sqlops         2 4  no   ALL
sql_avp_delete            sqlops         2 3  no   ALL
sql_avp_store             sqlops         2 3  no   ALL
sql_query                 sqlops         1 3  yes  ALL
sql_query_one             sqlops         1 3  yes  ALL
sql_select                sqlops         2 6  no   ALL
sql_select_one            sqlops         5 6  no   ALL
sql_update                sqlops         2 4  no   ALL
sql_insert                sqlops         2 3  no   ALL
sql_delete                sqlops         1 3  no   ALL
sql_replace               sqlops         2 3  no   ALL
avp_db_load               avpops         2 4  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
avp_db_delete             avpops         2 3  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
avp_db_store              avpops         2 3  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
avp_db_query              avpops         1 3  yes  REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
avp_delete                avpops         1 1  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
avp_copy                  avpops         2 2  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
avp_shuffle               avpops         1 1  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
avp_pushto                avpops         2 2  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
avp_check                 avpops         2 2  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
avp_op                    avpops         2 2  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
avp_subst                 avpops         2 2  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
is_avp_set                avpops         1 1  no   REQ,FAIL,RPL,BR,LOC,START,TIMER,EV
create_dialog             dialog         0 1  no   REQ
set_dlg_profile           dialog         1 3  no   REQ,FAIL,RPL,BR
unset_dlg_profile         dialog         1 2  no   REQ,FAIL,RPL,BR
is_in_profile             dialog         1 2  no   REQ,FAIL,RPL,BR
get_profile_size          dialog         3 3  no   ALL
set_dlg_flag              dialog         1 1  no   REQ,FAIL,RPL,BR,LOC
test_and_set_dlg_flag     dialog         2 2  no   REQ,FAIL,RPL,BR,LOC
reset_dlg_flag            dialog         1 1  no   REQ,FAIL,RPL,BR,LOC
is_dlg_flag_set           dialog         1 1  no   REQ,FAIL,RPL,BR,LOC
store_dlg_value           dialog         2 2  no   REQ,FAIL,RPL,BR,LOC
fetch_dlg_value           dialog         2 2  no   REQ,FAIL,RPL,BR,LOC
validate_dialog           dialog         0 0  no   REQ
fix_route_dialog          dialog         0 0  no   REQ
get_dialog_info           dialog         5 5  no   ALL
get_dialog_vals           dialog         3 3  no   ALL
get_dialogs_by_val        dialog         4 4  no   ALL
get_dialogs_by_profile    dialog         4 4  no   ALL
match_dialog              dialog         0 1  no   REQ
set_dlg_sharing_tag       dialog         1 1  no   REQ
load_dialog_ctx           dialog         1 2  no   ALL
unload_dialog_ctx         dialog         0 0  no   ALL
dlg_on_timeout            dialog         0 1  no   REQ,FAIL,RPL,BR
dlg_on_answer             dialog         0 1  no   REQ,FAIL,RPL,BR
dlg_on_hangup             dialog         0 1  no   REQ,FAIL,RPL,BR
dlg_send_sequential       dialog         2 5  no   ALL
dlg_inc_cseq              dialog         0 2  no   REQ,FAIL,RPL,BR,LOC
ds_select_dst             dispatcher     2 5  no   REQ,FAIL,BR,LOC
ds_select_domain          dispatcher     2 5  no   REQ,FAIL,BR,LOC
ds_next_dst               dispatcher     0 1  no   REQ,FAIL
ds_next_domain            dispatcher     0 1  no   REQ,FAIL
ds_mark_dst               dispatcher     0 2  no   REQ,FAIL
ds_is_in_list             dispatcher     2 6  no   REQ,FAIL,RPL,BR,LOC
ds_count                  dispatcher     3 4  no   REQ,FAIL,BR,LOC,TIMER,EV
ds_push_script_attrs      dispatcher     3 5  no   ALL
ds_get_script_attrs       dispatcher     4 4  no   ALL
notify_on_event           event_routing  4 4  no   REQ,FAIL,RPL,BR,EV
wait_for_event            event_routing  3 3  only ASYNC
rest_get                  rest_client    2 4  yes  ALL
rest_post                 rest_client    4 6  yes  ALL
rest_put                  rest_client    4 6  yes  ALL
rest_append_hf            rest_client    1 1  no   ALL
rest_init_client_tls      rest_client    1 1  no   ALL
exec                      exec           1 5  yes  REQ,FAIL,RPL,LOC,START,TIMER,EV
uac_replace_from          uac            2 2  no   REQ,FAIL,BR
uac_restore_from          uac            0 0  no   REQ,FAIL,BR
uac_replace_to            uac            2 2  no   REQ,FAIL,BR
uac_restore_to            uac            0 0  no   REQ,FAIL,BR
uac_auth                  uac            0 1  no   REQ,FAIL,BR
uac_inc_cseq              uac            1 1  no   REQ,FAIL,BR
fix_nated_contact         nathelper      0 1  no   REQ,RPL,BR,LOC
fix_nated_sdp             nathelper      1 3  no   REQ,FAIL,RPL,BR,LOC
nat_uac_test              nathelper      1 1  no   REQ,FAIL,RPL,BR,LOC
fix_nated_register        nathelper      0 0  no   REQ
add_rcv_param             nathelper      0 1  no   REQ
pike_check_req            pike           0 0  no   REQ
"""


def _parse_table(table: str) -> dict[str, UnsupportedSpec]:
    specs: dict[str, UnsupportedSpec] = {}
    for line in table.strip().splitlines():
        name, module, min_args, max_args, async_mode, routes = line.split()
        specs[name] = UnsupportedSpec(
            name=name,
            module=module,
            routes=parse_routes(routes),
            min_args=int(min_args),
            max_args=int(max_args),
            async_mode=async_mode,
        )
    return specs


UNSUPPORTED: dict[str, UnsupportedSpec] = _parse_table(_TABLE)
"""Functions of spec/functions.md that sipc knows by name but does not implement yet."""
