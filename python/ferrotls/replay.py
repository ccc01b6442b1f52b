"""Anti-replay for 0-RTT data (RFC 8446 section 8).

A server accepts early data under a ticket at most once: before accepting it
asks a ``ReplayStore`` whether the ticket was seen (a "strike register" keyed by
the ticket, RFC 8446 section 8.1).  The freshness window (section 8.3) bounds how
long an entry must be kept: a ticket is remembered until it expires.

``InMemoryReplayStore`` is the default, bounded in size; several server
processes that share ticket keys should share one store too (implement the
protocol over Redis, memcached, a database ...).  A full store refuses: early
data is then rejected, never replayed.
"""

from __future__ import annotations

import heapq
import threading
from typing import Protocol, runtime_checkable

__all__ = ["ReplayStore", "InMemoryReplayStore"]


@runtime_checkable
class ReplayStore(Protocol):
    """Remembers keys (e.g. a ticket digest) until they expire."""

    def check_and_add(self, key: bytes, expires_at: float, now: float) -> bool:
        """True if ``key`` was not seen (and is now recorded until ``expires_at``);
        False if it was seen, or if the store cannot record it (fail closed)."""
        ...


class InMemoryReplayStore:
    """A bounded in-process strike register (thread-safe)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self._seen: dict[bytes, float] = {}
        self._expiry: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def _purge(self, now: float) -> None:
        heap = self._expiry
        while heap and heap[0][0] <= now:
            expires, key = heapq.heappop(heap)
            if self._seen.get(key) == expires:
                del self._seen[key]

    def check_and_add(self, key: bytes, expires_at: float, now: float) -> bool:
        with self._lock:
            self._purge(now)
            if key in self._seen:
                return False
            if len(self._seen) >= self.max_entries:
                return False  # full: refuse rather than forget
            self._seen[key] = expires_at
            heapq.heappush(self._expiry, (expires_at, key))
            return True

    def __repr__(self) -> str:
        return f"InMemoryReplayStore({len(self._seen)}/{self.max_entries})"
