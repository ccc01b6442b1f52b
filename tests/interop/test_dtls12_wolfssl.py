"""DTLS 1.2 (RFC 6347) between ferrotls and wolfSSL 5.9 (``-u -v 3``), both
directions, with data, and connection IDs (RFC 9146).

wolfSSL's example client and server (``tools/wolfssl_peer.sh``, built once into a
cache) are the peer.  ferrotls' client is its sans-I/O DTLSClientConnection over
a UDP socket on 127.0.0.1, through a relay that keeps every datagram (so the
tests see wolfSSL's HelloVerifyRequest and the tls12_cid records); ferrotls'
server is the asyncio endpoint (``create_dtls_endpoint``: our stateless
HelloVerifyRequest first, the session found by its CID later).

Suites: RFC 7925's TLS_PSK_WITH_AES_128_CCM_8 (the examples' built-in DTLS 1.2
PSK: identity ``Client_identity``, key 0x1a2b3c4d; needs wolfSSL's static PSK
suites, which the build script turns on) and TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
ECDHE-ECDSA with AES-128-GCM and ChaCha20-Poly1305, ECDHE-PSK with
ChaCha20-Poly1305.  Connection IDs (``--cid``) both ways: every record after the
handshake is a tls12_cid record carrying the receiver's CID, its additional data
RFC 9146's -- wolfSSL opens ours and we open wolfSSL's, so both compute it the
same way.  The rebind: wolfSSL's client talks to our endpoint through a relay
that moves to a new source port once the handshake is done (a NAT rebinding);
the endpoint finds the session by its CID and answers at the new address.
"""

from __future__ import annotations

import select
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ferrotls.config import ClientConfig, ServerConfig
from ferrotls.dtls import DTLSClientConnection, DTLSConfig
from ferrotls.dtls.config import DTLS_1_2, DTLS_1_3
from ferrotls.events import HandshakeComplete
from ferrotls.psk import ExternalPsk
from ferrotls.suites import Tls12CipherSuite as S

from . import wolfssl
from .dtls_helpers import ECHO_PREFIX, TIMEOUT, EndpointServer, data_of, drive, has, info_of, wait_udp_listener
from .peers import LOOPBACK, PKI, SERVER_NAME

pytestmark = pytest.mark.interop

PSK_IDENTITY = b"Client_identity"
PSK_KEY = bytes.fromhex("1a2b3c4d")
"""The examples' PSK below TLS 1.3 (wolfssl/test.h, my_psk_client_cb)."""
_TLS12_CID = 25
_HELLO_VERIFY_REQUEST = 3

# (wolfSSL name, code point, authentication)
SUITES = [
    ("PSK-AES128-CCM-8", S.TLS_PSK_WITH_AES_128_CCM_8, "psk"),
    ("ECDHE-ECDSA-AES128-CCM-8", S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, "cert"),
    ("ECDHE-ECDSA-AES128-GCM-SHA256", S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "cert"),
    ("ECDHE-ECDSA-CHACHA20-POLY1305", S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "cert"),
    ("ECDHE-PSK-CHACHA20-POLY1305", S.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256, "psk"),
]
IDS = [name for name, _, _ in SUITES]
PSK = ExternalPsk(PSK_IDENTITY, PSK_KEY)


def _wolf_server(wolf: Path, workdir: Path, port: int, suite: str, auth: str, pki: PKI,
                 *extra: str) -> subprocess.Popen[str]:
    args = [str(wolf / "examples" / "server" / "server"), "-u", "-v", "3", "-l", suite, "-p", str(port), "-d"]
    if auth == "psk":
        args.append("-s")
    else:
        args += ["-c", str(pki.server_p256.cert_pem), "-k", str(pki.server_p256.key_pem)]
    return subprocess.Popen([*args, *extra], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wolf_client(wolf: Path, workdir: Path, port: int, suite: str, auth: str, pki: PKI,
                 *extra: str) -> subprocess.CompletedProcess[str]:
    args = [str(wolf / "examples" / "client" / "client"), "-u", "-v", "3", "-l", suite, "-h", LOOPBACK,
            "-p", str(port), "-x"]
    if auth == "psk":
        args.append("-s")
    else:
        args += ["-A", str(pki.ca_pem)]
    return subprocess.run([*args, *extra], cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT + 10)


def _records(datagram: bytes, cid_len: int) -> list[tuple[int, int]]:
    """(content type, epoch) of each DTLS 1.2 record in a datagram."""
    out, pos = [], 0
    while pos + 13 <= len(datagram):
        at = pos + 11 + (cid_len if datagram[pos] == _TLS12_CID else 0)
        length = int.from_bytes(datagram[at : at + 2], "big")
        out.append((datagram[pos], int.from_bytes(datagram[pos + 3 : pos + 5], "big")))
        pos = at + 2 + length
    return out


# --------------------------------------------------------------------------- ferrotls client


def _client_session(wolf: Path, pki: PKI, tmp_path: Path, backend: Any, suite: str, code: int, auth: str,
                    dtls: DTLSConfig, *server_args: str) -> tuple[list[Any], DTLSClientConnection, list[tuple[bool, bytes]], str]:
    port = wait_port = _free_port()
    server = _wolf_server(wolf, wolfssl.run_dir(tmp_path, wolf), port, suite, auth, pki, *server_args)
    try:
        wait_udp_listener(wait_port, server)
        kw: dict[str, Any] = {"backend": backend, "verifier": pki.verifier(), "tls12_cipher_suites": (code,)}
        if auth == "psk":
            kw["external_psks"] = (PSK,)
        with wolfssl.UdpRelay(port) as relay, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            peer = (LOOPBACK, relay.port)
            conn = DTLSClientConnection(ClientConfig(**kw), SERVER_NAME, dtls=dtls, now=time.monotonic())
            events = drive(conn, sock, peer, has(HandshakeComplete))
            conn.send(wolfssl.CLIENT_MESSAGE)
            events += drive(conn, sock, peer, lambda ev: wolfssl.SERVER_MESSAGE in data_of(ev))
            conn.close()
            for d in conn.datagrams_to_send():
                sock.sendto(d, peer)
            out, _ = server.communicate(timeout=TIMEOUT)
            datagrams = list(relay.datagrams)
        assert server.returncode == 0, out
        return events, conn, datagrams, out
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("suite", "code", "auth"), SUITES, ids=IDS)
def test_ferrotls_client_wolfssl_server(wolf: Path, pki: PKI, tmp_path: Path, backend: Any, suite: str, code: int,
                                        auth: str) -> None:
    events, conn, datagrams, out = _client_session(wolf, pki, tmp_path, backend, suite, code, auth,
                                                   DTLSConfig(versions=(DTLS_1_2,)))
    info = info_of(events)
    assert info.version == "DTLSv1.2" and info.cipher_suite == code
    assert (info.psk_identity == PSK_IDENTITY) == (auth == "psk")
    assert wolfssl.CLIENT_MESSAGE.decode() in out
    assert conn.dropped.total == 0
    # wolfSSL's server asked for a cookie first (RFC 6347 4.2.1)
    assert any(not c and d[0] == 22 and d[13] == _HELLO_VERIFY_REQUEST for c, d in datagrams)


def test_ferrotls_client_offering_both_versions(wolf: Path, pki: PKI, tmp_path: Path, backend: Any) -> None:
    """A client offering DTLS 1.3 and 1.2 settles for 1.2 with a DTLS 1.2 wolfSSL server."""
    events, _, _, _ = _client_session(wolf, pki, tmp_path, backend, "ECDHE-ECDSA-AES128-GCM-SHA256",
                                      S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "cert",
                                      DTLSConfig(versions=(DTLS_1_3, DTLS_1_2)))
    assert info_of(events).version == "DTLSv1.2"


@pytest.mark.parametrize(("suite", "code", "auth"), [SUITES[0], SUITES[2]], ids=[IDS[0], IDS[2]])
def test_ferrotls_client_connection_ids(wolf: Path, pki: PKI, tmp_path: Path, backend: Any, suite: str, code: int,
                                        auth: str) -> None:
    events, conn, datagrams, out = _client_session(
        wolf, pki, tmp_path, backend, suite, code, auth,
        DTLSConfig(versions=(DTLS_1_2,), connection_id=b"ferro"), "--cid", "wolf-srv")
    assert info_of(events).version == "DTLSv1.2"
    assert conn.own_connection_id == b"ferro" and conn.peer_connection_id == b"wolf-srv"
    assert wolfssl.CLIENT_MESSAGE.decode() in out
    # from epoch 1 on, each side's records are tls12_cid records with the other's CID
    for from_client, cid in ((True, b"wolf-srv"), (False, b"ferro")):
        protected = [(d, r) for c, d in datagrams if c == from_client for r in _records(d, len(cid)) if r[1] == 1]
        assert protected and all(kind == _TLS12_CID for _, (kind, _) in protected), (from_client, protected)
        assert all(cid in d for d, _ in protected)


# --------------------------------------------------------------------------- ferrotls server


def _server_config(backend: Any, pki: PKI, code: int, auth: str, **kw: Any) -> ServerConfig:
    if auth == "psk":
        kw["psk_callback"] = lambda identity: PSK if identity == PSK_IDENTITY else None
    kw.setdefault("certificates", (pki.server_p256.certified,))
    return ServerConfig(backend=backend, tls12_cipher_suites=(code,), **kw)


@pytest.mark.parametrize(("suite", "code", "auth"), SUITES, ids=IDS)
def test_wolfssl_client_ferrotls_endpoint(wolf: Path, pki: PKI, tmp_path: Path, backend: Any, suite: str, code: int,
                                          auth: str) -> None:
    config = _server_config(backend, pki, code, auth)
    with EndpointServer(config, DTLSConfig(versions=(DTLS_1_3, DTLS_1_2))) as server:
        proc = _wolf_client(wolf, wolfssl.run_dir(tmp_path, wolf), server.port, suite, auth, pki)
        (served,) = server.wait_sessions(1)
        gate = server.endpoint.gate
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (ECHO_PREFIX + wolfssl.CLIENT_MESSAGE).decode() in proc.stdout
    assert served.info is not None and served.info.version == "DTLSv1.2" and served.info.cipher_suite == code
    assert (served.info.psk_identity == PSK_IDENTITY) == (auth == "psk")
    assert served.received == [wolfssl.CLIENT_MESSAGE]
    assert gate is not None and gate.answered == 1  # wolfSSL went through our HelloVerifyRequest


def test_wolfssl_client_connection_ids(wolf: Path, pki: PKI, tmp_path: Path, backend: Any) -> None:
    code = S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
    with EndpointServer(_server_config(backend, pki, code, "cert"), DTLSConfig(versions=(DTLS_1_2,))) as server:
        proc = _wolf_client(wolf, wolfssl.run_dir(tmp_path, wolf), server.port, "ECDHE-ECDSA-AES128-CCM-8", "cert", pki,
                            "--cid", "wolfcli")
        (served,) = server.wait_sessions(1)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (ECHO_PREFIX + wolfssl.CLIENT_MESSAGE).decode() in proc.stdout
    assert served.info is not None and served.info.version == "DTLSv1.2"
    assert served.peer_cid == b"wolfcli" and len(served.own_cid) == 8
    assert served.received == [wolfssl.CLIENT_MESSAGE]


def test_wolfssl_client_resumes_with_ferrotls(wolf: Path, pki: PKI, tmp_path: Path, backend: Any) -> None:
    """-r: wolfSSL's client connects twice and resumes the first session."""
    from ferrotls.tickets import SessionIdCache

    code = S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    config = _server_config(backend, pki, code, "cert", ticket_count=1, session_id_cache=SessionIdCache())
    with EndpointServer(config, DTLSConfig(versions=(DTLS_1_2,))) as server:
        proc = _wolf_client(wolf, wolfssl.run_dir(tmp_path, wolf), server.port, "ECDHE-ECDSA-AES128-GCM-SHA256", "cert", pki,
                            "-r")
        first, second = server.wait_sessions(2)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "reused" in proc.stdout.lower(), proc.stdout
    assert first.info is not None and not first.info.resumed
    assert second.info is not None and second.info.resumed


# --------------------------------------------------------------------------- the rebind


class RebindingRelay:
    """Client <-> relay <-> server on 127.0.0.1, like a NAT: the server sees the
    relay's socket as the client.  Once the server has sent a record of epoch 1 (its
    Finished) and the client sends a tls12_cid record (application data), the relay
    sends from a new socket, a new source port, from then on, as a NAT that rebinds."""

    def __init__(self, server_port: int, client_cid_len: int) -> None:
        self.server = (LOOPBACK, server_port)
        self.client_cid_len = client_cid_len
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind((LOOPBACK, 0))
        self.port = self.front.getsockname()[1]
        self.backs = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
        for s in self.backs:
            s.bind((LOOPBACK, 0))
        self.current = 0
        self.server_finished = False
        self.replies_on_new_port = 0
        self._client: tuple[str, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def ports(self) -> list[int]:
        return [s.getsockname()[1] for s in self.backs]

    def __enter__(self) -> RebindingRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for s in [self.front, *self.backs]:
            s.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.front, *self.backs], [], [], 0.05)
            for sock in ready:
                data, addr = sock.recvfrom(65536)
                if sock is self.front:
                    self._client = addr
                    if self.server_finished and data[0] == _TLS12_CID:
                        self.current = 1
                    self.backs[self.current].sendto(data, self.server)
                elif self._client is not None:
                    if any(epoch == 1 for _, epoch in _records(data, self.client_cid_len)):
                        self.server_finished = True
                    if sock is self.backs[1]:
                        self.replies_on_new_port += 1
                    self.front.sendto(data, self._client)


def test_wolfssl_client_rebinds_to_a_new_port(wolf: Path, pki: PKI, tmp_path: Path, backend: Any) -> None:
    """The device's source port changes after the handshake: its application data
    arrives from a new address with the session's CID; the endpoint opens it, moves
    the session there and the echo goes back to the new port."""
    code = S.TLS_PSK_WITH_AES_128_CCM_8
    with EndpointServer(_server_config(backend, pki, code, "psk"), DTLSConfig(versions=(DTLS_1_2,))) as server:
        with RebindingRelay(server.port, len(b"meter")) as relay:
            proc = _wolf_client(wolf, wolfssl.run_dir(tmp_path, wolf), relay.port, "PSK-AES128-CCM-8", "psk", pki,
                                "--cid", "meter")
            (served,) = server.wait_sessions(1)
            rebinds = server.endpoint.rebinds
            ports = relay.ports
            replies = relay.replies_on_new_port
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (ECHO_PREFIX + wolfssl.CLIENT_MESSAGE).decode() in proc.stdout
    assert len(served.own_cid) == 8 and served.peer_cid == b"meter"
    assert served.received == [wolfssl.CLIENT_MESSAGE]
    assert rebinds == 1 and served.peer == (LOOPBACK, ports[1])  # the session moved
    assert replies >= 1  # the echo came back through the new port


# --------------------------------------------------------------------------- the IoT profile


def test_iot_profile_client_falls_back_to_dtls12(wolf: Path, pki: PKI, tmp_path: Path, backend: Any) -> None:
    """A dtls_iot_profile() device (DTLS 1.3 first, a 512-byte MTU, a 4-byte CID) meets
    a DTLS 1.2-only wolfSSL server: RFC 7925's PSK suite, connection IDs both ways."""
    from ferrotls.dtls import dtls_iot_profile

    profile = dtls_iot_profile(psk=PSK, backend=backend)
    port = _free_port()
    server = _wolf_server(wolf, wolfssl.run_dir(tmp_path, wolf), port, "PSK-AES128-CCM-8", "psk", pki, "--cid", "gw-7")
    try:
        wait_udp_listener(port, server)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            conn = DTLSClientConnection(profile.config, SERVER_NAME, dtls=profile.dtls,  # type: ignore[arg-type]
                                        now=time.monotonic())
            events = drive(conn, sock, (LOOPBACK, port), has(HandshakeComplete))
            conn.send(wolfssl.CLIENT_MESSAGE)
            events += drive(conn, sock, (LOOPBACK, port), lambda ev: wolfssl.SERVER_MESSAGE in data_of(ev))
            conn.close()
            for d in conn.datagrams_to_send():
                sock.sendto(d, (LOOPBACK, port))
        out, _ = server.communicate(timeout=TIMEOUT)
        assert server.returncode == 0, out
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    info = info_of(events)
    assert info.version == "DTLSv1.2" and info.cipher_suite == S.TLS_PSK_WITH_AES_128_CCM_8
    assert info.psk_identity == PSK_IDENTITY
    assert len(conn.own_connection_id) == 4 and conn.peer_connection_id == b"gw-7"
