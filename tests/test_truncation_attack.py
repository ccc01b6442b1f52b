"""The truncation attack of issue #11, end to end over real sockets on 127.0.0.1.

An on-path relay with no keys forwards the first part of a TLS 1.3 stream, then
appends the 7 bytes of a *plaintext* close_notify (``15 03 03 00 02 01 00``) and
closes TCP.  Before the fix ferrotls took that as a clean end of stream.  Now the
victim raises UnexpectedMessage (and answers with unexpected_message), through
every layer: the sans-I/O core over a socket, ``Context.wrap_socket`` and
``ferrotls.asyncio``, as a client and as a server.  The honest peer is the
stdlib ``ssl`` module (OpenSSL).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ferrotls
import ferrotls.asyncio as ferro_asyncio
import pytest
from certs import TestCA
from ferrotls.errors import TLSError, UnexpectedMessage

pytestmark = pytest.mark.interop

LOOPBACK = "127.0.0.1"
TIMEOUT = 10.0
INJECTED = b"\x15\x03\x03\x00\x02\x01\x00"
FIRST = b"first half of the response;" * 100
SECOND = b"the rest, which the attacker suppresses" * 100


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("truncation-pki")
    ca = TestCA("ferrotls truncation CA", key_index=21)
    leaf = ca.issue("localhost", "127.0.0.1", key_kind="p256", key_index=22)
    paths = {"ca": tmp / "ca.pem", "cert": tmp / "cert.pem", "key": tmp / "key.pem"}
    paths["ca"].write_bytes(ca.pem())
    paths["cert"].write_bytes(leaf.chain_pem())
    paths["key"].write_bytes(leaf.key_pem())
    return paths


class Relay:
    """Forwards client <-> upstream; ``inject(direction)`` stops forwarding that
    direction, writes the plaintext close_notify to its receiver and closes both
    sockets of the relay (the attacker's FIN)."""

    def __init__(self, upstream_port: int) -> None:
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.stopped = False
        self.ready = threading.Event()
        self.client: socket.socket | None = None
        self.server: socket.socket | None = None
        self.threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        client, _ = self.listener.accept()
        server = socket.create_connection((LOOPBACK, self.upstream_port), timeout=TIMEOUT)
        self.client, self.server = client, server
        for src, dst in ((client, server), (server, client)):
            t = threading.Thread(target=self._copy, args=(src, dst), daemon=True)
            t.start()
            self.threads.append(t)
        self.ready.set()

    def _copy(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                with self.lock:
                    if self.stopped:
                        return
                    dst.sendall(data)

    def inject(self, to_client: bool) -> None:
        assert self.ready.wait(TIMEOUT)
        assert self.client is not None and self.server is not None
        with self.lock:
            self.stopped = True
            victim, other = (self.client, self.server) if to_client else (self.server, self.client)
            victim.sendall(INJECTED)
            victim.shutdown(socket.SHUT_WR)
            other.close()

    def close(self) -> None:
        for s in (self.client, self.server, self.listener):
            if s is not None:
                with contextlib.suppress(OSError):
                    s.close()


@contextlib.contextmanager
def ssl_server(pki: dict[str, Path], handler: Callable[[ssl.SSLSocket], None]) -> Iterator[int]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(pki["cert"], pki["key"])
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(TIMEOUT)

    def run() -> None:
        with contextlib.suppress(OSError):
            sock, _ = listener.accept()
            with ctx.wrap_socket(sock, server_side=True) as tls:
                tls.settimeout(TIMEOUT)
                handler(tls)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(TIMEOUT)
        listener.close()


def _serve_first_half(go: threading.Event) -> Callable[[ssl.SSLSocket], None]:
    def handler(tls: ssl.SSLSocket) -> None:
        tls.recv(100)  # the request
        tls.sendall(FIRST)
        go.wait(TIMEOUT)
        with contextlib.suppress(OSError):
            tls.sendall(SECOND)

    return handler


def _read_exactly(recv: Callable[[int], bytes], n: int) -> bytes:
    got = b""
    while len(got) < n:
        chunk = recv(65536)
        assert chunk, "clean EOF before the first half arrived"
        got += chunk
    return got


def test_client_sans_io_over_a_socket(pki: dict[str, Path]) -> None:
    go = threading.Event()
    with ssl_server(pki, _serve_first_half(go)) as port:
        relay = Relay(port)
        try:
            config = ferrotls.create_client_config(cafile=str(pki["ca"]))
            conn = ferrotls.ClientConnection(config, server_hostname="localhost")
            sock = socket.create_connection((LOOPBACK, relay.port), timeout=TIMEOUT)
            sock.sendall(conn.data_to_send())
            received = b""
            with pytest.raises(UnexpectedMessage):
                while True:
                    data = sock.recv(65536)
                    conn.receive_data(data)
                    sock.sendall(conn.data_to_send())
                    for event in conn.events():
                        if isinstance(event, ferrotls.HandshakeComplete):
                            conn.send(b"GET\n")
                            sock.sendall(conn.data_to_send())
                        elif isinstance(event, ferrotls.ApplicationData):
                            received += event.data
                            if received == FIRST:
                                relay.inject(to_client=True)
                        assert not isinstance(event, ferrotls.ConnectionClosed)
            assert received == FIRST
            assert not conn.peer_closed
            alert = conn.data_to_send()  # the unexpected_message alert, encrypted
            assert alert[:1] == b"\x17" and len(alert) == 5 + 2 + 1 + 16
            sock.close()
        finally:
            go.set()
            relay.close()


@pytest.mark.parametrize("suppress_ragged_eofs", [False, True])
def test_client_wrap_socket(pki: dict[str, Path], suppress_ragged_eofs: bool) -> None:
    """Even with suppress_ragged_eofs (which turns a bare TCP close into b""), the
    injected plaintext alert is an error, never a clean end of stream."""
    go = threading.Event()
    with ssl_server(pki, _serve_first_half(go)) as port:
        relay = Relay(port)
        try:
            ctx = ferrotls.create_default_context(cafile=str(pki["ca"]))
            sock = socket.create_connection((LOOPBACK, relay.port), timeout=TIMEOUT)
            tls = ctx.wrap_socket(sock, server_hostname="localhost", suppress_ragged_eofs=suppress_ragged_eofs)
            tls.sendall(b"GET\n")
            assert _read_exactly(tls.recv, len(FIRST)) == FIRST
            relay.inject(to_client=True)
            with pytest.raises(UnexpectedMessage):
                tls.recv(65536)
            with pytest.raises(TLSError):
                tls.recv(65536)  # it stays failed
            tls.close()
        finally:
            go.set()
            relay.close()


def test_client_asyncio(pki: dict[str, Path]) -> None:
    go = threading.Event()

    async def main(port: int, relay: Relay) -> None:
        ctx = ferrotls.create_default_context(cafile=str(pki["ca"]))
        reader, writer = await ferro_asyncio.open_connection(
            LOOPBACK, port, context=ctx, server_hostname="localhost"
        )
        writer.write(b"GET\n")
        got = await asyncio.wait_for(reader.readexactly(len(FIRST)), TIMEOUT)
        assert got == FIRST
        await asyncio.get_running_loop().run_in_executor(None, relay.inject, True)
        with pytest.raises(UnexpectedMessage):
            data = await asyncio.wait_for(reader.read(65536), TIMEOUT)
            assert data, "the injected close_notify was taken as a clean EOF"
            pytest.fail(f"unexpected data {data[:40]!r}")
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()

    with ssl_server(pki, _serve_first_half(go)) as port:
        relay = Relay(port)
        try:
            asyncio.run(main(relay.port, relay))
        finally:
            go.set()
            relay.close()


def test_server_wrap_socket(pki: dict[str, Path]) -> None:
    """The other direction: an ssl-module client uploads through the relay, which
    cuts the upload with a plaintext close_notify; the ferrotls server must not
    take the truncated upload as complete."""
    sctx = ferrotls.create_default_context(ferrotls.Purpose.CLIENT_AUTH)
    sctx.load_cert_chain(pki["cert"], pki["key"])
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(TIMEOUT)
    outcome: dict[str, Any] = {}
    got_first = threading.Event()

    def serve() -> None:
        sock, _ = listener.accept()
        with sctx.wrap_socket(sock, server_side=True) as tls:
            received = b""
            try:
                while True:
                    data = tls.recv(65536)
                    if not data:
                        outcome["clean_eof"] = received
                        return
                    received += data
                    if len(received) >= len(FIRST):
                        got_first.set()
            except TLSError as exc:
                outcome["error"] = exc
                outcome["received"] = received

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    relay = Relay(listener.getsockname()[1])
    try:
        cctx = ssl.create_default_context(cafile=str(pki["ca"]))
        with socket.create_connection((LOOPBACK, relay.port), timeout=TIMEOUT) as raw:
            with cctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(FIRST)
                assert got_first.wait(TIMEOUT)
                relay.inject(to_client=False)
                thread.join(TIMEOUT)
    finally:
        relay.close()
        listener.close()
    assert not thread.is_alive()
    assert "clean_eof" not in outcome, "the truncated upload looked complete"
    assert isinstance(outcome.get("error"), UnexpectedMessage)
    assert outcome["received"] == FIRST
