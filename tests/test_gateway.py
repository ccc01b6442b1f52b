"""``ferrotls gateway`` end to end, as a real subprocess, on 127.0.0.1.

The backend is a plaintext asyncio echo server in a thread of the test process;
it aborts (RST) any connection whose data contains ``KILL`` -- the backend
going away under one client.  Clients are Python ``ssl`` sockets in threads
with ``suppress_ragged_eofs=False``, so a clean close (close_notify) and a
truncated one are told apart.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from test_cli import LOOPBACK, TIMEOUT, Files, Proc, ferrotls_server

KILL = b"\x00KILL\x00"


class EchoBackend:
    """A plaintext asyncio echo server on 127.0.0.1:0 in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.connections = 0
        self.closed = 0
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            tail = b""
            try:
                while data := await reader.read(65536):
                    if KILL in tail + data:  # go away with a RST
                        sock = writer.get_extra_info("socket")
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        writer.transport.abort()
                        return
                    tail = data[-len(KILL):]
                    writer.write(data)
                    await writer.drain()
                writer.close()
            except OSError:
                writer.transport.abort()
            finally:
                self.closed += 1

        async def start() -> None:
            self._server = await asyncio.start_server(handle, LOOPBACK, 0)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def stop(self) -> None:
        def shut() -> None:
            if self._server is not None:
                self._server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(shut)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


@pytest.fixture
def backend() -> Iterator[EchoBackend]:
    b = EchoBackend()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("gateway-pki"))


def client_ctx(files: Files, cert: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=files.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if cert:
        ctx.load_cert_chain(files.client_cert, files.client_key)
    return ctx


def tls_connect(ctx: ssl.SSLContext, port: int) -> ssl.SSLSocket:
    raw = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)


def read_until_closed(tls: ssl.SSLSocket) -> bytes:
    """Everything until the peer's close_notify (SSLEOFError if it never comes)."""
    data = bytearray()
    while chunk := tls.recv(65536):
        data += chunk
    return bytes(data)


def round_trip(ctx: ssl.SSLContext, port: int, size: int, seed: int) -> None:
    """Send ``size`` random bytes in uneven pieces; every byte must come back in order."""
    payload = os.urandom(size)
    with tls_connect(ctx, port) as tls:
        got = bytearray()
        pos = 0
        step = 1000 + seed * 37
        while pos < size:
            tls.sendall(payload[pos : pos + step])
            pos += step
            while len(got) < min(pos, size) - 4 * step:  # keep at most a few pieces in flight
                got += tls.recv(65536)
        while len(got) < size:
            chunk = tls.recv(65536)
            assert chunk, f"client {seed}: EOF after {len(got)} of {size} bytes"
            got += chunk
        assert bytes(got) == payload, f"client {seed}: data differs"
        tls.unwrap()


def run_threads(targets: list[threading.Thread], timeout: float = 60) -> None:
    for t in targets:
        t.start()
    deadline = time.monotonic() + timeout
    for t in targets:
        t.join(max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in targets), "client threads did not finish in time"


def gateway(files: Files, backend_port: int, *extra: str) -> AbstractContextManager[tuple[Proc, int]]:
    return ferrotls_server(
        "gateway", "--accept", f"{LOOPBACK}:0", "--connect", f"{LOOPBACK}:{backend_port}",
        "--cert", files.ec_cert, "--key", files.ec_key, *extra)


def test_many_clients_and_a_backend_going_away(files: Files, backend: EchoBackend) -> None:
    """60 concurrent clients with random data; one has its backend connection reset
    mid-stream and sees a clean close; the others are unaffected."""
    with gateway(files, backend.port, "--ca", files.ca, "--verify-client", "optional") as (gw, port):
        errors: list[BaseException] = []
        killed: list[bytes] = []

        def worker(i: int) -> None:
            try:
                round_trip(client_ctx(files, cert=(i % 10 == 0)), port, 64 * 1024 + i * 101, i)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def victim() -> None:
            try:
                with tls_connect(client_ctx(files), port) as tls:
                    tls.sendall(b"before" * 1000)
                    got = b""
                    while len(got) < 6000:
                        got += tls.recv(65536)
                    tls.sendall(KILL)
                    killed.append(read_until_closed(tls))  # raises SSLEOFError on a ragged close
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(60)]
        threads.insert(30, threading.Thread(target=victim))
        run_threads(threads)
        assert not errors, errors[:3]
        assert killed == [b""]
        gw.wait_for(re.compile(rb"close=backend error: ConnectionResetError"), stream="err")
        gw.wait_for(re.compile(rb"identity=CN=cli test client.* up=\d+"), stream="err")
        deadline = time.monotonic() + TIMEOUT
        while True:  # the last log lines may lag the clients a little
            lines = [ln for ln in gw.err.decode().splitlines() if "identity=" in ln]
            if len(lines) >= 61 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(lines) == 61
        assert all(re.search(r"up=\d+ down=\d+ duration=[\d.]+s close=", ln) for ln in lines)


def test_backend_down_gives_a_clean_close(files: Files) -> None:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        dead = s.getsockname()[1]
    with gateway(files, dead) as (gw, port):
        for _ in range(3):
            with tls_connect(client_ctx(files), port) as tls:
                assert read_until_closed(tls) == b""  # close_notify, not a ragged EOF
        gw.wait_for(b"backend unreachable", stream="err")


def test_client_reset_and_stalled_handshake(files: Files, backend: EchoBackend) -> None:
    with gateway(files, backend.port, "--handshake-timeout", "1") as (gw, port):
        # a client that connects and never sends a ClientHello
        stalled = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
        # a client that sends half a ClientHello
        half = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
        half.sendall(bytes.fromhex("160301020001"))
        # a client resetting mid-stream
        tls = tls_connect(client_ctx(files), port)
        tls.sendall(b"x" * 50_000)
        tls.recv(1000)
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        tls.close()  # RST
        start = time.monotonic()
        # others are unaffected meanwhile
        round_trip(client_ctx(files), port, 200_000, 1)
        for sock in (stalled, half):
            with sock:
                try:
                    assert sock.recv(100) == b""  # dropped (FIN), or
                except ConnectionResetError:
                    pass  # dropped (RST)
        assert time.monotonic() - start < 8
        gw.wait_for(b"handshake timed out", stream="err")
        gw.wait_for(re.compile(rb"close=[^\n]*client error: ConnectionResetError"), stream="err")
        round_trip(client_ctx(files), port, 10_000, 2)


def test_client_mode_to_ferrotls_server(tmp_path: Path) -> None:
    """Plaintext in -> TLS out to ``ferrotls server --echo``."""
    ca = tmp_path / "ca.pem"
    with ferrotls_server("--echo", "--write-ca", str(ca)) as (_, upstream):
        with ferrotls_server("gateway", "--client", "--accept", f"{LOOPBACK}:0",
                             "--connect", f"{LOOPBACK}:{upstream}", "--ca", str(ca),
                             "--servername", "localhost") as (gw, port):
            payloads = [os.urandom(30_000 + i) for i in range(5)]
            for payload in payloads:
                with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as s:
                    s.sendall(payload)
                    s.shutdown(socket.SHUT_WR)
                    got = bytearray()
                    while chunk := s.recv(65536):
                        got += chunk
                    assert bytes(got) == payload
            gw.wait_for(re.compile(rb"identity=CN=localhost up=30000 down=30000"), stream="err")
        # an untrusted upstream: the plaintext client is closed, the reason logged
        with ferrotls_server("gateway", "--client", "--accept", f"{LOOPBACK}:0",
                             "--connect", f"{LOOPBACK}:{upstream}") as (gw, port):
            with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as s:
                assert s.recv(100) == b""
            gw.wait_for(b"upstream failed: UnknownCA", stream="err")


@pytest.mark.interop
def test_client_mode_to_openssl_s_server(files: Files) -> None:
    from test_cli import need, running

    with running([need("openssl"), "s_server", "-tls1_3", "-accept", f"{LOOPBACK}:0",
                  "-cert", files.ec_cert, "-key", files.ec_key, "-www"], stdin_pipe=True) as srv:
        upstream = int(srv.wait_for(re.compile(rb"ACCEPT 127\.0\.0\.1:(\d+)")).group(1))
        with ferrotls_server("gateway", "--client", "--accept", f"{LOOPBACK}:0",
                             "--connect", f"{LOOPBACK}:{upstream}", "--ca", files.ca,
                             "--servername", "localhost") as (_, port):
            with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                got = bytearray()
                while chunk := s.recv(65536):
                    got += chunk
            assert got.startswith(b"HTTP/1.0 200 ok") and b"TLSv1.3" in got
