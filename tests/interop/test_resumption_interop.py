"""Resumption, 0-RTT and external PSKs against openssl s_server/s_client, stdlib ssl
and tlslite-ng, both ways.

All on 127.0.0.1; bounded waits (peers.TIMEOUT).  s_client is always ended with
"Q" on its stdin (it sends close_notify, so the ferrotls server sees a clean close,
not a TruncationError) and its exit status is checked.
"""

from __future__ import annotations

import re
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.events import ApplicationData, EarlyData, HandshakeComplete, SessionTicket
from ferrotls.psk import ExternalPsk
from ferrotls.tickets import SessionCache, TicketKeyManager

from .peers import (
    LOOPBACK,
    PKI,
    SERVER_NAME,
    TIMEOUT,
    FerroServer,
    FerroSocket,
    MemoryPeer,
    client_config,
    connect,
    echo_handler,
    openssl_client,
    openssl_server,
    server_config,
)

pytestmark = pytest.mark.interop

PSK_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
PSK = ExternalPsk(b"ferrotls-client", bytes.fromhex(PSK_HEX))
REUSED = re.compile(rb"Reused, TLSv1\.3")


# --------------------------------------------------------------------------- openssl s_server


def test_ferro_client_external_psk_to_openssl(backend: Any, pki: PKI, openssl_bin: str) -> None:
    cfg = client_config(backend, pki, external_psks=(PSK,))
    with openssl_server("-nocert", "-psk_identity", "ferrotls-client", "-psk", PSK_HEX) as (proc, port):
        fs = connect(ClientConnection(cfg, SERVER_NAME), port)
        info = fs.handshake()
        assert info.resumed and info.psk_identity == PSK.identity and info.cipher_suite == 0x1301
        fs.send(b"hello psk\n")
        proc.wait_for(b"hello psk")
        fs.close()


def test_ferro_client_resumes_with_early_data_to_openssl(
    backend: Any, pki: PKI, openssl_bin: str
) -> None:
    """Full handshake, take s_server's ticket, then resume with 0-RTT (s_server -early_data)."""
    cache = SessionCache()
    cc = client_config(backend, pki, session_cache=cache)
    args = ["-cert", str(pki.server_p256.cert_pem), "-key", str(pki.server_p256.key_pem),
            "-early_data", "-naccept", "2"]
    with openssl_server(*args) as (proc, port):
        fs = connect(ClientConnection(cc, SERVER_NAME), port)
        info = fs.handshake()
        assert not info.resumed
        fs.send(b"first\n")
        proc.wait_for(b"first")
        # s_server sent its tickets after our Finished; wait for them to be read
        fs.wait_for(lambda: any(isinstance(e, SessionTicket) for e in fs.events), "a ticket")
        session = [e for e in fs.events if isinstance(e, SessionTicket)][-1].session
        assert session is not None and session.max_early_data > 0
        fs.close()
        fs.shutdown()
        conn = ClientConnection(cc, SERVER_NAME, session=session, early_data=b"early bird\n")
        fs = connect(conn, port)
        info = fs.handshake()
        assert info.resumed and info.early_data_accepted and info.early_data_rejected == 0
        # s_server writes the early data straight to fd 1, its headers through a
        # buffered BIO: the two interleave, so look for each on its own
        proc.wait_for(b"Early data received:")
        proc.wait_for(b"End of early data")
        assert proc.text.count("early bird") == 1
        proc.wait_for(b"Reused session-id")
        fs.send(b"after 0-rtt\n")
        proc.wait_for(b"after 0-rtt")
        fs.close()
        fs.shutdown()


# --------------------------------------------------------------------------- openssl s_client


def _s_client_args(pki: PKI, *extra: str) -> list[str]:
    return ["-CAfile", str(pki.ca_pem), "-servername", SERVER_NAME, *extra]


def test_openssl_client_external_psk_to_ferro(backend: Any, pki: PKI, openssl_bin: str) -> None:
    sc = server_config(backend, pki, psk_callback={PSK.identity: PSK}.get, ticket_count=0)
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        with openssl_client(server.port, "-psk_identity", "ferrotls-client", "-psk", PSK_HEX) as proc:
            proc.write(b"via psk\n")
            proc.wait_for(b"echo:via psk")
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None and server.fs.peer_closed
    info = server.fs.conn.info
    assert info.resumed and info.psk_identity == PSK.identity
    assert bytes(server.fs.data) == b"via psk\n"


def early_echo_handler(fs: FerroSocket) -> FerroSocket:
    """echo_handler, but 0-RTT data (EarlyData events) is echoed too, after the handshake."""
    fs.handshake()
    early = b"".join(e.data for e in fs.events if isinstance(e, EarlyData))
    if early:
        fs.send(b"early-echo:" + early)
    return echo_handler(fs)


def test_openssl_client_resumes_and_sends_early_data(
    backend: Any, pki: PKI, openssl_bin: str, tmp_path: Path
) -> None:
    keys = TicketKeyManager(rotation_interval=None)
    sc = server_config(backend, pki, ticket_keys=keys, early_data=True)
    sess = tmp_path / "sess.pem"
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        with openssl_client(server.port, *_s_client_args(pki, "-sess_out", str(sess))) as proc:
            proc.write(b"first\n")
            proc.wait_for(b"echo:first")
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert sess.exists() and b"BEGIN SSL SESSION PARAMETERS" in sess.read_bytes()
    assert server.fs is not None and not server.fs.conn.info.resumed

    # -sess_in alone: a resumed handshake
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        with openssl_client(server.port, *_s_client_args(pki, "-sess_in", str(sess))) as proc:
            proc.wait_for(REUSED)
            proc.write(b"second\n")
            proc.wait_for(b"echo:second")
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None and server.fs.conn.info.resumed

    # -sess_in -early_data FILE: the file's bytes arrive as EarlyData events
    early = tmp_path / "early.txt"
    early.write_bytes(b"early bird\n")
    sess2 = tmp_path / "sess2.pem"
    with FerroServer(lambda: ServerConnection(sc), early_echo_handler) as server:
        with openssl_client(server.port, *_s_client_args(
            pki, "-sess_in", str(sess), "-sess_out", str(sess2), "-early_data", str(early)
        )) as proc:
            proc.wait_for(REUSED)
            proc.wait_for(b"early-echo:early bird")
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None
    info = server.fs.conn.info
    assert info.resumed and info.early_data_accepted
    assert b"".join(e.data for e in server.fs.events if isinstance(e, EarlyData)) == b"early bird\n"
    assert "Early data was accepted" in proc.text

    # the same ticket again: replay protection rejects its 0-RTT (the handshake still resumes)
    with FerroServer(lambda: ServerConnection(sc), early_echo_handler) as server:
        with openssl_client(server.port, *_s_client_args(
            pki, "-sess_in", str(sess), "-early_data", str(early)
        )) as proc:
            proc.wait_for(REUSED)
            proc.wait_for(b"Early data was rejected")
            proc.write(b"Q\n")
            assert proc.wait() == 0
    assert server.fs is not None
    info = server.fs.conn.info
    assert info.resumed and not info.early_data_accepted
    assert not [e for e in server.fs.events if isinstance(e, EarlyData)]


# --------------------------------------------------------------------------- stdlib ssl


def test_stdlib_ssl_client_resumes_to_ferro(backend: Any, pki: PKI) -> None:
    sc = server_config(backend, pki)
    ctx = ssl.create_default_context(cafile=str(pki.ca_pem))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    session = None
    for attempt in range(2):
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(incoming, outgoing, server_hostname=SERVER_NAME, session=session)
        server = ServerConnection(sc)
        for _ in range(20):
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass
            finally:
                data = outgoing.read()
                if data:
                    server.receive_data(data)
                incoming.write(server.data_to_send())
        obj.write(b"x")
        server.receive_data(outgoing.read())
        server.send(b"y")
        incoming.write(server.data_to_send())
        assert obj.read(1) == b"y"  # also reads the NewSessionTickets
        info = [e for e in server.events() if isinstance(e, HandshakeComplete)][0]
        assert obj.session_reused is (attempt == 1) and info.resumed is (attempt == 1)
        session = obj.session


def _ssl_server_context(pki: PKI) -> ssl.SSLContext:
    sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    sctx.load_cert_chain(str(pki.server_p256.cert_pem), str(pki.server_p256.key_pem))
    sctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return sctx


def test_ferro_client_resumes_to_stdlib_ssl(backend: Any, pki: PKI) -> None:
    """ssl sends two tickets after the handshake; the client processes them (the
    MemoryPeer pump reads ssl's output after the handshake) and resumes with one."""
    cache = SessionCache()
    cc = client_config(backend, pki, session_cache=cache)
    sctx = _ssl_server_context(pki)
    for attempt in range(2):
        peer = MemoryPeer(ClientConnection(cc, SERVER_NAME), sctx, server_side=True)
        peer.handshake()
        peer.ferro_send(b"ping")
        assert bytes(peer.ssl_data) == b"ping"
        peer.ssl_write(b"pong")
        assert bytes(peer.ferro_data) == b"pong"
        info = [e for e in peer.events if isinstance(e, HandshakeComplete)][0]
        tickets = [e for e in peer.events if isinstance(e, SessionTicket)]
        assert info.resumed is (attempt == 1) and peer.ssl.session_reused is (attempt == 1)
        if attempt == 0:
            assert len(tickets) == 2 and len(cache) == 2  # ssl's default: two tickets
        else:
            assert len(tickets) == 1  # ssl sends one ticket after a resumption
        peer.ferro.close()
        peer.pump()


# --------------------------------------------------------------------------- tlslite-ng


def _tlslite() -> Any:
    return pytest.importorskip("tlslite")


def _tlslite_settings(**kw: Any) -> Any:
    tl = _tlslite()
    s = tl.HandshakeSettings()
    s.minVersion = (3, 4)
    s.maxVersion = (3, 4)
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def _read_line(conn: Any) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.read()
        if not chunk:
            break
        data += bytes(chunk)
    return data


def _tlslite_client(port: int, hs: Any, **kw: Any) -> tuple[Any, bytes]:
    """tlslite client: handshake, one line and its echo, close; returns (connection, reply)."""
    tl = _tlslite()
    sock = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
    conn = tl.TLSConnection(sock)
    conn.closeSocket = False
    try:
        conn.handshakeClientCert(settings=hs, serverName=SERVER_NAME, **kw)
        conn.write(b"hello from tlslite\n")
        reply = _read_line(conn)  # the tickets come before the echo
        conn.close()
        return conn, reply
    finally:
        sock.close()


def test_tlslite_client_resumes_to_ferro(backend: Any, pki: PKI) -> None:
    keys = TicketKeyManager(rotation_interval=None)
    sc = server_config(backend, pki, ticket_keys=keys)
    hs = _tlslite_settings()
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        conn, reply = _tlslite_client(server.port, hs)
    assert reply == b"echo:hello from tlslite\n"
    assert conn.session.tickets, "tlslite kept no ticket"
    assert not conn.resumed
    assert server.fs is not None and not server.fs.conn.info.resumed
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        conn2, reply = _tlslite_client(server.port, hs, session=conn.session)
    assert reply == b"echo:hello from tlslite\n"
    assert conn2.resumed
    assert server.fs is not None and server.fs.conn.info.resumed


def test_tlslite_client_external_psk_to_ferro(backend: Any, pki: PKI) -> None:
    sc = server_config(backend, pki, psk_callback={PSK.identity: PSK}.get, ticket_count=0)
    hs = _tlslite_settings(pskConfigs=[(bytearray(PSK.identity), bytearray(PSK.key), "sha256")])
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        _, reply = _tlslite_client(server.port, hs)
    assert reply == b"echo:hello from tlslite\n"
    assert server.fs is not None
    info = server.fs.conn.info
    assert info.resumed and info.psk_identity == PSK.identity


class _TLSLiteServer:
    """tlslite-ng server for ``count`` connections in a daemon thread (echo one line
    upper-cased, then close)."""

    def __init__(self, pki: PKI, hs: Any, count: int = 1, with_cert: bool = True) -> None:
        import threading

        tl = _tlslite()
        from tlslite.utils.keyfactory import parsePEMKey  # type: ignore[import-untyped]

        self.tl = tl
        self.hs = hs
        self.count = count
        self.chain = None
        self.key = None
        if with_cert:
            self.chain = tl.X509CertChain()
            self.chain.parsePemList(pki.server_p256.cert_pem.read_text())
            self.key = parsePEMKey(pki.server_p256.key_pem.read_text(), private=True)
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            for _ in range(self.count):
                sock, _ = self.listener.accept()
                sock.settimeout(TIMEOUT)
                conn = self.tl.TLSConnection(sock)
                conn.closeSocket = False
                try:
                    conn.handshakeServer(certChain=self.chain, privateKey=self.key, settings=self.hs)
                    conn.write(_read_line(conn).upper())
                    conn.close()
                finally:
                    sock.close()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            self.error = exc

    def __enter__(self) -> _TLSLiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(TIMEOUT + 5)
        self.listener.close()
        if exc[0] is None:
            assert not self.thread.is_alive(), "tlslite server thread did not finish"
            if self.error is not None:
                raise self.error


def _ferro_talk(fs: FerroSocket) -> HandshakeComplete:
    info = fs.handshake()
    fs.send(b"hello from ferrotls\n")
    assert fs.read_until(b"\n").endswith(b"HELLO FROM FERROTLS\n")
    fs.wait_closed()
    fs.close()
    fs.shutdown()
    return info


def test_ferro_client_resumes_to_tlslite(backend: Any, pki: PKI) -> None:
    hs = _tlslite_settings(ticketKeys=[bytearray(32)], ticket_count=2)
    cache = SessionCache()
    cc = client_config(backend, pki, session_cache=cache)
    with _TLSLiteServer(pki, hs, count=2) as server:
        info = _ferro_talk(connect(ClientConnection(cc, SERVER_NAME), server.port))
        assert not info.resumed and len(cache) == 2
        info = _ferro_talk(connect(ClientConnection(cc, SERVER_NAME), server.port))
        assert info.resumed
    # tlslite's server reports resumed=False for every TLS 1.3 handshake (it calls
    # _handshakeDone(resumed=False) there); the ferrotls side saw the PSK accepted


def test_ferro_client_external_psk_to_tlslite(backend: Any, pki: PKI) -> None:
    hs = _tlslite_settings(pskConfigs=[(bytearray(PSK.identity), bytearray(PSK.key), "sha256")])
    cc = client_config(backend, pki, external_psks=(PSK,))
    with _TLSLiteServer(pki, hs, with_cert=False) as server:
        info = _ferro_talk(connect(ClientConnection(cc, SERVER_NAME), server.port))
    assert info.resumed and info.psk_identity == PSK.identity
