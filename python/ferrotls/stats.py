"""What a handshake cost: flights, round trips, bytes per flight, ClientHello size, CPU time.

``HandshakeStats`` is reported on ``HandshakeComplete.stats`` and
``Connection.handshake_stats``.  Bytes are counted where they cross the sans-I/O
boundary (``data_to_send`` and ``receive_data``) until the handshake completes;
the last flight (the client's Finished) is counted from the output still queued
at completion.  CPU time comes from the config's ``cpu_clock`` (default
``time.process_time``), summed over the calls that did handshake work, so tests
can inject a fake clock.

This module is a leaf.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Flight", "HandshakeStats", "StatsRecorder", "MTU_BUDGETS", "PQ_GROUPS"]

MTU_BUDGETS: tuple[int, ...] = (1200, 1500)
"""Budgets a ClientHello is compared with: QUIC's minimum datagram (RFC 9000
section 14.1) and an Ethernet MTU (a larger first flight needs two packets, and
some middleboxes mishandle a ClientHello split across segments)."""

PQ_GROUPS = frozenset({0x11EC, 0x11EB, 0x11ED, 0x0200, 0x0201, 0x0202})
"""Post-quantum (hybrid) key-share groups: X25519MLKEM768, SecP256r1MLKEM768,
SecP384r1MLKEM1024, ML-KEM-512/768/1024."""


@dataclass(frozen=True, slots=True)
class Flight:
    """Bytes one side sent before waiting for the other (records, headers included)."""

    sender: str
    """"client" or "server"."""
    size: int


@dataclass(frozen=True, slots=True)
class HandshakeStats:
    """The cost of one handshake, seen from one side."""

    flights: tuple[Flight, ...]
    bytes_sent: int
    bytes_received: int
    client_hello_size: int
    """The first ClientHello on the wire (record headers included)."""
    client_hello_key_shares: int = 0
    """Bytes of key_exchange in that ClientHello's key_share extension."""
    pq_key_share: bool = False
    """The ClientHello carried a post-quantum key share."""
    hello_retry: bool = False
    cpu_time: float = 0.0
    """Seconds of ``cpu_clock`` spent in handshake calls."""

    @property
    def round_trips(self) -> int:
        """Server flights before completion: 1 for a full or resumed handshake, 2 with
        a HelloRetryRequest (0-RTT data still waits for none)."""
        return sum(1 for f in self.flights if f.sender == "server")

    def client_hello_fits(self, mtu: int) -> bool:
        return self.client_hello_size <= mtu

    @property
    def client_hello_warnings(self) -> tuple[str, ...]:
        """One line per budget in MTU_BUDGETS the ClientHello exceeds, naming a PQ key
        share as the cause when there is one."""
        out = []
        for mtu in MTU_BUDGETS:
            if self.client_hello_size > mtu:
                cause = (
                    f" (post-quantum key share: {self.client_hello_key_shares} bytes of key shares)"
                    if self.pq_key_share else ""
                )
                out.append(f"ClientHello of {self.client_hello_size} bytes exceeds {mtu}{cause}")
        return tuple(out)


class StatsRecorder:
    """Collects a handshake's figures while it runs; ``snapshot()`` freezes them."""

    __slots__ = (
        "is_client", "clock", "_flights", "sent", "received", "client_hello_size",
        "key_shares", "pq", "hello_retry", "cpu", "_call_start", "_depth",
    )

    def __init__(self, is_client: bool, clock: Callable[[], float]) -> None:
        self.is_client = is_client
        self.clock = clock
        self._flights: list[tuple[str, int]] = []
        self.sent = 0
        self.received = 0
        self.client_hello_size = 0
        self.key_shares = 0
        self.pq = False
        self.hello_retry = False
        self.cpu = 0.0
        self._call_start = 0.0
        self._depth = 0

    def _add(self, sender: str, n: int) -> None:
        if n <= 0:
            return
        if self._flights and self._flights[-1][0] == sender:
            self._flights[-1] = (sender, self._flights[-1][1] + n)
        else:
            self._flights.append((sender, n))

    def on_sent(self, n: int) -> None:
        self.sent += n
        self._add("client" if self.is_client else "server", n)

    def on_received(self, n: int) -> None:
        self.received += n
        self._add("server" if self.is_client else "client", n)

    def begin(self) -> None:
        """Start timing a call (nested calls count once)."""
        if self._depth == 0:
            self._call_start = self.clock()
        self._depth += 1

    def end(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.cpu += self.clock() - self._call_start

    def snapshot(self, pending_out: int = 0, unread_in: int = 0) -> HandshakeStats:
        """Freeze, counting ``pending_out`` queued bytes as sent and ``unread_in``
        buffered bytes as not part of the handshake; the current call's time counts."""
        if pending_out:
            self.on_sent(pending_out)
        peer = "server" if self.is_client else "client"
        if unread_in:
            self.received -= unread_in
            for i in range(len(self._flights) - 1, -1, -1):
                if self._flights[i][0] == peer:
                    self._flights[i] = (peer, self._flights[i][1] - unread_in)
                    break
        cpu = self.cpu + (self.clock() - self._call_start if self._depth else 0.0)
        return HandshakeStats(
            flights=tuple(Flight(s, n) for s, n in self._flights),
            bytes_sent=self.sent,
            bytes_received=self.received,
            client_hello_size=self.client_hello_size,
            client_hello_key_shares=self.key_shares,
            pq_key_share=self.pq,
            hello_retry=self.hello_retry,
            cpu_time=cpu,
        )
