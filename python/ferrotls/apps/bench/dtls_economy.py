"""The DTLS economy table of ``ferrotls bench --modes``: bytes and flights per DTLS
1.3 handshake (full with an ECDSA P-256 certificate, external PSK, resumed)
beside TLS 1.3 over TCP, the ClientHello against the MTU, and the time to
complete under the seeded lossy relay (median and p95 over seeded runs, fake
clock).  DTLS 1.2 rows are missing: DTLS 1.2 is not implemented yet.

Bytes are UDP payload (DTLS) or TCP payload (TLS), tickets and the ACKs after
completion excluded, as ``HandshakeStats`` counts them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...config import ClientConfig, ServerConfig
from ...connection import ClientConnection, ServerConnection, pump
from ...dtls import DTLSClientConnection, DTLSConfig, DTLSConnection, DTLSServerConnection
from ...events import SessionTicket
from ...psk import ExternalPsk
from ...suites import NamedGroup
from ..testpki import make_test_pki
from . import HOST
from .lossy import run_lossy_session

__all__ = ["EconomyRow", "run_dtls_economy", "print_dtls_economy"]

_PSK = ExternalPsk(b"bench-device", bytes(range(32)))


@dataclass(frozen=True)
class EconomyRow:
    protocol: str
    mode: str
    c2s: int
    s2c: int
    flights: int
    client_hello: int
    median: float | None = None
    p95: float | None = None


def _dtls_pump(c: DTLSConnection, s: DTLSConnection) -> None:
    for _ in range(20):
        out = c.datagrams_to_send()
        for d in out:
            s.receive_datagram(d, 0.0)
        back = s.datagrams_to_send()
        for d in back:
            c.receive_datagram(d, 0.0)
        if not out and not back:
            return


def run_dtls_economy(backend: str = "native", lossy_runs: int = 100) -> list[EconomyRow]:
    """Measure the rows (``lossy_runs`` seeded relay runs per DTLS mode)."""
    pki = make_test_pki((HOST,), key_kind="p256")
    x25519: dict[str, Any] = {"key_share_groups": (NamedGroup.X25519,), "groups": (NamedGroup.X25519, NamedGroup.SECP256R1)}
    ccfg = ClientConfig(backend=backend, verifier=pki.verifier(), middlebox_compat=False, **x25519)
    scfg = ServerConfig(backend=backend, certificates=(pki.server,), ticket_count=1)
    pcfg = ClientConfig(backend=backend, verifier=pki.verifier(), external_psks=(_PSK,), **x25519)
    pscfg = ServerConfig(backend=backend, psk_callback=lambda i: _PSK if i == _PSK.identity else None,
                         ticket_count=0)
    first = DTLSClientConnection(ccfg, HOST)
    server = DTLSServerConnection(scfg)
    _dtls_pump(first, server)
    ticket: Any = next(e.session for e in first.events() if isinstance(e, SessionTicket))
    modes: list[tuple[str, Callable[[float], tuple[DTLSConnection, DTLSConnection]]]] = [
        ("full ECDSA P-256", lambda now: (DTLSClientConnection(ccfg, HOST, now=now), DTLSServerConnection(scfg, now=now))),
        ("external PSK", lambda now: (DTLSClientConnection(pcfg, HOST, now=now), DTLSServerConnection(pscfg, now=now))),
        ("resumed", lambda now: (DTLSClientConnection(ccfg, HOST, session=ticket, now=now),
                                 DTLSServerConnection(scfg, now=now))),
    ]
    rows = []
    for mode, make in modes:
        c, s = make(0.0)
        _dtls_pump(c, s)
        stats = c.handshake_stats
        assert stats is not None
        times = sorted(
            t for seed in range(lossy_runs)
            if (t := run_lossy_session(make, seed).handshake_time) is not None
        )
        rows.append(EconomyRow("DTLS 1.3", mode, stats.bytes_sent, stats.bytes_received, len(stats.flights),
                               stats.client_hello_size, statistics.median(times) if times else None,
                               times[int(len(times) * 0.95) - 1] if times else None))
    tls = [
        ("full ECDSA P-256", ClientConnection(ccfg, HOST), ServerConnection(scfg)),
        ("external PSK", ClientConnection(pcfg, HOST), ServerConnection(pscfg)),
    ]
    for mode, tc, ts in tls:
        pump(tc, ts)
        stats = tc.handshake_stats
        assert stats is not None
        rows.append(EconomyRow("TLS 1.3/TCP", mode, stats.bytes_sent, stats.bytes_received, len(stats.flights),
                               stats.client_hello_size))
    return rows


def print_dtls_economy(rows: list[EconomyRow], mtu: int = DTLSConfig().mtu) -> None:
    print(f"\nDTLS economy (bytes of UDP/TCP payload, tickets excluded; lossy: 20% loss, 10% dup, "
          f"2% truncation, 5-150 ms delay; ClientHello vs MTU {mtu})")
    print(f"{'protocol':<12} {'mode':<18} {'c->s':>6} {'s->c':>6} {'total':>6} {'flights':>7} "
          f"{'ClientHello':>11} {'fits':>4} {'lossy median s':>14} {'p95 s':>6}")
    for r in rows:
        med = "" if r.median is None else f"{r.median:.2f}"
        p95 = "" if r.p95 is None else f"{r.p95:.2f}"
        fits = "yes" if r.client_hello <= mtu else "no"
        print(f"{r.protocol:<12} {r.mode:<18} {r.c2s:>6} {r.s2c:>6} {r.c2s + r.s2c:>6} {r.flights:>7} "
              f"{r.client_hello:>11} {fits:>4} {med:>14} {p95:>6}")
