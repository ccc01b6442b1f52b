"""TLS 1.2 against tlslite-ng 0.8 (pure Python), both ways, over 127.0.0.1 sockets.

Every ferrotls suite tlslite-ng implements in TLS 1.2 (ECDHE with AES-GCM,
ChaCha20-Poly1305 and, for ECDSA, AES-128-CCM; tlslite-ng has no CCM_8 and no TLS 1.2
PSK), tlslite-ng requiring extended_master_secret, session-id resumption both ways
(tlslite-ng's ``sessionCache`` and ``session=``), session tickets from its server, and
client certificates both ways.
"""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.config import ClientAuth
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite
from ferrotls.tickets import SessionCache, SessionIdCache

from .peers import (
    LOOPBACK,
    PKI,
    SERVER_NAME,
    TIMEOUT,
    FerroServer,
    client_config,
    connect,
    echo_handler,
    server_config,
)
from .test_tlslite import (
    TLSLiteServer,
    chain_der,
    echo_upper_then_close,
    ferro_talks,
    tlslite_identity,
)

tlslite = pytest.importorskip("tlslite")
from tlslite import HandshakeSettings, TLSConnection  # type: ignore[import-untyped]  # noqa: E402
from tlslite import SessionCache as TLSLiteSessionCache  # noqa: E402

pytestmark = pytest.mark.interop

S = Tls12CipherSuite
#: ferrotls suite -> (tlslite-ng key exchange, cipher)
TLSLITE_SUITES: dict[int, tuple[str, str]] = {
    S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: ("ecdhe_ecdsa", "aes128gcm"),
    S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: ("ecdhe_ecdsa", "aes256gcm"),
    S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: ("ecdhe_ecdsa", "chacha20-poly1305"),
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM: ("ecdhe_ecdsa", "aes128ccm"),
    S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: ("ecdhe_rsa", "aes128gcm"),
    S.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: ("ecdhe_rsa", "aes256gcm"),
    S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: ("ecdhe_rsa", "chacha20-poly1305"),
}


def _name(code: int) -> str:
    return TLS12_SUITES[code].openssl_name


def settings12(code: int | None = None, **kw: Any) -> HandshakeSettings:
    s = HandshakeSettings()
    s.minVersion = s.maxVersion = (3, 3)
    s.requireExtendedMasterSecret = True  # ferrotls always does EMS
    if code is not None:
        kx, cipher = TLSLITE_SUITES[code]
        s.keyExchangeNames = [kx]
        s.cipherNames = [cipher]
    for key, value in kw.items():
        setattr(s, key, value)
    return s


def _leaf(pki: PKI, code: int) -> Any:
    return pki.server_rsa if TLS12_SUITES[code].auth == "RSA" else pki.server_p256


def _tlslite_client(
    port: int, hs: HandshakeSettings, session: Any = None, leaf: Any = None
) -> TLSConnection:
    import socket

    sock = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
    conn = TLSConnection(sock)
    kw: dict[str, Any] = {"settings": hs, "serverName": SERVER_NAME}
    if session is not None:
        kw["session"] = session
    if leaf is not None:
        kw["certChain"], kw["privateKey"] = tlslite_identity(leaf)
    conn.handshakeClientCert(**kw)
    return conn


def _tlslite_talks(conn: TLSConnection, line: bytes = b"hello from tlslite\n") -> None:
    conn.write(line)
    got = b""
    while not got.endswith(b"\n"):
        got += bytes(conn.read())
    assert got == b"echo:" + line
    conn.close()


# --------------------------------------------------------------------------- every suite


def _noting_version(conn: Any) -> tuple[Any, ...]:
    """The tlslite server's view of the session (before close() resets it), then the echo."""
    seen = (conn.version, conn.session.extendedMasterSecret, conn.getCipherName(), conn.resumed)
    return (*seen, echo_upper_then_close(conn))


@pytest.mark.parametrize("code", list(TLSLITE_SUITES), ids=_name)
def test_ferro_client_to_tlslite_server(backend: Any, pki: PKI, code: int) -> None:
    with TLSLiteServer(_leaf(pki, code), settings12(code), _noting_version) as server:
        cfg = client_config(backend, pki, tls12_cipher_suites=(code,))  # TLS 1.3-capable
        fs = connect(ClientConnection(cfg, SERVER_NAME), server.port)
        try:
            info = fs.handshake()
            assert (info.version, info.cipher_suite) == ("TLSv1.2", code)
            ferro_talks(fs)
        finally:
            fs.shutdown()
    version, ems, cipher, _, line = server.result
    assert (version, ems, line) == ((3, 3), True, b"hello from ferrotls\n")
    assert cipher == TLSLITE_SUITES[code][1]


@pytest.mark.parametrize("code", list(TLSLITE_SUITES), ids=_name)
def test_tlslite_client_to_ferro_server(backend: Any, pki: PKI, code: int) -> None:
    sc = server_config(backend, pki, certificates=(_leaf(pki, code).certified,),
                       tls12_cipher_suites=(code,))
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        conn = _tlslite_client(server.port, settings12(code))
        assert conn.version == (3, 3) and conn.session.extendedMasterSecret
        assert conn.getCipherName() == TLSLITE_SUITES[code][1]
        _tlslite_talks(conn)
    assert server.fs is not None
    assert server.fs.conn.info.cipher_suite == code


# --------------------------------------------------------------------------- resumption


def test_ferro_client_resumes_with_tlslite(backend: Any, pki: PKI) -> None:
    """Session ids from tlslite-ng's server cache (the ticket extension is ignored)."""
    tl_cache = TLSLiteSessionCache()
    cache = SessionCache()
    cfg = client_config(backend, pki, session_cache=cache)
    for i in range(3):
        with TLSLiteServer(pki.server_p256, settings12(), _noting_version,
                           sessionCache=tl_cache) as server:
            fs = connect(ClientConnection(cfg, SERVER_NAME), server.port)
            try:
                assert fs.handshake().resumed == (i > 0)
                ferro_talks(fs)
            finally:
                fs.shutdown()
        assert server.result[3] == (i > 0)  # tlslite-ng resumed it too


def test_tlslite_client_resumes_with_ferro(backend: Any, pki: PKI) -> None:
    sc = server_config(backend, pki, ticket_count=0, session_id_cache=SessionIdCache())
    session = None
    for i in range(3):
        with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
            conn = _tlslite_client(server.port, settings12(), session=session)
            assert conn.resumed == (i > 0)
            session = conn.session
            _tlslite_talks(conn)
        assert server.fs is not None and server.fs.conn.info.resumed == (i > 0)


# --------------------------------------------------------------------------- client certificates


@pytest.mark.parametrize("client", ["client_p256", "client_rsa"])
def test_ferro_client_certificate_to_tlslite(backend: Any, pki: PKI, client: str) -> None:
    leaf = getattr(pki, client)

    def conversation(conn: Any) -> bytes:
        line = echo_upper_then_close(conn)
        return chain_der(conn.session.clientCertChain) + b"|" + line

    with TLSLiteServer(pki.server_p256, settings12(), conversation, reqCert=True) as server:
        cfg = client_config(backend, pki, certificate=leaf.certified)
        fs = connect(ClientConnection(cfg, SERVER_NAME), server.port)
        try:
            fs.handshake()
            ferro_talks(fs)
        finally:
            fs.shutdown()
    assert server.result == leaf.issued.der_chain()[0] + b"|hello from ferrotls\n"


@pytest.mark.parametrize("client", ["client_p256", "client_rsa"])
def test_tlslite_client_certificate_to_ferro(backend: Any, pki: PKI, client: str) -> None:
    leaf = getattr(pki, client)
    sc = server_config(backend, pki, client_auth=ClientAuth.REQUIRED)
    with FerroServer(lambda: ServerConnection(sc), echo_handler) as server:
        conn = _tlslite_client(server.port, settings12(), leaf=leaf)
        _tlslite_talks(conn)
    assert server.fs is not None
    assert server.fs.conn.info.peer_certificates[0] == leaf.issued.der_chain()[0]
