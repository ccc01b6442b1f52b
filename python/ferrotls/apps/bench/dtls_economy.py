"""The DTLS economy table of ``ferrotls bench --modes``: bytes and flights per DTLS
1.3 and DTLS 1.2 handshake (full with an ECDSA P-256 certificate, external PSK,
resumed by ticket) beside TLS 1.3 over TCP, the ClientHello against the MTU, and
the time to complete under the seeded lossy relay (median and p95 over seeded
runs, fake clock).

The DTLS 1.2 rows run TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (full, resumed)
and RFC 7925's TLS_PSK_WITH_AES_128_CCM_8 (external PSK: no (EC)DHE, where DTLS
1.3's PSK row is psk_dhe_ke with X25519).  No cookie exchange in any row (a
HelloRetryRequest or HelloVerifyRequest adds one round trip and about the
ClientHello's size).  Bytes are UDP payload (DTLS) or TCP payload (TLS), tickets
and the ACKs after completion excluded, as ``HandshakeStats`` counts them --
except DTLS 1.2's NewSessionTicket, which is a message of the server's last
flight there (RFC 5077), not a post-handshake message.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ...config import ClientConfig, ServerConfig
from ...connection import ClientConnection, ServerConnection, pump
from ...dtls import DTLSClientConnection, DTLSConfig, DTLSConnection, DTLSServerConnection
from ...dtls.config import DTLS_1_2, DTLS_1_3
from ...events import SessionTicket
from ...psk import ExternalPsk
from ...suites import NamedGroup, Tls12CipherSuite
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
    completed: int = 0
    """Lossy runs whose handshake completed (within the relay's 600 s limit)."""


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


_DTLS12_FULL = (Tls12CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,)
_DTLS12_PSK = (Tls12CipherSuite.TLS_PSK_WITH_AES_128_CCM_8,)

_Maker = Callable[[float], tuple[DTLSConnection, DTLSConnection]]


def _dtls_modes(version: int, ccfg: ClientConfig, scfg: ServerConfig, pcfg: ClientConfig,
                pscfg: ServerConfig) -> list[tuple[str, _Maker]]:
    """(mode, pair maker) for one DTLS version; the resumed mode's ticket comes from
    a first full handshake."""
    dtls = DTLSConfig(versions=(version,))
    if version == DTLS_1_2:
        ccfg, scfg = replace(ccfg, tls12_cipher_suites=_DTLS12_FULL), replace(scfg, tls12_cipher_suites=_DTLS12_FULL)
        pcfg, pscfg = replace(pcfg, tls12_cipher_suites=_DTLS12_PSK), replace(pscfg, tls12_cipher_suites=_DTLS12_PSK)
    first = DTLSClientConnection(ccfg, HOST, dtls=dtls)
    server = DTLSServerConnection(scfg, dtls=dtls)
    _dtls_pump(first, server)
    ticket: Any = next(e.session for e in first.events() if isinstance(e, SessionTicket))

    def full(now: float) -> tuple[DTLSConnection, DTLSConnection]:
        return DTLSClientConnection(ccfg, HOST, dtls=dtls, now=now), DTLSServerConnection(scfg, dtls=dtls, now=now)

    def psk(now: float) -> tuple[DTLSConnection, DTLSConnection]:
        return DTLSClientConnection(pcfg, HOST, dtls=dtls, now=now), DTLSServerConnection(pscfg, dtls=dtls, now=now)

    def resumed(now: float) -> tuple[DTLSConnection, DTLSConnection]:
        return (DTLSClientConnection(ccfg, HOST, dtls=dtls, session=ticket, now=now),
                DTLSServerConnection(scfg, dtls=dtls, now=now))

    return [("full ECDSA P-256", full), ("external PSK", psk), ("resumed", resumed)]


def run_dtls_economy(backend: str = "native", lossy_runs: int = 100) -> list[EconomyRow]:
    """Measure the rows (``lossy_runs`` seeded relay runs per DTLS mode)."""
    pki = make_test_pki((HOST,), key_kind="p256")
    x25519: dict[str, Any] = {"key_share_groups": (NamedGroup.X25519,), "groups": (NamedGroup.X25519, NamedGroup.SECP256R1)}
    ccfg = ClientConfig(backend=backend, verifier=pki.verifier(), middlebox_compat=False, **x25519)
    scfg = ServerConfig(backend=backend, certificates=(pki.server,), ticket_count=1)
    pcfg = ClientConfig(backend=backend, verifier=pki.verifier(), external_psks=(_PSK,), **x25519)
    pscfg = ServerConfig(backend=backend, psk_callback=lambda i: _PSK if i == _PSK.identity else None,
                         ticket_count=0)
    rows = []
    for version, name in ((DTLS_1_3, "DTLS 1.3"), (DTLS_1_2, "DTLS 1.2")):
        for mode, make in _dtls_modes(version, ccfg, scfg, pcfg, pscfg):
            c, s = make(0.0)
            _dtls_pump(c, s)
            stats = c.handshake_stats
            assert stats is not None and c.version == name.replace(" ", "v")
            times = sorted(
                t for seed in range(lossy_runs)
                if (t := run_lossy_session(make, seed).handshake_time) is not None
            )
            rows.append(EconomyRow(name, mode, stats.bytes_sent, stats.bytes_received, len(stats.flights),
                                   stats.client_hello_size, statistics.median(times) if times else None,
                                   times[max(0, math.ceil(len(times) * 0.95) - 1)] if times else None,
                                   len(times)))
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
    """The table, one line per row (lossy columns empty for TLS over TCP)."""
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
    print("DTLS 1.2: ECDHE-ECDSA-AES128-GCM-SHA256 (full, resumed; its NewSessionTicket is in the server's "
          "last flight, so counted), PSK-AES128-CCM8 (external PSK, no ECDHE); DTLS/TLS 1.3: X25519; "
          "no cookie exchange")
