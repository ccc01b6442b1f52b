"""``ferrotls bench --sockets``: through real sockets on 127.0.0.1, ferrotls beside ``ssl``.

A server in a thread (blocking ``TLSSocket`` / ``ssl.SSLSocket``) or an event
loop in a thread (``ferrotls.asyncio`` / asyncio ``ssl=``), the client in the
calling thread: bulk MB/s (16 KiB writes), 64-byte request/reply round trips/s,
one-way 64-byte messages/s and connect + handshake + close per second, with the
ratio to ``ssl`` per row.  :class:`SocketBench` is one such pair; the pytest
benches (``benches/bench_sockets.py``) drive it too.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import threading
from typing import Any

from ...context import Context, Purpose
from ..sslpeer import client_context, measure, server_context, set_ciphersuites
from ..testpki import TestPKI, make_test_pki
from . import HOST
from .report import Progress, Result

__all__ = ["CHUNK", "KINDS", "MODES", "SMALL", "SOCKET_ROWS", "SUITE", "SocketBench",
           "run_socket_bench", "socket_contexts"]

SUITE = "TLS_AES_128_GCM_SHA256"
"""The one cipher suite of the socket benches (OpenSSL name)."""
CHUNK = 16384
"""Bulk write size."""
SMALL = 64
"""Size of a request, a reply and a one-way message."""
READ_SIZE = 256 * 1024
MODES = ("blocking", "asyncio")
"""Server and client styles: threads with blocking sockets, or asyncio streams."""
KINDS = ("bulk", "rr", "stream", "handshake")
"""What one ``SocketBench.run`` round is: a bulk write, a round trip, a message, a handshake."""
_HDR = struct.Struct("!Q")
SOCKET_ROWS = {
    # kind: (label, unit, scale from run() units per second, calls per run: fast, python)
    "bulk": ("bulk 16 KiB writes", "MB/s", 1e-6, (2048, 32)),
    "rr": ("64 B request -> reply", "rt/s", 1.0 / SMALL, (5000, 100)),
    "stream": ("64 B one-way messages", "msg/s", 1.0 / SMALL, (20000, 300)),
    "handshake": ("connect+handshake+close", "hs/s", 1.0, (300, 6)),
}


def socket_contexts(impl: str, pki: TestPKI) -> tuple[Any, Any, str]:
    """(client, server, note): ``ssl`` contexts for impl "ssl", else ferrotls Contexts for
    backend ``impl``; TLS 1.3, AES-128-GCM, X25519, no session tickets.  The note says
    when ``ssl`` could not be pinned to the suite."""
    if impl == "ssl":
        c = client_context(pki.ca_pem)
        s = server_context(pki.chain_pem, pki.key_pem, num_tickets=0)
        ok = set_ciphersuites(c, SUITE) and set_ciphersuites(s, SUITE)
        return c, s, "" if ok else "OpenSSL default suite"
    fc = Context(Purpose.SERVER_AUTH)
    fc.load_verify_locations(cadata=pki.ca_pem)
    fs = Context(Purpose.CLIENT_AUTH)
    fs.add_certified_key(pki.server)
    fs.set_options(ticket_count=0)
    for ctx in (fc, fs):
        ctx.backend = impl
        ctx.set_ciphersuites(SUITE)
        ctx.set_groups(["x25519", "secp256r1"])
    return fc, fs, ""


def _nodelay(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# ----------------------------------------------------------------------------- blocking


def _recv_exact(sock: Any, view: memoryview) -> bool:
    got, n = 0, len(view)
    while got < n:
        k = sock.recv_into(view[got:])
        if not k:
            return False
        got += k
    return True


def _serve_sink(tls: Any) -> None:
    """Header (total bytes), then read that many bytes; answer b"k"; repeat until EOF."""
    buf = bytearray(READ_SIZE)
    view = memoryview(buf)
    hdr = bytearray(_HDR.size)
    recv_into = tls.recv_into
    while _recv_exact(tls, memoryview(hdr)):
        left = _HDR.unpack(hdr)[0]
        while left:
            k = recv_into(view[: min(left, READ_SIZE)])
            if not k:
                return
            left -= k
        tls.sendall(b"k")


def _serve_echo(tls: Any) -> None:
    msg = bytearray(SMALL)
    view = memoryview(msg)
    while _recv_exact(tls, view):
        tls.sendall(msg)


def _serve_drain(tls: Any) -> None:
    while tls.recv(READ_SIZE):
        pass


class _BlockingServer(threading.Thread):
    def __init__(self, impl: str, ctx: Any, kind: str) -> None:
        super().__init__(daemon=True, name=f"bench-server-{impl}-{kind}")
        self.impl, self.ctx, self.kind = impl, ctx, kind
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = False
        self.done = threading.Semaphore(0)
        self.errors: list[BaseException] = []
        self.handler = {"bulk": _serve_sink, "stream": _serve_sink, "rr": _serve_echo,
                        "handshake": _serve_drain}[kind]

    def run(self) -> None:
        while not self.stop:
            try:
                raw, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            _nodelay(raw)
            try:
                if self.impl == "ssl":
                    tls = self.ctx.wrap_socket(raw, server_side=True)
                else:
                    tls = self.ctx.wrap_socket(raw, server_side=True, suppress_ragged_eofs=True)
                with tls:
                    self.handler(tls)
            except (OSError, ValueError) as exc:
                if not self.stop:
                    self.errors.append(exc)
                raw.close()
            except BaseException as exc:  # noqa: BLE001 - reported by the client side
                self.errors.append(exc)
                raw.close()
            self.done.release()

    def close(self) -> None:
        self.stop = True
        self.listener.close()
        self.join(2)


def _client_socket(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    _nodelay(sock)
    return sock


class _BlockingClient:
    def __init__(self, impl: str, ctx: Any, port: int, kind: str) -> None:
        self.impl, self.ctx, self.port, self.kind = impl, ctx, port, kind
        self.tls: Any = None
        if kind != "handshake":
            self.tls = self.connect()

    def connect(self) -> Any:
        return self.ctx.wrap_socket(_client_socket(self.port), server_hostname=HOST)

    def bulk(self, n: int, chunk: bytes) -> int:
        tls = self.tls
        tls.sendall(_HDR.pack(n * len(chunk)))
        send = tls.sendall
        for _ in range(n):
            send(chunk)
        if tls.recv(1) != b"k":
            raise RuntimeError("no answer from the server")
        return n * len(chunk)

    def rr(self, n: int) -> int:
        tls = self.tls
        msg = b"q" * SMALL
        reply = bytearray(SMALL)
        view = memoryview(reply)
        send, recv_into = tls.sendall, tls.recv_into
        for _ in range(n):
            send(msg)
            got = recv_into(view)
            while got < SMALL:
                k = recv_into(view[got:])
                if not k:
                    raise RuntimeError("server closed")
                got += k
        return n * SMALL

    def handshakes(self, n: int, server: _BlockingServer) -> int:
        for _ in range(n):
            tls = self.connect()
            tls.close()
        for _ in range(n):
            if not server.done.acquire(timeout=30):
                raise RuntimeError(f"server did not finish: {server.errors[-1:]}")
        return n

    def close(self) -> None:
        if self.tls is not None:
            self.tls.close()
            self.tls = None


# ----------------------------------------------------------------------------- asyncio


async def _aserve(kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                  done: threading.Semaphore) -> None:
    try:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            _nodelay(sock)
        if kind in ("bulk", "stream"):
            while True:
                try:
                    hdr = await reader.readexactly(_HDR.size)
                except asyncio.IncompleteReadError:
                    break
                left = _HDR.unpack(hdr)[0]
                while left:
                    data = await reader.read(min(left, READ_SIZE))
                    if not data:
                        return
                    left -= len(data)
                writer.write(b"k")
        elif kind == "rr":
            while True:
                try:
                    msg = await reader.readexactly(SMALL)
                except asyncio.IncompleteReadError:
                    break
                writer.write(msg)
        else:
            while await reader.read(READ_SIZE):
                pass
    except (ConnectionError, OSError, ssl.SSLError):
        pass
    except Exception:  # noqa: BLE001 - e.g. TruncationError: the client counts failures
        pass
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except Exception:  # noqa: BLE001
            pass
        done.release()


class _AsyncServer:
    def __init__(self, impl: str, ctx: Any, kind: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                       name=f"bench-aserver-{impl}-{kind}")
        self.thread.start()
        self.done = threading.Semaphore(0)

        async def start() -> Any:
            def cb(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> Any:
                return _aserve(kind, r, w, self.done)

            if impl == "ssl":
                return await asyncio.start_server(cb, "127.0.0.1", 0, ssl=ctx)
            from ...transports import aio

            return await aio.start_server(cb, "127.0.0.1", 0, context=ctx)

        self.server = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            await asyncio.wait_for(self.server.wait_closed(), 2)

        try:
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        except Exception:  # noqa: BLE001
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class _AsyncClient:
    def __init__(self, impl: str, ctx: Any, port: int, kind: str) -> None:
        self.impl, self.ctx, self.port = impl, ctx, port
        self.loop = asyncio.new_event_loop()
        self.rw: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        if kind != "handshake":
            self.rw = self.loop.run_until_complete(self.connect())

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.impl == "ssl":
            r, w = await asyncio.open_connection("127.0.0.1", self.port, ssl=self.ctx,
                                                 server_hostname=HOST)
        else:
            from ...transports import aio

            r, w = await aio.open_connection("127.0.0.1", self.port, context=self.ctx,
                                                          server_hostname=HOST)
        sock = w.get_extra_info("socket")
        if sock is not None:
            _nodelay(sock)
        return r, w

    async def _bulk(self, n: int, chunk: bytes) -> int:
        assert self.rw is not None
        r, w = self.rw
        w.write(_HDR.pack(n * len(chunk)))
        write, drain = w.write, w.drain
        for _ in range(n):
            write(chunk)
            await drain()
        if await r.readexactly(1) != b"k":
            raise RuntimeError("no answer from the server")
        return n * len(chunk)

    async def _rr(self, n: int) -> int:
        assert self.rw is not None
        r, w = self.rw
        msg = b"q" * SMALL
        write, readexactly = w.write, r.readexactly
        for _ in range(n):
            write(msg)
            await readexactly(SMALL)
        return n * SMALL

    async def _handshakes(self, n: int, done: threading.Semaphore) -> int:
        for _ in range(n):
            _, w = await self.connect()
            w.close()
            await w.wait_closed()
        for _ in range(n):
            if not done.acquire(timeout=30):
                raise RuntimeError("server did not finish")
        return n

    def bulk(self, n: int, chunk: bytes) -> int:
        return self.loop.run_until_complete(self._bulk(n, chunk))

    def rr(self, n: int) -> int:
        return self.loop.run_until_complete(self._rr(n))

    def handshakes(self, n: int, server: _AsyncServer) -> int:
        return self.loop.run_until_complete(self._handshakes(n, server.done))

    def close(self) -> None:
        if self.rw is not None:
            w = self.rw[1]
            w.close()
            try:
                self.loop.run_until_complete(asyncio.wait_for(w.wait_closed(), 5))
            except Exception:  # noqa: BLE001
                pass
            self.rw = None
        self.loop.close()


# ----------------------------------------------------------------------------- one bench


class SocketBench:
    """A server (thread) and a client (this thread) for one impl, mode and kind.

    ``impl`` is "ssl" or a ferrotls backend name ("native", "python"), ``mode``
    one of :data:`MODES`, ``kind`` one of :data:`KINDS`.  :attr:`note` says
    when the ``ssl`` rows could not be pinned to the suite.  Call :meth:`close`
    when done.
    """

    def __init__(self, impl: str, mode: str, kind: str, pki: TestPKI, chunk: int = CHUNK) -> None:
        if mode not in MODES or kind not in KINDS:
            raise ValueError((impl, mode, kind))
        self.impl, self.mode, self.kind = impl, mode, kind
        cctx, sctx, self.note = socket_contexts(impl, pki)
        self.server: Any
        if mode == "blocking":
            self.server = _BlockingServer(impl, sctx, kind)
            self.server.start()
        else:
            self.server = _AsyncServer(impl, sctx, kind)
        self.client: Any = (_BlockingClient if mode == "blocking" else _AsyncClient)(
            impl, cctx, self.server.port, kind)
        self.chunk = b"\0" * chunk
        self.small = b"m" * SMALL

    def run(self, n: int) -> int:
        """n bulk chunks / round trips / messages / handshakes; returns the
        application bytes moved (handshakes: n)."""
        kind = self.kind
        if kind == "bulk":
            return int(self.client.bulk(n, self.chunk))
        if kind == "stream":
            return int(self.client.bulk(n, self.small))
        if kind == "rr":
            return int(self.client.rr(n))
        return int(self.client.handshakes(n, self.server))

    def close(self) -> None:
        """Close the client, then stop the server."""
        try:
            self.client.close()
        finally:
            self.server.close()


def run_socket_bench(quick: bool, backends: list[str]) -> list[Result]:
    """127.0.0.1 sockets, blocking and asyncio: bulk, round trips, one-way messages,
    handshakes; every implementation in the same run (best of the runs)."""
    pki = make_test_pki((HOST,))
    impls = backends + ["ssl"]
    reps = 2 if quick else 3
    plan = [(mode, kind, impl) for mode in MODES for kind in KINDS for impl in impls]
    progress = Progress(len(plan))
    results: list[Result] = []
    for mode, kind, impl in plan:
        progress.step(f"sockets {mode} {kind} {impl}")
        label, unit, scale, calls = SOCKET_ROWS[kind]
        n = calls[impl == "python"]
        if quick:
            n = max(1, n // 4)
        bench = SocketBench(impl, mode, kind, pki)
        try:
            rate = measure(bench.run, n=n, reps=reps, warmup=max(1, n // 10))
        finally:
            bench.close()
        name = impl if impl == "ssl" else f"ferrotls-{impl}"
        results.append(Result(f"{mode} {label}", name, rate.units_per_second * scale, unit,
                              note=bench.note))
    progress.finish()
    return results
