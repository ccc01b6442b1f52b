"""State shared by many server instances through Redis (``pip install 'ferrotls[redis]'``).

* :class:`RedisTicketKeyRing` -- session ticket keys every instance seals and
  opens with, rotated by one instance at a time, stored in Redis sealed under a
  key-encryption key (:mod:`ferrotls.shared.kek`).  Give it to
  ``ServerConfig(ticket_keys=...)``.
* :class:`RedisReplayStore` -- the 0-RTT strike register: one ``SET NX PX``
  per 0-RTT attempt, so early data is accepted at most once across the fleet.
  Give it to ``ServerConfig(replay_store=...)``.
* :class:`RedisConnection` -- the Redis both use: short timeouts, no retries,
  one log line for an outage and one for the recovery (logger ``ferrotls.redis``).
* :func:`redis_shared_state` -- both stores on one connection, from a URL and a KEK.

When Redis is down or slow, handshakes do not wait for it: tickets are sealed
and opened with the keys held in memory, and 0-RTT is refused.  See
docs/deployment.md.  redis-py is imported only when one of these is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .connection import DEFAULT_TIMEOUT, LOGGER_NAME, RedisConnection
from .errors import KeyEncryptionKeyError, SharedStateError, SharedStateUnavailable
from .kek import kek_id, new_kek, parse_kek, read_kek_file
from .ring import RedisTicketKeyRing
from .strikes import RedisReplayStore

__all__ = [
    "RedisConnection",
    "RedisTicketKeyRing",
    "RedisReplayStore",
    "redis_shared_state",
    "SharedStateError",
    "SharedStateUnavailable",
    "KeyEncryptionKeyError",
    "parse_kek",
    "read_kek_file",
    "new_kek",
    "kek_id",
    "DEFAULT_TIMEOUT",
    "LOGGER_NAME",
]


def redis_shared_state(
    url: str,
    kek: bytes | str | Sequence[bytes | str],
    *,
    prefix: str = "ferrotls:",
    timeout: float = DEFAULT_TIMEOUT,
    retry_interval: float = 1.0,
    name: str | None = None,
    max_ttl: float | None = None,
    quarantine: float = 20.0,
    **ring_options: Any,
) -> tuple[RedisTicketKeyRing, RedisReplayStore]:
    """A key ring and a replay store on one :class:`RedisConnection` to ``url``::

        ring, strikes = redis_shared_state("redis://127.0.0.1:6379/0", kek)
        config = ServerConfig(..., ticket_keys=ring, replay_store=strikes, early_data=True)

    ``max_ttl`` and ``quarantine`` go to :class:`RedisReplayStore`,
    ``ring_options`` to :class:`RedisTicketKeyRing` (rotation_interval,
    grace_period, refresh_interval, activation_delay, background, clock, ...).
    """
    conn = RedisConnection(url, timeout=timeout, retry_interval=retry_interval, name=name)
    ring = RedisTicketKeyRing(conn, kek, prefix=prefix, **ring_options)
    return ring, RedisReplayStore(conn, prefix=prefix, max_ttl=max_ttl, quarantine=quarantine)
