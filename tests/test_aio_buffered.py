"""ferrotls.asyncio reads through ``asyncio.BufferedProtocol`` into one reusable buffer.

* Live, on the default loop and on uvloop: the loop calls ``get_buffer`` /
  ``buffer_updated`` (never ``data_received``) and gets the same view of the same
  bytearray every time, but for at most two doublings after reads that filled it;
  a read allocates about its plaintext and no more (tracemalloc: asyncio used to
  allocate 256 KiB per ``recv``, uvloop a copy of the ciphertext).
* In memory (a fake TCP transport, a sans-I/O client): a stream with records of
  every size, KeyUpdates and close_notify is fed through ``get_buffer`` /
  ``buffer_updated`` byte by byte and in random pieces; the buffer is scribbled
  over after every read, so anything that kept a view of it (a leftover partial
  record, a pending event, a paused read) would corrupt the SHA-256 of the
  plaintext.  No memoryview of the buffer but the protocol's own outlives a read.
* Writes: one ``write`` is one ``transport.write``; ``writelines`` seals the joined
  pieces into full-size records with one ``transport.write``.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import random
import socket
import threading
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ferrotls
import ferrotls.asyncio as fa
import pytest
from certs import TestCA
from ferrotls import Context, Purpose
from ferrotls.transports import aio
from hypothesis import given
from hypothesis import strategies as st
from utils import hypothesis_settings

LOOPBACK = "127.0.0.1"
JUNK = 0xA5
SCRIBBLE = bytes([JUNK]) * aio.READ_BUFFER_SIZE

uvloop: Any
try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is in the test extras
    uvloop = None


# an unclosed TLSTransport warns when collected: collect after each test, fail on it
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(autouse=True)
def _collect() -> Iterator[None]:
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        gc.collect()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("aio-buffered-pki")
    ca = TestCA("ferrotls buffered CA", key_index=21)
    leaf = ca.issue("localhost", "127.0.0.1", key_index=22)
    (tmp / "ca.pem").write_bytes(ca.pem())
    (tmp / "cert.pem").write_bytes(leaf.chain_pem())
    (tmp / "key.pem").write_bytes(leaf.key_pem())
    return tmp


def contexts(pki: Path, backend: str | None = None) -> tuple[Context, Context]:
    server = ferrotls.create_default_context(Purpose.CLIENT_AUTH)
    server.load_cert_chain(pki / "cert.pem", pki / "key.pem")
    client = ferrotls.create_default_context(cafile=pki / "ca.pem")
    for ctx in (server, client):
        ctx.backend = backend
    return server, client


@pytest.fixture(params=["native", "python"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """Each backend's name in turn (skips or fails like conftest's ``backend``)."""
    request.getfixturevalue(f"{request.param}_backend")
    return str(request.param)


# --------------------------------------------------------------------------- live


def check_reuse(reads: list[tuple[memoryview, int]]) -> memoryview:
    """(view lent, bytes read) per read: every read of this thread used the
    thread's one shared buffer."""
    assert reads
    shared = reads[0][0]
    assert len(shared) == aio.READ_BUFFER_SIZE and type(shared.obj) is bytearray
    assert all(view is shared for view, _ in reads)
    return shared


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_loop_reads_into_one_reused_buffer(
    pki: Path, loop_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if loop_kind == "uvloop" and uvloop is None:
        pytest.skip("uvloop is not installed")
    assert issubclass(fa.TLSProtocol, asyncio.BufferedProtocol)
    reads: dict[int, list[tuple[memoryview, int]]] = {}
    calls = {"buffer_updated": 0, "data_received": 0}
    get_buffer, buffer_updated = aio.TLSProtocol.get_buffer, aio.TLSProtocol.buffer_updated
    data_received = aio.TLSProtocol.data_received

    def spy_get_buffer(self: aio.TLSProtocol, sizehint: int) -> memoryview:
        view = get_buffer(self, sizehint)
        reads.setdefault(id(self), []).append((view, -1))
        return view

    def spy_buffer_updated(self: aio.TLSProtocol, nbytes: int) -> None:
        calls["buffer_updated"] += 1
        view, _ = reads[id(self)][-1]
        reads[id(self)][-1] = (view, nbytes)
        buffer_updated(self, nbytes)

    def spy_data_received(self: aio.TLSProtocol, data: bytes) -> None:
        calls["data_received"] += 1
        data_received(self, data)

    monkeypatch.setattr(aio.TLSProtocol, "get_buffer", spy_get_buffer)
    monkeypatch.setattr(aio.TLSProtocol, "buffer_updated", spy_buffer_updated)
    monkeypatch.setattr(aio.TLSProtocol, "data_received", spy_data_received)
    sctx, cctx = contexts(pki)
    payload = random.Random(7).randbytes(4_000_003)

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main() -> None:
        server = await fa.start_server(echo, LOOPBACK, 0, context=sctx)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await fa.open_connection(LOOPBACK, port, context=cctx,
                                                  server_hostname="localhost")
        assert isinstance(writer.transport.tls_protocol, asyncio.BufferedProtocol)  # type: ignore[attr-defined]

        async def send() -> None:
            for i in range(0, len(payload), 200_000):
                writer.write(payload[i : i + 200_000])
                await writer.drain()
            writer.write_eof()

        sender = asyncio.ensure_future(send())
        got = await reader.read()
        await sender
        assert hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()

    factory = uvloop.new_event_loop if loop_kind == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as r:
        r.run(asyncio.wait_for(main(), 30))
    assert calls["data_received"] == 0
    assert calls["buffer_updated"] >= 2 * len(payload) // aio.READ_BUFFER_SIZE  # both ends read
    assert len(reads) == 2  # client and server protocol
    for per_protocol in reads.values():
        assert len(per_protocol) >= len(payload) // aio.READ_BUFFER_SIZE  # 15 reads or more
        assert all(n > 0 for _, n in per_protocol)
    # client and server run on one loop, in one thread: one buffer serves both
    assert check_reuse([r for per_protocol in reads.values() for r in per_protocol]) is aio._thread_read_view()


class Counter(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.got: asyncio.Future[None] | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.got is not None and not self.got.done():
            self.got.set_result(None)

    def eof_received(self) -> bool:
        return True


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
@pytest.mark.parametrize("size", [100, 16000])
def test_a_read_allocates_its_plaintext_only(pki: Path, loop_kind: str, size: int) -> None:
    """Peak traced allocation while one record is read: the plaintext and small
    objects.  asyncio's recv() path allocated 256 KiB per read; uvloop's copied the
    ciphertext into a new bytes object."""
    if loop_kind == "uvloop" and uvloop is None:
        pytest.skip("uvloop is not installed")
    sctx, cctx = contexts(pki, "native")
    peaks: list[int] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        client: Any = cctx.new_connection("localhost")
        app = Counter()
        proto = aio.TLSProtocol(loop, app, sctx, server_side=True)
        await loop.connect_accepted_socket(lambda: proto, theirs)
        reader, writer = await asyncio.open_connection(sock=ours)
        while not client.handshake_complete:  # a sans-I/O client over plain asyncio streams
            writer.write(client.data_to_send())
            client.receive_data(await reader.read(65536))
        writer.write(client.data_to_send())
        while app.transport is None:
            await asyncio.sleep(0.001)
        msg = bytes(size)
        for i in range(20):
            client.send(msg)
            wire = client.data_to_send()
            app.got = loop.create_future()
            if i == 10:
                tracemalloc.start()
            if i >= 10:
                base = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
            writer.write(wire)
            await app.got
            if i >= 10:
                peaks.append(tracemalloc.get_traced_memory()[1] - base)
        tracemalloc.stop()
        app.transport.abort()
        writer.close()
        await asyncio.sleep(0.01)

    factory = uvloop.new_event_loop if loop_kind == "uvloop" else asyncio.new_event_loop
    try:
        with asyncio.Runner(loop_factory=factory) as r:
            r.run(asyncio.wait_for(main(), 20))
    finally:
        tracemalloc.stop()
    assert len(peaks) == 10
    assert max(peaks) < size + 4096, peaks


# --------------------------------------------------------------------------- in memory


class FakeTCP(asyncio.Transport):
    """Collects what the protocol writes; records pause/resume and close."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.reading = True

    def write(self, data: Any) -> None:
        assert type(data) is bytes
        self.writes.append(data)

    def take(self) -> bytes:
        out = b"".join(self.writes)
        self.writes.clear()
        return out

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def get_write_buffer_size(self) -> int:
        return 0


class Sink(asyncio.Protocol):
    """Keeps every chunk object it is given; can pause reading after each one."""

    def __init__(self, pause_every: bool = False) -> None:
        self.chunks: list[Any] = []
        self.transport: Any = None
        self.eof = False
        self.pause_every = pause_every

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: Any) -> None:
        self.chunks.append(data)
        if self.pause_every:
            self.transport.pause_reading()

    def eof_received(self) -> None:
        self.eof = True

    def digest(self) -> bytes:
        assert all(type(c) is bytes for c in self.chunks)
        return hashlib.sha256(b"".join(self.chunks)).digest()


class Harness:
    """A server TLSProtocol on a FakeTCP, fed by a sans-I/O client through get_buffer."""

    def __init__(self, pki: Path, backend: str | None, loop: asyncio.AbstractEventLoop,
                 sink: Sink, pieces: Callable[[int], int]) -> None:
        sctx, cctx = contexts(pki, backend)
        self.loop = loop
        self.sink = sink
        self.pieces = pieces
        self.tcp = FakeTCP()
        self.proto = aio.TLSProtocol(loop, sink, sctx, server_side=True)
        self.client: Any = cctx.new_connection("localhost")
        self.reads: list[tuple[memoryview, int]] = []

    def feed(self, data: bytes) -> None:
        """``data`` through get_buffer/buffer_updated in pieces; scribble after each."""
        pos = 0
        while pos < len(data):
            view = self.proto.get_buffer(-1)
            n = min(len(view), len(data) - pos, max(1, self.pieces(len(data) - pos)))
            view[:n] = data[pos : pos + n]
            self.proto.buffer_updated(n)
            view[:n] = SCRIBBLE[:n]  # what this read wrote (the rest is scribbled already)
            pos += n
            self.reads.append((view, n))

    def handshake(self) -> None:
        self.proto.connection_made(self.tcp)
        for _ in range(10):
            out = self.client.data_to_send()
            if out:
                self.feed(out)
            back = self.tcp.take()
            if back:
                self.client.receive_data(back)
            if self.client.handshake_complete and self.sink.transport is not None:
                break
        assert self.sink.transport is not None and self.client.handshake_complete
        self.client.events()

    def finish(self) -> None:
        """The client's close_notify reached us: we answered and closed TCP."""
        assert self.sink.eof
        assert self.tcp.closed
        self.client.receive_data(self.tcp.take())
        assert self.client.peer_closed
        self.proto.connection_lost(None)
        self.loop.run_until_complete(asyncio.sleep(0))  # app connection_lost (call_soon)
        assert self.proto._lent is None and self.proto._own_view is None  # nothing held


def client_stream(client: Any, rng: random.Random, total: int) -> tuple[bytes, bytes]:
    """Records of random sizes (1 byte .. beyond 2**14), KeyUpdates between some,
    close_notify at the end: (wire bytes, sha256 of the plaintext)."""
    digest = hashlib.sha256()
    sizes = [1, 2, 5, 16, 100, 1000, 16383, 16384, 16385, 40000]
    sent = 0
    while sent < total:
        size = min(total - sent, rng.choice(sizes) if rng.random() < 0.5 else rng.randint(1, 20000))
        msg = rng.randbytes(size)
        client.send(msg)
        digest.update(msg)
        sent += size
        if rng.random() < 0.05:
            client.update_keys(request_peer_update=rng.random() < 0.5)
    client.close()
    return client.data_to_send(), digest.digest()


def live_views_of(buffer: bytearray) -> list[memoryview]:
    """Every unreleased memoryview over ``buffer`` (slices included)."""
    found = []
    for obj in gc.get_objects():
        if type(obj) is memoryview:
            try:
                if obj.obj is buffer:
                    found.append(obj)
            except ValueError:  # released
                pass
    return found


def run_stream(pki: Path, backend: str | None, seed: int, total: int,
               pieces: Callable[[random.Random], Callable[[int], int]],
               pause_every: bool = False) -> Harness:
    rng = random.Random(seed)
    loop = asyncio.new_event_loop()
    try:
        sink = Sink(pause_every)
        h = Harness(pki, backend, loop, sink, pieces(rng))
        h.handshake()
        stream, want = client_stream(h.client, rng, total)
        if pause_every:
            h.feed(stream)
            for _ in range(100_000):  # each resume delivers one more event (from the queue)
                if sink.eof:
                    break
                assert not h.tcp.reading  # the app's pause reached TCP
                sink.transport.resume_reading()
                loop.run_until_complete(asyncio.sleep(0))
        else:
            h.feed(stream)
        assert sink.digest() == want
        check_reuse(h.reads)  # the same buffer for every read (handshake included)
        h.finish()
        return h
    finally:
        loop.close()


def test_byte_by_byte_every_boundary(pki: Path, backend_name: str) -> None:
    """One byte per read: every record (header, body, tag) is split at every offset."""
    h = run_stream(pki, backend_name, 1, 40_000, lambda rng: lambda left: 1)
    assert len(h.reads) > 40_000
    assert check_reuse(h.reads) is aio._thread_read_view()


@pytest.mark.parametrize("seed", range(4))
def test_random_pieces(pki: Path, backend_name: str, seed: int) -> None:
    total = 600_000 if backend_name == "native" else 60_000

    def pieces(rng: random.Random) -> Callable[[int], int]:
        return lambda left: rng.choice([1, 3, 5, 6, 21, 22, 4000, 16405, 16406, 70000])

    run_stream(pki, backend_name, 100 + seed, total, pieces)


def test_one_buffer_per_thread(pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every protocol of a thread reads into the thread's buffer (idle connections
    hold no read buffer); another thread has its own; a proactor loop, which keeps
    a buffer across an overlapped read, gets one per protocol."""
    first = run_stream(pki, "native", 3, 300_000, lambda rng: lambda left: left)
    second = run_stream(pki, "native", 4, 300_000, lambda rng: lambda left: 5000)
    assert check_reuse(first.reads + second.reads) is aio._thread_read_view()
    other: list[memoryview] = []
    t = threading.Thread(target=lambda: other.append(aio._thread_read_view()))
    t.start()
    t.join()
    assert other[0].obj is not aio._thread_read_view().obj
    fake_proactor = type("FakeProactor", (asyncio.SelectorEventLoop,), {})
    monkeypatch.setattr(aio, "_PROACTOR", (fake_proactor,))
    loop = fake_proactor()
    try:
        a = aio.TLSProtocol(loop, Sink(), contexts(pki)[0], server_side=True)
        b = aio.TLSProtocol(loop, Sink(), contexts(pki)[0], server_side=True)
        va, vb = a.get_buffer(-1), b.get_buffer(-1)
        assert va.obj is not vb.obj and va.obj is not aio._thread_read_view().obj
        assert a.get_buffer(-1) is va  # reused by its protocol
    finally:
        loop.close()


@given(seed=st.integers(0, 2**32 - 1), top=st.sampled_from([5, 64, 1500, 17000, 65536]))
@hypothesis_settings("native", fraction=0.5)
def test_random_pieces_hypothesis(pki: Path, seed: int, top: int) -> None:
    run_stream(pki, "native", seed, 120_000, lambda rng: lambda left: rng.randint(1, top))


@pytest.mark.parametrize("seed", range(2))
def test_paused_reads_keep_no_view(pki: Path, backend_name: str, seed: int) -> None:
    """The app pauses after every chunk, so events wait in the connection across
    reads while the buffer is rewritten; they still carry the right bytes."""
    def pieces(rng: random.Random) -> Callable[[int], int]:
        return lambda left: rng.randint(1, 3 * 16_400)

    run_stream(pki, backend_name, 200 + seed, 200_000, pieces, pause_every=True)


def test_no_view_outlives_a_read(pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After buffer_updated the protocol's own view is the only one left, and the
    slice it handed down is released (a kept reference would fail loudly)."""
    handed: list[Any] = []
    receive = aio.TLSProtocol._receive

    def spy(self: aio.TLSProtocol, data: Any) -> None:
        handed.append(data)  # keeps the slice beyond the call, on purpose
        receive(self, data)

    monkeypatch.setattr(aio.TLSProtocol, "_receive", spy)
    loop = asyncio.new_event_loop()
    try:
        rng = random.Random(5)
        sink = Sink()
        h = Harness(pki, "native", loop, sink, lambda left: rng.randint(1, 30_000))
        h.handshake()
        stream, want = client_stream(h.client, rng, 100_000)
        h.feed(stream[: len(stream) // 2 + 7])  # ends inside a record: a leftover is buffered
        buffer = h.proto.get_buffer(-1).obj
        assert isinstance(buffer, bytearray)
        assert all(type(d) is memoryview for d in handed)
        for d in handed:
            with pytest.raises(ValueError, match="released"):
                bytes(d)
        handed.clear()
        views = live_views_of(buffer)
        assert len(views) == 1 and views[0] is aio._thread_read_view(), len(views)
        del views
        h.feed(stream[len(stream) // 2 + 7 :])
        handed.clear()
        assert sink.digest() == want
        h.finish()
        h.reads.clear()
        gc.collect()
        views = live_views_of(buffer)  # only the thread's own view is left
        assert len(views) == 1 and views[0] is aio._thread_read_view(), len(views)
        del views
    finally:
        loop.close()


def test_scribble_detects_a_kept_view(pki: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above can fail: a connection that kept a view of its input instead
    of copying it breaks both the view count and the plaintext digest."""
    from ferrotls.record import StreamRecordLayer as RecordLayer

    kept: list[Any] = []
    feed = RecordLayer.feed

    def lazy_feed(self: RecordLayer, data: Any) -> None:  # a copy, plus a kept view
        if type(data) is memoryview:  # the protocol's read (not the client's bytes)
            kept.append(memoryview(data)[:5])
        feed(self, data)

    monkeypatch.setattr(RecordLayer, "feed", lazy_feed)
    loop = asyncio.new_event_loop()
    try:
        h = Harness(pki, "native", loop, Sink(), lambda left: 1000)
        h.handshake()
        assert kept and all(bytes(v) == bytes([JUNK]) * 5 for v in kept)  # scribbled over
        buffer = h.proto.get_buffer(-1).obj
        assert isinstance(buffer, bytearray)
        assert len(live_views_of(buffer)) > 1
        h.sink.transport.abort()
        h.proto.connection_lost(None)
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        kept.clear()
        loop.close()


def test_data_received_path(pki: Path) -> None:
    """data_received (bytes fed directly) shares the path; b"" is not taken for EOF."""
    loop = asyncio.new_event_loop()
    try:
        rng = random.Random(9)
        sink = Sink()
        h = Harness(pki, "native", loop, sink, lambda left: left)
        h.handshake()
        stream, want = client_stream(h.client, rng, 50_000)
        h.proto.data_received(b"")
        assert not sink.eof and not h.tcp.closed
        for i in range(0, len(stream), 777):
            h.proto.data_received(stream[i : i + 777])
        assert sink.digest() == want
        h.finish()
    finally:
        loop.close()


# --------------------------------------------------------------------------- writes


def records(wire: bytes) -> Iterator[tuple[int, int]]:
    pos = 0
    while pos < len(wire):
        length = int.from_bytes(wire[pos + 3 : pos + 5], "big")
        yield wire[pos], length
        pos += 5 + length
    assert pos == len(wire)


def test_write_is_one_transport_write(pki: Path) -> None:
    loop = asyncio.new_event_loop()
    try:
        h = Harness(pki, "native", loop, Sink(), lambda left: left)
        h.handshake()
        app = h.sink.transport
        for size in (1, 16384, 16385, 100_000):
            msg = random.Random(size).randbytes(size)
            for kind in (bytes, bytearray, memoryview):
                app.write(kind(msg) if kind is not memoryview else memoryview(bytearray(msg)))
                assert len(h.tcp.writes) == 1
                wire = h.tcp.take()
                assert len(list(records(wire))) == -(-size // 16384)
                h.client.receive_data(wire)
                got = b"".join(e.data for e in h.client.events())
                assert got == msg
        pieces = [b"a" * 100, bytearray(b"b" * 20000), memoryview(b"c" * 30000), b"", b"d"]
        app.writelines(pieces)
        assert len(h.tcp.writes) == 1
        wire = h.tcp.take()
        total = sum(len(p) for p in pieces)
        assert [n for _, n in records(wire)][:-1] == [16384 + 17] * (total // 16384)  # full records
        h.client.receive_data(wire)
        assert b"".join(e.data for e in h.client.events()) == b"".join(bytes(p) for p in pieces)
        app.writelines([])
        assert h.tcp.writes == []
        app.close()
        h.client.receive_data(h.tcp.take())
        h.client.close()
        h.feed(h.client.data_to_send())
        h.proto.connection_lost(None)
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
