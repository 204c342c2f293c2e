"""The transaction table: one dict by key, one RFC 2543 index, nothing scanned.

Every machine key of a proxy transaction (its server transaction, each branch's client
transaction, the CANCELs on both sides) maps to that transaction, so a message or a
fired timer finds its owner with one lookup. RFC 2543 requests (no magic cookie) are
also indexed by their `Rfc2543Key`; their server transaction gets a made-up key so that
its timers route the same way.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from runtime.transaction.matching import Rfc2543Key

if TYPE_CHECKING:
    from runtime.transaction.proxy import ProxyTransaction

_synthetic_numbers = itertools.count(1)


def synthetic_key() -> str:
    """A machine key for a transaction without an RFC 3261 branch (never a branch: a space)."""
    return f"rfc2543 {next(_synthetic_numbers)}"


class TransactionTable:
    __slots__ = ("by_key", "by_rfc2543", "live")

    def __init__(self) -> None:
        self.by_key: dict[str, ProxyTransaction] = {}
        self.by_rfc2543: dict[Rfc2543Key, ProxyTransaction] = {}
        self.live = 0  # transactions opened and not yet removed

    def add(self, key: str, transaction: ProxyTransaction) -> None:
        self.by_key[key] = transaction

    def add_rfc2543(self, key: Rfc2543Key, transaction: ProxyTransaction) -> None:
        self.by_rfc2543[key] = transaction

    def get(self, key: str) -> ProxyTransaction | None:
        return self.by_key.get(key)

    def get_rfc2543(self, key: Rfc2543Key) -> ProxyTransaction | None:
        return self.by_rfc2543.get(key)

    def opened(self, transaction: ProxyTransaction) -> None:
        self.live += 1

    def remove(self, transaction: ProxyTransaction) -> None:
        """Forget every key of `transaction` (only where it still owns the key)."""
        self.live -= 1
        for key in transaction.keys:
            if isinstance(key, str):
                if self.by_key.get(key) is transaction:
                    del self.by_key[key]
            elif self.by_rfc2543.get(key) is transaction:
                del self.by_rfc2543[key]

    def __len__(self) -> int:
        """How many transactions are live."""
        return self.live

    def __contains__(self, key: object) -> bool:
        return key in self.by_key or key in self.by_rfc2543
