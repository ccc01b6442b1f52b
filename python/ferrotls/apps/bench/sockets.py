"""``ferrotls bench``: ferrotls (native and python backends) beside Python's ``ssl``.

Everything runs in memory in one thread (no sockets), the method of
``benches/throughput.py`` and ``benches/peers.py``:

* bulk: the client sends N bytes per write, the server reads all of it;
  MB/s (10**6 bytes of application data) per cipher suite and write size;
* small: 64-byte messages per second (AES-128-GCM);
* handshakes per second: new client and server objects, a full handshake
  with X25519, an ECDSA P-256 certificate and chain verification.

``ssl`` (OpenSSL through ``ssl.MemoryBIO``) is the reference.  Python 3.11's
``ssl`` cannot pick TLS 1.3 suites, so as in ``benches/throughput.py`` the
context's ``SSL_CTX_set_ciphersuites`` is called through ctypes; when that is
not possible the ``ssl`` rows use OpenSSL's default suite and say so.

``--sockets`` measures through real sockets on 127.0.0.1 instead (the drivers
below, which ``benches/sockets.py`` reuses): a server in a thread (blocking ``TLSSocket`` /
``ssl.SSLSocket``) or an event loop in a thread (``ferrotls.asyncio`` /
asyncio ``ssl=``), the client in the main thread: bulk MB/s (16 KiB writes),
64-byte request/reply round trips/s, one-way 64-byte messages/s and
connect + handshake + close per second, with the ratio to ``ssl`` per row.

``--chart FILE.png`` draws throughput vs write size and handshakes/s with
matplotlib when it is installed (it is not a dependency).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import os
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...backend import available_backends
from ...config import CertifiedKey, ClientConfig, ServerConfig
from ...connection import ClientConnection, ServerConnection, pump
from ...events import ApplicationData
from ...suites import CipherSuite, NamedGroup

__all__ = ["Result", "add_arguments", "main"]

HOST = "bench.ferrotls.test"
SUITES: dict[str, tuple[int, str]] = {
    "AES-128-GCM": (CipherSuite.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256"),
    "AES-256-GCM": (CipherSuite.TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384"),
    "ChaCha20-Poly1305": (CipherSuite.TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256"),
}
SIZES = (64, 1024, 4096, 16384)


@dataclass(frozen=True)
class Result:
    what: str
    impl: str
    value: float
    unit: str
    size: int = 0
    note: str = ""


# --------------------------------------------------------------------------- progress


class Progress:
    """A one-line text progress bar on stderr."""

    def __init__(self, total: int, width: int = 30) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.width = width
        self.tty = sys.stderr.isatty()

    def step(self, label: str) -> None:
        filled = self.width * self.done // self.total
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"[{bar}] {self.done:3d}/{self.total} {label[:48]:<48}"
        if self.tty:
            sys.stderr.write("\r" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.done += 1

    def finish(self) -> None:
        self.done = self.total
        self.step("done")
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------- PKI


class _PKI:
    def __init__(self) -> None:
        from cryptography.hazmat.primitives import serialization

        from ..testpki import make_test_pki

        self.pki = make_test_pki((HOST,))
        self.tmp = tempfile.TemporaryDirectory(prefix="ferrotls-bench-")
        d = Path(self.tmp.name)
        self.ca_file = d / "ca.pem"
        self.ca_file.write_bytes(self.pki.ca_pem)
        self.cert_file = d / "cert.pem"
        self.cert_file.write_bytes(self.pki.server.chain[0].public_bytes(serialization.Encoding.PEM))
        self.key_file = d / "key.pem"
        self.key_file.write_bytes(self.pki.server.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        from ...x509 import DefaultVerifier, TrustStore

        self.verifier = DefaultVerifier(TrustStore.from_pem(cadata=self.pki.ca_pem))
        self.server: CertifiedKey = self.pki.server


# --------------------------------------------------------------------------- ferrotls


def _ferro_configs(pki: _PKI, backend: str, suite: int) -> tuple[ClientConfig, ServerConfig]:
    cc = ClientConfig(backend=backend, verifier=pki.verifier, cipher_suites=(suite,),
                      key_share_groups=(NamedGroup.X25519,),
                      groups=(NamedGroup.X25519, NamedGroup.SECP256R1))
    sc = ServerConfig(backend=backend, certificates=(pki.server,), cipher_suites=(suite,),
                      ticket_count=0)
    return cc, sc


def _ferro_handshake(cc: ClientConfig, sc: ServerConfig) -> tuple[ClientConnection, ServerConnection]:
    c, s = ClientConnection(cc, HOST), ServerConnection(sc)
    pump(c, s)
    if not (c.handshake_complete and s.handshake_complete):
        raise RuntimeError("ferrotls handshake did not complete")
    c.events()
    s.events()
    return c, s


def _ferro_transfer(c: ClientConnection, s: ServerConnection, size: int) -> Callable[[int], int]:
    chunk = os.urandom(size)

    def run(n: int) -> int:
        send, out, recv, events = c.send, c.data_to_send, s.receive_data, s.events
        total = 0
        for _ in range(n):
            send(chunk)
            recv(out())
            for ev in events():
                if isinstance(ev, ApplicationData):
                    total += len(ev.data)
        if total != n * size:
            raise RuntimeError(f"short read: {total} of {n * size}")
        return total

    return run


# --------------------------------------------------------------------------- ssl

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


class _SslPeer:
    def __init__(self, pki: _PKI, suite_name: str | None) -> None:
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.minimum_version = ssl.TLSVersion.TLSv1_3
        c.load_verify_locations(cafile=str(pki.ca_file))
        s = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        s.minimum_version = ssl.TLSVersion.TLSv1_3
        s.load_cert_chain(str(pki.cert_file), str(pki.key_file))
        s.num_tickets = 0
        self.suite_ok = True
        if suite_name is not None:
            self.suite_ok = _set_ciphersuites(c, suite_name) and _set_ciphersuites(s, suite_name)
        self.cctx, self.sctx = c, s

    def handshake(self) -> tuple[Any, ...]:
        ci, co, si, so = (ssl.MemoryBIO() for _ in range(4))
        c = self.cctx.wrap_bio(ci, co, server_hostname=HOST)
        s = self.sctx.wrap_bio(si, so, server_side=True)
        done = [False, False]
        for _ in range(50):
            for i, (obj, out, peer_in) in enumerate(((c, co, si), (s, so, ci))):
                if not done[i]:
                    try:
                        obj.do_handshake()
                        done[i] = True
                    except ssl.SSLWantReadError:
                        pass
                d = out.read()
                if d:
                    peer_in.write(d)
            if all(done) and not co.pending and not so.pending:
                break
        if not all(done):
            raise RuntimeError("ssl handshake did not complete")
        return c, s, co, si

    def transfer(self, size: int) -> Callable[[int], int]:
        c, s, co, si = self.handshake()
        chunk = os.urandom(size)

        def run(n: int) -> int:
            total = 0
            for _ in range(n):
                c.write(chunk)
                si.write(co.read())
                got = 0
                while got < size:
                    got += len(s.read(size - got))
                total += got
            return total

        return run


# --------------------------------------------------------------------------- sockets
# The socket drivers (also used by benches/sockets.py and benches/bench_sockets.py).

CHUNK = 16384
SMALL = 64
READ_SIZE = 256 * 1024
MODES = ("blocking", "asyncio")
KINDS = ("bulk", "rr", "stream", "handshake")
_HDR = struct.Struct("!Q")
SOCKET_ROWS = {
    # kind: (label, unit, scale from run() units per second, calls per run: fast, python)
    "bulk": ("bulk 16 KiB writes", "MB/s", 1e-6, (2048, 32)),
    "rr": ("64 B request -> reply", "rt/s", 1.0 / SMALL, (5000, 100)),
    "stream": ("64 B one-way messages", "msg/s", 1.0 / SMALL, (20000, 300)),
    "handshake": ("connect+handshake+close", "hs/s", 1.0, (300, 6)),
}


def _socket_contexts(impl: str, pki: _PKI) -> tuple[Any, Any, str]:
    """(client, server, note): ``ssl`` contexts, or ferrotls Contexts for backend ``impl``."""
    if impl == "ssl":
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.minimum_version = ssl.TLSVersion.TLSv1_3
        c.load_verify_locations(cafile=str(pki.ca_file))
        s = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        s.minimum_version = ssl.TLSVersion.TLSv1_3
        s.load_cert_chain(str(pki.cert_file), str(pki.key_file))
        s.num_tickets = 0
        name = SUITES["AES-128-GCM"][1]
        ok = _set_ciphersuites(c, name) and _set_ciphersuites(s, name)
        return c, s, "" if ok else "OpenSSL default suite"
    from ...context import Context, Purpose

    fc = Context(Purpose.SERVER_AUTH)
    fc.load_verify_locations(cafile=pki.ca_file)
    fs = Context(Purpose.CLIENT_AUTH)
    fs.add_certified_key(pki.server)
    fs.set_options(ticket_count=0)
    for ctx in (fc, fs):
        ctx.backend = impl
        ctx.set_ciphersuites(SUITES["AES-128-GCM"][1])
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


# ----------------------------------------------------------------------------- front end


class _SocketBench:
    """A server (thread) and a client (this thread) for one impl, mode and kind.

    ``run(n)``: n bulk chunks / round trips / messages / handshakes; returns the
    application bytes moved (handshakes: n).  Call ``close()`` when done.
    """

    def __init__(self, impl: str, mode: str, kind: str, pki: _PKI, chunk: int = CHUNK) -> None:
        if mode not in MODES or kind not in KINDS:
            raise ValueError((impl, mode, kind))
        self.impl, self.mode, self.kind = impl, mode, kind
        cctx, sctx, self.note = _socket_contexts(impl, pki)
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



# --------------------------------------------------------------------------- measuring


def _ssl_handshakes(peer: _SslPeer) -> Callable[[int], int]:
    def run(n: int) -> int:
        for _ in range(n):
            peer.handshake()
        return n

    return run


def _ferro_handshakes(cc: ClientConfig, sc: ServerConfig) -> Callable[[int], int]:
    def run(n: int) -> int:
        for _ in range(n):
            _ferro_handshake(cc, sc)
        return n

    return run


def _rate(fn: Callable[[int], int], target: float) -> tuple[float, float]:
    """(calls/s, units/s) of ``fn(n)``, calibrated to run about ``target`` seconds."""
    fn(1)  # warm up
    n = 1
    while True:
        start = time.perf_counter()
        units = fn(n)
        elapsed = time.perf_counter() - start
        if elapsed >= target or n >= 1 << 24:
            return n / elapsed, units / elapsed
        n = max(n * 2, int(n * target / max(elapsed, 1e-6) * 1.1))


def run_bench(quick: bool, backends: list[str]) -> list[Result]:
    target = 0.08 if quick else 0.4
    pki = _PKI()
    impls: list[str] = [f"ferrotls-{b}" for b in backends] + ["ssl"]
    suites = ["AES-128-GCM"] if quick else list(SUITES)
    bulk_sizes = (1024, 16384) if quick else SIZES
    plan: list[tuple[str, str, Any]] = []
    for suite in suites:
        for size in bulk_sizes:
            for impl in impls:
                plan.append(("bulk", impl, (suite, size)))
    for impl in impls:
        plan.append(("small", impl, None))
    for impl in impls:
        plan.append(("handshake", impl, None))
    progress = Progress(len(plan))
    results: list[Result] = []
    ssl_peers: dict[str, _SslPeer] = {}
    for kind, impl, param in plan:
        progress.step(f"{kind} {impl} {param or ''}")
        backend = impl.removeprefix("ferrotls-")
        slow = backend == "python"
        t = target / 2 if slow else target
        if kind in ("bulk", "small"):
            suite, size = param if kind == "bulk" else ("AES-128-GCM", 64)
            code, ossl_name = SUITES[suite]
            note = ""
            if impl == "ssl":
                peer = ssl_peers.get(suite) or ssl_peers.setdefault(suite, _SslPeer(pki, ossl_name))
                if not peer.suite_ok:
                    note = "OpenSSL default suite"
                fn = peer.transfer(size)
            else:
                c, s = _ferro_handshake(*_ferro_configs(pki, backend, code))
                fn = _ferro_transfer(c, s, size)
            calls, units = _rate(fn, t)
            if kind == "bulk":
                results.append(Result(f"bulk {suite} {size} B writes", impl, units / 1e6, "MB/s",
                                      size, note))
            else:
                results.append(Result("64-byte messages AES-128-GCM", impl, calls, "msg/s", 64, note))
        else:
            hs: Callable[[int], int]
            if impl == "ssl":
                hs = _ssl_handshakes(_SslPeer(pki, None))
            else:
                hs = _ferro_handshakes(
                    *_ferro_configs(pki, backend, CipherSuite.TLS_AES_128_GCM_SHA256))
            calls, _ = _rate(hs, t)
            results.append(Result("full handshakes (X25519, ECDSA P-256)", impl, calls, "hs/s"))
    progress.finish()
    pki.tmp.cleanup()
    return results


def run_socket_bench(quick: bool, backends: list[str]) -> list[Result]:
    """127.0.0.1 sockets, blocking and asyncio: bulk, round trips, one-way messages,
    handshakes; every implementation in the same run (best of the runs)."""
    pki = _PKI()
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
        bench = _SocketBench(impl, mode, kind, pki)
        try:
            bench.run(max(1, n // 10))  # warm-up
            best = float("inf")
            units = 0
            for _ in range(reps):
                start = time.perf_counter()
                units = bench.run(n)
                best = min(best, time.perf_counter() - start)
        finally:
            bench.close()
        name = impl if impl == "ssl" else f"ferrotls-{impl}"
        results.append(Result(f"{mode} {label}", name, units * scale / best, unit, note=bench.note))
    progress.finish()
    pki.tmp.cleanup()
    return results


def print_table(results: list[Result], out: Any = None) -> None:
    out = out or sys.stdout
    impls = list(dict.fromkeys(r.impl for r in results))
    rows = list(dict.fromkeys(r.what for r in results))
    by = {(r.what, r.impl): r for r in results}
    head = f"{'measurement':40} {'unit':6}" + "".join(f" {i:>16}" for i in impls)
    ratios = [i for i in impls if i != "ssl"]
    head += "".join(f" {i.removeprefix('ferrotls-') + '/ssl':>12}" for i in ratios)
    if "ferrotls-native" in impls and "ferrotls-python" in impls:
        head += f" {'native/python':>14}"
    print(head, file=out)
    print("-" * len(head), file=out)
    notes: set[str] = set()
    for what in rows:
        unit = next(r.unit for r in results if r.what == what)
        line = f"{what:40} {unit:6}"
        for impl in impls:
            r = by.get((what, impl))
            line += f" {r.value:16,.1f}" if r else f" {'-':>16}"
            if r and r.note:
                notes.add(r.note)
        ref = by.get((what, "ssl"))
        for impl in ratios:
            r = by.get((what, impl))
            line += f" {r.value / ref.value:11.3g}x" if r and ref and ref.value else f" {'-':>12}"
        if "ferrotls-native" in impls and "ferrotls-python" in impls:
            n, p = by.get((what, "ferrotls-native")), by.get((what, "ferrotls-python"))
            line += f" {n.value / p.value:13.3g}x" if n and p and p.value else f" {'-':>14}"
        print(line, file=out)
    for note in sorted(notes):
        print(f"note: ssl rows use the {note} (ctypes SSL_CTX_set_ciphersuites unavailable)", file=out)


def write_chart(results: list[Result], path: str) -> bool:
    """Throughput vs write size (AES-128-GCM) and handshakes/s; False without matplotlib."""
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return False
    impls = list(dict.fromkeys(r.impl for r in results))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for impl in impls:
        pts = sorted((r.size, r.value) for r in results
                     if r.impl == impl and r.what.startswith("bulk AES-128-GCM"))
        if pts:
            ax1.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=impl)
    ax1.set_xscale("log", base=2)
    ax1.set_yscale("log")
    ax1.set_xlabel("write size (bytes)")
    ax1.set_ylabel("MB/s (AES-128-GCM, in memory)")
    ax1.set_title("Throughput vs record size")
    ax1.legend()
    hs = [(r.impl, r.value) for r in results if r.unit == "hs/s"]
    ax2.bar([h[0] for h in hs], [h[1] for h in hs], color=["C0", "C1", "C2", "C3"][: len(hs)])
    ax2.set_ylabel("handshakes/s")
    ax2.set_title("Full handshakes per second")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="fewer and shorter measurements")
    p.add_argument("--backend", choices=("native", "python"), action="append",
                   help="only this ferrotls backend (repeatable; default: every available one)")
    p.add_argument("--chart", metavar="FILE.png", help="also draw a chart (needs matplotlib)")
    p.add_argument("--modes", action="store_true",
                   help="bytes on the wire, round trips and handshakes/s per handshake mode "
                        "(full RSA/ECDSA/Ed25519 +-compression, HRR, resumed, 0-RTT, PSK)")
    p.add_argument("--sockets", action="store_true",
                   help="through 127.0.0.1 sockets instead (blocking TLSSocket and asyncio streams "
                        "vs ssl.SSLSocket and asyncio ssl=; server in a thread)")


def main(args: argparse.Namespace) -> int:
    """``ferrotls bench``."""
    available = available_backends()
    backends = args.backend or available
    missing = [b for b in backends if b not in available]
    if missing:
        print(f"ferrotls bench: backend not available: {', '.join(missing)}", file=sys.stderr)
        return 2
    if getattr(args, "modes", False):
        from .modes import print_mode_table, run_mode_bench

        print(f"ferrotls bench --modes: backends {', '.join(backends)} vs ssl "
              f"({ssl.OPENSSL_VERSION}); in memory, one thread", file=sys.stderr, flush=True)
        print_mode_table(run_mode_bench(args.quick, backends))
        return 0
    where = ("127.0.0.1 sockets, server thread, AES-128-GCM" if args.sockets
             else "in memory, one thread")
    print(f"ferrotls bench: ferrotls backends {', '.join(backends)} vs ssl "
          f"({ssl.OPENSSL_VERSION}); {where}", file=sys.stderr, flush=True)
    results = (run_socket_bench if args.sockets else run_bench)(args.quick, backends)
    print_table(results)
    if args.chart:
        if write_chart(results, args.chart):
            print(f"chart written to {args.chart}")
        else:
            print("chart skipped: matplotlib is not installed (pip install matplotlib)")
    return 0
