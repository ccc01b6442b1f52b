"""A 0-RTT strike register shared by a fleet through Redis (RFC 8446 section 8.1).

Each 0-RTT attempt is one ``SET {prefix}0rtt:<key> "" NX PX <ttl>``: Redis
stores the key only if it is absent, atomically, so of any number of instances
offered the same ClientHello exactly one gets "stored" and accepts the early
data.  The entry expires when the ticket could no longer be accepted.

Fail closed: when Redis is down, slow (the connection's timeout) or refuses the
write (out of memory), ``check_and_add`` returns False, the server rejects the
early data and the handshake goes on as a plain resumption.  The outage and the
recovery are logged once each by the :class:`RedisConnection`.  After a
recovery 0-RTT stays refused for ``quarantine`` seconds: a Redis that restarted
has forgotten its entries, and a flight recorded before the restart can only be
replayed (past the server's ticket-age check) within twice the ticket-age
tolerance of the original.
"""

from __future__ import annotations

import hashlib
import math
import time

from .connection import DEFAULT_TIMEOUT, RedisConnection
from .errors import SharedStateUnavailable

__all__ = ["RedisReplayStore"]

_MAX_KEY = 64


class RedisReplayStore:
    """A :class:`ferrotls.replay.ReplayStore` in Redis: 0-RTT accepted at most
    once across every instance that shares the Redis and ``prefix``.

    ``redis``: a URL or a :class:`RedisConnection` (share the key ring's, so one
    outage logs one line).  ``max_ttl``: cap, in seconds, on how long an entry
    is kept (None: until the ticket expires).  A server that rejects 0-RTT whose
    ticket age is off by more than ``ticket_age_tolerance`` (ServerConfig) can
    never accept a replay later than twice that tolerance after the original,
    so ``max_ttl = 2 * ticket_age_tolerance`` keeps Redis small and stays safe.
    ``quarantine``: seconds 0-RTT stays refused after Redis recovers from an
    outage (default 20: twice ServerConfig's default tolerance of 10 s).
    """

    def __init__(
        self,
        redis: str | RedisConnection,
        *,
        prefix: str = "ferrotls:",
        max_ttl: float | None = None,
        quarantine: float = 20.0,
        timeout: float = DEFAULT_TIMEOUT,
        name: str | None = None,
    ) -> None:
        if max_ttl is not None and max_ttl <= 0:
            raise ValueError("max_ttl must be positive (or None)")
        if quarantine < 0:
            raise ValueError("quarantine must not be negative")
        self.quarantine = quarantine
        self.conn = redis if isinstance(redis, RedisConnection) else RedisConnection(
            redis, timeout=timeout, name=name
        )
        self.prefix = prefix
        self._key_prefix = f"{prefix}0rtt:".encode()
        self.max_ttl = max_ttl

    def __repr__(self) -> str:
        return f"RedisReplayStore({self.conn.url}, {self._key_prefix.decode(errors='replace')})"

    def redis_key(self, key: bytes) -> bytes:
        """The Redis key that remembers ``key``."""
        if len(key) > _MAX_KEY:
            key = hashlib.sha256(key).digest()
        return self._key_prefix + key

    def check_and_add(self, key: bytes, expires_at: float, now: float) -> bool:
        """True if no instance saw ``key`` before (it is now recorded until
        ``expires_at``); False if one did, or if Redis cannot tell (fail closed)."""
        ttl = expires_at - now
        if self.max_ttl is not None:
            ttl = min(ttl, self.max_ttl)
        ttl_ms = math.ceil(ttl * 1000)
        if ttl_ms <= 0:
            return False
        name = self.redis_key(key)
        if self._quarantined():
            return False
        try:
            stored = self.conn.call(lambda r: r.set(name, b"1", nx=True, px=ttl_ms))
        except SharedStateUnavailable:
            return False
        return stored is True and not self._quarantined()

    def _quarantined(self) -> bool:
        since = self.conn.recovered_at
        return since is not None and time.monotonic() - since < self.quarantine
