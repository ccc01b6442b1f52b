"""DTLS 1.2 (RFC 6347) between ferrotls and OpenSSL, both directions, with data.

``openssl s_server -dtls1_2`` (which answers every first ClientHello with a
HelloVerifyRequest cookie) against ferrotls' sans-I/O DTLSClientConnection over
a UDP socket, and ``openssl s_client -dtls1_2`` against ferrotls' asyncio
endpoint (``create_dtls_endpoint``, whose stateless cookie gate sends OpenSSL a
HelloVerifyRequest first).  The suites are RFC 7925's IoT pair --
TLS_PSK_WITH_AES_128_CCM_8 and TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 -- and the
ECDHE AEAD suites (AES-128/256-GCM, ChaCha20-Poly1305, one with an RSA
certificate).  A small MTU on both sides fragments the certificate flight;
sessions resume with tickets both ways.  Application data goes both ways in
every session: OpenSSL prints what it receives, and sends its stdin.

OpenSSL 3.0 has no DTLS connection IDs (RFC 9146); they are proven against
wolfSSL (test_dtls12_wolfssl.py).
"""

from __future__ import annotations

import re
import shutil
import socket
import time
from typing import Any

import pytest

from ferrotls.config import ClientConfig, ServerConfig
from ferrotls.dtls import DTLSClientConnection, DTLSConfig
from ferrotls.dtls.config import DTLS_1_2, DTLS_1_3
from ferrotls.events import HandshakeComplete, SessionTicket
from ferrotls.psk import ExternalPsk

from .dtls_helpers import (
    ECHO_PREFIX, TIMEOUT, EndpointServer, data_of, drive, free_udp_port, has, info_of, need,
    wait_udp_listener,
)
from .peers import LOOPBACK, PKI, SERVER_NAME, OpenSSLProcess

pytestmark = pytest.mark.interop

PSK_IDENTITY = b"Client_identity"  # s_client's default -psk_identity
PSK_KEY = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")
FROM_FERROTLS = b"hello from ferrotls"
FROM_OPENSSL = b"hello from openssl"

# (openssl name, code point, authentication)
SUITES = [
    ("PSK-AES128-CCM8", 0xC0A8, "psk"),
    ("ECDHE-ECDSA-AES128-CCM8", 0xC0AE, "ecdsa"),
    ("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B, "ecdsa"),
    ("ECDHE-ECDSA-AES256-GCM-SHA384", 0xC02C, "ecdsa"),
    ("ECDHE-ECDSA-CHACHA20-POLY1305", 0xCCA9, "ecdsa"),
    ("ECDHE-RSA-AES128-GCM-SHA256", 0xC02F, "rsa"),
]
IDS = [name for name, _, _ in SUITES]


@pytest.fixture(scope="module")
def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        need("the openssl CLI is not on PATH")
    return path


def _server_args(pki: PKI, name: str, auth: str) -> list[str]:
    if auth == "psk":
        return ["-nocert", "-psk", PSK_KEY.hex(), "-psk_hint", "ferrotls-test"]
    leaf = pki.server_rsa if auth == "rsa" else pki.server_p256
    return ["-cert", str(leaf.cert_pem), "-key", str(leaf.key_pem)]


def _client_config(backend: Any, pki: PKI, code: int, auth: str, **kw: Any) -> ClientConfig:
    if auth == "psk":
        kw["external_psks"] = (ExternalPsk(PSK_IDENTITY, PSK_KEY),)
    return ClientConfig(backend=backend, verifier=pki.verifier(), tls12_cipher_suites=(code,), **kw)


def _s_server(port: int, *args: str, naccept: int = 1) -> OpenSSLProcess:
    proc = OpenSSLProcess(["s_server", "-dtls1_2", "-accept", f"{LOOPBACK}:{port}", "-naccept", str(naccept),
                           *args])
    proc.wait_for(b"ACCEPT")
    wait_udp_listener(port, proc.proc)
    return proc


def _session(conn: DTLSClientConnection, sock: socket.socket, port: int, server: OpenSSLProcess) -> list[Any]:
    """Handshake, our datagram to OpenSSL, OpenSSL's line to us, close_notify."""
    peer = (LOOPBACK, port)
    events = drive(conn, sock, peer, has(HandshakeComplete))
    conn.send(FROM_FERROTLS)
    events += drive(conn, sock, peer, lambda _: FROM_FERROTLS in server.output)
    server.write(FROM_OPENSSL + b"\n")
    events += drive(conn, sock, peer, lambda ev: FROM_OPENSSL in data_of(ev))
    conn.close()
    for d in conn.datagrams_to_send():
        sock.sendto(d, peer)
    return events


# --------------------------------------------------------------------------- ferrotls client


@pytest.mark.parametrize(("name", "code", "auth"), SUITES, ids=IDS)
def test_ferrotls_client_openssl_server(openssl: str, backend: Any, pki: PKI, name: str, code: int,
                                        auth: str) -> None:
    port = free_udp_port()
    with _s_server(port, "-cipher", name, *_server_args(pki, name, auth)) as server, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        conn = DTLSClientConnection(_client_config(backend, pki, code, auth), SERVER_NAME,
                                    dtls=DTLSConfig(versions=(DTLS_1_2,)), now=time.monotonic())
        events = _session(conn, sock, port, server)
        server.wait_for(b"CIPHER is " + name.encode())
    info = info_of(events)
    assert info.version == "DTLSv1.2" and info.cipher_suite == code
    assert (info.psk_identity == PSK_IDENTITY) == (auth == "psk")
    assert conn.dropped.total == 0


def test_ferrotls_client_offering_both_versions(openssl: str, backend: Any, pki: PKI) -> None:
    """A client that offers DTLS 1.3 and 1.2 settles for 1.2 with OpenSSL (which has
    no DTLS 1.3), after its cookie exchange."""
    port = free_udp_port()
    with _s_server(port, *_server_args(pki, "", "ecdsa")) as server, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        conn = DTLSClientConnection(ClientConfig(backend=backend, verifier=pki.verifier()), SERVER_NAME,
                                    dtls=DTLSConfig(versions=(DTLS_1_3, DTLS_1_2)), now=time.monotonic())
        info = info_of(_session(conn, sock, port, server))
    assert info.version == "DTLSv1.2" and info.cipher_suite in (0xC02C, 0xC02B, 0xCCA9)


def test_ferrotls_client_small_mtu(openssl: str, backend: Any, pki: PKI) -> None:
    """A 300-byte MTU both ways: both sides fragment their handshake flights."""
    port = free_udp_port()
    with _s_server(port, "-mtu", "300", *_server_args(pki, "", "rsa")) as server, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        conn = DTLSClientConnection(_client_config(backend, pki, 0xC02F, "rsa"), SERVER_NAME,
                                    dtls=DTLSConfig(versions=(DTLS_1_2,), mtu=300), now=time.monotonic())
        info = info_of(_session(conn, sock, port, server))
    assert info.version == "DTLSv1.2"
    stats = info.stats
    assert stats is not None and stats.bytes_received > 1000  # an RSA chain, in pieces


def test_ferrotls_client_resumes_with_openssl(openssl: str, backend: Any, pki: PKI) -> None:
    port = free_udp_port()
    config = _client_config(backend, pki, 0xC02B, "ecdsa")
    dtls = DTLSConfig(versions=(DTLS_1_2,))
    with _s_server(port, *_server_args(pki, "", "ecdsa"), naccept=2) as server:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            conn = DTLSClientConnection(config, SERVER_NAME, dtls=dtls, now=time.monotonic())
            first = _session(conn, sock, port, server)
        ticket = next(e for e in first if isinstance(e, SessionTicket))
        assert ticket.session is not None
        server.output.clear()
        time.sleep(0.3)  # (s_server moves on to its second connection)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            conn = DTLSClientConnection(config, SERVER_NAME, dtls=dtls, session=ticket.session,
                                        now=time.monotonic())
            second = _session(conn, sock, port, server)
    assert not info_of(first).resumed
    info = info_of(second)
    assert info.resumed and info.version == "DTLSv1.2"
    assert info.stats is not None and info.stats.bytes_received < 400  # no certificate this time


def test_iot_profile_client_with_openssl(openssl: str, backend: Any, pki: PKI) -> None:
    """A dtls_iot_profile() device (DTLS 1.3 first, a 512-byte MTU, a CID offer that
    OpenSSL 3.0 ignores) settles for DTLS 1.2 with RFC 7925's PSK suite."""
    from ferrotls.dtls import dtls_iot_profile

    profile = dtls_iot_profile(psk=ExternalPsk(PSK_IDENTITY, PSK_KEY), backend=backend)
    port = free_udp_port()
    with _s_server(port, "-cipher", "PSK-AES128-CCM8", *_server_args(pki, "", "psk")) as server, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        conn = DTLSClientConnection(profile.config, SERVER_NAME, dtls=profile.dtls,  # type: ignore[arg-type]
                                    now=time.monotonic())
        info = info_of(_session(conn, sock, port, server))
    assert info.version == "DTLSv1.2" and info.cipher_suite == 0xC0A8 and info.psk_identity == PSK_IDENTITY
    assert conn.own_connection_id == conn.peer_connection_id == b""  # OpenSSL 3.0: no RFC 9146


# --------------------------------------------------------------------------- ferrotls server


def _server_config(backend: Any, pki: PKI, code: int, auth: str, **kw: Any) -> ServerConfig:
    if auth == "psk":
        kw["psk_callback"] = lambda identity: ExternalPsk(identity, PSK_KEY) if identity == PSK_IDENTITY else None
    else:
        leaf = pki.server_rsa if auth == "rsa" else pki.server_p256
        kw["certificates"] = (leaf.certified,)
    return ServerConfig(backend=backend, tls12_cipher_suites=(code,), **kw)


def _s_client(port: int, *args: str) -> OpenSSLProcess:
    return OpenSSLProcess(["s_client", "-dtls1_2", "-connect", f"{LOOPBACK}:{port}", *args], TIMEOUT)


def _client_args(pki: PKI, auth: str) -> list[str]:
    if auth == "psk":
        return ["-psk", PSK_KEY.hex(), "-psk_identity", PSK_IDENTITY.decode()]
    return ["-CAfile", str(pki.ca_pem), "-verify_return_error", "-servername", SERVER_NAME,
            "-verify_hostname", SERVER_NAME]


def _talk(client: OpenSSLProcess) -> None:
    client.wait_for(re.compile(rb"(?:New|Reused), TLSv1\.2, Cipher is "))
    client.write(FROM_OPENSSL + b"\n")
    client.wait_for(ECHO_PREFIX + FROM_OPENSSL)
    client.close_stdin()
    client.wait()


@pytest.mark.parametrize(("name", "code", "auth"), SUITES, ids=IDS)
def test_openssl_client_ferrotls_endpoint(openssl: str, backend: Any, pki: PKI, name: str, code: int,
                                          auth: str) -> None:
    config = _server_config(backend, pki, code, auth)
    with EndpointServer(config, DTLSConfig(versions=(DTLS_1_3, DTLS_1_2))) as server:
        with _s_client(server.port, "-cipher", name, *_client_args(pki, auth)) as client:
            _talk(client)
        (served,) = server.wait_sessions(1)
        gate = server.endpoint.gate
    assert served.info is not None and served.info.version == "DTLSv1.2" and served.info.cipher_suite == code
    assert served.received == [FROM_OPENSSL + b"\n"]
    assert gate is not None and gate.answered >= 1  # OpenSSL went through our HelloVerifyRequest


def test_openssl_client_small_mtu(openssl: str, backend: Any, pki: PKI) -> None:
    config = _server_config(backend, pki, 0xC02F, "rsa")
    with EndpointServer(config, DTLSConfig(versions=(DTLS_1_2,), mtu=300)) as server:
        with _s_client(server.port, "-mtu", "300", *_client_args(pki, "rsa")) as client:
            _talk(client)
        (served,) = server.wait_sessions(1)
    assert served.info is not None and served.info.version == "DTLSv1.2"


def test_openssl_client_resumes_with_ferrotls(openssl: str, backend: Any, pki: PKI, tmp_path: Any) -> None:
    sess = tmp_path / "session.pem"
    config = _server_config(backend, pki, 0xC02B, "ecdsa", ticket_count=1)
    with EndpointServer(config, DTLSConfig(versions=(DTLS_1_2,))) as server:
        with _s_client(server.port, "-sess_out", str(sess), *_client_args(pki, "ecdsa")) as client:
            _talk(client)
        with _s_client(server.port, "-sess_in", str(sess), *_client_args(pki, "ecdsa")) as client:
            _talk(client)
            assert "Reused, TLSv1.2" in client.text
        first, second = server.wait_sessions(2)
    assert first.info is not None and not first.info.resumed
    assert second.info is not None and second.info.resumed
