"""ferrotls against Python's ``ssl`` module (OpenSSL 3.0), both ways.

Most tests pump a ferrotls connection against an ``ssl.SSLObject`` through
MemoryBIOs in process; one runs over a real TCP socket on 127.0.0.1 with the ssl
server in a daemon thread.  ``ssl`` in 3.11 cannot restrict TLS 1.3 suites or
groups, so the ferrotls side is restricted, which forces the choice.  Exporters
are not available in ``ssl``; they are not tested here.
"""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any

import pytest
from ferrotls.config import ClientAuth
from ferrotls.connection import ClientConnection, ConnectionState, ServerConnection
from ferrotls.errors import (
    AlertDescription,
    AlertReceived,
    CertificateRequired,
    NoApplicationProtocol,
)
from ferrotls.events import ConnectionClosed, KeyUpdated, SessionTicket
from ferrotls.suites import CipherSuite, NamedGroup

from .peers import (
    LOOPBACK,
    OTHER_NAME,
    PKI,
    SERVER_NAME,
    TIMEOUT,
    FerroSocket,
    MemoryPeer,
    client_config,
    contains_hrr,
    server_config,
)

pytestmark = pytest.mark.interop

SUITES: dict[int, str] = {
    CipherSuite.TLS_AES_128_GCM_SHA256: "TLS_AES_128_GCM_SHA256",
    CipherSuite.TLS_AES_256_GCM_SHA384: "TLS_AES_256_GCM_SHA384",
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256: "TLS_CHACHA20_POLY1305_SHA256",
}
GROUPS = [NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1]


def ssl_server_context(
    pki: PKI, leaf: Any = None, *, require_client_cert: bool = False
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    leaf = leaf or pki.server_p256
    ctx.load_cert_chain(leaf.cert_pem, leaf.key_pem)
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=pki.ca_text)
    return ctx


def ssl_client_context(pki: PKI, client_leaf: Any = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(cadata=pki.ca_text)
    if client_leaf is not None:
        ctx.load_cert_chain(client_leaf.cert_pem, client_leaf.key_pem)
    return ctx


def ferro_client_vs_ssl(backend: Any, pki: PKI, ctx: ssl.SSLContext, **kw: Any) -> MemoryPeer:
    conn = ClientConnection(client_config(backend, pki, **kw), SERVER_NAME)
    return MemoryPeer(conn, ctx, server_side=True)


def ssl_client_vs_ferro(
    backend: Any, pki: PKI, ctx: ssl.SSLContext, hostname: str = SERVER_NAME, **kw: Any
) -> MemoryPeer:
    conn = ServerConnection(server_config(backend, pki, **kw))
    return MemoryPeer(conn, ctx, server_side=False, server_hostname=hostname)


def cipher_name(peer: MemoryPeer) -> str:
    cipher = peer.ssl.cipher()
    assert cipher is not None
    return cipher[0]


def peer_sans(peer: MemoryPeer) -> Any:
    cert = peer.ssl.getpeercert()
    assert cert is not None
    return cert["subjectAltName"]


def exchange(peer: MemoryPeer, size: int = 1000) -> None:
    """Application data both ways, checked byte for byte."""
    up = bytes(range(256)) * (size // 256) + b"ferro->ssl"
    peer.ferro_send(up)
    assert bytes(peer.ssl_data) == up
    down = b"ssl->ferro" + bytes(reversed(range(256))) * (size // 256)
    peer.ssl_write(down)
    assert bytes(peer.ferro_data) == down
    peer.ssl_data.clear()
    peer.ferro_data.clear()


# --------------------------------------------------------------------------- suites and groups


@pytest.mark.parametrize("suite", list(SUITES), ids=list(SUITES.values()))
def test_ferro_client_cipher_suites(backend: Any, pki: PKI, suite: int) -> None:
    peer = ferro_client_vs_ssl(backend, pki, ssl_server_context(pki), cipher_suites=(suite,))
    peer.handshake()
    assert peer.ferro.info.cipher_suite == suite
    assert cipher_name(peer) == SUITES[suite]
    assert peer.ssl.version() == "TLSv1.3"
    exchange(peer)


@pytest.mark.parametrize("suite", list(SUITES), ids=list(SUITES.values()))
def test_ssl_client_cipher_suites(backend: Any, pki: PKI, suite: int) -> None:
    peer = ssl_client_vs_ferro(backend, pki, ssl_client_context(pki), cipher_suites=(suite,))
    peer.handshake()
    assert peer.ferro.info.cipher_suite == suite
    assert cipher_name(peer) == SUITES[suite]
    exchange(peer)


@pytest.mark.parametrize("group", GROUPS, ids=[g.name for g in GROUPS])
def test_ferro_client_groups(backend: Any, pki: PKI, group: int) -> None:
    peer = ferro_client_vs_ssl(
        backend, pki, ssl_server_context(pki), groups=(group,), key_share_groups=(group,)
    )
    peer.handshake()
    assert peer.ferro.info.group == group
    assert not contains_hrr(bytes(peer.to_ferro))
    exchange(peer)


@pytest.mark.parametrize("group", GROUPS, ids=[g.name for g in GROUPS])
def test_ssl_client_groups_and_hello_retry_request(backend: Any, pki: PKI, group: int) -> None:
    """The ssl client sends one X25519 share: any other server group forces an HRR."""
    peer = ssl_client_vs_ferro(backend, pki, ssl_client_context(pki), groups=(group,))
    peer.handshake()
    assert peer.ferro.info.group == group
    assert contains_hrr(bytes(peer.to_ssl)) == (group != NamedGroup.X25519)
    exchange(peer)


def test_ferro_client_default_groups(backend: Any, pki: PKI) -> None:
    """Default ClientHello (X25519MLKEM768 + X25519 shares): OpenSSL 3.0 picks X25519."""
    peer = ferro_client_vs_ssl(backend, pki, ssl_server_context(pki))
    peer.handshake()
    assert peer.ferro.info.group == NamedGroup.X25519
    tickets = [e for e in peer.events if isinstance(e, SessionTicket)]
    assert tickets  # OpenSSL sends NewSessionTickets after the handshake
    exchange(peer)


def test_ferro_client_hello_retry_request(backend: Any, pki: PKI) -> None:
    """ssl's set_ecdh_curve limits OpenSSL 3.0's groups: an X25519-only share gets an HRR."""
    ctx = ssl_server_context(pki)
    ctx.set_ecdh_curve("secp384r1")
    peer = ferro_client_vs_ssl(
        backend,
        pki,
        ctx,
        groups=(NamedGroup.X25519, NamedGroup.SECP384R1),
        key_share_groups=(NamedGroup.X25519,),
    )
    peer.handshake()
    assert contains_hrr(bytes(peer.to_ferro))
    assert peer.ferro.info.group == NamedGroup.SECP384R1
    exchange(peer)


@pytest.mark.parametrize("leaf", ["server_p256", "server_p384", "server_rsa"])
def test_ssl_client_server_key_types(backend: Any, pki: PKI, leaf: str) -> None:
    peer = ssl_client_vs_ferro(backend, pki, ssl_client_context(pki), leaf=getattr(pki, leaf))
    peer.handshake()
    assert peer_sans(peer)[0] == ("DNS", SERVER_NAME)
    exchange(peer)


@pytest.mark.parametrize("leaf", ["server_p384", "server_rsa"])
def test_ferro_client_server_key_types(backend: Any, pki: PKI, leaf: str) -> None:
    peer = ferro_client_vs_ssl(backend, pki, ssl_server_context(pki, getattr(pki, leaf)))
    peer.handshake()
    assert peer.ferro.info.peer_certificates[0] == getattr(pki, leaf).issued.der_chain()[0]
    exchange(peer)


# --------------------------------------------------------------------------- client certificates


@pytest.mark.parametrize("leaf", ["client_p256", "client_rsa"])
def test_ssl_server_requires_ferro_client_certificate(backend: Any, pki: PKI, leaf: str) -> None:
    client_leaf = getattr(pki, leaf)
    ctx = ssl_server_context(pki, require_client_cert=True)
    peer = ferro_client_vs_ssl(backend, pki, ctx, certificate=client_leaf.certified)
    peer.handshake()
    cert = peer.ssl.getpeercert(binary_form=True)
    assert cert == client_leaf.issued.der_chain()[0]
    exchange(peer)


def test_ssl_server_rejects_ferro_client_without_certificate(backend: Any, pki: PKI) -> None:
    ctx = ssl_server_context(pki, require_client_cert=True)
    peer = ferro_client_vs_ssl(backend, pki, ctx)
    with pytest.raises(ssl.SSLError):
        peer.handshake()
    # the client finished its side; the server's alert arrives next
    peer.incoming.write(peer.ferro.data_to_send())
    with pytest.raises(AlertReceived) as info:
        peer.ferro.receive_data(peer.outgoing.read())
    assert info.value.description == AlertDescription.CERTIFICATE_REQUIRED


@pytest.mark.parametrize("leaf", ["client_p256", "client_rsa"])
def test_ferro_server_requires_ssl_client_certificate(backend: Any, pki: PKI, leaf: str) -> None:
    client_leaf = getattr(pki, leaf)
    peer = ssl_client_vs_ferro(
        backend, pki, ssl_client_context(pki, client_leaf), client_auth=ClientAuth.REQUIRED
    )
    peer.handshake()
    assert peer.ferro.info.peer_certificates[0] == client_leaf.issued.der_chain()[0]
    exchange(peer)


def test_ferro_server_rejects_ssl_client_without_certificate(backend: Any, pki: PKI) -> None:
    peer = ssl_client_vs_ferro(
        backend, pki, ssl_client_context(pki), client_auth=ClientAuth.REQUIRED
    )
    with pytest.raises(CertificateRequired):
        peer.handshake()
    peer.incoming.write(peer.ferro.data_to_send())  # the certificate_required alert
    with pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED|certificate required"):
        peer.ssl.read(10)


# --------------------------------------------------------------------------- ALPN and SNI


def test_ferro_client_alpn(backend: Any, pki: PKI) -> None:
    ctx = ssl_server_context(pki)
    ctx.set_alpn_protocols(["http/1.1"])
    peer = ferro_client_vs_ssl(backend, pki, ctx, alpn_protocols=("h2", "http/1.1"))
    peer.handshake()
    assert peer.ferro.info.alpn_protocol == "http/1.1"
    assert peer.ssl.selected_alpn_protocol() == "http/1.1"


def test_ssl_client_alpn(backend: Any, pki: PKI) -> None:
    ctx = ssl_client_context(pki)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    peer = ssl_client_vs_ferro(backend, pki, ctx, alpn_protocols=("http/1.1", "h2"))
    peer.handshake()
    assert peer.ferro.info.alpn_protocol == "http/1.1"
    assert peer.ssl.selected_alpn_protocol() == "http/1.1"


def test_ssl_client_alpn_mismatch(backend: Any, pki: PKI) -> None:
    ctx = ssl_client_context(pki)
    ctx.set_alpn_protocols(["h2"])
    peer = ssl_client_vs_ferro(backend, pki, ctx, alpn_protocols=("h3",))
    with pytest.raises(NoApplicationProtocol):
        peer.handshake()
    peer.incoming.write(peer.ferro.data_to_send())
    with pytest.raises(ssl.SSLError, match="NO_APPLICATION_PROTOCOL|no application protocol"):
        peer.ssl.do_handshake()


def test_ssl_server_sni_callback_sees_ferro_server_name(backend: Any, pki: PKI) -> None:
    seen: list[str | None] = []
    ctx = ssl_server_context(pki)
    ctx.sni_callback = lambda sslobj, name, c: seen.append(name)
    peer = ferro_client_vs_ssl(backend, pki, ctx)
    peer.handshake()
    assert seen == [SERVER_NAME]
    assert peer.ferro.info.server_name == SERVER_NAME


@pytest.mark.parametrize("hostname", [SERVER_NAME, OTHER_NAME])
def test_ssl_client_server_name_picks_ferro_certificate(
    backend: Any, pki: PKI, hostname: str
) -> None:
    certs = (pki.server_p256.certified, pki.server_other.certified)
    peer = ssl_client_vs_ferro(backend, pki, ssl_client_context(pki), hostname, certificates=certs)
    peer.handshake()  # ssl checks the hostname against the certificate
    assert ("DNS", hostname) in peer_sans(peer)
    assert peer.ferro.info.server_name == hostname


# --------------------------------------------------------------------------- KeyUpdate and close


@pytest.mark.parametrize("side", ["ferro_client", "ferro_server"])
def test_key_update_requested_by_ferrotls(backend: Any, pki: PKI, side: str) -> None:
    if side == "ferro_client":
        peer = ferro_client_vs_ssl(backend, pki, ssl_server_context(pki))
    else:
        peer = ssl_client_vs_ferro(backend, pki, ssl_client_context(pki))
    peer.handshake()
    exchange(peer)
    for round_ in range(3):
        peer.ferro.update_keys(request_peer_update=True)
        peer.ferro_send(b"after update %d" % round_)
        assert bytes(peer.ssl_data) == b"after update %d" % round_
        # OpenSSL answers the request with its own KeyUpdate before its next record
        peer.ssl_write(b"reply %d" % round_)
        assert bytes(peer.ferro_data) == b"reply %d" % round_
        updates = [e for e in peer.events if isinstance(e, KeyUpdated)]
        assert updates == [KeyUpdated(update_requested=False)] * (round_ + 1)
        peer.ssl_data.clear()
        peer.ferro_data.clear()
    peer.ferro.update_keys(request_peer_update=False)
    exchange(peer)


@pytest.mark.parametrize("side", ["ferro_client", "ferro_server"])
def test_close_notify_ferrotls_first(backend: Any, pki: PKI, side: str) -> None:
    if side == "ferro_client":
        peer = ferro_client_vs_ssl(backend, pki, ssl_server_context(pki))
    else:
        peer = ssl_client_vs_ferro(backend, pki, ssl_client_context(pki))
    peer.handshake()
    exchange(peer)
    peer.ferro.send(b"last words")
    peer.ferro.close()
    peer.pump()
    assert bytes(peer.ssl_data) == b"last words"
    assert peer.ssl_closed  # SSLZeroReturnError: ferrotls's close_notify arrived
    assert peer.ssl_unwrap()  # ssl answers with its close_notify
    assert isinstance(peer.events[-1], ConnectionClosed)
    assert peer.ferro.state is ConnectionState.CLOSED


@pytest.mark.parametrize("side", ["ferro_client", "ferro_server"])
def test_close_notify_ssl_first(backend: Any, pki: PKI, side: str) -> None:
    if side == "ferro_client":
        peer = ferro_client_vs_ssl(backend, pki, ssl_server_context(pki))
    else:
        peer = ssl_client_vs_ferro(backend, pki, ssl_client_context(pki))
    peer.handshake()
    peer.ssl_write(b"bye")
    assert not peer.ssl_unwrap()  # sent close_notify, waits for ours
    assert bytes(peer.ferro_data) == b"bye"
    assert isinstance(peer.events[-1], ConnectionClosed)
    assert peer.ferro.peer_closed
    peer.ferro.send(b"still allowed after the peer's close_notify")
    peer.ferro.close()
    peer.pump()
    assert peer.ssl_unwrap()
    assert peer.ferro.state is ConnectionState.CLOSED


def test_bulk_data_both_ways(backend: Any, pki: PKI) -> None:
    peer = ferro_client_vs_ssl(backend, pki, ssl_server_context(pki))
    peer.handshake()
    exchange(peer, size=200_000)


# --------------------------------------------------------------------------- real TCP socket


def test_ferro_client_against_threaded_ssl_server_over_tcp(backend: Any, pki: PKI) -> None:
    ctx = ssl_server_context(pki)
    ctx.set_alpn_protocols(["echo"])
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(TIMEOUT)
    port = listener.getsockname()[1]
    result: dict[str, Any] = {}

    def serve() -> None:
        try:
            raw, _ = listener.accept()
            raw.settimeout(TIMEOUT)
            with ctx.wrap_socket(raw, server_side=True) as tls:
                result["alpn"] = tls.selected_alpn_protocol()
                data = b""
                while not data.endswith(b"\n"):
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                tls.sendall(data.upper())
                result["unwrap"] = tls.unwrap()  # waits for the client's close_notify
        except BaseException as exc:  # noqa: BLE001
            result["error"] = exc

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        conn = ClientConnection(client_config(backend, pki, alpn_protocols=("echo",)), SERVER_NAME)
        fs = FerroSocket(conn, socket.create_connection((LOOPBACK, port), timeout=TIMEOUT))
        try:
            info = fs.handshake()
            assert info.alpn_protocol == "echo"
            fs.send(b"hello over tcp\n")
            assert fs.read_until(b"\n") == b"HELLO OVER TCP\n"
            fs.close()
            fs.wait_closed()
            assert conn.state is ConnectionState.CLOSED
        finally:
            fs.shutdown()
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    finally:
        listener.close()
    assert "error" not in result, result.get("error")
    assert result["alpn"] == "echo"
