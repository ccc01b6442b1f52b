"""``ferrotls bench --modes``: what each kind of handshake costs.

For every handshake mode -- full with an RSA, ECDSA or Ed25519 certificate (with
and without certificate compression), HelloRetryRequest, resumed, resumed with
0-RTT, external PSK with (EC)DHE, PSK-only -- one table row per backend:
bytes on the wire each way (the handshake itself, tickets excluded, from
``HandshakeStats``), round trips, the client's ClientHello size and handshakes
per second in memory (both ends in one thread).  Python's ``ssl`` module is
measured beside where it can do the same from Python (a full ECDSA handshake
and a ticket resumption); it cannot choose key shares, compress certificates
or use external PSKs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ...certcompress import AVAILABLE as COMPRESSION
from ...config import PSK_KE, ClientConfig, ServerConfig
from ...connection import ClientConnection, ServerConnection, pump
from ...events import SessionTicket
from ...psk import ExternalPsk
from ...suites import NamedGroup
from ...tickets import TicketKeyManager
from ..sslpeer import SslPeer, measure, repeat
from ..testpki import TestPKI, make_test_pki
from . import HOST

__all__ = ["ModeRow", "run_mode_bench", "print_mode_table"]

_PSK = ExternalPsk(b"bench-device", bytes(range(32)))
_X25519 = {"key_share_groups": (NamedGroup.X25519,), "groups": (NamedGroup.X25519, NamedGroup.SECP256R1)}


@dataclass(frozen=True)
class ModeRow:
    """One measured mode: bytes each way, round trips, ClientHello size, handshakes/s."""

    impl: str
    mode: str
    c2s: int
    s2c: int
    round_trips: int | None
    client_hello: int | None
    rate: float


class _Setup:
    """A server config and a client config factory for one mode."""

    def __init__(self, backend: str, pki: TestPKI, **server_kw: Any) -> None:
        self.backend = backend
        self.verifier = pki.verifier()
        server_kw.setdefault("certificates", (pki.server,))
        self.server = ServerConfig(
            backend=backend, ticket_keys=TicketKeyManager(rotation_interval=None), **server_kw
        )

    def client(self, **kw: Any) -> ClientConfig:
        kw.setdefault("verifier", self.verifier)
        for key, value in _X25519.items():
            kw.setdefault(key, value)
        return ClientConfig(backend=self.backend, **kw)

    def connect(self, config: ClientConfig, **kw: Any) -> tuple[ClientConnection, ServerConnection]:
        c = ClientConnection(config, HOST, **kw)
        s = ServerConnection(self.server)
        pump(c, s)
        if not (c.handshake_complete and s.handshake_complete):
            raise RuntimeError("bench handshake did not complete")
        return c, s

    def session(self, config: ClientConfig) -> Any:
        c, _ = self.connect(config)
        sessions = [e.session for e in c.events() if isinstance(e, SessionTicket)]
        return sessions[-1]


def _measure(one: Callable[[], ClientConnection], rounds: int) -> tuple[ClientConnection, float]:
    conn = one()  # also the warm-up
    return conn, measure(repeat(one), n=rounds, warmup=0).per_second


def _first(setup: _Setup, config: ClientConfig) -> ClientConnection:
    return setup.connect(config)[0]


def _modes(backend: str, pkis: dict[str, TestPKI]) -> list[tuple[str, Callable[[], ClientConnection]]]:
    out: list[tuple[str, Callable[[], ClientConnection]]] = []
    for kind, label in (("rsa2048", "RSA-2048"), ("p256", "ECDSA P-256"), ("ed25519", "Ed25519")):
        for algs, tag in (((), ""), (COMPRESSION, " +compression")):
            if tag and not algs:
                continue
            setup = _Setup(backend, pkis[kind], certificate_compression=algs, ticket_count=0)
            config = setup.client(certificate_compression=algs)
            out.append((f"full {label}{tag}", partial(_first, setup, config)))
    hrr = _Setup(backend, pkis["p256"], groups=(NamedGroup.SECP256R1,), ticket_count=0)
    hrr_config = hrr.client()
    out.append(("HRR (X25519 share, P-256 server)", lambda: hrr.connect(hrr_config)[0]))
    resume = _Setup(backend, pkis["p256"], early_data=True, ticket_count=1)
    resume_config = resume.client()
    session = resume.session(resume_config)
    out.append(("resumed (psk_dhe_ke)", lambda: resume.connect(resume_config, session=session)[0]))

    def zero_rtt() -> ClientConnection:
        fresh = resume.session(resume_config)  # 0-RTT tickets are single-use
        return resume.connect(resume_config, session=fresh, early_data=b"e" * 100)[0]

    out.append(("resumed + 0-RTT (100 B; hs/s incl. a fresh ticket)", zero_rtt))
    psk = _Setup(backend, pkis["p256"], certificates=(), psk_callback={_PSK.identity: _PSK}.get,
                 ticket_count=0)
    dhe = psk.client(external_psks=(_PSK,), cipher_suites=(0x1301,))
    ke = psk.client(external_psks=(_PSK,), cipher_suites=(0x1301,), psk_modes=(PSK_KE,))
    out.append(("external PSK psk_dhe_ke", lambda: psk.connect(dhe)[0]))
    out.append(("PSK-only psk_ke", lambda: psk.connect(ke)[0]))
    return out


def _ssl_rows(rounds: int, pki: TestPKI) -> list[ModeRow]:
    peer = SslPeer.from_pem(pki.ca_pem, pki.chain_pem, pki.key_pem, HOST, num_tickets=0)
    rows = []
    full = peer.handshake()  # also the warm-up
    rate = measure(peer.handshakes(), n=rounds, warmup=0).per_second
    rows.append(ModeRow("ssl", "full ECDSA P-256", full.c2s, full.s2c, 1, None, rate))
    peer.server_context.num_tickets = 1
    session = peer.handshake().client.session
    peer.server_context.num_tickets = 0
    resumed = peer.handshake(session)
    assert resumed.client.session_reused
    rate = measure(peer.handshakes(session), n=rounds, warmup=0).per_second
    rows.append(ModeRow("ssl", "resumed (psk_dhe_ke)", resumed.c2s, resumed.s2c, 1, None, rate))
    return rows


def run_mode_bench(quick: bool, backends: list[str]) -> list[ModeRow]:
    """Measure every mode on every backend, then the ``ssl`` module's two rows."""
    pkis = {kind: make_test_pki((HOST,), key_kind=kind) for kind in ("rsa2048", "p256", "ed25519")}
    rows: list[ModeRow] = []
    for backend in backends:
        rounds = (20 if quick else 100) if backend == "native" else (2 if quick else 5)
        for mode, one in _modes(backend, pkis):
            print(f"  {backend}: {mode}", file=sys.stderr, flush=True)
            conn, rate = _measure(one, rounds)
            stats = conn.handshake_stats
            assert stats is not None
            rows.append(ModeRow(f"ferrotls-{backend}", mode, stats.bytes_sent, stats.bytes_received,
                                stats.round_trips, stats.client_hello_size, rate))
    rows.extend(_ssl_rows(20 if quick else 100, pkis["p256"]))
    return rows


def print_mode_table(rows: list[ModeRow]) -> None:
    """One line per mode and implementation; tickets are not counted."""
    width = max(len(r.mode) for r in rows)
    print(f"{'mode':<{width}}  {'implementation':<16} {'c->s':>6} {'s->c':>6} {'total':>6} "
          f"{'RTT':>4} {'ClientHello':>11} {'hs/s':>9}")
    for r in sorted(rows, key=lambda r: (r.mode, r.impl)):
        rtt = "" if r.round_trips is None else str(r.round_trips)
        hello = "" if r.client_hello is None else str(r.client_hello)
        print(f"{r.mode:<{width}}  {r.impl:<16} {r.c2s:>6} {r.s2c:>6} {r.c2s + r.s2c:>6} "
              f"{rtt:>4} {hello:>11} {r.rate:>9,.0f}")
