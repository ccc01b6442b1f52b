"""DTLS 1.3 handshakes between ferrotls and wolfSSL, both directions, with data.

wolfSSL's example client and server (``tools/wolfssl_peer.sh``, built once into a
cache) are the peer: the reference DTLS 1.3 implementation, written by others.
ferrotls runs its sans-I/O DTLSClientConnection / DTLSServerConnection over a real
UDP socket on 127.0.0.1 (:func:`drive`, real time as the connection's clock).  Each
session carries application data both ways: wolfSSL's client sends
``hello wolfssl!`` and its server answers ``I hear you fa shizzle!``.

Certificates (ECDSA P-256 from the interop test CA, which each side verifies) and
external PSKs (the examples' built-in identity ``Client_identity`` and key), with
AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, AES-128-CCM and CCM_8; a
HelloRetryRequest (wolfSSL's client offers no key share, ``-J``); a
KeyUpdate (``-I``: wolfSSL updates its keys before sending data).  wolfSSL
also answers our first ClientHello with a stateless HelloRetryRequest (a
cookie), which our client follows.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ferrotls.config import ClientConfig, ServerConfig
from ferrotls.dtls import DTLSClientConnection, DTLSConfig, DTLSServerConnection
from ferrotls.events import ConnectionClosed, HandshakeComplete, KeyUpdated
from ferrotls.psk import ExternalPsk

from . import wolfssl
from .dtls_helpers import TIMEOUT, data_of, drive, free_udp_port, has
from .peers import LOOPBACK, PKI, SERVER_NAME

pytestmark = pytest.mark.interop

PSK_IDENTITY = b"Client_identity"


def wolfssl_tls13_psk() -> bytes:
    """The 32-byte key of wolfSSL's example TLS 1.3 PSK callbacks (wolfssl/test.h)."""
    out, b = bytearray(), 0x01
    for _ in range(32):
        if b >= 0x100:
            b = 0x01
        out.append(b)
        b += 0x22
    return bytes(out)


SUITES = {
    "TLS13-AES128-GCM-SHA256": 0x1301,
    "TLS13-AES256-GCM-SHA384": 0x1302,
    "TLS13-CHACHA20-POLY1305-SHA256": 0x1303,
    "TLS13-AES128-CCM-SHA256": 0x1304,
    "TLS13-AES128-CCM-8-SHA256": 0x1305,
}


def _wolf_server(wolf: Path, workdir: Path, port: int, suite: str, pki: PKI | None, extra: list[str]) -> subprocess.Popen[str]:
    args = [str(wolf / "examples" / "server" / "server"), "-u", "-v", "4", "-l", suite, "-p", str(port), "-d"]
    if pki is None:
        args.append("-s")
    else:
        args += ["-c", str(pki.server_p256.cert_pem), "-k", str(pki.server_p256.key_pem)]
    return subprocess.Popen([*args, *extra], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_udp_listener(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = subprocess.run(["ss", "-uln"], capture_output=True, text=True).stdout
        if f":{port} " in out:
            return
        if proc.poll() is not None:
            raise AssertionError(f"wolfSSL server exited: {proc.communicate()[0]}")
        time.sleep(0.05)
    raise AssertionError("wolfSSL server did not start listening")


# --------------------------------------------------------------------------- ferrotls client


@pytest.mark.parametrize(("auth", "suite"), [("psk", s) for s in SUITES] + [
    ("cert", "TLS13-AES128-GCM-SHA256"), ("cert", "TLS13-AES128-CCM-8-SHA256")])
def test_ferrotls_client_wolfssl_server(wolf: Path, pki: PKI, tmp_path: Path, backend: Any, suite: str, auth: str) -> None:
    port = free_udp_port()
    workdir = wolfssl.run_dir(tmp_path, wolf)
    server = _wolf_server(wolf, workdir, port, suite, pki if auth == "cert" else None, [])
    try:
        _wait_udp_listener(port, server)
        kw: dict[str, Any] = {"cipher_suites": (SUITES[suite],), "backend": backend}
        if auth == "psk":
            kw["external_psks"] = (ExternalPsk(PSK_IDENTITY, wolfssl_tls13_psk(), "sha384" if "384" in suite else "sha256"),)
            kw["verifier"] = pki.verifier()
        else:
            kw["verifier"] = pki.verifier()
        config = ClientConfig(**kw)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            conn = DTLSClientConnection(config, SERVER_NAME, now=time.monotonic())
            events = drive(conn, sock, (LOOPBACK, port), has(HandshakeComplete))
            info = next(e for e in events if isinstance(e, HandshakeComplete))
            assert info.version == "DTLSv1.3"
            assert info.cipher_suite == SUITES[suite]
            assert (info.psk_identity == PSK_IDENTITY) == (auth == "psk")
            conn.send(wolfssl.CLIENT_MESSAGE)
            events += drive(conn, sock, (LOOPBACK, port), lambda ev: wolfssl.SERVER_MESSAGE in data_of(ev))
            conn.close()
            for d in conn.datagrams_to_send():
                sock.sendto(d, (LOOPBACK, port))
        out, _ = server.communicate(timeout=TIMEOUT)
        assert server.returncode == 0, out
        assert wolfssl.CLIENT_MESSAGE.decode() in out
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


# --------------------------------------------------------------------------- ferrotls server


class _FerroServer:
    """A DTLSServerConnection on 127.0.0.1 in a thread, echoing wolfSSL's greeting
    with its server's answer."""

    def __init__(self, config: ServerConfig, dtls: DTLSConfig | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.port = self.sock.getsockname()[1]
        self.conn = DTLSServerConnection(config, dtls=dtls, now=time.monotonic())
        self.events: list[Any] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            conn = self.conn
            peer: list[tuple[str, int]] = []
            deadline = time.monotonic() + TIMEOUT
            answered = False
            while time.monotonic() < deadline:
                if peer:
                    for d in conn.datagrams_to_send():
                        self.sock.sendto(d, peer[0])
                if any(isinstance(e, ConnectionClosed) for e in self.events):
                    break
                timer = conn.next_timeout()
                now = time.monotonic()
                self.sock.settimeout(max(0.001, 0.2 if timer is None else min(0.2, timer - now)))
                try:
                    data, addr = self.sock.recvfrom(65536)
                except TimeoutError:
                    conn.handle_timeout(time.monotonic())
                    continue
                if not peer:
                    peer.append(addr)
                conn.receive_datagram(data, time.monotonic())
                new = conn.events()
                self.events += new
                if not answered and wolfssl.CLIENT_MESSAGE in data_of(self.events):
                    conn.send(wolfssl.SERVER_MESSAGE)
                    answered = True
            if peer:
                for d in conn.datagrams_to_send():
                    self.sock.sendto(d, peer[0])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            self.error = exc

    def __enter__(self) -> _FerroServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(TIMEOUT + 5)
        self.sock.close()


def _wolf_client(wolf: Path, workdir: Path, port: int, suite: str, pki: PKI | None, extra: list[str]) -> subprocess.CompletedProcess[str]:
    args = [str(wolf / "examples" / "client" / "client"), "-u", "-v", "4", "-l", suite, "-h", LOOPBACK,
            "-p", str(port), "-x"]
    if pki is None:
        args.append("-s")
    else:
        args += ["-A", str(pki.ca_pem)]
    return subprocess.run([*args, *extra], cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT + 10)


@pytest.mark.parametrize(("auth", "suite"), [("psk", s) for s in SUITES] + [
    ("cert", "TLS13-AES128-GCM-SHA256"), ("cert", "TLS13-CHACHA20-POLY1305-SHA256")])
def test_wolfssl_client_ferrotls_server(wolf: Path, pki: PKI, tmp_path: Path, backend: Any, suite: str, auth: str) -> None:
    kw: dict[str, Any] = {"backend": backend, "cipher_suites": (SUITES[suite],), "ticket_count": 1}
    if auth == "psk":
        key = wolfssl_tls13_psk()
        hash_name = "sha384" if "384" in suite else "sha256"
        # wolfSSL's client names the suite's hash after the identity: Client_identitySHA256
        kw["psk_callback"] = lambda identity: (
            ExternalPsk(identity, key, hash_name) if identity.startswith(PSK_IDENTITY) else None
        )
    else:
        kw["certificates"] = (pki.server_p256.certified,)
    with _FerroServer(ServerConfig(**kw)) as server:
        proc = _wolf_client(wolf, wolfssl.run_dir(tmp_path, wolf), server.port, suite, pki if auth == "cert" else None, [])
    assert server.error is None, server.error
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert wolfssl.SERVER_MESSAGE.decode() in proc.stdout
    info = next(e for e in server.events if isinstance(e, HandshakeComplete))
    assert info.version == "DTLSv1.3" and info.cipher_suite == SUITES[suite]
    assert wolfssl.CLIENT_MESSAGE in data_of(server.events)


def test_wolfssl_client_hello_retry(wolf: Path, pki: PKI, tmp_path: Path, backend: Any) -> None:
    """-J: wolfSSL's ClientHello carries no key share, so our server sends a
    HelloRetryRequest for its group."""
    config = ServerConfig(backend=backend, certificates=(pki.server_p256.certified,), ticket_count=0)
    with _FerroServer(config) as server:
        proc = _wolf_client(wolf, wolfssl.run_dir(tmp_path, wolf), server.port, "TLS13-AES128-GCM-SHA256", pki, ["-J"])
    assert server.error is None, server.error
    assert proc.returncode == 0, proc.stdout + proc.stderr
    info = next(e for e in server.events if isinstance(e, HandshakeComplete))
    assert info.stats is not None and info.stats.hello_retry
    assert wolfssl.CLIENT_MESSAGE in data_of(server.events)


def test_wolfssl_client_key_update(wolf: Path, pki: PKI, tmp_path: Path, backend: Any) -> None:
    """-I: wolfSSL sends a KeyUpdate before its data; ours ACKs it and reads the data
    in the next epoch."""
    config = ServerConfig(backend=backend, certificates=(pki.server_p256.certified,), ticket_count=0)
    with _FerroServer(config) as server:
        proc = _wolf_client(wolf, wolfssl.run_dir(tmp_path, wolf), server.port, "TLS13-AES128-GCM-SHA256", pki, ["-I"])
    assert server.error is None, server.error
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert any(isinstance(e, KeyUpdated) for e in server.events)
    assert wolfssl.CLIENT_MESSAGE in data_of(server.events)


# --------------------------------------------------------------------------- connection IDs


def test_ferrotls_client_connection_ids(wolf: Path, pki: PKI, tmp_path: Path, backend: Any) -> None:
    port = free_udp_port()
    server = _wolf_server(wolf, wolfssl.run_dir(tmp_path, wolf), port, "TLS13-AES128-GCM-SHA256", pki, ["--cid", "wolf-srv"])
    try:
        _wait_udp_listener(port, server)
        config = ClientConfig(backend=backend, verifier=pki.verifier())
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            conn = DTLSClientConnection(config, SERVER_NAME, dtls=DTLSConfig(connection_id=b"ferro"), now=time.monotonic())
            drive(conn, sock, (LOOPBACK, port), has(HandshakeComplete))
            assert conn.own_connection_id == b"ferro" and conn.peer_connection_id == b"wolf-srv"
            conn.send(wolfssl.CLIENT_MESSAGE)
            drive(conn, sock, (LOOPBACK, port), lambda ev: wolfssl.SERVER_MESSAGE in data_of(ev))
        out, _ = server.communicate(timeout=TIMEOUT)
        assert server.returncode == 0, out
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_wolfssl_client_connection_ids(wolf: Path, pki: PKI, tmp_path: Path, backend: Any) -> None:
    config = ServerConfig(backend=backend, certificates=(pki.server_p256.certified,), ticket_count=1)
    with _FerroServer(config, DTLSConfig(connection_id=b"ferro-srv")) as server:
        proc = _wolf_client(wolf, wolfssl.run_dir(tmp_path, wolf), server.port, "TLS13-AES128-GCM-SHA256", pki,
                            ["--cid", "wolfcli"])
    assert server.error is None, server.error
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.conn.own_connection_id == b"ferro-srv" and server.conn.peer_connection_id == b"wolfcli"
    assert wolfssl.CLIENT_MESSAGE in data_of(server.events)


# --------------------------------------------------------------------------- the asyncio endpoint


@pytest.mark.parametrize("cid", [False, True])
def test_wolfssl_client_asyncio_endpoint(wolf: Path, pki: PKI, tmp_path: Path, backend: Any, cid: bool) -> None:
    """wolfSSL's client against create_dtls_endpoint: our stateless cookie first,
    then the handshake on a fresh connection, data both ways (and wolfSSL's CID)."""
    import asyncio

    from ferrotls.asyncio import DTLSServerEndpoint, DTLSSession, create_dtls_endpoint

    result: dict[str, Any] = {}
    started = threading.Event()

    async def serve() -> None:
        config = ServerConfig(backend=backend, certificates=(pki.server_p256.certified,), ticket_count=1)
        endpoint = await create_dtls_endpoint(config, local_addr=(LOOPBACK, 0))
        assert isinstance(endpoint, DTLSServerEndpoint)
        result["port"] = endpoint.local_address()[1]
        started.set()
        session: DTLSSession = await asyncio.wait_for(endpoint.accept(), TIMEOUT)
        data = await asyncio.wait_for(session.recv(), TIMEOUT)
        result["data"] = data
        session.send(wolfssl.SERVER_MESSAGE)
        result["cids"] = (session.conn.own_connection_id, session.conn.peer_connection_id)
        result["answered"] = endpoint.gate.answered if endpoint.gate is not None else 0
        await asyncio.wait_for(session.recv(), TIMEOUT)  # the close_notify
        endpoint.close()

    thread = threading.Thread(target=lambda: result.setdefault("error", _catch(lambda: asyncio.run(serve()))))
    thread.start()
    assert started.wait(10)
    extra = ["--cid", "wolfcid"] if cid else []
    proc = _wolf_client(wolf, wolfssl.run_dir(tmp_path, wolf), result["port"], "TLS13-AES128-GCM-SHA256", pki, extra)
    thread.join(TIMEOUT + 5)
    assert result.get("error") is None, result["error"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert wolfssl.SERVER_MESSAGE.decode() in proc.stdout
    assert result["data"] == wolfssl.CLIENT_MESSAGE
    assert result["answered"] == 1
    own, peer = result["cids"]
    assert (len(own), peer) == ((8, b"wolfcid") if cid else (0, b""))


def _catch(fn: Callable[[], None]) -> BaseException | None:
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        return exc
    return None
