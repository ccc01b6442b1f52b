"""Faults on 127.0.0.1: each one ends only its own connection, with the right error.

Against the ``ferrotls.asyncio`` server, the ``ferrotls gateway`` subprocess and
the blocking ``TLSSocket``, with a healthy connection streaming checked data
alongside the whole time:

* peer reset mid-record (half a record, then RST via SO_LINGER 0);
* truncated final record / no close_notify (TruncationError, never a silent EOF);
* connection dropped mid-handshake (FIN or RST, at several points), both directions;
* a slow peer (one byte at a time through the handshake and some data);
* a peer that stops reading (drain() blocks; buffered bytes and RSS stay bounded);
* a backend that is down or goes away (gateway: close_notify to the client).

The faulty peers are sans-I/O ClientConnections over plain sockets (:class:`RawTLS`,
:class:`BlockingRawTLS`), so each byte on the wire is chosen by the test.  asyncio
tests fail on any call of the loop's exception handler (an unhandled error in a
callback or task); gateway tests fail on a traceback in its stderr.
"""

from __future__ import annotations

import asyncio
import gc
import contextlib
import random
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import ferrotls
import ferrotls.asyncio as fa
import pytest
from ferrotls import Context, TLSSocket
from ferrotls.errors import TruncationError
from ferrotls.events import ApplicationData, ConnectionClosed
from load_helpers import (
    LOOPBACK,
    Pki,
    PlainEchoBackend,
    client_context,
    echo_handler,
    fd_count,
    make_pki,
    other_tasks,
    rss_kib,
    run_loop,
    server_context,
    set_rst_on_close,
    settle,
    wait_until,
)
from test_cli import ferrotls_server

BOUND = 30.0
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("faults-pki"))


def arun(fn: Callable[[], Awaitable[Any]]) -> Any:
    """Run on a fresh loop (bounded); no unhandled errors, no tasks or fds left over."""
    gc.collect()  # earlier tests' sockets waiting for the collector are not ours
    fds0 = fd_count()

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        unhandled: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
        result = await fn()
        await settle()
        assert not unhandled, unhandled
        assert not other_tasks(), other_tasks()
        return result

    result = run_loop(main, BOUND)
    assert fd_count() <= fds0, "file descriptors leaked"
    return result


# --------------------------------------------------------------------------- peers


class RawTLS:
    """A sans-I/O ClientConnection over a plain asyncio TCP stream; the test picks every write."""

    def __init__(self, ctx: Context) -> None:
        self.conn: Any = ctx.new_connection("localhost")
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter
        self.app = bytearray()

    async def open(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection(LOOPBACK, port)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def put(self, data: bytes, *, bytewise: bool = False) -> None:
        if bytewise:
            for i in range(len(data)):
                self.writer.write(data[i : i + 1])
                await self.writer.drain()
                await asyncio.sleep(0)
        else:
            self.writer.write(data)
            await self.writer.drain()

    async def flush(self, *, bytewise: bool = False) -> None:
        await self.put(self.conn.data_to_send(), bytewise=bytewise)

    async def feed(self, *, bytewise: bool = False) -> bool:
        data = await self.reader.read(1 if bytewise else 65536)
        self.conn.receive_data(data)  # b"" -> TruncationError
        for event in self.conn.events():
            if isinstance(event, ApplicationData):
                self.app += event.data
        await self.flush(bytewise=bytewise)
        return bool(data)

    async def handshake(self, port: int, *, bytewise: bool = False) -> None:
        await self.open(port)
        await self.flush(bytewise=bytewise)
        while not self.conn.handshake_complete:
            await self.feed(bytewise=bytewise)

    def seal(self, data: bytes) -> bytes:
        self.conn.send(data)
        out: bytes = self.conn.data_to_send()
        return out

    async def read_app(self, n: int, *, bytewise: bool = False) -> bytes:
        while len(self.app) < n:
            await self.feed(bytewise=bytewise)
        out = bytes(self.app[:n])
        del self.app[:n]
        return out

    def rst(self) -> None:
        set_rst_on_close(self.writer.get_extra_info("socket"))
        self.writer.transport.abort()

    async def fin(self) -> None:
        """TCP FIN without close_notify."""
        self.writer.write_eof()
        await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


class Healthy:
    """A connection echoing random chunks (checked) until stopped; must see no error."""

    def __init__(self, port: int, ctx: Context) -> None:
        self.port = port
        self.ctx = ctx
        self.rounds = 0
        self.bytes = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Healthy:
        self.reader, self.writer = await fa.open_connection(
            LOOPBACK, self.port, context=self.ctx, server_hostname="localhost")
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        rng = random.Random(7)
        while not self._stop.is_set():
            chunk = rng.randbytes(rng.randint(1, 32768))
            self.writer.write(chunk)
            await self.writer.drain()
            assert await self.reader.readexactly(len(chunk)) == chunk
            self.rounds += 1
            self.bytes += len(chunk)
            await asyncio.sleep(0.002)

    async def progressing(self) -> None:
        """The stream still moves (a few more rounds complete)."""
        r = self.rounds
        await wait_until(lambda: self.rounds >= r + 3 or (self._task is not None and self._task.done()),
                         TIMEOUT, "the healthy connection")
        assert self._task is not None and not self._task.done(), self._task

    async def finish(self) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task
        self.writer.write_eof()
        assert await self.reader.read() == b""  # the peer's close_notify
        self.writer.close()
        await self.writer.wait_closed()
        assert self.rounds > 3


class Recorder:
    """An echo handler that records how each connection ended: ("eof", n) or ("error", exc)."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[str, Any]] = []

    async def handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got = 0
        try:
            while data := await reader.read(65536):
                got += len(data)
                writer.write(data)
                await writer.drain()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            self.outcomes.append(("error", exc))
            writer.transport.abort()
            return
        self.outcomes.append(("eof", got))
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()

    def errors(self) -> list[BaseException]:
        return [o for kind, o in self.outcomes if kind == "error"]

    async def one_error(self) -> BaseException:
        await wait_until(lambda: bool(self.errors()), TIMEOUT, "the server to see the fault")
        errs = self.errors()
        assert len(errs) == 1, errs
        return errs[0]


@contextlib.asynccontextmanager
async def tls_server(pki: Pki, handler: Any = None, **kw: Any) -> Any:
    rec = Recorder()
    server = await fa.start_server(handler or rec.handler, LOOPBACK, 0, context=server_context(pki), **kw)
    try:
        yield server.sockets[0].getsockname()[1], rec
    finally:
        server.close()
        await server.wait_closed()
        await settle()


# --------------------------------------------------------------------------- asyncio server


def test_peer_reset_mid_record(pki: Pki) -> None:
    async def main() -> None:
        async with tls_server(pki) as (port, rec):
            healthy = await Healthy(port, client_context(pki)).start()
            raw = RawTLS(client_context(pki))
            await raw.handshake(port)
            await raw.put(raw.seal(b"first"))
            assert await raw.read_app(5) == b"first"
            record = raw.seal(b"x" * 1000)
            await raw.put(record[: len(record) // 2])
            await asyncio.sleep(0.05)
            raw.rst()
            exc = await rec.one_error()
            assert isinstance(exc, (ConnectionResetError, TruncationError)), repr(exc)
            await healthy.progressing()
            await healthy.finish()

    arun(main)


@pytest.mark.parametrize("cut", ["after-records", "mid-record"])
def test_truncated_final_record(pki: Pki, cut: str) -> None:
    """FIN without close_notify after whole records, or inside one: TruncationError, not EOF."""

    async def main() -> None:
        async with tls_server(pki) as (port, rec):
            healthy = await Healthy(port, client_context(pki)).start()
            raw = RawTLS(client_context(pki))
            await raw.handshake(port)
            await raw.put(raw.seal(b"a" * 3000))
            assert await raw.read_app(3000) == b"a" * 3000
            if cut == "mid-record":
                record = raw.seal(b"b" * 3000)
                await raw.put(record[:-10])
            await raw.fin()
            exc = await rec.one_error()
            assert isinstance(exc, TruncationError), repr(exc)
            assert "truncated" in str(exc)
            await raw.close()
            await healthy.progressing()
            await healthy.finish()

    arun(main)


@pytest.mark.parametrize("point", ["half-hello-fin", "hello-fin", "hello-rst", "after-server-flight-rst",
                                   "after-server-flight-fin"])
def test_client_drops_mid_handshake(pki: Pki, point: str) -> None:
    async def main() -> None:
        async with tls_server(pki, ssl_handshake_timeout=5.0) as (port, rec):
            healthy = await Healthy(port, client_context(pki)).start()
            raw = RawTLS(client_context(pki))
            await raw.open(port)
            hello = raw.conn.data_to_send()
            await raw.put(hello[: len(hello) // 2] if point.startswith("half") else hello)
            if point.startswith("after-server-flight"):
                while not raw.conn.handshake_complete:  # read the server's flight ...
                    raw.conn.receive_data(await raw.reader.read(65536))
                assert raw.conn.data_to_send()  # ... but never send the client Finished
            else:
                await asyncio.sleep(0.05)
            if point.endswith("rst"):
                raw.rst()
            else:
                await raw.fin()
                # the server closes its side at once (not after the handshake timeout)
                async with asyncio.timeout(3):
                    while await raw.reader.read(65536):
                        pass
                await raw.close()
            await healthy.progressing()
            await healthy.finish()
            assert rec.outcomes == [("eof", healthy.bytes)]  # no handler ran for the dropped one

    arun(main)


def test_server_drops_mid_handshake_client_gets_clean_error(pki: Pki) -> None:
    """A server that reads the ClientHello and hangs up: open_connection raises at once."""

    async def main() -> None:
        for how in ("fin", "rst"):
            async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, how: str = how) -> None:
                await reader.read(65536)
                if how == "rst":
                    set_rst_on_close(writer.get_extra_info("socket"))
                    writer.transport.abort()
                else:
                    writer.close()

            server = await asyncio.start_server(drop, LOOPBACK, 0)
            port = server.sockets[0].getsockname()[1]
            async with asyncio.timeout(3):
                with pytest.raises(ConnectionResetError):
                    await fa.open_connection(LOOPBACK, port, context=client_context(pki),
                                             server_hostname="localhost")
            server.close()
            await server.wait_closed()

    arun(main)


def test_slow_peer_one_byte_at_a_time(pki: Pki) -> None:
    async def main() -> None:
        async with tls_server(pki) as (port, rec):
            healthy = await Healthy(port, client_context(pki)).start()
            raw = RawTLS(client_context(pki))
            await raw.handshake(port, bytewise=True)  # writes and reads one byte at a time
            payload = bytes(range(256)) * 8
            await raw.put(raw.seal(payload), bytewise=True)
            assert await raw.read_app(len(payload), bytewise=True) == payload
            raw.conn.close()
            await raw.flush(bytewise=True)  # close_notify, one byte at a time
            while not raw.conn.peer_closed:
                assert await raw.feed(bytewise=True), "EOF before the server's close_notify"
            await raw.close()
            await healthy.progressing()
            await healthy.finish()
            await wait_until(lambda: len(rec.outcomes) == 2, TIMEOUT, "both connections to end")
            assert sorted(rec.outcomes) == sorted([("eof", len(payload)), ("eof", healthy.bytes)])

    arun(main)


def test_peer_stops_reading_server_drain_blocks(pki: Pki) -> None:
    """The server writes to a client that does not read: drain() blocks, the buffers stay
    bounded; when the client reads again every byte arrives, in order."""
    chunk = bytes(range(256)) * 256  # 64 KiB
    figures: dict[str, int] = {}

    async def main() -> None:
        blocked = asyncio.Event()
        rss0 = rss_kib()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            first = await reader.read(65536)
            if first != b"start":  # the healthy connection: echo
                writer.write(first)
                await echo_handler(reader, writer)
                return
            sent = 0
            while True:
                writer.write(chunk)
                sent += len(chunk)
                try:
                    await asyncio.wait_for(writer.drain(), 0.1)
                except TimeoutError:
                    break
            blocked.set()
            # nobody reads: drain() stays blocked (2 s), nothing more is written or buffered
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(writer.drain(), 2.0)
            figures["sent"] = sent
            figures["buffered"] = writer.transport.get_write_buffer_size()
            figures["rss_growth_kib"] = rss_kib() - rss0
            await writer.drain()  # returns once the client reads again
            writer.close()
            await writer.wait_closed()

        async with tls_server(pki, handler) as (port, _):
            healthy = await Healthy(port, client_context(pki)).start()
            raw = RawTLS(client_context(pki))
            await raw.handshake(port)
            raw.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            await raw.put(raw.seal(b"start"))
            async with asyncio.timeout(TIMEOUT):
                await blocked.wait()
            await healthy.progressing()
            await asyncio.sleep(2.3)  # while the server's drain() stays blocked
            while not raw.conn.peer_closed:
                assert await raw.feed(), "EOF before close_notify"
            total = len(raw.app)
            assert total == figures["sent"]
            assert bytes(raw.app) == chunk * (total // len(chunk))
            await raw.close()
            await healthy.finish()

    arun(main)
    # without backpressure ~2 s of writes would queue hundreds of MB
    assert figures["sent"] < 16 * 1024 * 1024, figures
    # the TCP transport's high-water mark (64 KiB) + the last write (one chunk + record overhead)
    assert figures["buffered"] <= 65536 + len(chunk) + 4096, figures
    assert figures["rss_growth_kib"] < 32 * 1024, figures
    print(f"\n[faults] stops reading: {figures}")


# --------------------------------------------------------------------------- gateway


@contextlib.contextmanager
def gateway(pki: Pki, backend_port: int, *extra: str) -> Iterator[tuple[Any, int]]:
    with ferrotls_server("gateway", "--accept", f"{LOOPBACK}:0", "--connect", f"{LOOPBACK}:{backend_port}",
                         "--cert", str(pki.cert), "--key", str(pki.key), "--groups", "x25519",
                         *extra) as (gw, port):
        yield gw, port
        assert b"Traceback" not in gw.err, gw.text


async def wait_log(gw: Any, pattern: bytes) -> None:
    regex = re.compile(pattern)
    await wait_until(lambda: regex.search(bytes(gw.err)) is not None, TIMEOUT, pattern.decode())


def test_gateway_client_faults(pki: Pki) -> None:
    """Reset mid-record, truncation, drops mid-handshake, a slow client, through the gateway."""

    async def main() -> None:
        backend = PlainEchoBackend()
        await backend.start()
        with gateway(pki, backend.port, "--handshake-timeout", "2") as (gw, port):
            healthy = await Healthy(port, client_context(pki)).start()
            # reset mid-record
            raw = RawTLS(client_context(pki))
            await raw.handshake(port)
            record = raw.seal(b"y" * 2000)
            await raw.put(record[:700])
            await asyncio.sleep(0.05)
            raw.rst()
            await wait_log(gw, rb"close=client error: (ConnectionResetError|TruncationError)")
            # FIN without close_notify after a whole record
            raw = RawTLS(client_context(pki))
            await raw.handshake(port)
            await raw.put(raw.seal(b"z" * 100))
            assert await raw.read_app(100) == b"z" * 100
            await raw.fin()
            await wait_log(gw, rb"up=100 down=100 [^\n]*close=client error: TruncationError")
            await raw.close()
            # dropped mid-handshake
            raw = RawTLS(client_context(pki))
            await raw.open(port)
            await raw.put(raw.conn.data_to_send())
            await asyncio.sleep(0.05)
            raw.rst()
            await wait_log(gw, rb"close=handshake failed: ConnectionResetError")
            # slow client
            raw = RawTLS(client_context(pki))
            await raw.handshake(port, bytewise=True)
            await raw.put(raw.seal(b"slow" * 100), bytewise=True)
            assert await raw.read_app(400, bytewise=True) == b"slow" * 100
            raw.conn.close()
            await raw.flush(bytewise=True)
            while not raw.conn.peer_closed:
                assert await raw.feed(bytewise=True)
            await raw.close()
            await wait_log(gw, rb"up=400 down=400 [^\n]*close=client closed; backend closed")
            await healthy.progressing()
            await healthy.finish()
            await wait_until(lambda: backend.active == 0, TIMEOUT, "backend connections to end")
        await backend.stop()

    arun(main)


def test_gateway_backend_down_and_back(pki: Pki) -> None:
    """Backend listener gone: new clients get close_notify (not a ragged EOF), the open
    stream is unaffected; backend back on the same port: served again."""

    async def main() -> None:
        backend = PlainEchoBackend()
        await backend.start()
        with gateway(pki, backend.port) as (gw, port):
            healthy = await Healthy(port, client_context(pki)).start()
            await healthy.progressing()  # its backend connection is up
            assert backend.server is not None
            backend.server.close()  # stop listening; the open connection stays
            await settle()
            for _ in range(3):
                reader, writer = await fa.open_connection(LOOPBACK, port, context=client_context(pki),
                                                          server_hostname="localhost")
                async with asyncio.timeout(TIMEOUT):
                    assert await reader.read() == b""  # close_notify; TruncationError if ragged
                writer.close()
                await writer.wait_closed()
            await wait_log(gw, rb"close=backend unreachable: ConnectionRefusedError")
            await healthy.progressing()
            # back on the same port
            again = await asyncio.start_server(backend_echo, LOOPBACK, backend.port)
            reader, writer = await fa.open_connection(LOOPBACK, port, context=client_context(pki),
                                                      server_hostname="localhost")
            writer.write(b"hello again")
            assert await reader.readexactly(11) == b"hello again"
            writer.write_eof()
            assert await reader.read() == b""
            writer.close()
            await writer.wait_closed()
            await healthy.finish()
            again.close()
            await again.wait_closed()
        await wait_until(lambda: backend.active == 0, TIMEOUT, "backend connections to end")

    arun(main)


async def backend_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await echo_handler(reader, writer)


def test_gateway_client_stops_reading(pki: Pki) -> None:
    """A client that stops reading while the backend streams: the gateway stops reading
    the backend (the backend's drain() blocks); its RSS stays bounded."""
    chunk = bytes(range(256)) * 256
    state: dict[str, Any] = {"sent": 0, "blocked": 0}

    async def main() -> None:
        async def firehose(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            first = await reader.read(65536)
            if first != b"FIREHOSE":
                writer.write(first)
                await echo_handler(reader, writer)
                return
            try:
                while True:
                    writer.write(chunk)
                    state["sent"] += len(chunk)
                    try:
                        await asyncio.wait_for(writer.drain(), 0.1)
                    except TimeoutError:
                        state["blocked"] += 1
                        await writer.drain()
            except OSError:
                state["ended"] = True
                writer.transport.abort()

        server = await asyncio.start_server(firehose, LOOPBACK, 0)
        bport = server.sockets[0].getsockname()[1]
        with gateway(pki, bport) as (gw, port):
            pid = gw.proc.pid
            healthy = await Healthy(port, client_context(pki)).start()
            await healthy.progressing()
            rss0 = rss_kib(pid)
            raw = RawTLS(client_context(pki))
            await raw.handshake(port)
            raw.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            await raw.put(raw.seal(b"FIREHOSE"))
            await wait_until(lambda: state["blocked"] > 0, TIMEOUT, "the backend to block")
            await asyncio.sleep(2.0)
            sent_blocked = state["sent"]
            await asyncio.sleep(1.0)
            state["rss_growth_kib"] = rss_kib(pid) - rss0
            state["sent_while_blocked"] = state["sent"] - sent_blocked
            await healthy.progressing()
            # the client reads a little: data flows again, in order
            got = await raw.read_app(len(chunk) * 4)
            assert got == chunk * 4
            raw.rst()
            await wait_log(gw, rb"close=client error: ConnectionResetError")
            await wait_until(lambda: state.get("ended", False), TIMEOUT, "the backend connection to be aborted")
            await healthy.finish()
        server.close()
        await server.wait_closed()

    arun(main)
    # stalled: nothing more leaves the backend in the last second; buffers are kernel-sized
    assert state["sent_while_blocked"] == 0, state
    assert state["sent"] < 32 * 1024 * 1024, state
    assert state["rss_growth_kib"] < 32 * 1024, state
    print(f"\n[faults] gateway, client stops reading: {state}")


# --------------------------------------------------------------------------- blocking TLSSocket


class BlockingRawTLS:
    """RawTLS over a blocking socket."""

    def __init__(self, ctx: Context, port: int) -> None:
        self.conn: Any = ctx.new_connection("localhost")
        self.sock = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.app = bytearray()

    def put(self, data: bytes, *, bytewise: bool = False) -> None:
        if bytewise:
            for i in range(len(data)):
                self.sock.sendall(data[i : i + 1])
        else:
            self.sock.sendall(data)

    def feed(self, *, bytewise: bool = False) -> bool:
        data = self.sock.recv(1 if bytewise else 65536)
        self.conn.receive_data(data)
        for event in self.conn.events():
            if isinstance(event, ApplicationData):
                self.app += event.data
            elif isinstance(event, ConnectionClosed):
                pass
        self.put(self.conn.data_to_send(), bytewise=bytewise)
        return bool(data)

    def handshake(self, *, bytewise: bool = False) -> BlockingRawTLS:
        self.put(self.conn.data_to_send(), bytewise=bytewise)
        while not self.conn.handshake_complete:
            self.feed(bytewise=bytewise)
        return self

    def seal(self, data: bytes) -> bytes:
        self.conn.send(data)
        out: bytes = self.conn.data_to_send()
        return out

    def read_app(self, n: int, *, bytewise: bool = False) -> bytes:
        while len(self.app) < n:
            self.feed(bytewise=bytewise)
        out = bytes(self.app[:n])
        del self.app[:n]
        return out

    def rst(self) -> None:
        set_rst_on_close(self.sock)
        self.sock.close()


class ThreadedServer:
    """ferrotls TLSSocket echo server: one thread per connection; records each outcome."""

    def __init__(self, ctx: Context, timeout: float = TIMEOUT) -> None:
        self.ctx = ctx
        self.timeout = timeout
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.outcomes: list[tuple[str, Any]] = []
        self.handler: Callable[[TLSSocket], Any] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._run, daemon=True)
        self._accept.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            t = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(self.timeout)
        try:
            with sock, self.ctx.wrap_socket(sock, server_side=True, suppress_ragged_eofs=False) as tls:
                if self.handler is not None:
                    self.outcomes.append(("value", self.handler(tls)))
                    return
                got = 0
                while data := tls.recv(65536):
                    got += len(data)
                    tls.sendall(data)
                self.outcomes.append(("eof", got))
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            self.outcomes.append(("error", exc))

    def errors(self) -> list[BaseException]:
        return [o for kind, o in self.outcomes if kind == "error"]

    def wait(self, n: int) -> None:
        deadline = time.monotonic() + TIMEOUT
        while len(self.outcomes) < n:
            assert time.monotonic() < deadline, self.outcomes
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._accept.join(5)
        for t in self._threads:
            t.join(TIMEOUT + 5)
        self.listener.close()
        assert not any(t.is_alive() for t in self._threads)


class BlockingHealthy:
    def __init__(self, port: int, ctx: Context) -> None:
        self.tls = ferrotls.connect(LOOPBACK, port, context=ctx, server_hostname="localhost", timeout=TIMEOUT)
        self.rounds = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        rng = random.Random(3)
        try:
            while not self._stop.is_set():
                chunk = rng.randbytes(rng.randint(1, 32768))
                self.tls.sendall(chunk)
                got = bytearray()
                while len(got) < len(chunk):
                    got += self.tls.recv(65536)
                assert got == chunk
                self.rounds += 1
        except BaseException as exc:  # noqa: BLE001
            self.error = exc

    def finish(self) -> int:
        self._stop.set()
        self._thread.join(TIMEOUT)
        assert self.error is None, self.error
        assert self.rounds > 3
        self.tls.close()
        return self.rounds


@pytest.fixture
def threaded(pki: Pki) -> Iterator[ThreadedServer]:
    gc.collect()
    fds0 = fd_count()
    server = ThreadedServer(server_context(pki))
    try:
        yield server
    finally:
        server.stop()
    assert fd_count() <= fds0, "file descriptors leaked"


def test_blocking_peer_faults(pki: Pki, threaded: ThreadedServer) -> None:
    healthy = BlockingHealthy(threaded.port, client_context(pki))
    n = 0
    # reset mid-record
    raw = BlockingRawTLS(client_context(pki), threaded.port).handshake()
    record = raw.seal(b"r" * 1000)
    raw.put(record[:500])
    time.sleep(0.05)
    raw.rst()
    n += 1
    threaded.wait(n)
    assert isinstance(threaded.outcomes[-1][1], (ConnectionResetError, TruncationError)), threaded.outcomes
    # FIN without close_notify, after whole records and inside one
    for cut in (0, 10):
        raw = BlockingRawTLS(client_context(pki), threaded.port).handshake()
        raw.put(raw.seal(b"t" * 500))
        assert raw.read_app(500) == b"t" * 500
        record = raw.seal(b"u" * 500)
        if cut:
            raw.put(record[:-cut])
        raw.sock.shutdown(socket.SHUT_WR)
        n += 1
        threaded.wait(n)
        exc = threaded.outcomes[-1][1]
        assert isinstance(exc, TruncationError) and "truncated" in str(exc), threaded.outcomes
        raw.sock.close()
    # dropped mid-handshake (FIN and RST)
    for how in ("fin", "rst"):
        raw = BlockingRawTLS(client_context(pki), threaded.port)
        raw.put(raw.conn.data_to_send())
        time.sleep(0.05)
        if how == "rst":
            raw.rst()
        else:
            raw.sock.shutdown(socket.SHUT_WR)
        n += 1
        threaded.wait(n)
        exc = threaded.outcomes[-1][1]
        assert isinstance(exc, (TruncationError, ConnectionResetError)), threaded.outcomes
        raw.sock.close()
    # slow peer
    raw = BlockingRawTLS(client_context(pki), threaded.port).handshake(bytewise=True)
    payload = bytes(range(256)) * 4
    raw.put(raw.seal(payload), bytewise=True)
    assert raw.read_app(len(payload), bytewise=True) == payload
    raw.conn.close()
    raw.put(raw.conn.data_to_send(), bytewise=True)
    while not raw.conn.peer_closed:
        assert raw.feed(bytewise=True)
    raw.sock.close()
    n += 1
    threaded.wait(n)
    assert threaded.outcomes[-1] == ("eof", len(payload))
    healthy.finish()
    threaded.wait(n + 1)
    assert threaded.outcomes[-1][0] == "eof"


def test_blocking_peer_stops_reading(pki: Pki, threaded: ThreadedServer) -> None:
    """sendall() to a peer that does not read times out; what is kept back is bounded."""
    chunk = bytes(range(256)) * 256
    threaded.timeout = 1.0

    def push(tls: TLSSocket) -> dict[str, int] | None:
        first = tls.recv(65536)
        if first != b"start":  # the healthy connection: echo
            while first:
                tls.sendall(first)
                first = tls.recv(65536)
            return None
        sent = 0
        rss0 = rss_kib()
        try:
            while sent < 256 * 1024 * 1024:
                tls.sendall(chunk)
                sent += len(chunk)
        except TimeoutError:
            pass
        return {"sent": sent, "pending": len(tls._pending), "rss_growth_kib": rss_kib() - rss0}

    threaded.handler = push
    healthy = BlockingHealthy(threaded.port, client_context(pki))
    raw = BlockingRawTLS(client_context(pki), threaded.port).handshake()
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    raw.put(raw.seal(b"start"))
    deadline = time.monotonic() + TIMEOUT
    while not any(k == "value" and v for k, v in threaded.outcomes):
        assert time.monotonic() < deadline, threaded.outcomes
        time.sleep(0.05)
    figures = next(v for k, v in threaded.outcomes if k == "value" and v)
    raw.rst()
    healthy.finish()
    assert figures["sent"] < 16 * 1024 * 1024, figures
    assert figures["pending"] <= 256 * 1024 + 4096, figures
    assert figures["rss_growth_kib"] < 32 * 1024, figures
    print(f"\n[faults] blocking, peer stops reading: {figures}")


def test_gateway_pipe_retrieves_every_failure() -> None:
    """Regression: a client reset fails both copiers at once (its read and the write towards
    it); pipe() must retrieve both exceptions ("Task exception was never retrieved" on
    the gateway's stderr before the fix)."""
    import gc

    from ferrotls.apps.gateway import _Stats, pipe

    class Reader:
        def __init__(self, result: bytes | BaseException) -> None:
            self.result = result

        async def read(self, n: int) -> bytes:
            if isinstance(self.result, BaseException):
                raise self.result
            return self.result

    class Writer:
        def __init__(self, drain_error: BaseException | None) -> None:
            self.drain_error = drain_error
            self.closed = self.aborted = False
            self.transport = self

        def write(self, data: bytes) -> None:
            pass

        async def drain(self) -> None:
            if self.drain_error is not None:
                raise self.drain_error

        def abort(self) -> None:
            self.aborted = True

        def close(self) -> None:
            self.closed = True

        async def wait_closed(self) -> None:
            pass

    async def main() -> tuple[list[dict[str, Any]], Writer]:
        unhandled: list[dict[str, Any]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _l, c: unhandled.append(c))
        client = (Reader(ConnectionResetError("client reset")), Writer(ConnectionResetError("client reset")))
        backend = (Reader(b"data"), Writer(None))
        stats = _Stats("peer", time.monotonic())
        await pipe(client, backend, stats)  # type: ignore[arg-type]
        gc.collect()
        await settle()
        return unhandled, backend[1]

    unhandled, backend_writer = asyncio.run(main())
    assert not unhandled, unhandled
    assert backend_writer.aborted  # the client broke off: the backend connection is aborted
