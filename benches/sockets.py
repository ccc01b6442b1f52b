"""Socket drivers on 127.0.0.1: ferrotls (native, python) beside Python's ``ssl``.

Used by ``bench_sockets.py`` (pytest-benchmark), ``make_results.py`` and, as a
copy, by ``ferrotls bench --sockets`` (python/ferrotls/bench.py: benches/ is
not installed; keep the two in step).  Only the standard library and ferrotls
are imported, so the module stands alone.

Each :class:`SocketBench` owns a server on ``127.0.0.1:0`` -- a thread with a
blocking accept loop (``mode="blocking"``: ``ssl.SSLSocket`` or
``ferrotls.TLSSocket``) or an event loop in a thread (``mode="asyncio"``:
``asyncio.start_server(ssl=...)`` or ``ferrotls.asyncio.start_server``) -- and
runs the client in the calling thread (blocking calls, or its own event loop).
``run(n)`` returns the application bytes (or handshakes) it moved:

* ``bulk``: one connection; the client writes n x 16 KiB (an 8-byte length
  header first), the server reads it all into a 256 KiB buffer and answers one
  byte; MB/s of application data (10**6 bytes), one direction;
* ``rr``: 64-byte request, 64-byte reply, n round trips on one connection;
* ``stream``: n one-way 64-byte messages (one write, so one record, each), then
  the one-byte answer;
* ``handshake``: n times connect + full handshake + close (the server reads to
  the end and closes); the run ends when the server finished all n.

Both contexts: TLS 1.3, AES-128-GCM, X25519, an ECDSA P-256 leaf from an ECDSA
P-256 CA (``ferrotls.selfsigned.make_test_pki``), server certificate verified
with the host name checked, no session tickets (``ssl``: ``num_tickets = 0``;
ferrotls: ``ticket_count=0``).  TCP_NODELAY on every socket.  ``ssl`` (3.11)
cannot pick TLS 1.3 suites: ``SSL_CTX_set_ciphersuites`` is called through
ctypes (as in throughput.py); if that fails the ssl rows use OpenSSL's default
(AES-256-GCM) and ``SocketBench.note`` says so.

Client and server share one process, so pure-Python work on both sides shares
the GIL; ``ssl`` (and the native backend's seal/open calls) release it while
OpenSSL / Rust works, as they would in any threaded server.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import socket
import ssl
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

HOST = "bench.ferrotls.test"
CHUNK = 16384
SMALL = 64
READ_SIZE = 256 * 1024
IMPLS = ("native", "python", "ssl")
MODES = ("blocking", "asyncio")
KINDS = ("bulk", "rr", "stream", "handshake")
SUITE = ("TLS_AES_128_GCM_SHA256", 0x1301)
_HDR = struct.Struct("!Q")


# ----------------------------------------------------------------------------- contexts


class PKI:
    """A throw-away CA and server certificate, as PEM files (ssl loads files)."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives import serialization

        from ferrotls.selfsigned import make_test_pki

        pki = make_test_pki((HOST,))
        self._tmp = tempfile.TemporaryDirectory(prefix="ferrotls-sockets-")
        d = Path(self._tmp.name)
        self.ca_pem = pki.ca_pem
        self.cert_file = d / "cert.pem"
        self.key_file = d / "key.pem"
        self.cert_file.write_bytes(b"".join(
            c.public_bytes(serialization.Encoding.PEM) for c in pki.server.chain))
        self.key_file.write_bytes(pki.server.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    def cleanup(self) -> None:
        self._tmp.cleanup()


_SET_SUITES: list[Any] = []


def _set_ciphersuites(ctx: ssl.SSLContext, name: str) -> bool:
    """SSL_CTX_set_ciphersuites through ctypes (PySSLContext: PyObject_HEAD, then SSL_CTX *)."""
    try:
        if not _SET_SUITES:
            import _ssl

            lib = ctypes.CDLL(_ssl.__file__)
            try:
                fn = lib.SSL_CTX_set_ciphersuites
            except AttributeError:
                found = ctypes.util.find_library("ssl")
                if found is None:
                    return False
                fn = ctypes.CDLL(found).SSL_CTX_set_ciphersuites
            fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
            fn.restype = ctypes.c_int
            _SET_SUITES.append(fn)
        ptr = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
        return bool(ptr) and _SET_SUITES[0](ptr, name.encode()) == 1
    except (OSError, AttributeError):
        return False


def contexts(impl: str, pki: PKI) -> tuple[Any, Any, str]:
    """(client context, server context, note) for ``impl`` in native/python/ssl."""
    if impl == "ssl":
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.minimum_version = ssl.TLSVersion.TLSv1_3
        c.load_verify_locations(cadata=pki.ca_pem.decode())
        s = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        s.minimum_version = ssl.TLSVersion.TLSv1_3
        s.load_cert_chain(str(pki.cert_file), str(pki.key_file))
        s.num_tickets = 0
        ok = _set_ciphersuites(c, SUITE[0]) and _set_ciphersuites(s, SUITE[0])
        return c, s, "" if ok else "ssl: OpenSSL default suite"
    import ferrotls

    c = ferrotls.Context(ferrotls.Purpose.SERVER_AUTH)
    c.load_verify_locations(cadata=pki.ca_pem)
    s = ferrotls.Context(ferrotls.Purpose.CLIENT_AUTH)
    s.load_cert_chain(pki.cert_file, pki.key_file)
    s.set_options(ticket_count=0)
    for ctx in (c, s):
        ctx.backend = impl
        ctx.set_ciphersuites(SUITE[0])
        ctx.set_groups(["x25519", "secp256r1"])
    return c, s, ""


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
            import ferrotls.asyncio

            return await ferrotls.asyncio.start_server(cb, "127.0.0.1", 0, context=ctx)

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
            import ferrotls.asyncio

            r, w = await ferrotls.asyncio.open_connection("127.0.0.1", self.port, context=self.ctx,
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


# ----------------------------------------------------------------------------- front end


class SocketBench:
    """A server (thread) and a client (this thread) for one impl, mode and kind.

    ``run(n)``: n bulk chunks / round trips / messages / handshakes; returns the
    application bytes moved (handshakes: n).  Call ``close()`` when done.
    """

    def __init__(self, impl: str, mode: str, kind: str, pki: PKI, chunk: int = CHUNK) -> None:
        if impl not in IMPLS or mode not in MODES or kind not in KINDS:
            raise ValueError((impl, mode, kind))
        self.impl, self.mode, self.kind = impl, mode, kind
        cctx, sctx, self.note = contexts(impl, pki)
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
        kind = self.kind
        if kind == "bulk":
            return int(self.client.bulk(n, self.chunk))
        if kind == "stream":
            return int(self.client.bulk(n, self.small))
        if kind == "rr":
            return int(self.client.rr(n))
        return int(self.client.handshakes(n, self.server))

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            self.server.close()


UNITS = {"bulk": ("MB/s", 1e-6), "rr": ("round trips/s", 1.0 / SMALL),
         "stream": ("msg/s", 1.0 / SMALL), "handshake": ("hs/s", 1.0)}


def per_second(kind: str, units: float, seconds: float) -> float:
    """The figure reported for ``run`` returning ``units`` in ``seconds``."""
    return units * UNITS[kind][1] / seconds


def measure(bench: SocketBench, n: int, reps: int = 3) -> float:
    """Best of ``reps`` runs of ``run(n)`` after a short warm-up, in the kind's unit."""
    bench.run(max(1, n // 10))
    best = float("inf")
    units = 0
    for _ in range(reps):
        t = time.perf_counter()
        units = bench.run(n)
        best = min(best, time.perf_counter() - t)
    return per_second(bench.kind, units, best)


# calls per run for the fast implementations and for ferrotls-python
PLAN = {"bulk": (2048, 32), "rr": (5000, 100), "stream": (20000, 300), "handshake": (300, 6)}


if __name__ == "__main__":  # quick look: python benches/sockets.py [impl ...]
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))
    impls = sys.argv[1:] or list(IMPLS)
    pki = PKI()
    for mode in MODES:
        for kind in KINDS:
            for impl in impls:
                n = PLAN[kind][impl == "python"]
                b = SocketBench(impl, mode, kind, pki)
                try:
                    v = measure(b, n, 3)
                finally:
                    b.close()
                print(f"{mode:9} {kind:10} {impl:7} {v:14,.1f} {UNITS[kind][0]}", flush=True)
    pki.cleanup()
