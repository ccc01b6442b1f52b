"""TLSSocket (wrap_socket) as an ssl.SSLSocket: unconnected and listening sockets,
sessions, RFC 9266 channel binding, non-blocking mode, sendfile -- against OpenSSL."""

from __future__ import annotations

import asyncio
import io
import re
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ferrotls
import pytest
from eco_support import LOOPBACK, PKI, TIMEOUT, ferro_client, ferro_server, openssl_client, openssl_server


@contextmanager
def echo_server(ctx: ssl.SSLContext, *, connections: int = 1,
                handler: Callable[[Any], None] | None = None) -> Iterator[int]:
    """Accept ``connections`` TLS connections on a *wrapped listening socket* and echo."""
    listener = ctx.wrap_socket(socket.create_server((LOOPBACK, 0)), server_side=True)
    listener.settimeout(TIMEOUT)
    errors: list[BaseException] = []

    def echo(tls: Any) -> None:
        while data := tls.recv(65536):
            tls.sendall(data)

    def run() -> None:
        for _ in range(connections):
            try:
                tls, _ = listener.accept()
                with tls:
                    tls.settimeout(TIMEOUT)
                    (handler or echo)(tls)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(TIMEOUT)
        listener.close()
    assert not errors, errors


def test_is_an_sslsocket(pki: PKI) -> None:
    with echo_server(openssl_server(pki.server_pem)) as port:
        with ferro_client(pki).wrap_socket(socket.create_connection((LOOPBACK, port)), server_hostname=LOOPBACK) as tls:
            assert isinstance(tls, ssl.SSLSocket) and isinstance(tls, socket.socket)
            assert isinstance(tls, ferrotls.TLSSocket)
            tls.sendall(b"abc")
            assert tls.recv(10) == b"abc"


def test_ferrotls_listening_socket_accepts_tls(pki: PKI) -> None:
    """ctx.wrap_socket(listener, server_side=True); accept() returns TLS sockets (ssl client)."""
    with echo_server(ferro_server(pki), connections=2) as port:
        for _ in range(2):
            with openssl_client(pki).wrap_socket(socket.create_connection((LOOPBACK, port)),
                                                 server_hostname="localhost") as tls:
                tls.sendall(b"x" * 100_000)
                got = b""
                while len(got) < 100_000:
                    got += tls.recv(65536)
                assert got == b"x" * 100_000


def test_unconnected_socket_connects_then_handshakes(pki: PKI) -> None:
    """The other ssl recipe: wrap first, connect() later."""
    with echo_server(openssl_server(pki.server_pem)) as port:
        with ferro_client(pki).wrap_socket(socket.socket(), server_hostname=LOOPBACK) as tls:
            with pytest.raises(ValueError):
                tls.getpeercert()
            tls.settimeout(TIMEOUT)
            tls.connect((LOOPBACK, port))
            assert tls.version() == "TLSv1.3" and tls.getpeercert()["subjectAltName"]
            tls.sendall(b"hi")
            assert tls.recv(2) == b"hi"
            with pytest.raises(ValueError):
                tls.connect((LOOPBACK, port))


@pytest.mark.parametrize("ferro_is", ["client", "server"])
def test_session_resumption_against_openssl(ferro_is: str, pki: PKI) -> None:
    """session / session= / session_reused, with OpenSSL on the other end."""
    client: Any = ferro_client(pki) if ferro_is == "client" else openssl_client(pki)
    server: Any = ferro_server(pki) if ferro_is == "server" else openssl_server(pki.server_pem)
    with echo_server(server, connections=2) as port:
        with client.wrap_socket(socket.create_connection((LOOPBACK, port)), server_hostname="localhost") as tls:
            tls.sendall(b"1")
            assert tls.recv(1) == b"1"  # NewSessionTickets arrive with the data
            session = tls.session
            assert session is not None and not tls.session_reused
        with client.wrap_socket(socket.create_connection((LOOPBACK, port)), server_hostname="localhost",
                                session=session) as tls:
            tls.sendall(b"2")
            assert tls.recv(1) == b"2"
            assert tls.session_reused


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_channel_binding_matches_openssl_exporter(pki: PKI) -> None:
    """RFC 9266 tls-exporter: ferrotls's server binding equals what `openssl s_client
    -keymatexport EXPORTER-Channel-Binding -keymatexportlen 32` prints."""
    bindings: list[bytes | None] = []

    def handler(tls: Any) -> None:
        bindings.append(tls.get_channel_binding("tls-exporter"))
        tls.sendall(b"done\n")

    with echo_server(ferro_server(pki), handler=handler) as port:
        out = subprocess.run(
            ["openssl", "s_client", "-connect", f"{LOOPBACK}:{port}", "-CAfile", str(pki.ca_pem),
             "-tls1_3", "-keymatexport", "EXPORTER-Channel-Binding", "-keymatexportlen", "32",
             "-servername", "localhost"],
            input=b"", capture_output=True, timeout=TIMEOUT, check=False,
        ).stdout.decode()
    match = re.search(r"Keying material: ([0-9A-F]+)", out)
    assert match, out
    assert bindings == [bytes.fromhex(match.group(1))]


def test_non_blocking_raises_want_read_and_want_write(pki: PKI) -> None:
    """A select() loop over a non-blocking TLSSocket, as with ssl: SSLWantReadError in the
    handshake and reads, SSLWantWriteError when the peer does not read, retry with the same data."""
    release = threading.Event()
    listener = socket.create_server((LOOPBACK, 0))
    server_ctx = openssl_server(pki.server_pem)
    outcome: list[Any] = []

    def serve() -> None:
        raw, _ = listener.accept()
        time.sleep(0.2)  # the client's first do_handshake() finds nothing to read
        with server_ctx.wrap_socket(raw, server_side=True) as tls:
            tls.settimeout(TIMEOUT)
            release.wait(TIMEOUT)
            total = 0
            while data := tls.recv(1 << 20):
                total += len(data)
            tls.sendall(str(total).encode())
            outcome.append(total)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    raw = socket.create_connection(listener.getsockname())
    raw.setblocking(False)
    tls = ferro_client(pki).wrap_socket(raw, server_hostname=LOOPBACK, do_handshake_on_connect=False)
    deadline = time.monotonic() + TIMEOUT
    wants = []
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            wants.append("read")
            select.select([tls], [], [], 1)
        except ssl.SSLWantWriteError:
            select.select([], [tls], [], 1)
        assert time.monotonic() < deadline
    assert wants and tls.version() == "TLSv1.3"
    with pytest.raises(ssl.SSLWantReadError):
        tls.recv(10)
    chunk = b"z" * 65536
    sent = 0
    blocked = False
    while sent < 64 * 1024 * 1024 and not blocked:
        try:
            sent += tls.send(chunk)
        except ssl.SSLWantWriteError:
            blocked = True
    assert blocked, "the socket buffer never filled"
    release.set()
    while True:  # retry the same data until it is taken
        try:
            assert tls.send(chunk) == len(chunk)
            sent += len(chunk)
            break
        except ssl.SSLWantWriteError:
            select.select([], [tls], [], 1)
        assert time.monotonic() < deadline
    tls.setblocking(True)
    tls.settimeout(TIMEOUT)
    tls.shutdown(socket.SHUT_WR)
    answer = b""
    while data := tls.recv(100):
        answer += data
    tls.close()
    thread.join(TIMEOUT)
    listener.close()
    assert outcome == [sent] and int(answer) == sent


def test_sendfile_goes_through_tls(pki: PKI) -> None:
    with echo_server(openssl_server(pki.server_pem)) as port:
        with ferro_client(pki).wrap_socket(socket.create_connection((LOOPBACK, port)), server_hostname=LOOPBACK) as tls:
            tls.settimeout(TIMEOUT)
            payload = bytes(range(256)) * 300
            assert tls.sendfile(io.BytesIO(payload)) == len(payload)
            got = b""
            while len(got) < len(payload):
                got += tls.recv(65536)
            assert got == payload
            with pytest.raises(ValueError):
                tls.sendto(b"x", (LOOPBACK, port))
            with pytest.raises(NotImplementedError):
                tls.dup()


def _select_recv(tls: Any, n: int) -> bytes:
    """websockets' loop: select() on the socket, then recv(65536) -- no pending() check."""
    got = b""
    while len(got) < n:
        assert select.select([tls], [], [], 3)[0], f"select() saw nothing after {len(got)} of {n} bytes"
        data = tls.recv(65536)
        assert data
        got += data
    return got


def test_select_then_recv_sees_data_sent_with_the_finished(pki: PKI) -> None:
    """The client's first data arrives in the same segment as its Finished: the ferrotls
    server's handshake must leave it in the socket, where select() sees it."""
    seen: list[bytes] = []
    with echo_server(ferro_server(pki), handler=lambda tls: seen.append(_select_recv(tls, 5))) as port:
        raw = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        client = openssl_client(pki).wrap_bio(incoming, outgoing, server_hostname="localhost")
        while True:
            try:
                client.do_handshake()
                break
            except ssl.SSLWantReadError:
                raw.sendall(outgoing.read())
                incoming.write(raw.recv(65536))
        client.write(b"first")
        raw.sendall(outgoing.read())  # Finished and the data record in one write
        deadline = time.monotonic() + TIMEOUT
        while not seen and time.monotonic() < deadline:  # keep the socket open (no FIN to wake select)
            time.sleep(0.01)
        raw.close()
    assert seen == [b"first"]


def test_select_then_recv_through_a_burst(pki: PKI) -> None:
    """100 KB sent at once (it all fits in the socket buffer); recv(65536) after each
    select() gets it all, with no stall on plaintext decrypted ahead."""
    burst = bytes(range(250)) * 400
    done = threading.Event()

    def send_and_wait(tls: Any) -> None:
        tls.sendall(burst)
        done.wait(TIMEOUT)  # no close_notify / FIN to wake select() meanwhile

    with echo_server(openssl_server(pki.server_pem), handler=send_and_wait) as port:
        with ferro_client(pki).wrap_socket(socket.create_connection((LOOPBACK, port)),
                                           server_hostname=LOOPBACK) as tls:
            time.sleep(0.3)  # all of it waits in the socket before the first recv
            try:
                assert _select_recv(tls, len(burst)) == burst
            finally:
                done.set()


PAYLOAD = bytes(range(256)) * 4096 * 8  # 8 MiB


def _threaded_echo(tls: Any) -> None:
    """Echo with a reader thread (this one) and a writer thread on the same TLSSocket."""
    chunks: list[bytes] = []
    cond = threading.Condition()

    def writer() -> None:
        while True:
            with cond:
                cond.wait_for(lambda: chunks)
                data = chunks.pop(0)
            if not data:
                return
            tls.sendall(data)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    while True:
        data = tls.recv(65536)
        with cond:
            chunks.append(data)
            cond.notify()
        if not data:
            break
    t.join(TIMEOUT)


async def _asyncio_peer(port: int | None, pki: PKI, ready: list[Any]) -> bytes:
    """The OpenSSL end, on one asyncio thread (an ssl.SSLSocket shared by two threads is
    not safe in OpenSSL): an echo server (port None) or a client sending PAYLOAD while
    it reads the echo back."""
    if port is None:
        finished = asyncio.Event()

        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
                writer.close()
            finally:
                finished.set()

        server = await asyncio.start_server(echo, LOOPBACK, 0, ssl=openssl_server(pki.server_pem))
        ready.append(server.sockets[0].getsockname()[1])
        async with server:
            await asyncio.wait_for(finished.wait(), TIMEOUT)
        return b""
    reader, writer = await asyncio.open_connection(LOOPBACK, port, ssl=openssl_client(pki),
                                                   server_hostname="localhost")

    async def send() -> None:
        for i in range(0, len(PAYLOAD), 40_000):
            writer.write(PAYLOAD[i : i + 40_000])
            await writer.drain()
        writer.write_eof() if writer.can_write_eof() else None

    task = asyncio.ensure_future(send())
    got = await reader.readexactly(len(PAYLOAD))
    await task
    writer.close()
    return got


@pytest.mark.parametrize("ferro_is", ["client", "server"])
def test_one_thread_reads_while_another_writes(ferro_is: str, pki: PKI) -> None:
    """websockets' sync implementation reads in one thread and writes in another on the
    same socket; the records must still leave in order (the echo comes back intact)."""
    if ferro_is == "server":
        with echo_server(ferro_server(pki), handler=_threaded_echo) as port:
            got = asyncio.run(asyncio.wait_for(_asyncio_peer(port, pki, []), TIMEOUT))
        assert got == PAYLOAD
        return
    ready: list[Any] = []
    peer = threading.Thread(target=lambda: asyncio.run(_asyncio_peer(None, pki, ready)), daemon=True)
    peer.start()
    deadline = time.monotonic() + TIMEOUT
    while not ready:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with ferro_client(pki).wrap_socket(socket.create_connection((LOOPBACK, ready[0])),
                                       server_hostname="localhost") as tls:
        tls.settimeout(TIMEOUT)
        received = bytearray()

        def reader() -> None:
            while len(received) < len(PAYLOAD):
                data = tls.recv(1 << 20)
                if not data:
                    return
                received.extend(data)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        view = memoryview(PAYLOAD)
        for i in range(0, len(PAYLOAD), 40_000):
            tls.sendall(view[i : i + 40_000])
        t.join(TIMEOUT)
    peer.join(TIMEOUT)
    assert bytes(received) == PAYLOAD
