"""A seeded lossy datagram relay and a DTLS session run through it, on a fake clock.

:class:`LossyRelay` stands between two sans-I/O DTLS connections: every datagram
is dropped, duplicated, delayed (so reordered) or truncated at random, from one
seed, so a run is repeatable.  :func:`run_lossy_session` runs one handshake and
then a stream of numbered application datagrams through it, advancing a fake
clock to the next delivery or timer -- no real sleeping -- and reports what
arrived: the handshake time, retransmissions, and whether any application
datagram came twice, corrupt or not at all.  The test suite
(``tests/test_dtls_lossy.py``) and ``ferrotls bench --modes`` (the median and
p95 handshake time over seeded runs) use it.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ...dtls import DTLSConnection
from ...events import ApplicationData, HandshakeComplete

__all__ = ["LossProfile", "LossyRelay", "LossyResult", "run_lossy_session", "app_payload", "check_payload"]


@dataclass(frozen=True)
class LossProfile:
    """What the path does to each datagram (probabilities, seconds)."""

    loss: float = 0.20
    duplicate: float = 0.10
    truncate: float = 0.02
    min_delay: float = 0.005
    max_delay: float = 0.150
    """Each copy is delivered after a delay drawn in [min_delay, max_delay]: datagrams
    sent close together arrive out of order."""


@dataclass
class RelayCounts:
    sent: int = 0
    dropped: int = 0
    duplicated: int = 0
    truncated: int = 0
    delivered: int = 0


class LossyRelay:
    """Datagrams in both directions, delivered later, twice, cut or never."""

    def __init__(self, seed: int, profile: LossProfile | None = None) -> None:
        self.rng = random.Random(seed)
        self.profile = profile or LossProfile()
        self._queue: list[tuple[float, int, bool, bytes]] = []
        self._counter = 0
        self.counts = RelayCounts()

    def send(self, now: float, to_server: bool, datagram: bytes) -> None:
        p, rng = self.profile, self.rng
        self.counts.sent += 1
        if rng.random() < p.loss:
            self.counts.dropped += 1
            return
        copies = 2 if rng.random() < p.duplicate else 1
        self.counts.duplicated += copies - 1
        for _ in range(copies):
            data = datagram
            if len(data) > 1 and rng.random() < p.truncate:
                data = data[: rng.randrange(1, len(data))]
                self.counts.truncated += 1
            self._counter += 1
            heapq.heappush(self._queue, (now + rng.uniform(p.min_delay, p.max_delay), self._counter, to_server, data))

    def next_time(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def due(self, now: float) -> list[tuple[bool, bytes]]:
        out = []
        while self._queue and self._queue[0][0] <= now:
            _, _, to_server, data = heapq.heappop(self._queue)
            out.append((to_server, data))
        self.counts.delivered += len(out)
        return out


def app_payload(n: int, size: int = 64) -> bytes:
    """Application datagram ``n`` of ``size`` bytes (at least 16): its number and
    length, a digest of both, filler."""
    size = max(size, 16)
    meta = n.to_bytes(4, "big") + size.to_bytes(2, "big")
    head = meta + hashlib.sha256(meta).digest()[:10]
    return head + bytes((n & 0xFF,)) * (size - 16)


def check_payload(data: bytes) -> int | None:
    """The number of an intact application datagram, None if it is corrupt or cut."""
    if len(data) < 16:
        return None
    n = int.from_bytes(data[:4], "big")
    return n if data == app_payload(n, int.from_bytes(data[4:6], "big")) else None


@dataclass
class LossyResult:
    """What one run through the relay did."""

    seed: int
    completed: bool
    client_done_at: float | None
    server_done_at: float | None
    client_retransmissions: int
    server_retransmissions: int
    app_sent: int = 0
    app_delivered: int = 0
    app_duplicates: int = 0
    app_corrupt: int = 0
    relay: RelayCounts = field(default_factory=RelayCounts)
    client_dropped: int = 0
    server_dropped: int = 0

    @property
    def app_lost(self) -> int:
        return self.app_sent - self.app_delivered

    @property
    def handshake_time(self) -> float | None:
        if self.client_done_at is None or self.server_done_at is None:
            return None
        return max(self.client_done_at, self.server_done_at)


def run_lossy_session(
    make_pair: Callable[[float], tuple[DTLSConnection, DTLSConnection]],
    seed: int,
    profile: LossProfile | None = None,
    *,
    app_datagrams: int = 0,
    app_interval: float = 0.05,
    time_limit: float = 600.0,
) -> LossyResult:
    """One handshake through a :class:`LossyRelay` (``seed``), then ``app_datagrams``
    client datagrams ``app_interval`` apart; returns the :class:`LossyResult`."""
    relay = LossyRelay(seed, profile)
    now = 0.0
    client, server = make_pair(now)
    result = LossyResult(seed, False, None, None, 0, 0)
    seen: set[int] = set()
    next_app = None
    sent = 0

    def note(conn: DTLSConnection, is_client: bool) -> None:
        for event in conn.events():
            if isinstance(event, HandshakeComplete):
                if is_client:
                    result.client_done_at = now
                else:
                    result.server_done_at = now
            elif isinstance(event, ApplicationData) and not is_client:
                n = check_payload(event.data)
                if n is None:
                    result.app_corrupt += 1
                elif n in seen:
                    result.app_duplicates += 1
                else:
                    seen.add(n)

    while now <= time_limit:
        for d in client.datagrams_to_send():
            relay.send(now, True, d)
        for d in server.datagrams_to_send():
            relay.send(now, False, d)
        if client.handshake_complete and next_app is None and app_datagrams:
            next_app = now
        if next_app is not None and sent < app_datagrams and now >= next_app:
            client.send(app_payload(sent))
            sent += 1
            next_app = now + app_interval
            continue
        if result.handshake_time is not None and sent >= app_datagrams and relay.next_time() is None:
            break
        times = [t for t in (relay.next_time(), client.next_timeout(), server.next_timeout(),
                             next_app if sent < app_datagrams else None) if t is not None]
        if not times:
            break
        now = max(now, min(times))
        for to_server, data in relay.due(now):
            target = server if to_server else client
            target.receive_datagram(data, now)
            note(target, target is client)
        for conn in (client, server):
            timer = conn.next_timeout()
            if timer is not None and timer <= now:
                conn.handle_timeout(now)
        note(client, True)
        note(server, False)
    result.completed = result.handshake_time is not None
    result.client_retransmissions = client.retransmissions
    result.server_retransmissions = server.retransmissions
    result.app_sent = sent
    result.app_delivered = len(seen)
    result.relay = relay.counts
    result.client_dropped = client.dropped.total
    result.server_dropped = server.dropped.total
    return result
