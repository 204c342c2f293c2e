"""RFC 3261 transactions and the stateful proxy core, sans-IO: timers are inputs.

Start with `TransactionLayer` (layer.py): it matches what arrives and creates
`ProxyTransaction`s (proxy.py, §16) built on the four §17 machines (client.py,
server.py). Every input returns a list of effects (effects.py) for the runtime to apply
in order; timers live on one `TimerWheel` (wheel.py). Nothing here does I/O.
"""

from runtime.transaction.branches import Branch, ProxyBranch
from runtime.transaction.client import (
    ClientInviteTransaction,
    ClientNonInviteTransaction,
    ClientTransaction,
)
from runtime.transaction.effects import (
    DEFAULT_SETTINGS,
    Deliver,
    Effect,
    NewRequest,
    Send,
    StartTimer,
    StopTimer,
    StrayCancel,
    StrayResponse,
    TimerId,
    TimerSettings,
    TransactionError,
    TuEvent,
)
from runtime.transaction.layer import TransactionLayer
from runtime.transaction.machine import State
from runtime.transaction.proxy import Failure, Phase, ProxyTransaction, Terminated
from runtime.transaction.server import (
    ServerInviteTransaction,
    ServerNonInviteTransaction,
    ServerTransaction,
)
from runtime.transaction.table import TransactionTable
from runtime.transaction.wheel import TimerWheel, apply_timers

__all__ = [
    "DEFAULT_SETTINGS",
    "Branch",
    "ClientInviteTransaction",
    "ClientNonInviteTransaction",
    "ClientTransaction",
    "Deliver",
    "Effect",
    "Failure",
    "NewRequest",
    "Phase",
    "ProxyBranch",
    "ProxyTransaction",
    "Send",
    "ServerInviteTransaction",
    "ServerNonInviteTransaction",
    "ServerTransaction",
    "StartTimer",
    "State",
    "StopTimer",
    "StrayCancel",
    "StrayResponse",
    "Terminated",
    "TimerId",
    "TimerSettings",
    "TimerWheel",
    "TransactionError",
    "TransactionLayer",
    "TransactionTable",
    "TuEvent",
    "apply_timers",
]
