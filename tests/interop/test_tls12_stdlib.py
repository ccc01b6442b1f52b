"""TLS 1.2 against Python's ``ssl`` module (OpenSSL 3.0), ``maximum_version =
TLSv1_2``, both ways, in memory (``SSLContext.wrap_bio``; peers.MemoryPeer).

Every certificate suite (``set_ciphers``; the ``ssl`` module of Python 3.11 has no
PSK callbacks, so the PSK suites are tested against the openssl CLI and GnuTLS),
the groups, client certificates both ways, ALPN and SNI, resumption both ways (a
ticket, and a session id with ``OP_NO_TICKET``; ``SSLObject.session_reused``), the
key log (``SSLContext.keylog_filename`` and ferrotls' ``CLIENT_RANDOM`` line must
agree), and the TLS 1.3-capable ferrotls client against a TLS 1.2-only ``ssl`` server.
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Any

import pytest
from ferrotls.config import TLS12, TLS13, ClientAuth
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.errors import AlertReceived, HandshakeFailure
from ferrotls.events import SessionTicket
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite
from ferrotls.tickets import SessionCache, SessionIdCache, TicketKeyManager

from .peers import PKI, SERVER_NAME, MemoryPeer, client_config, server_config

pytestmark = pytest.mark.interop

S = Tls12CipherSuite
CERT_SUITES = [code for code, info in TLS12_SUITES.items() if info.auth != "PSK"]


def _name(code: int) -> str:
    return TLS12_SUITES[code].openssl_name


def _leaf(pki: PKI, code: int) -> Any:
    return pki.server_rsa if TLS12_SUITES[code].auth == "RSA" else pki.server_p256


def ssl_server(
    pki: PKI, leaf: Any = None, ciphers: str | None = None, **options: Any
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    leaf = leaf or pki.server_p256
    ctx.load_cert_chain(leaf.cert_pem, leaf.key_pem)
    if ciphers:
        ctx.set_ciphers(ciphers)
    if options.get("client_cert"):
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=pki.ca_text)
    return ctx


def ssl_client(pki: PKI, ciphers: str | None = None, client_leaf: Any = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cadata=pki.ca_text)
    if ciphers:
        ctx.set_ciphers(ciphers)
    if client_leaf is not None:
        ctx.load_cert_chain(client_leaf.cert_pem, client_leaf.key_pem)
    return ctx


def ferro_client(backend: Any, pki: PKI, ctx: ssl.SSLContext, **kw: Any) -> MemoryPeer:
    conn = ClientConnection(client_config(backend, pki, **kw), SERVER_NAME)
    return MemoryPeer(conn, ctx, server_side=True)


def ferro_server(backend: Any, pki: PKI, ctx: ssl.SSLContext, **kw: Any) -> MemoryPeer:
    return _server_peer(ctx, server_config(backend, pki, **kw))


def _server_peer(ctx: ssl.SSLContext, config: Any, session: Any = None) -> MemoryPeer:
    peer = MemoryPeer(ServerConnection(config), ctx, server_side=False, server_hostname=SERVER_NAME)
    if session is not None:
        peer.ssl.session = session
    return peer


def exchange(peer: MemoryPeer, size: int = 5000) -> None:
    up = bytes(range(256)) * (size // 256) + b"ferro->ssl"
    peer.ferro_send(up)
    assert bytes(peer.ssl_data) == up
    down = b"ssl->ferro" + bytes(reversed(range(256))) * (size // 256)
    peer.ssl_write(down)
    assert bytes(peer.ferro_data) == down
    peer.ssl_data.clear()
    peer.ferro_data.clear()


def _cipher(peer: MemoryPeer) -> str:
    cipher = peer.ssl.cipher()
    assert cipher is not None
    return cipher[0]


# --------------------------------------------------------------------------- every suite


@pytest.mark.parametrize("code", CERT_SUITES, ids=_name)
def test_ferro_client_to_ssl_server(backend: Any, pki: PKI, code: int) -> None:
    ctx = ssl_server(pki, _leaf(pki, code), f"{_name(code)}:@SECLEVEL=0")
    peer = ferro_client(backend, pki, ctx, tls12_cipher_suites=(code,))  # TLS 1.3-capable
    peer.handshake()
    assert peer.ssl.version() == "TLSv1.2" and peer.ferro.info.version == "TLSv1.2"
    assert peer.ferro.info.cipher_suite == code and _cipher(peer) == _name(code)
    exchange(peer)


@pytest.mark.parametrize("code", CERT_SUITES, ids=_name)
def test_ssl_client_to_ferro_server(backend: Any, pki: PKI, code: int) -> None:
    ctx = ssl_client(pki, f"{_name(code)}:@SECLEVEL=0")
    peer = ferro_server(backend, pki, ctx, certificates=(_leaf(pki, code).certified,),
                        tls12_cipher_suites=(code,))
    peer.handshake()
    assert peer.ssl.version() == "TLSv1.2"
    assert peer.ferro.info.cipher_suite == code and _cipher(peer) == _name(code)
    exchange(peer)


@pytest.mark.parametrize("group,curve", [(0x001D, "X25519"), (0x0017, "prime256v1"),
                                         (0x0018, "secp384r1")])
def test_groups(backend: Any, pki: PKI, group: int, curve: str) -> None:
    ctx = ssl_server(pki)
    ctx.set_ecdh_curve(curve)
    peer = ferro_client(backend, pki, ctx)
    peer.handshake()
    assert peer.ferro.info.group == group
    exchange(peer)
    peer = ferro_server(backend, pki, ssl_client(pki), groups=(group,))
    peer.handshake()
    assert peer.ferro.info.group == group
    exchange(peer)


def test_tls13_only_ferro_client_refuses_a_tls12_ssl_server(backend: Any, pki: PKI) -> None:
    peer = ferro_client(backend, pki, ssl_server(pki), minimum_version=TLS13)
    with pytest.raises(ssl.SSLError, match="UNSUPPORTED_PROTOCOL"):
        peer.handshake()
    with pytest.raises(AlertReceived) as exc:  # ssl's alert, delivered
        peer.ferro.receive_data(peer.outgoing.read())
    assert exc.value.description == 70  # protocol_version


def test_tls13_capable_ssl_server_marks_its_random(backend: Any, pki: PKI) -> None:
    """OpenSSL (TLS 1.3-capable) serving our TLS 1.2-only client sets the downgrade
    sentinel, and our TLS 1.3-capable server does too for ssl's TLS 1.2-only client."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_p256.cert_pem, pki.server_p256.key_pem)
    peer = ferro_client(backend, pki, ctx, maximum_version=TLS12)
    peer.handshake()
    assert bytes(peer.to_ferro[11:43])[-8:] == b"DOWNGRD\x01"
    peer = ferro_server(backend, pki, ssl_client(pki))
    peer.handshake()
    assert bytes(peer.to_ssl[11:43])[-8:] == b"DOWNGRD\x01"
    exchange(peer)


# --------------------------------------------------------------------------- client certificates


@pytest.mark.parametrize("leaf_name,name", [("client_p256", "client.ferrotls.test"),
                                            ("client_rsa", "rsa-client.ferrotls.test")])
def test_ferro_client_certificate_to_ssl(backend: Any, pki: PKI, leaf_name: str, name: str) -> None:
    leaf = getattr(pki, leaf_name)
    peer = ferro_client(backend, pki, ssl_server(pki, client_cert=True), certificate=leaf.certified)
    peer.handshake()
    cert = peer.ssl.getpeercert()  # verified by OpenSSL against the test CA
    assert cert and ("DNS", name) in cert["subjectAltName"]
    exchange(peer)


def test_ferro_client_without_certificate_refused_by_ssl(backend: Any, pki: PKI) -> None:
    peer = ferro_client(backend, pki, ssl_server(pki, client_cert=True))
    with pytest.raises((AlertReceived, ssl.SSLError)):
        peer.handshake()


@pytest.mark.parametrize("leaf_name", ["client_p256", "client_rsa"])
def test_ssl_client_certificate_to_ferro(backend: Any, pki: PKI, leaf_name: str) -> None:
    leaf = getattr(pki, leaf_name)
    ctx = ssl_client(pki, client_leaf=leaf)
    peer = ferro_server(backend, pki, ctx, client_auth=ClientAuth.REQUIRED)
    peer.handshake()
    assert peer.ferro.info.peer_certificates[0] == leaf.issued.der_chain()[0]
    exchange(peer)


def test_ssl_client_without_certificate_refused(backend: Any, pki: PKI) -> None:
    peer = ferro_server(backend, pki, ssl_client(pki), client_auth=ClientAuth.REQUIRED)
    with pytest.raises(HandshakeFailure):
        peer.handshake()


# --------------------------------------------------------------------------- ALPN, SNI


def test_alpn_both_ways(backend: Any, pki: PKI) -> None:
    ctx = ssl_server(pki)
    ctx.set_alpn_protocols(["http/1.1"])
    peer = ferro_client(backend, pki, ctx, alpn_protocols=("h2", "http/1.1"))
    peer.handshake()
    assert peer.ferro.info.alpn_protocol == "http/1.1" == peer.ssl.selected_alpn_protocol()
    ctx = ssl_client(pki)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    peer = ferro_server(backend, pki, ctx, alpn_protocols=("http/1.1",))
    peer.handshake()
    assert peer.ferro.info.alpn_protocol == "http/1.1" == peer.ssl.selected_alpn_protocol()


def test_sni_reaches_the_ssl_server(backend: Any, pki: PKI) -> None:
    seen: list[str | None] = []
    ctx = ssl_server(pki)
    def note(obj: Any, name: str | None, context: Any) -> None:
        seen.append(name)

    ctx.sni_callback = note
    peer = ferro_client(backend, pki, ctx)
    peer.handshake()
    assert seen == [SERVER_NAME]


# --------------------------------------------------------------------------- resumption


def test_ferro_client_resumes_with_ssl(backend: Any, pki: PKI) -> None:
    """By ticket: an ``ssl`` server resumes no session id (Python sets no session id
    context, so OpenSSL's server cache never hits, ssl client or not); session ids
    are resumed with the openssl CLI and GnuTLS."""
    ctx = ssl_server(pki)
    cache = SessionCache()
    for i in range(3):
        peer = ferro_client(backend, pki, ctx, session_cache=cache)
        peer.handshake()
        assert peer.ferro.info.resumed == (i > 0) == peer.ssl.session_reused
        exchange(peer)
    session = cache.peek(SERVER_NAME, time.time())
    assert session is not None and session.ticket and not session.session_id


@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_ssl_client_resumes_with_ferro(backend: Any, pki: PKI, tickets: bool) -> None:
    ctx = ssl_client(pki)
    if not tickets:
        ctx.options |= ssl.OP_NO_TICKET
    config = server_config(backend, pki, ticket_count=1 if tickets else 0,
                           ticket_keys=TicketKeyManager(), session_id_cache=SessionIdCache())
    peer = _server_peer(ctx, config)
    peer.handshake()
    exchange(peer)
    session = peer.ssl.session
    assert session is not None and session.has_ticket == tickets
    for _ in range(2):
        peer = _server_peer(ctx, config, session=session)
        peer.handshake()
        assert peer.ssl.session_reused and peer.ferro.info.resumed
        exchange(peer)
        session = peer.ssl.session


def test_ferro_ticket_event_with_ssl_server(backend: Any, pki: PKI) -> None:
    """Without a session cache the SessionTicket event carries the session."""
    peer = ferro_client(backend, pki, ssl_server(pki))
    peer.handshake()
    (ticket,) = [e for e in peer.events if isinstance(e, SessionTicket)]
    session: Any = ticket.session
    conn = ClientConnection(client_config(backend, pki), SERVER_NAME, session=session)
    again = MemoryPeer(conn, peer.ssl.context, server_side=True)
    again.handshake()
    assert again.ferro.info.resumed and again.ssl.session_reused


# --------------------------------------------------------------------------- key log


def test_key_log_agrees_with_ssl(backend: Any, pki: PKI, tmp_path: Path) -> None:
    """ssl's ``keylog_filename`` and ferrotls' key_log hold the same CLIENT_RANDOM line,
    whichever side writes it."""
    ours: list[str] = []
    ctx = ssl_server(pki)
    ctx.keylog_filename = str(tmp_path / "server.keylog")
    peer = ferro_client(backend, pki, ctx, key_log=ours.append)
    peer.handshake()
    theirs = [line for line in (tmp_path / "server.keylog").read_text().splitlines()
              if line.startswith("CLIENT_RANDOM")]
    assert theirs == ours and len(ours) == 1
    ours.clear()
    ctx = ssl_client(pki)
    ctx.keylog_filename = str(tmp_path / "client.keylog")
    peer = ferro_server(backend, pki, ctx, key_log=ours.append)
    peer.handshake()
    theirs = [line for line in (tmp_path / "client.keylog").read_text().splitlines()
              if line.startswith("CLIENT_RANDOM")]
    assert theirs == ours and len(ours) == 1


# --------------------------------------------------------------------------- the ssl-shaped Context


def _bio_pair(client: Any, server: Any, wires: tuple[Any, Any, Any, Any]) -> None:
    """Drive two ssl.SSLObject-shaped objects (ferrotls' or ssl's) through the
    handshake and one message each way, over MemoryBIOs."""
    c_in, c_out, s_in, s_out = wires
    for _ in range(20):
        for obj in (client, server):
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if client.version() and server.version() and not c_out.pending and not s_out.pending:
            break
    client.write(b"ping")
    s_in.write(c_out.read())
    assert server.read(100) == b"ping"
    server.write(b"pong")
    c_in.write(s_out.read())
    assert client.read(100) == b"pong"
    # close_notify both ways: OpenSSL drops a session from its server cache when the
    # connection is freed without having sent close_notify (ssl_clear_bad_session)
    with pytest.raises(ssl.SSLWantReadError):
        client.unwrap()
    s_in.write(c_out.read())
    server.unwrap()
    c_in.write(s_out.read())
    client.unwrap()


def _ferro_context_client(pki: PKI) -> Any:
    import ferrotls

    ctx = ferrotls.Context(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=pki.ca_text)
    return ctx


@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_context_session_resumes_with_an_ssl_server(pki: PKI, tickets: bool) -> None:
    """``TLSObject.session`` / ``session_reused`` over TLS 1.2 as ``ssl``'s: an ssl
    server (``maximum_version = TLSv1_2``; ``OP_NO_TICKET``: it resumes by session id,
    from its own session cache) and a ferrotls Context client that passes the session
    of one connection to ``wrap_bio(session=...)`` of the next."""
    sctx = ssl_server(pki)
    if not tickets:
        sctx.options |= ssl.OP_NO_TICKET
    cctx = _ferro_context_client(pki)
    session = None
    for i in range(3):
        wires = (ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO())
        client = cctx.wrap_bio(wires[0], wires[1], server_hostname=SERVER_NAME, session=session)
        server = sctx.wrap_bio(wires[2], wires[3], server_side=True)
        _bio_pair(client, server, wires)
        assert client.version() == server.version() == "TLSv1.2"
        assert client.session_reused == server.session_reused == (i > 0)
        new = client.session
        assert new is not None and new.has_ticket == tickets
        if not tickets:  # the id ssl's server gave (and took back)
            assert server.session is not None and new.id == server.session.id
            assert len(new.id) == 32
        if i > 0 and not tickets:
            assert new == session  # the session resumed, not a new one
        session = new
    assert sctx.session_stats()["hits"] == cctx.session_stats()["hits"] == 2


def test_context_session_from_another_server_gets_a_full_handshake(pki: PKI) -> None:
    """A session id one ssl server gave, offered to another (a fresh SSLContext, an
    empty cache): a full handshake, ``session_reused`` False, and a new session."""
    cctx = _ferro_context_client(pki)
    sessions = []
    for _ in range(2):
        sctx = ssl_server(pki)
        sctx.options |= ssl.OP_NO_TICKET
        wires = (ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO())
        session = sessions[-1] if sessions else None
        client = cctx.wrap_bio(wires[0], wires[1], server_hostname=SERVER_NAME, session=session)
        server = sctx.wrap_bio(wires[2], wires[3], server_side=True)
        _bio_pair(client, server, wires)
        assert not client.session_reused and not server.session_reused
        sessions.append(client.session)
    assert sessions[0] is not None and sessions[1] is not None
    assert sessions[0].id != sessions[1].id


def test_context_socket_session_resumes_with_an_ssl_server(pki: PKI) -> None:
    """The same with ``TLSSocket`` (``wrap_socket``) over a socket pair, the ssl
    server in a thread, resuming by session id."""
    import socket
    import threading

    sctx = ssl_server(pki)
    sctx.options |= ssl.OP_NO_TICKET
    cctx = _ferro_context_client(pki)
    session = None
    for i in range(2):
        a, b = socket.socketpair()
        a.settimeout(10)
        b.settimeout(10)
        reused: list[bool] = []

        def serve(sock: socket.socket = b) -> None:
            with sctx.wrap_socket(sock, server_side=True) as tls:
                tls.sendall(tls.recv(100).upper())
                reused.append(tls.session_reused)
                tls.unwrap()  # else OpenSSL drops the session from its cache

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with cctx.wrap_socket(a, server_hostname=SERVER_NAME, session=session) as tls:
            assert tls.version() == "TLSv1.2"
            assert tls.session_reused == (i > 0)
            tls.sendall(b"hello")
            assert tls.recv(100) == b"HELLO"
            session = tls.session
            assert session is not None and not session.has_ticket and len(session.id) == 32
            tls.unwrap()
        thread.join(10)
        assert reused == [i > 0]
