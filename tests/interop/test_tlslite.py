"""ferrotls against tlslite-ng 0.8 (pure Python), both ways, over 127.0.0.1 sockets.

tlslite-ng runs in a daemon thread (server) or in the test thread against a
threaded ferrotls server (client).  X25519MLKEM768 needs kyber-py (a test extra);
without it those cases skip.  tlslite-ng does not validate certificates: the
ferrotls side does, and the tests compare the chains both sides saw.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any, Self

import pytest
from ferrotls.config import DEFAULT_CERTIFICATE_COMPRESSION, ClientAuth
from ferrotls.connection import ClientConnection, ConnectionState, ServerConnection
from ferrotls.errors import UnexpectedMessage
from ferrotls.events import KeyUpdated
from ferrotls.suites import CipherSuite, NamedGroup

from .peers import (
    LOOPBACK,
    PKI,
    SERVER_NAME,
    TIMEOUT,
    FerroServer,
    FerroSocket,
    Leaf,
    client_config,
    connect,
    contains_hrr,
    echo_handler,
    server_config,
)

tlslite = pytest.importorskip("tlslite")
from tlslite import HandshakeSettings, TLSConnection, X509CertChain  # type: ignore[import-untyped]
from tlslite.constants import AlertDescription, KeyUpdateMessageType  # type: ignore[import-untyped]
from tlslite.errors import TLSRemoteAlert  # type: ignore[import-untyped]
from tlslite.utils.compat import ML_KEM_AVAILABLE  # type: ignore[import-untyped]
from tlslite.utils.keyfactory import parsePEMKey  # type: ignore[import-untyped]

pytestmark = pytest.mark.interop

GROUPS = {
    "x25519": NamedGroup.X25519,
    "secp256r1": NamedGroup.SECP256R1,
    "x25519mlkem768": NamedGroup.X25519MLKEM768,
}
GROUP_PARAMS = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(
            name.endswith("mlkem768") and not ML_KEM_AVAILABLE, reason="kyber-py not installed"
        ),
    )
    for name in GROUPS
]
CERTS = ["server_p256", "server_rsa"]
SUITES = {
    "aes128gcm": CipherSuite.TLS_AES_128_GCM_SHA256,
    "aes256gcm": CipherSuite.TLS_AES_256_GCM_SHA384,
    "chacha20-poly1305": CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
}


def settings(
    groups: list[str] | None = None,
    key_shares: list[str] | None = None,
    ciphers: list[str] | None = None,
) -> HandshakeSettings:
    s = HandshakeSettings()
    s.minVersion = (3, 4)
    s.maxVersion = (3, 4)
    if groups is not None:
        s.eccCurves = list(groups)
        s.keyShares = list(key_shares if key_shares is not None else groups)
    if ciphers is not None:
        s.cipherNames = list(ciphers)
    return s


def tlslite_identity(leaf: Leaf) -> tuple[Any, Any]:
    chain = X509CertChain()
    chain.parsePemList(leaf.cert_pem.read_text())
    key = parsePEMKey(leaf.key_pem.read_text(), private=True)
    return chain, key


def chain_der(chain: Any) -> bytes:
    return bytes(chain.x509List[0].writeBytes())


class TLSLiteServer:
    """tlslite-ng's server for one connection in a daemon thread; ``conversation(conn)``
    runs after the handshake."""

    def __init__(
        self,
        leaf: Leaf,
        hs_settings: HandshakeSettings,
        conversation: Callable[[Any], Any],
        **handshake_kw: Any,
    ) -> None:
        self.chain, self.key = tlslite_identity(leaf)
        self.settings = hs_settings
        self.conversation = conversation
        self.handshake_kw = handshake_kw
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.conn: Any = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            sock, _ = self.listener.accept()
            sock.settimeout(TIMEOUT)
            self.conn = TLSConnection(sock)
            self.conn.closeSocket = False  # close() waits for our close_notify
            self.conn.handshakeServer(
                certChain=self.chain,
                privateKey=self.key,
                settings=self.settings,
                **self.handshake_kw,
            )
            self.result = self.conversation(self.conn)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            self.error = exc
        finally:
            if self.conn is not None:
                self.conn.sock.close()

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(TIMEOUT + 5)
        self.listener.close()
        alive = self.thread.is_alive()
        if exc[0] is None:
            assert not alive, "tlslite server thread did not finish"
            if self.error is not None:
                raise self.error


def read_line(conn: Any) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.read()
        if not chunk:
            break
        data += bytes(chunk)
    return data


def echo_upper_then_close(conn: Any) -> bytes:
    """tlslite side: read a line, answer it upper-cased, close (waits for close_notify)."""
    line = read_line(conn)
    conn.write(line.upper())
    conn.close()
    return line


def ferro_talks(fs: FerroSocket, line: bytes = b"hello from ferrotls\n") -> None:
    fs.send(line)
    assert fs.read_until(b"\n") == line.upper()
    fs.wait_closed()  # tlslite closes first...
    fs.close()  # ...and waits for ours
    assert fs.conn.state is ConnectionState.CLOSED


# --------------------------------------------------------------------------- ferrotls client -> tlslite


@pytest.mark.parametrize("cert", CERTS)
@pytest.mark.parametrize("group", GROUP_PARAMS)
def test_ferro_client_tlslite_server(backend: Any, pki: PKI, group: str, cert: str) -> None:
    leaf = getattr(pki, cert)
    named = GROUPS[group]
    with TLSLiteServer(leaf, settings([group]), echo_upper_then_close) as server:
        cfg = client_config(backend, pki, groups=(named,), key_share_groups=(named,))
        fs = connect(ClientConnection(cfg, SERVER_NAME), server.port)
        try:
            info = fs.handshake()
            assert info.group == named
            assert info.peer_certificates[0] == leaf.issued.der_chain()[0]
            ferro_talks(fs)
        finally:
            fs.shutdown()
    assert server.result == b"hello from ferrotls\n"


def test_ferro_client_default_offer_gets_mlkem(backend: Any, pki: PKI) -> None:
    if not ML_KEM_AVAILABLE:
        pytest.skip("kyber-py not installed")
    with TLSLiteServer(pki.server_p256, settings(), echo_upper_then_close) as server:
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), server.port)
        try:
            assert fs.handshake().group == NamedGroup.X25519MLKEM768
            ferro_talks(fs)
        finally:
            fs.shutdown()


@pytest.mark.parametrize("cipher", list(SUITES))
def test_ferro_client_cipher_suites(backend: Any, pki: PKI, cipher: str) -> None:
    hs = settings(["x25519"], ciphers=[cipher])
    with TLSLiteServer(pki.server_p256, hs, echo_upper_then_close) as server:
        fs = connect(ClientConnection(client_config(backend, pki), SERVER_NAME), server.port)
        try:
            assert fs.handshake().cipher_suite == SUITES[cipher]
            ferro_talks(fs)
        finally:
            fs.shutdown()


def test_ferro_client_hello_retry_request(backend: Any, pki: PKI) -> None:
    with TLSLiteServer(pki.server_p256, settings(["secp256r1"]), echo_upper_then_close) as server:
        cfg = client_config(
            backend,
            pki,
            groups=(NamedGroup.X25519, NamedGroup.SECP256R1),
            key_share_groups=(NamedGroup.X25519,),
        )
        fs = connect(ClientConnection(cfg, SERVER_NAME), server.port)
        try:
            assert fs.handshake().group == NamedGroup.SECP256R1
            assert contains_hrr(bytes(fs.raw_in))
            ferro_talks(fs)
        finally:
            fs.shutdown()


@pytest.mark.parametrize("client", ["client_p256", "client_rsa"])
def test_ferro_client_certificate_to_tlslite(backend: Any, pki: PKI, client: str) -> None:
    leaf = getattr(pki, client)

    def conversation(conn: Any) -> bytes:
        line = echo_upper_then_close(conn)
        return chain_der(conn.session.clientCertChain) + b"|" + line

    with TLSLiteServer(pki.server_p256, settings(), conversation, reqCert=True) as server:
        cfg = client_config(backend, pki, certificate=leaf.certified)
        fs = connect(ClientConnection(cfg, SERVER_NAME), server.port)
        try:
            fs.handshake()
            ferro_talks(fs)
        finally:
            fs.shutdown()
    assert server.result == leaf.issued.der_chain()[0] + b"|hello from ferrotls\n"


def test_ferro_client_alpn_and_key_update_with_tlslite(backend: Any, pki: PKI) -> None:
    def conversation(conn: Any) -> list[bytes]:
        lines = [read_line(conn)]
        conn.write(b"one\n")
        lines.append(read_line(conn))  # after ferrotls's KeyUpdate (update_requested)
        conn.write(b"two\n")  # tlslite answered the request before this
        for _ in conn.send_keyupdate_request(KeyUpdateMessageType.update_requested):
            pass
        conn.write(b"three\n")
        lines.append(read_line(conn))
        conn.close()
        return lines

    hs = settings(["x25519"])
    with TLSLiteServer(pki.server_p256, hs, conversation, alpn=[b"h2", b"http/1.1"]) as server:
        cfg = client_config(backend, pki, alpn_protocols=("http/1.1",))
        fs = connect(ClientConnection(cfg, SERVER_NAME), server.port)
        try:
            assert fs.handshake().alpn_protocol == "http/1.1"
            fs.send(b"a\n")
            fs.read_until(b"one\n")
            fs.conn.update_keys(request_peer_update=True)
            fs.send(b"b\n")
            fs.read_until(b"two\n")
            fs.read_until(b"three\n")
            # tlslite's answer to our request, then its own request (answered by ferrotls)
            assert fs.key_updates() == [KeyUpdated(False), KeyUpdated(True)]
            fs.send(b"c\n")
            fs.wait_closed()
            fs.close()
            assert bytes(fs.data) == b"one\ntwo\nthree\n"
        finally:
            fs.shutdown()
    assert server.result == [b"a\n", b"b\n", b"c\n"]


# --------------------------------------------------------------------------- tlslite client -> ferrotls


def tlslite_client(
    port: int,
    hs: HandshakeSettings,
    conversation: Callable[[Any], Any],
    **handshake_kw: Any,
) -> Any:
    sock = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
    conn = TLSConnection(sock)
    conn.closeSocket = False
    try:
        conn.handshakeClientCert(settings=hs, serverName=SERVER_NAME, **handshake_kw)
        return conversation(conn)
    finally:
        sock.close()


def say_hello(conn: Any) -> tuple[bytes, bytes]:
    """tlslite client side: one line and its echo, then close (waits for close_notify)."""
    conn.write(b"hello from tlslite\n")
    reply = read_line(conn)
    conn.close()
    return reply, chain_der(conn.session.serverCertChain)


def ferro_server(backend: Any, pki: PKI, **kw: Any) -> FerroServer:
    cfg = server_config(backend, pki, **kw)
    return FerroServer(lambda: ServerConnection(cfg), echo_handler)


@pytest.mark.parametrize("cert", CERTS)
@pytest.mark.parametrize("group", GROUP_PARAMS)
def test_tlslite_client_ferro_server(backend: Any, pki: PKI, group: str, cert: str) -> None:
    leaf = getattr(pki, cert)
    with ferro_server(backend, pki, leaf=leaf, groups=(GROUPS[group],)) as server:
        reply, der = tlslite_client(server.port, settings([group]), say_hello)
    assert reply == b"echo:hello from tlslite\n"
    assert der == leaf.issued.der_chain()[0]
    fs = server.result
    assert fs.conn.info.group == GROUPS[group]
    assert not contains_hrr(bytes(fs.raw_out))
    assert fs.conn.state is ConnectionState.CLOSED


@pytest.mark.parametrize("cipher", list(SUITES))
def test_tlslite_client_cipher_suites(backend: Any, pki: PKI, cipher: str) -> None:
    with ferro_server(backend, pki) as server:
        reply, _ = tlslite_client(server.port, settings(["x25519"], ciphers=[cipher]), say_hello)
    assert reply == b"echo:hello from tlslite\n"
    assert server.result.conn.info.cipher_suite == SUITES[cipher]


def test_tlslite_client_hello_retry_request(backend: Any, pki: PKI) -> None:
    hs = settings(["x25519", "secp256r1"], key_shares=["x25519"])
    with ferro_server(backend, pki, groups=(NamedGroup.SECP256R1,)) as server:
        reply, _ = tlslite_client(server.port, hs, say_hello)
    assert reply == b"echo:hello from tlslite\n"
    assert server.result.conn.info.group == NamedGroup.SECP256R1
    assert contains_hrr(bytes(server.result.raw_out))


@pytest.mark.parametrize("client", ["client_p256", "client_rsa"])
def test_tlslite_client_certificate_to_ferro_server(backend: Any, pki: PKI, client: str) -> None:
    leaf = getattr(pki, client)
    chain, key = tlslite_identity(leaf)
    # tlslite-ng 0.8.2 decides on RFC 8879 compression from its *own* ClientHello
    # (tlsconnection.py: _create_cert_msg("client", clientHello, ...)), not from the
    # CertificateRequest: with compression on, ferrotls offers zlib there and accepts it.
    with ferro_server(backend, pki, client_auth=ClientAuth.REQUIRED,
                      certificate_compression=DEFAULT_CERTIFICATE_COMPRESSION) as server:
        reply, _ = tlslite_client(server.port, settings(), say_hello, certChain=chain, privateKey=key)
    assert reply == b"echo:hello from tlslite\n"
    info = server.result.conn.info
    assert info.peer_certificates[0] == leaf.issued.der_chain()[0]
    assert info.certificate_compression in DEFAULT_CERTIFICATE_COMPRESSION


def test_tlslite_client_gets_compressed_certificate(backend: Any, pki: PKI) -> None:
    """tlslite offers compress_certificate (zlib, plus brotli/zstd when it has them):
    ferrotls sends a CompressedCertificate and tlslite decompresses it."""
    with ferro_server(backend, pki, leaf=pki.server_rsa,
                      certificate_compression=DEFAULT_CERTIFICATE_COMPRESSION) as server:
        reply, der = tlslite_client(server.port, settings(), say_hello)
    assert reply == b"echo:hello from tlslite\n" and der == pki.server_rsa.issued.der_chain()[0]
    assert server.result.conn.handshake_stats.bytes_sent < _plain_server_bytes(backend, pki)


def _plain_server_bytes(backend: Any, pki: PKI) -> int:
    with ferro_server(backend, pki, leaf=pki.server_rsa) as server:
        tlslite_client(server.port, settings(), say_hello)
    stats = server.result.conn.handshake_stats
    assert stats is not None
    return int(stats.bytes_sent)


@pytest.mark.parametrize("algorithm", ["zlib"])
def test_ferro_client_gets_compressed_certificate_from_tlslite(backend: Any, pki: PKI, algorithm: str) -> None:
    hs = settings()
    hs.certificate_compression_send = [algorithm]
    with TLSLiteServer(pki.server_rsa, hs, echo_upper_then_close) as server:
        cfg = client_config(backend, pki, certificate_compression=(1,))
        fs = connect(ClientConnection(cfg, SERVER_NAME), server.port)
        try:
            info = fs.handshake()
            assert info.certificate_compression == 1
            assert info.peer_certificates[0] == pki.server_rsa.issued.der_chain()[0]
            ferro_talks(fs)
        finally:
            fs.shutdown()


@pytest.mark.parametrize("limit", [64, 256])
def test_record_size_limit_with_tlslite_server(backend: Any, pki: PKI, limit: int) -> None:
    """Both sides advertise a small record_size_limit; a long line crosses intact."""
    hs = settings()
    hs.record_size_limit = limit

    def conversation(conn: Any) -> bytes:
        line = read_line(conn)
        conn.write(line.upper())
        conn.close()
        return line

    line = b"x" * 3000 + b"\n"
    with TLSLiteServer(pki.server_p256, hs, conversation) as server:
        cfg = client_config(backend, pki, record_size_limit=limit)
        fs = connect(ClientConnection(cfg, SERVER_NAME), server.port)
        try:
            info = fs.handshake()
            assert info.record_size_limit == limit
            fs.send(line)
            assert fs.read_until(b"\n") == line.upper()
            fs.wait_closed()
            fs.close()
        finally:
            fs.shutdown()
    assert server.result == line
    assert max(_sizes(bytes(fs.raw_out))) <= limit + 16  # inner plaintext + tag


def _sizes(data: bytes) -> list[int]:
    out, pos = [], 0
    while pos + 5 <= len(data):
        n = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if data[pos] == 23:
            out.append(n)
        pos += 5 + n
    return out


@pytest.mark.parametrize("limit", [64, 256])
def test_record_size_limit_with_tlslite_client(backend: Any, pki: PKI, limit: int) -> None:
    hs = settings()
    hs.record_size_limit = limit
    line = b"y" * 3000 + b"\n"

    def talk(conn: Any) -> bytes:
        conn.write(line)
        reply = read_line(conn)
        conn.close()
        return reply

    with ferro_server(backend, pki, record_size_limit=limit) as server:
        reply = tlslite_client(server.port, hs, talk)
    # echo_handler answers each chunk it reads, so several "echo:" prefixes can come back
    assert reply.startswith(b"echo:") and reply.replace(b"echo:", b"") == line
    fs = server.result
    assert fs.conn.info.record_size_limit == limit
    assert max(_sizes(bytes(fs.raw_out))) <= limit + 16


def test_tlslite_unsolicited_compressed_certificate_is_rejected(backend: Any, pki: PKI) -> None:
    """With its defaults tlslite-ng sends a CompressedCertificate that ferrotls never
    asked for (no compress_certificate in the CertificateRequest): unexpected_message."""
    chain, key = tlslite_identity(pki.client_p256)
    cfg = server_config(backend, pki, client_auth=ClientAuth.REQUIRED)
    server = FerroServer(lambda: ServerConnection(cfg), echo_handler, expect_error=True)
    # tlslite either reads the alert or, still writing its flight, hits the closed socket
    with server, pytest.raises((TLSRemoteAlert, OSError)) as info:
        tlslite_client(server.port, settings(), say_hello, certChain=chain, privateKey=key)
    if isinstance(info.value, TLSRemoteAlert):
        assert info.value.description == AlertDescription.unexpected_message
    assert isinstance(server.error, UnexpectedMessage)
    assert "COMPRESSED_CERTIFICATE" in str(server.error)


def test_tlslite_client_alpn_and_key_update(backend: Any, pki: PKI) -> None:
    def conversation(conn: Any) -> bytes:
        conn.write(b"one\n")
        first = read_line(conn)
        for _ in conn.send_keyupdate_request(KeyUpdateMessageType.update_requested):
            pass
        conn.write(b"two\n")
        second = read_line(conn)  # arrives after ferrotls's answering KeyUpdate
        for _ in conn.send_keyupdate_request(KeyUpdateMessageType.update_not_requested):
            pass
        conn.write(b"three\n")
        third = read_line(conn)
        conn.close()
        return first + second + third

    with ferro_server(backend, pki, alpn_protocols=("h2",)) as server:
        got = tlslite_client(server.port, settings(["x25519"]), conversation, alpn=[b"h2"])
    assert got == b"echo:one\necho:two\necho:three\n"
    fs = server.result
    assert fs.conn.info.alpn_protocol == "h2"
    assert fs.key_updates() == [KeyUpdated(True), KeyUpdated(False)]
