"""ferrotls.asyncio streams on 127.0.0.1, on the default loop and on uvloop.

Echo, large transfers (every byte checked), backpressure both ways, cancellation
(no pending tasks, no unclosed transports), close_notify both ways, truncation,
handshake timeout and errors, extra info.  Each test runs inside a bounded
``asyncio.wait_for``.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import socket
import ssl
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import ferrotls
import ferrotls.asyncio as fa
import pytest
from certs import TestCA
from ferrotls import Context, Purpose
from ferrotls.errors import BadCertificate, TruncationError

LOOPBACK = "127.0.0.1"
BOUND = 20.0

uvloop: Any
try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is in the test extras (not on Windows)
    uvloop = None


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Callable[[], Awaitable[Any]]], Any]:
    """Run a coroutine function on a fresh loop of the parametrized kind, bounded by BOUND."""
    if request.param == "uvloop" and uvloop is None:
        pytest.skip("uvloop is not installed")
    factory = uvloop.new_event_loop if request.param == "uvloop" else asyncio.new_event_loop

    def runner(fn: Callable[[], Awaitable[Any]]) -> Any:
        async def bounded() -> Any:
            async with asyncio.timeout(BOUND):  # no extra task, unlike wait_for on 3.11
                return await fn()

        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            with asyncio.Runner(loop_factory=factory) as r:
                result = r.run(bounded())
            gc.collect()
        return result

    return runner


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Context, Context, Path]:
    tmp = tmp_path_factory.mktemp("aio-pki")
    ca = TestCA("ferrotls asyncio CA", key_index=21)
    leaf = ca.issue("localhost", "127.0.0.1", key_index=22)
    (tmp / "ca.pem").write_bytes(ca.pem())
    (tmp / "cert.pem").write_bytes(leaf.chain_pem())
    (tmp / "key.pem").write_bytes(leaf.key_pem())
    server = ferrotls.create_default_context(Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    client = ferrotls.create_default_context(cafile=tmp / "ca.pem")
    return server, client, tmp


def others() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0.01)


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
        await writer.wait_closed()


async def serve(ctx: Context, handler: Any = echo, **kw: Any) -> tuple[asyncio.Server, int]:
    server = await fa.start_server(handler, LOOPBACK, 0, context=ctx, **kw)
    return server, server.sockets[0].getsockname()[1]


async def close_server(server: asyncio.Server) -> None:
    server.close()
    await server.wait_closed()
    await settle()


def test_echo_and_extra_info(run: Any, contexts: Any) -> None:
    sctx, cctx, _ = contexts

    async def main() -> None:
        server, port = await serve(sctx)
        reader, writer = await fa.open_connection(LOOPBACK, port, context=cctx, server_hostname="localhost")
        for msg in (b"a", b"hello" * 1000, bytes(20000)):
            writer.write(msg)
            await writer.drain()
            assert await reader.readexactly(len(msg)) == msg
        cert = writer.get_extra_info("peercert")
        assert ("DNS", "localhost") in cert["subjectAltName"]
        assert writer.get_extra_info("cipher")[1] == "TLSv1.3"
        assert writer.get_extra_info("sslcontext") is cctx
        assert writer.get_extra_info("ssl_object").version() == "TLSv1.3"
        assert writer.get_extra_info("socket") is not None
        assert writer.get_extra_info("peername")[1] == port
        conn = writer.get_extra_info("ferrotls_connection")
        assert conn.handshake_complete
        writer.close()
        await writer.wait_closed()
        assert await reader.read() == b""
        await close_server(server)
        assert not others()

    run(main)


def test_large_transfer_both_directions(run: Any, contexts: Any) -> None:
    sctx, cctx, _ = contexts
    size = 8 * 1024 * 1024
    payload = hashlib.shake_256(b"ferrotls").digest(size)

    async def main() -> None:
        server, port = await serve(sctx)
        reader, writer = await fa.open_connection(LOOPBACK, port, context=cctx, server_hostname="localhost")

        async def send() -> None:
            view = memoryview(payload)
            for i in range(0, size, 100_003):
                writer.write(view[i : i + 100_003])
                await writer.drain()
            writer.write_eof()  # close_notify; the echo continues until it sees it

        sender = asyncio.create_task(send())
        got = await reader.read(-1)
        await sender
        assert len(got) == size and got == payload
        writer.close()
        await writer.wait_closed()
        await close_server(server)
        assert not others()

    run(main)


def test_backpressure_slow_reader(run: Any, contexts: Any) -> None:
    sctx, cctx, _ = contexts
    chunk = bytes(range(256)) * 256  # 64 KiB
    cap = 256 * len(chunk)  # 16 MiB: far beyond what the socket buffers (shrunk below) hold

    async def main() -> None:
        go = asyncio.Event()
        server_writer: list[asyncio.StreamWriter] = []
        result: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            server_writer.append(writer)
            await go.wait()
            result.set_result(await reader.read())  # until close_notify
            writer.close()
            await writer.wait_closed()

        server, port = await serve(sctx, slow, limit=64 * 1024)
        reader, writer = await fa.open_connection(LOOPBACK, port, context=cctx, server_hostname="localhost")
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        sent = 0
        blocked = False
        while sent < cap:
            writer.write(chunk)
            sent += len(chunk)
            try:
                await asyncio.wait_for(writer.drain(), 0.2)
            except TimeoutError:
                blocked = True
                break
        assert blocked, "drain() never blocked although nobody reads"
        assert writer.transport.get_write_buffer_size() > 0
        tls = server_writer[0].transport.tls_protocol  # type: ignore[attr-defined]
        assert not server_writer[0].transport.is_reading()  # type: ignore[attr-defined]
        assert tls.raw_transport.is_reading() is False  # the TCP transport was paused
        go.set()
        for _ in range(3):  # writing goes on once the reader catches up
            writer.write(chunk)
            sent += len(chunk)
            await writer.drain()
        writer.write_eof()
        data = await result
        assert len(data) == sent and data == chunk * (sent // len(chunk))
        assert await reader.read() == b""
        writer.close()
        await writer.wait_closed()
        await close_server(server)
        assert not others()

    run(main)


def test_cancel_mid_read_leaves_nothing(run: Any, contexts: Any) -> None:
    sctx, cctx, _ = contexts

    async def main() -> None:
        server, port = await serve(sctx)
        reader, writer = await fa.open_connection(LOOPBACK, port, context=cctx, server_hostname="localhost")
        task = asyncio.create_task(reader.read(100))
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        writer.write(b"still usable")
        assert await reader.readexactly(12) == b"still usable"
        writer.close()
        await writer.wait_closed()
        await close_server(server)
        assert not others()

    run(main)


async def silent_server() -> tuple[asyncio.Server, int, list[asyncio.BaseTransport], asyncio.Event]:
    transports: list[asyncio.BaseTransport] = []
    lost = asyncio.Event()

    class Silent(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            transports.append(transport)

        def connection_lost(self, exc: BaseException | None) -> None:
            lost.set()

    server = await asyncio.get_running_loop().create_server(Silent, LOOPBACK, 0)
    return server, server.sockets[0].getsockname()[1], transports, lost


def test_cancel_mid_handshake_leaves_nothing(run: Any, contexts: Any) -> None:
    _, cctx, _ = contexts

    async def main() -> None:
        server, port, transports, lost = await silent_server()
        task = asyncio.create_task(fa.open_connection(LOOPBACK, port, context=cctx, server_hostname="localhost"))
        while not transports:
            await asyncio.sleep(0.01)
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(lost.wait(), 5)  # our side closed the TCP connection
        for t in transports:
            t.close()
        await close_server(server)
        assert not others()

    run(main)


def test_handshake_timeout(run: Any, contexts: Any) -> None:
    _, cctx, _ = contexts

    async def main() -> None:
        server, port, transports, lost = await silent_server()
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(TimeoutError):
            await fa.open_connection(
                LOOPBACK, port, context=cctx, server_hostname="localhost", ssl_handshake_timeout=0.3
            )
        assert loop.time() - start < 2.0
        await asyncio.wait_for(lost.wait(), 5)
        for t in transports:
            t.close()
        await close_server(server)
        assert not others()

    run(main)


def test_server_handshake_timeout(run: Any, contexts: Any) -> None:
    sctx, _, _ = contexts

    async def main() -> None:
        server, port = await serve(sctx, ssl_handshake_timeout=0.3)
        reader, writer = await asyncio.open_connection(LOOPBACK, port)  # plain TCP, says nothing
        assert await asyncio.wait_for(reader.read(), 3) == b""  # the server gave up and closed
        writer.close()
        await writer.wait_closed()
        await close_server(server)

    run(main)


def test_close_notify_both_directions(run: Any, contexts: Any) -> None:
    sctx, cctx, _ = contexts

    async def main() -> None:
        seen: asyncio.Future[tuple[bytes, bool, bool]] = asyncio.get_running_loop().create_future()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            data = await reader.read()  # until the client's close_notify: EOF, not an error
            conn = writer.get_extra_info("ferrotls_connection")
            writer.write(b"reply after your close_notify")  # TLS 1.3 half-close
            await writer.drain()
            writer.close()
            await writer.wait_closed()
            seen.set_result((data, conn.peer_closed, conn.state is ferrotls.ConnectionState.CLOSED))

        server, port = await serve(sctx, handler)
        reader, writer = await fa.open_connection(LOOPBACK, port, context=cctx, server_hostname="localhost")
        assert writer.can_write_eof()
        writer.write(b"request")
        writer.write_eof()
        assert await reader.read() == b"reply after your close_notify"  # then the server's close_notify
        conn = writer.get_extra_info("ferrotls_connection")
        assert conn.peer_closed
        writer.close()
        await writer.wait_closed()
        assert await seen == (b"request", True, True)
        await close_server(server)
        assert not others()

    run(main)


def test_server_close_gives_client_eof(run: Any, contexts: Any) -> None:
    sctx, cctx, _ = contexts

    async def main() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"goodbye")
            writer.close()
            await writer.wait_closed()

        server, port = await serve(sctx, handler)
        reader, writer = await fa.open_connection(LOOPBACK, port, context=cctx, server_hostname="localhost")
        assert await reader.read() == b"goodbye"
        assert writer.get_extra_info("ferrotls_connection").peer_closed
        writer.close()
        await writer.wait_closed()
        await close_server(server)
        assert not others()

    run(main)


def test_truncation_is_an_error_on_the_reader(run: Any, contexts: Any) -> None:
    sctx, cctx, _ = contexts

    async def main() -> None:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"partial")
            await writer.drain()
            writer.transport.tls_protocol.raw_transport.close()  # type: ignore[attr-defined]

        server, port = await serve(sctx, handler)
        reader, writer = await fa.open_connection(LOOPBACK, port, context=cctx, server_hostname="localhost")
        assert await reader.readexactly(7) == b"partial"
        with pytest.raises(TruncationError):
            await reader.read()
        writer.close()
        with pytest.raises(TruncationError):
            await writer.wait_closed()
        await close_server(server)
        assert not others()

    run(main)


def test_handshake_error_raises_and_alerts(run: Any, contexts: Any) -> None:
    sctx, cctx, _ = contexts

    async def main() -> None:
        server, port = await serve(sctx)
        with pytest.raises(BadCertificate):
            await fa.open_connection(LOOPBACK, port, context=cctx, server_hostname="wrong.test")
        with pytest.raises(TypeError):
            await fa.open_connection(LOOPBACK, port, ssl=ssl.create_default_context())
        await close_server(server)
        assert not others()

    run(main)


@pytest.mark.interop
def test_ferrotls_asyncio_client_against_asyncio_ssl_server(run: Any, contexts: Any) -> None:
    _, cctx, tmp = contexts
    sslctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sslctx.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")

    async def main() -> None:
        server = await asyncio.start_server(echo, LOOPBACK, 0, ssl=sslctx)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await fa.open_connection(LOOPBACK, port, ssl=cctx, server_hostname="localhost")
        payload = bytes(range(256)) * 2000
        writer.write(payload)
        await writer.drain()
        assert await reader.readexactly(len(payload)) == payload
        writer.close()
        await writer.wait_closed()
        await close_server(server)
        assert not others()

    run(main)


@pytest.mark.interop
def test_asyncio_ssl_client_against_ferrotls_server(run: Any, contexts: Any) -> None:
    sctx, _, tmp = contexts
    sslctx = ssl.create_default_context(cafile=str(tmp / "ca.pem"))

    async def main() -> None:
        server, port = await serve(sctx)
        reader, writer = await asyncio.open_connection(LOOPBACK, port, ssl=sslctx, server_hostname="localhost")
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        writer.close()
        await writer.wait_closed()
        await close_server(server)
        assert not others()

    run(main)
