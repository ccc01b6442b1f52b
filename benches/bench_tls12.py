"""TLS 1.2 in memory: ferrotls (native) beside the ``ssl`` module, in the same run.

Issue #14's targets: full and resumed handshakes/s at least 0.8x ``ssl``; bulk
(16 KiB writes) and 64-byte messages ahead of ``ssl``.

Both sides: TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (OpenSSL's and ferrotls's
first choice), X25519, an ECDSA P-256 trustme chain, client verification with
the host name checked, extended_master_secret (both do it by default).  Groups:

* ``tls12-handshake-full``: a full handshake per round (ferrotls: no tickets and
  no session-id cache; ``ssl``: OP_NO_TICKET, and OpenSSL's internal session
  cache, which the ``ssl`` module cannot turn off);
* ``tls12-handshake-resumed``: an abbreviated handshake resuming one session
  (ferrotls: a session id from ``SessionIdCache``; ``ssl``: a session id, the
  ``SSLSession`` of the first connection);
* ``tls12-bulk-16k`` / ``tls12-small-64``: one connection; a round writes 1 MiB in
  16 KiB writes (or 1,000 64-byte writes) and reads it on the other side.

``python benches/report.py`` prints the ratio tables.
"""

from __future__ import annotations

import ssl
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ferrotls.apps import sslpeer
from ferrotls.config import TLS12, CertifiedKey, ClientConfig, ServerConfig
from ferrotls.connection import ClientConnection, ServerConnection, pump
from ferrotls.events import ApplicationData
from ferrotls.suites import NamedGroup, Tls12CipherSuite
from ferrotls.tickets import SessionCache, SessionIdCache
from ferrotls.x509 import DefaultVerifier, TrustStore
from peers import HOST, make_pki

SUITE = Tls12CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
OPENSSL_SUITE = "ECDHE-ECDSA-AES256-GCM-SHA384"
MIB = 1 << 20


@pytest.fixture(scope="module")
def pki() -> tuple[Any, Any]:
    return make_pki()


class Ferro12:
    def __init__(self, ca: Any, leaf: Any, *, cache: bool) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        chain = [x509.load_pem_x509_certificate(p.bytes()) for p in leaf.cert_chain_pems]
        key = load_pem_private_key(leaf.private_key_pem.bytes(), None)
        self.cache = SessionCache()
        self.client = ClientConfig(
            backend="native", verifier=DefaultVerifier(TrustStore.from_pem(cadata=ca.cert_pem.bytes())),
            # X25519 for the key exchange; P-256 too, as in TLS 1.2 supported_groups also names
            # the curves the client verifies ECDSA on (RFC 8422 5.1), and the leaf is P-256
            maximum_version=TLS12, tls12_cipher_suites=(SUITE,),
            groups=(NamedGroup.X25519, NamedGroup.SECP256R1),
            session_cache=self.cache if cache else None,
        )
        self.server = ServerConfig(
            backend="native", certificates=(CertifiedKey(chain, key),), maximum_version=TLS12,
            tls12_cipher_suites=(SUITE,), ticket_count=0,
            session_id_cache=SessionIdCache() if cache else None,
        )
    def handshake(self) -> tuple[ClientConnection, ServerConnection]:
        c = ClientConnection(self.client, HOST)  # resumes what the cache holds for HOST
        s = ServerConnection(self.server)
        pump(c, s)
        assert c.handshake_complete and s.handshake_complete
        return c, s


class Ssl12:
    def __init__(self, ca: Any, leaf: Any) -> None:
        c = sslpeer.client_context(ca.cert_pem.bytes())
        s = sslpeer.server_context(b"".join(p.bytes() for p in leaf.cert_chain_pems), leaf.private_key_pem.bytes())
        for ctx in (c, s):
            ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers(OPENSSL_SUITE)
            ctx.options |= ssl.OP_NO_TICKET
        self.peer = sslpeer.SslPeer(c, s, HOST)

    def handshake(self, session: Any = None) -> Any:
        return self.peer.handshake(session)


def test_ferrotls_full(benchmark: Any, pki: Any) -> None:
    f = Ferro12(*pki, cache=False)
    c, _ = f.handshake()
    assert c.info.version == "TLSv1.2" and c.info.cipher_suite == SUITE and not c.info.resumed
    benchmark.group = "tls12-handshake-full"
    benchmark.extra_info["impl"] = "native"
    benchmark(f.handshake)


def test_ssl_full(benchmark: Any, pki: Any) -> None:
    peer = Ssl12(*pki)
    pair = peer.handshake()
    assert pair.client.version() == "TLSv1.2" and pair.client.cipher()[0] == OPENSSL_SUITE
    benchmark.group = "tls12-handshake-full"
    benchmark.extra_info["impl"] = "ssl"
    benchmark(peer.handshake)


def test_ferrotls_resumed(benchmark: Any, pki: Any) -> None:
    f = Ferro12(*pki, cache=True)
    c, _ = f.handshake()
    assert not c.info.resumed and len(f.cache) == 1  # the session id the server gave
    c, _ = f.handshake()
    assert c.info.resumed and len(f.cache) == 1  # and back in the cache for the next round
    benchmark.group = "tls12-handshake-resumed"
    benchmark.extra_info["impl"] = "native"
    benchmark(f.handshake)


def test_ssl_resumed(benchmark: Any, pki: Any) -> None:
    peer = Ssl12(*pki)
    # OpenSSL drops a session from its cache when an SSL object that used it is freed
    # without a shutdown: the pairs are kept alive, and every round checks it resumed.
    kept = [peer.handshake()]
    session = kept[0].client.session

    def resume() -> None:
        pair = peer.handshake(session)
        kept.append(pair)
        assert pair.client.session_reused

    resume()
    benchmark.group = "tls12-handshake-resumed"
    benchmark.extra_info["impl"] = "ssl"
    benchmark(resume)


def _ferro_sender(pki: Any, size: int, count: int) -> Any:
    c, s = Ferro12(*pki, cache=False).handshake()
    c.events()
    s.events()
    chunk = b"x" * size

    def run() -> None:
        for _ in range(count):
            c.send(chunk)
        s.receive_data(c.data_to_send())
        got = sum(len(e.data) for e in s.events() if isinstance(e, ApplicationData))
        assert got == size * count

    return run


def _ssl_sender(pki: Any, size: int, count: int) -> Any:
    pair = Ssl12(*pki).handshake()
    chunk = b"x" * size

    def run() -> None:
        for _ in range(count):
            pair.client.write(chunk)
        pair.server_in.write(pair.client_out.read())
        got = 0
        while got < size * count:
            got += len(pair.server.read(1 << 20))

    return run


@pytest.mark.parametrize(("group", "size", "count"), [("tls12-bulk-16k", 16384, MIB // 16384),
                                                       ("tls12-small-64", 64, 1000)])
@pytest.mark.parametrize("impl", ["native", "ssl"])
def test_data(benchmark: Any, pki: Any, group: str, size: int, count: int, impl: str) -> None:
    run = _ferro_sender(pki, size, count) if impl == "native" else _ssl_sender(pki, size, count)
    run()
    benchmark.group = group
    benchmark.extra_info.update(impl=impl, bytes=size * count)
    benchmark(run)
