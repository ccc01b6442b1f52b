"""DTLS 1.2 (RFC 6347) between ferrotls and GnuTLS 3.7 (``gnutls-serv --udp``,
``gnutls-cli --udp``), both directions, with data.

``gnutls-serv --udp --echo`` answers every first ClientHello with a
HelloVerifyRequest cookie and echoes each record it receives; it listens on the
wildcard address, so it runs alone in a loopback-only network namespace and our
UDP socket is made inside that namespace (gnutls.py).  ``gnutls-cli --udp``
sends each stdin line as one record to ferrotls' asyncio endpoint
(``create_dtls_endpoint``, whose stateless cookie gate sends GnuTLS a
HelloVerifyRequest first) and prints what comes back.  The suites are RFC 7925's
IoT pair -- TLS_PSK_WITH_AES_128_CCM_8 and TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 --
and ECDHE with AES-GCM and ChaCha20-Poly1305 (one with an RSA certificate),
each narrowed from ``NORMAL:-VERS-ALL:+VERS-DTLS1.2``.  A 300-byte MTU on both
sides fragments the certificate flight, and sessions resume by ticket both ways.

GnuTLS 3.7 has no DTLS connection IDs (RFC 9146) and no DTLS 1.3; those are
proven against wolfSSL (test_dtls12_wolfssl.py, test_dtls_wolfssl.py).
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from ferrotls.config import ClientConfig, ServerConfig
from ferrotls.dtls import DTLSClientConnection, DTLSConfig
from ferrotls.dtls.config import DTLS_1_2, DTLS_1_3
from ferrotls.events import HandshakeComplete, SessionTicket
from ferrotls.psk import ExternalPsk
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite
from ferrotls.tickets import SessionCache

from .dtls_helpers import ECHO_PREFIX, EndpointServer, data_of, drive, has, info_of
from .gnutls import GNUTLS_PORT, cli_args, gnutls_cli, gnutls_serv, priority, udp_socket_in_namespace
from .peers import LOOPBACK, PKI, SERVER_NAME, Leaf, OpenSSLProcess

pytestmark = pytest.mark.interop

S = Tls12CipherSuite
PSK = ExternalPsk(b"meter-0042", bytes.fromhex("00112233445566778899aabbccddeeff"))
FROM_FERROTLS = b"hello from ferrotls over dtls"
FROM_GNUTLS = b"hello from gnutls over dtls"

#: ferrotls suite -> (GnuTLS key exchange, GnuTLS cipher)
SUITES: dict[int, tuple[str, str]] = {
    S.TLS_PSK_WITH_AES_128_CCM_8: ("PSK", "AES-128-CCM-8"),
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8: ("ECDHE-ECDSA", "AES-128-CCM-8"),
    S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: ("ECDHE-ECDSA", "AES-128-GCM"),
    S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: ("ECDHE-ECDSA", "AES-256-GCM"),
    S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: ("ECDHE-ECDSA", "CHACHA20-POLY1305"),
    S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: ("ECDHE-RSA", "AES-128-GCM"),
}
CODES = list(SUITES)


def _name(code: int) -> str:
    return TLS12_SUITES[code].openssl_name


def _dtls_priority(code: int | None = None) -> str:
    if code is None:
        return priority(version="DTLS1.2")
    kx, cipher = SUITES[code]
    return priority(kx, cipher, version="DTLS1.2")


def _is_psk(code: int) -> bool:
    return TLS12_SUITES[code].auth == "PSK"


def _leaf(pki: PKI, code: int) -> Leaf:
    return pki.server_rsa if TLS12_SUITES[code].auth == "RSA" else pki.server_p256


# --------------------------------------------------------------------------- ferrotls client


def _serv_args(pki: PKI, code: int, tmp_path: Path, *extra: str) -> list[str]:
    leaf = _leaf(pki, code)
    args = ["--udp", "--echo", "--priority", _dtls_priority(code), *extra]
    if _is_psk(code):
        passwd = tmp_path / "psk.passwd"
        passwd.write_text(f"{PSK.identity.decode()}:{PSK.key.hex()}\n")
        args += ["--pskpasswd", str(passwd)]
    else:
        args += ["--x509certfile", str(leaf.cert_pem), "--x509keyfile", str(leaf.key_pem)]
    return args


def _client_config(backend: Any, pki: PKI, code: int | None, **kw: Any) -> ClientConfig:
    if code is not None:
        kw["tls12_cipher_suites"] = (code,)
        if _is_psk(code):
            kw["external_psks"] = (PSK,)
    return ClientConfig(backend=backend, verifier=pki.verifier(), **kw)


def _session(conn: DTLSClientConnection, sock: socket.socket, serv: OpenSSLProcess) -> list[Any]:
    """Handshake, a datagram to gnutls-serv and its echo back, then a second, then close_notify."""
    peer = (LOOPBACK, GNUTLS_PORT)
    events = drive(conn, sock, peer, has(HandshakeComplete))
    for line in (FROM_FERROTLS, FROM_FERROTLS + b" again"):
        conn.send(line)
        events += drive(conn, sock, peer, lambda ev, line=line: line in data_of(ev))
    conn.close()
    for d in conn.datagrams_to_send():
        sock.sendto(d, peer)
    return events


@pytest.mark.parametrize("code", CODES, ids=_name)
def test_ferrotls_client_to_gnutls_serv(backend: Any, pki: PKI, tmp_path: Path, code: int) -> None:
    with gnutls_serv(*_serv_args(pki, code, tmp_path)) as serv, udp_socket_in_namespace(serv) as sock:
        conn = DTLSClientConnection(_client_config(backend, pki, code), SERVER_NAME,
                                    dtls=DTLSConfig(versions=(DTLS_1_2,)), now=time.monotonic())
        events = _session(conn, sock, serv)
        serv.wait_for(b"Processing %d bytes command: " % len(FROM_FERROTLS) + FROM_FERROTLS + b"\n")
    info = info_of(events)
    assert info.version == "DTLSv1.2" and info.cipher_suite == code
    assert (info.psk_identity == PSK.identity) == _is_psk(code)
    assert data_of(events) == FROM_FERROTLS + FROM_FERROTLS + b" again"  # gnutls-serv echoes each
    assert conn.dropped.total == 0


def test_ferrotls_client_offering_both_versions(backend: Any, pki: PKI, tmp_path: Path) -> None:
    """A client that offers DTLS 1.3 and 1.2 settles for 1.2 with GnuTLS 3.7 (no DTLS 1.3)."""
    code = S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    args = ["--udp", "--echo", "--priority", _dtls_priority(), "--x509certfile", str(pki.server_p256.cert_pem),
            "--x509keyfile", str(pki.server_p256.key_pem)]
    with gnutls_serv(*args) as serv, udp_socket_in_namespace(serv) as sock:
        conn = DTLSClientConnection(ClientConfig(backend=backend, verifier=pki.verifier()), SERVER_NAME,
                                    dtls=DTLSConfig(versions=(DTLS_1_3, DTLS_1_2)), now=time.monotonic())
        info = info_of(_session(conn, sock, serv))
    assert info.version == "DTLSv1.2" and info.cipher_suite in (code, 0xC02C, 0xCCA9)


def test_ferrotls_client_small_mtu_to_gnutls_serv(backend: Any, pki: PKI, tmp_path: Path) -> None:
    """A 300-byte MTU both ways: an RSA certificate flight in many fragments each way."""
    code = S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    with gnutls_serv(*_serv_args(pki, code, tmp_path, "--mtu", "300")) as serv, \
            udp_socket_in_namespace(serv) as sock:
        conn = DTLSClientConnection(_client_config(backend, pki, code), SERVER_NAME,
                                    dtls=DTLSConfig(versions=(DTLS_1_2,), mtu=300), now=time.monotonic())
        info = info_of(_session(conn, sock, serv))
    assert info.version == "DTLSv1.2"
    assert info.stats is not None and info.stats.bytes_received > 1000


def test_ferrotls_client_resumes_with_gnutls_serv(backend: Any, pki: PKI, tmp_path: Path) -> None:
    code = S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    cache = SessionCache()
    config = _client_config(backend, pki, code, session_cache=cache)
    with gnutls_serv(*_serv_args(pki, code, tmp_path)) as serv:
        infos = []
        for _ in range(2):
            with udp_socket_in_namespace(serv) as sock:
                conn = DTLSClientConnection(config, SERVER_NAME, dtls=DTLSConfig(versions=(DTLS_1_2,)),
                                            now=time.monotonic())
                events = _session(conn, sock, serv)
                infos.append(info_of(events))
                if not infos[-1].resumed:
                    assert any(isinstance(e, SessionTicket) for e in events)
            time.sleep(0.3)  # (gnutls-serv --udp serves one session at a time)
        # (gnutls-serv --udp prints no session details: the abbreviated handshake's
        # Finished messages, checked both ways, prove the resumption)
    assert not infos[0].resumed and infos[1].resumed
    assert infos[1].stats is not None and infos[1].stats.bytes_received < 400  # no certificate


# --------------------------------------------------------------------------- ferrotls server


def _server_config(backend: Any, pki: PKI, code: int, **kw: Any) -> ServerConfig:
    if _is_psk(code):
        kw["psk_callback"] = lambda identity: PSK if identity == PSK.identity else None
    kw.setdefault("certificates", (_leaf(pki, code).certified,))
    return ServerConfig(backend=backend, tls12_cipher_suites=(code,), **kw)


def _cli_args(pki: PKI, code: int | None, *extra: str) -> list[str]:
    args = ["--udp", "--priority", _dtls_priority(code), *extra]
    if code is not None and _is_psk(code):
        return [*args, "--pskusername", PSK.identity.decode(), "--pskkey", PSK.key.hex()]
    return list(cli_args(pki.ca_pem, *args))


def _talk(cli: OpenSSLProcess) -> None:
    cli.wait_for(b"Handshake was completed")
    cli.write(FROM_GNUTLS + b"\n")
    cli.wait_for(ECHO_PREFIX + FROM_GNUTLS)
    cli.close_stdin()
    cli.wait()


@pytest.mark.parametrize("code", CODES, ids=_name)
def test_gnutls_cli_to_ferrotls_endpoint(backend: Any, pki: PKI, code: int) -> None:
    config = _server_config(backend, pki, code)
    with EndpointServer(config, DTLSConfig(versions=(DTLS_1_3, DTLS_1_2))) as server:
        with gnutls_cli(server.port, *_cli_args(pki, code)) as cli:
            _talk(cli)
            description = re.search(r"- Description: \(DTLS1\.2-X\.509\)-(.*)\n", cli.text)
            assert description is not None, cli.text
            assert description.group(1).endswith(f"-({SUITES[code][1]})")
        (served,) = server.wait_sessions(1)
        gate = server.endpoint.gate
    assert served.error is None
    assert served.info is not None and served.info.version == "DTLSv1.2" and served.info.cipher_suite == code
    assert (served.info.psk_identity == PSK.identity) == _is_psk(code)
    assert served.received == [FROM_GNUTLS + b"\n"]
    assert gate is not None and gate.answered >= 1  # GnuTLS went through our HelloVerifyRequest


def test_gnutls_cli_small_mtu_to_ferrotls(backend: Any, pki: PKI) -> None:
    code = S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    config = _server_config(backend, pki, code)
    with EndpointServer(config, DTLSConfig(versions=(DTLS_1_2,), mtu=300)) as server:
        with gnutls_cli(server.port, *_cli_args(pki, code, "--mtu", "300")) as cli:
            _talk(cli)
        (served,) = server.wait_sessions(1)
    assert served.info is not None and served.info.version == "DTLSv1.2"


def test_gnutls_cli_resumes_with_ferrotls(backend: Any, pki: PKI) -> None:
    code = S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    config = _server_config(backend, pki, code, ticket_count=1)
    with EndpointServer(config, DTLSConfig(versions=(DTLS_1_2,))) as server:
        with gnutls_cli(server.port, *_cli_args(pki, code, "--resume")) as cli:
            cli.wait_for(b"This is a resumed session")
            _talk(cli)
        first, second = server.wait_sessions(2)
    assert first.info is not None and not first.info.resumed
    assert second.info is not None and second.info.resumed
