"""Resumed handshakes in memory (ferrotls-native vs the ``ssl`` module) and a table of
bytes on the wire per handshake mode.

* ``handshake-resumed``: one round = new client and server objects, a ticket-based
  psk_dhe_ke handshake (X25519, TLS_AES_256_GCM_SHA384) and the client reading the
  one NewSessionTicket the server sends after it.  ``ssl``'s figure includes its
  session set (``wrap_bio(session=...)``) and get (``.session``).  Target: ferrotls-native
  >= 1.0x ssl.
* ``test_wire_bytes_per_mode`` prints bytes client->server / server->client of the
  handshake itself (tickets excluded, from ``HandshakeStats``) for: full (RSA,
  ECDSA, Ed25519; with and without certificate compression), HRR, resumed,
  resumed + 0-RTT (100 bytes), external PSK psk_dhe_ke, PSK-only (psk_ke); beside
  ``ssl`` where it can do the same (full ECDSA/RSA, resumed; ssl can't choose key
  shares, compress certificates or use external PSKs from Python).

Run: ``pytest benches/bench_resumption.py --benchmark-enable -s``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(_ROOT / "tests"))

from certs import TestCA  # noqa: E402
from conftest import cpu_us_per_call, load  # noqa: E402
from ferrotls.apps.sslpeer import SslPeer, client_context, server_context  # noqa: E402
from ferrotls.certcompress import AVAILABLE  # noqa: E402
from ferrotls.config import PSK_KE, CertifiedKey, ClientConfig, ServerConfig  # noqa: E402
from ferrotls.connection import ClientConnection, ServerConnection, pump  # noqa: E402
from ferrotls.psk import ExternalPsk  # noqa: E402
from ferrotls.stats import HandshakeStats  # noqa: E402
from ferrotls.suites import CipherSuite, NamedGroup  # noqa: E402
from ferrotls.tickets import ClientSession, TicketKeyManager  # noqa: E402
from ferrotls.x509 import DefaultVerifier, TrustStore  # noqa: E402

HOST = "test.example"
SUITE = CipherSuite.TLS_AES_256_GCM_SHA384
X25519 = {"key_share_groups": (NamedGroup.X25519,), "groups": (NamedGroup.X25519, NamedGroup.SECP256R1)}
PSK = ExternalPsk(b"bench-device", bytes(range(32)))


class Ferro:
    def __init__(self, backend: str, kind: str = "p256", **server_kw: Any) -> None:
        self.ca = TestCA("bench CA", key_kind="p256", key_index=11)
        self.issued = self.ca.issue(HOST, key_kind=kind, key_index=12)
        self.backend = backend
        self.trust = DefaultVerifier(TrustStore.from_pem(cadata=self.ca.pem()))
        server_kw.setdefault("certificates", (CertifiedKey(self.issued.chain, self.issued.key),))
        self.sc = ServerConfig(
            backend=backend, ticket_keys=TicketKeyManager(rotation_interval=None), **server_kw
        )

    def client(self, **kw: Any) -> ClientConfig:
        kw.setdefault("verifier", self.trust)
        kw.setdefault("cipher_suites", (SUITE,))
        for k, v in X25519.items():
            kw.setdefault(k, v)
        return ClientConfig(backend=self.backend, **kw)

    def run(self, c: ClientConnection, sc: ServerConfig | None = None) -> tuple[ClientConnection, ServerConnection]:
        s = ServerConnection(sc or self.sc)
        pump(c, s)
        assert c.handshake_complete and s.handshake_complete
        return c, s


def _ticket(ferro: Ferro, cc: ClientConfig) -> ClientSession:
    c, _ = ferro.run(ClientConnection(cc, HOST))
    sessions = [e.session for e in c.events() if getattr(e, "session", None) is not None]
    session = sessions[-1]
    assert isinstance(session, ClientSession)
    return session


class SslResumer:
    """``ssl`` in memory (``ferrotls.apps.sslpeer``) resuming with the last session it got."""

    def __init__(self) -> None:
        import trustme

        ca = trustme.CA()
        leaf = ca.issue_cert(HOST)
        chain = b"".join(p.bytes() for p in leaf.cert_chain_pems)
        self.peer = SslPeer(client_context(ca.cert_pem.bytes()),
                            server_context(chain, leaf.private_key_pem.bytes()), HOST)
        self.cctx, self.sctx = self.peer.client_context, self.peer.server_context
        self.session: Any = None

    def handshake(self) -> tuple[int, int, Any]:
        pair = self.peer.handshake(self.session)  # the client takes the NewSessionTicket(s)
        self.session = pair.client.session
        return pair.c2s, pair.s2c, pair.client


def test_ferrotls_resumed(benchmark: Any) -> None:
    load("native")
    ferro = Ferro("native")
    cc = ferro.client()
    session = _ticket(ferro, cc)

    def one() -> None:
        c, _ = ferro.run(ClientConnection(cc, HOST, session=session))
        c.events()

    one()
    c, _ = ferro.run(ClientConnection(cc, HOST, session=session))
    assert c.info.resumed
    benchmark.group = "handshake-resumed"
    benchmark.extra_info["impl"] = "ferrotls-native"
    benchmark(one)
    benchmark.extra_info["cpu_us"] = cpu_us_per_call(one)


def test_ssl_resumed(benchmark: Any) -> None:
    peer = SslResumer()
    peer.handshake()
    _, _, c = peer.handshake()
    assert c.session_reused
    benchmark.group = "handshake-resumed"
    benchmark.extra_info["impl"] = "ssl"
    benchmark(peer.handshake)
    benchmark.extra_info["cpu_us"] = cpu_us_per_call(peer.handshake)


# ----------------------------------------------------------------------------- bytes per mode


def _wire(stats: HandshakeStats | None) -> tuple[int, int]:
    assert stats is not None
    return stats.bytes_sent, stats.bytes_received


def wire_table(backend: str = "native") -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    best = AVAILABLE
    for kind, label in (("rsa2048", "RSA-2048"), ("p256", "ECDSA P-256"), ("ed25519", "Ed25519")):
        for algs, tag in (((), ""), (best, " +compression")):
            ferro = Ferro(backend, kind, certificate_compression=algs)
            c, _ = ferro.run(ClientConnection(ferro.client(certificate_compression=algs), HOST))
            up, down = _wire(c.handshake_stats)
            rows.append((f"full {label}{tag}", f"{up} / {down}", ""))
    ferro = Ferro(backend, groups=(NamedGroup.SECP256R1,))
    c, _ = ferro.run(ClientConnection(ferro.client(), HOST))
    up, down = _wire(c.handshake_stats)
    rows.append(("HRR (X25519 share, P-256 server), ECDSA", f"{up} / {down}", ""))
    ferro = Ferro(backend, early_data=True)
    cc = ferro.client()
    session = _ticket(ferro, cc)
    c, _ = ferro.run(ClientConnection(cc, HOST, session=session))
    up, down = _wire(c.handshake_stats)
    rows.append(("resumed (psk_dhe_ke)", f"{up} / {down}", ""))
    session = _ticket(ferro, cc)
    c, _ = ferro.run(ClientConnection(cc, HOST, session=session, early_data=b"e" * 100))
    assert c.info.early_data_accepted
    up, down = _wire(c.handshake_stats)
    rows.append(("resumed + 0-RTT (100 B)", f"{up} / {down}", ""))
    psk_server = Ferro(backend, certificates=(), psk_callback={PSK.identity: PSK}.get, ticket_count=0)
    c, _ = psk_server.run(ClientConnection(psk_server.client(external_psks=(PSK,), cipher_suites=(0x1301,)), HOST))
    up, down = _wire(c.handshake_stats)
    rows.append(("external PSK psk_dhe_ke", f"{up} / {down}", ""))
    c, _ = psk_server.run(ClientConnection(
        psk_server.client(external_psks=(PSK,), cipher_suites=(0x1301,), psk_modes=(PSK_KE,)), HOST
    ))
    up, down = _wire(c.handshake_stats)
    rows.append(("PSK-only psk_ke", f"{up} / {down}", ""))
    # ssl beside: full ECDSA (trustme P-256) and resumed; tickets excluded as above
    from peers import SslPeer, make_pki

    ca, leaf = make_pki(HOST)
    wire = SslPeer(ca, leaf, num_tickets=0).handshake()
    rows[2] = (rows[2][0], rows[2][1], f"{wire.c2s} / {wire.s2c_flight}")
    peer = SslResumer()
    peer.sctx.num_tickets = 1
    peer.handshake()
    up, down, _ = peer.handshake()
    rows[7] = (rows[7][0], rows[7][1], f"{up} / {down} (incl. 1 ticket)")
    return rows


def test_wire_bytes_per_mode() -> None:
    load("native")
    rows = wire_table()
    width = max(len(r[0]) for r in rows)
    print(f"\n{'mode':<{width}}  {'ferrotls c->s / s->c':>22}  ssl c->s / s->c")
    for mode, ours, theirs in rows:
        print(f"{mode:<{width}}  {ours:>22}  {theirs}")
    assert len(rows) == 11
