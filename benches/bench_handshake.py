"""Full in-memory TLS 1.3 handshakes: ferrotls (native, python) beside ``ssl`` and tlslite-ng.

One round = new client and server objects, ClientHello to the client processing
the server's Finished and the server processing the client's Finished (plus,
for the peers, the NewSessionTickets they send and the client reading them, as
in shared/anchors/measure.py).  Client certificate verification is on
(ferrotls: ``DefaultVerifier`` over a trustme CA, hostname checked; ``ssl``:
PROTOCOL_TLS_CLIENT).  The server certificate is an ECDSA P-256 leaf of an
ECDSA P-256 trustme CA; the same CA and leaf serve ferrotls, ``ssl`` and
tlslite-ng.  TLS_AES_256_GCM_SHA384 and one X25519 key share everywhere.

Groups (``benchmark.group``), so the implementations sit side by side:

* ``handshake-full-x25519``: native, python, ssl (num_tickets=0, the fair row:
  ferrotls sends no tickets), ssl-2tickets (OpenSSL's default, the anchor
  figure), tlslite (x25519, ECDSA P-256; no X.509 path validation);
* ``handshake-full-defaults``: ferrotls with the library-default key shares
  (X25519MLKEM768 + X25519 offered; the server picks X25519MLKEM768).

``extra_info`` holds ``impl``, ``cpu_us`` (process CPU time per handshake, measured
after the timed rounds) and the bytes on the wire of one handshake
(``wire_c2s``, ``wire_s2c``, ``wire_s2c_flight``, ``wire_s2c_after``);
``benches/report.py`` prints both tables and the handshake targets.
The pure-Python rows (ferrotls-python, tlslite-ng) run a few fixed rounds.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import cpu_us_per_call, load
from ferrotls.config import CertifiedKey, ClientConfig, ServerConfig
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.suites import CipherSuite, NamedGroup
from ferrotls.x509 import DefaultVerifier, TrustStore
from peers import HOST, SslPeer, TlsLitePeer, Wire, make_pki

# fixed rounds for the pure-Python implementations (~30-70 hs/s): a few seconds each
PY_ROUNDS = 15
TLSLITE_ROUNDS = 15
X25519_ONLY = {
    "key_share_groups": (NamedGroup.X25519,),
    "groups": (NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1),
}


class FerroPair:
    """ferrotls client and server configs, built once; ``handshake()`` runs one full handshake."""

    def __init__(self, ca: Any, leaf: Any, backend: Any, *, defaults: bool = False) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        chain = [x509.load_pem_x509_certificate(p.bytes()) for p in leaf.cert_chain_pems]
        key = load_pem_private_key(leaf.private_key_pem.bytes(), None)
        trust = TrustStore.from_pem(cadata=ca.cert_pem.bytes())
        kx: dict[str, Any] = {} if defaults else dict(X25519_ONLY)
        self.client_config = ClientConfig(
            backend=backend,
            verifier=DefaultVerifier(trust),
            cipher_suites=(CipherSuite.TLS_AES_256_GCM_SHA384,),
            **kx,
        )
        self.server_config = ServerConfig(backend=backend, certificates=(CertifiedKey(chain, key),))
        self.last: tuple[ClientConnection, ServerConnection] | None = None

    def handshake(self) -> Wire:
        c = ClientConnection(self.client_config, HOST)
        s = ServerConnection(self.server_config)
        c2s = s2c = 0
        s2c_flight = -1
        for _ in range(8):
            d = c.data_to_send()
            if d:
                c2s += len(d)
                s.receive_data(d)
            if c.handshake_complete and s2c_flight < 0:
                s2c_flight = s2c
            d2 = s.data_to_send()
            if d2:
                s2c += len(d2)
                c.receive_data(d2)
            if not d and not d2:
                break
        if not (c.handshake_complete and s.handshake_complete):
            raise RuntimeError("ferrotls handshake did not finish")
        self.last = (c, s)
        return Wire(c2s, s2c, s2c if s2c_flight < 0 else s2c_flight)

    def check(self) -> dict[str, Any]:
        wire = self.handshake()
        assert self.last is not None
        c, s = self.last
        info = c.info
        assert info.version == "TLSv1.3", info
        assert info.cipher_suite == CipherSuite.TLS_AES_256_GCM_SHA384, info
        assert c.backend.name == s.backend.name
        assert c.events() and s.events()
        return {"group": NamedGroup(info.group).name, "backend": c.backend.name, "wire": wire}


@pytest.fixture(scope="module")
def pki() -> tuple[Any, Any]:
    return make_pki()


def _record(benchmark: Any, group: str, impl: str, info: dict[str, Any], **extra: Any) -> None:
    benchmark.group = group
    benchmark.extra_info.update(impl=impl, **info["wire"].as_extra_info(), **extra)


@pytest.mark.parametrize("backend_name", ["native", "python"])
def test_ferrotls_full_x25519(benchmark: Any, pki: Any, backend_name: str) -> None:
    load(backend_name)  # skips native when it is not built
    pair = FerroPair(*pki, backend_name)
    info = pair.check()
    assert info["group"] == "X25519", info
    _record(benchmark, "handshake-full-x25519", backend_name, info, group_negotiated=info["group"])
    if backend_name == "python":
        benchmark.pedantic(pair.handshake, rounds=PY_ROUNDS, iterations=1, warmup_rounds=1)
        benchmark.extra_info["cpu_us"] = cpu_us_per_call(pair.handshake, 3)
    else:
        benchmark(pair.handshake)
        benchmark.extra_info["cpu_us"] = cpu_us_per_call(pair.handshake)


@pytest.mark.parametrize("backend_name", ["native", "python"])
def test_ferrotls_full_defaults(benchmark: Any, pki: Any, backend_name: str) -> None:
    load(backend_name)
    pair = FerroPair(*pki, backend_name, defaults=True)
    info = pair.check()
    assert info["group"] == "X25519MLKEM768", info
    _record(benchmark, "handshake-full-defaults", backend_name, info, group_negotiated=info["group"])
    if backend_name == "python":
        benchmark.pedantic(pair.handshake, rounds=PY_ROUNDS, iterations=1, warmup_rounds=1)
        benchmark.extra_info["cpu_us"] = cpu_us_per_call(pair.handshake, 3)
    else:
        benchmark(pair.handshake)
        benchmark.extra_info["cpu_us"] = cpu_us_per_call(pair.handshake)


@pytest.mark.parametrize("tickets", [0, 2])
def test_ssl_full(benchmark: Any, pki: Any, tickets: int) -> None:
    peer = SslPeer(*pki, num_tickets=tickets)
    info = peer.check()
    impl = "ssl" if tickets == 0 else f"ssl-{tickets}tickets"
    _record(benchmark, "handshake-full-x25519", impl, info, tickets=tickets)
    benchmark(peer.handshake)
    benchmark.extra_info["cpu_us"] = cpu_us_per_call(peer.handshake)


def test_tlslite_full(benchmark: Any, pki: Any) -> None:
    pytest.importorskip("tlslite")
    peer = TlsLitePeer(*pki)
    info = peer.check()
    _record(benchmark, "handshake-full-x25519", "tlslite", info)
    benchmark.pedantic(peer.handshake, rounds=TLSLITE_ROUNDS, iterations=1, warmup_rounds=1)
    benchmark.extra_info["cpu_us"] = cpu_us_per_call(peer.handshake, 3)
