"""asyncio's own TLS (``ssl=``, sslproto over ``wrap_bio``) with the ssl module and with
ferrotls, side by side: the same server and client code, only the contexts differ.

Group ``asyncio-ssl-bulk-{loop}`` (loop: asyncio, uvloop), ``extra_info["impl"]``
``ssl`` or ``ferrotls``.  One connection; the client writes n x 64 KiB (after an
8-byte length) with ``drain()`` after each write; the server, an
``asyncio.start_server(ssl=...)`` on its own event loop in a thread, reads it all
with ``reader.read(256 KiB)`` and answers one byte.  ``extra_info["units"]`` is the
application bytes moved per call (MB/s = units / median / 1e6).

Contexts: ``ferrotls.apps.bench.sockets.socket_contexts`` -- TLS 1.3, AES-128-GCM (``ssl`` via
SSL_CTX_set_ciphersuites through ctypes on 3.11), X25519, ECDSA P-256, no tickets.
For ferrotls they are :class:`ferrotls.Context` objects handed to asyncio exactly
where the ssl ones go, so asyncio's sslproto drives a ferrotls ``TLSObject``.

``python benches/bench_asyncio_ssl.py`` prints the same comparison with the
implementations alternated round by round (best of N).
"""

from __future__ import annotations

import asyncio
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import load
from ferrotls.apps.bench import HOST
from ferrotls.apps.bench.sockets import socket_contexts
from sockets import make_pki

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

CHUNK = 64 * 1024
N = 1024  # 64 MiB per call
IMPLS = ("ssl", "ferrotls")
LOOPS = ("asyncio", "uvloop")
_HDR = struct.Struct("!Q")


def _new_loop(loop_kind: str) -> asyncio.AbstractEventLoop:
    if loop_kind == "uvloop":
        if uvloop is None:
            pytest.skip("uvloop is not installed")
        return uvloop.new_event_loop()  # type: ignore[no-any-return]
    return asyncio.new_event_loop()


async def _sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read a length-prefixed upload, answer one byte; repeat until EOF."""
    try:
        while header := await reader.read(_HDR.size):
            if len(header) < _HDR.size:
                header += await reader.readexactly(_HDR.size - len(header))
            (left,) = _HDR.unpack(header)
            while left:
                data = await reader.read(min(left, 256 * 1024))
                if not data:
                    return
                left -= len(data)
            writer.write(b"k")
            await writer.drain()
    finally:
        writer.close()


class AsyncioBulk:
    """An ``asyncio.start_server(ssl=server_ctx)`` in a thread and one
    ``asyncio.open_connection(ssl=client_ctx)`` client; ``run(n)`` uploads n chunks."""

    def __init__(self, impl: str, loop_kind: str, pki: Any) -> None:
        client_ctx, server_ctx, self.note = socket_contexts("ssl" if impl == "ssl" else "native", pki)
        self.server_loop = _new_loop(loop_kind)
        self.thread = threading.Thread(target=self.server_loop.run_forever, daemon=True)
        self.thread.start()

        async def start() -> Any:
            return await asyncio.start_server(_sink, "127.0.0.1", 0, ssl=server_ctx)

        self.server = asyncio.run_coroutine_threadsafe(start(), self.server_loop).result(10)
        port = self.server.sockets[0].getsockname()[1]
        self.loop = _new_loop(loop_kind)
        self.reader, self.writer = self.loop.run_until_complete(
            asyncio.open_connection("127.0.0.1", port, ssl=client_ctx, server_hostname=HOST))
        self.ssl_object = self.writer.get_extra_info("ssl_object")
        self.chunk = bytes(CHUNK)

    async def _upload(self, n: int) -> int:
        w = self.writer
        w.write(_HDR.pack(n * CHUNK))
        write, drain, chunk = w.write, w.drain, self.chunk
        for _ in range(n):
            write(chunk)
            await drain()
        if await self.reader.readexactly(1) != b"k":
            raise RuntimeError("no answer from the server")
        return n * CHUNK

    def run(self, n: int) -> int:
        return self.loop.run_until_complete(self._upload(n))

    def close(self) -> None:
        self.writer.close()
        try:
            self.loop.run_until_complete(asyncio.wait_for(self.writer.wait_closed(), 5))
        except Exception:  # noqa: BLE001
            pass
        self.loop.close()

        async def stop() -> None:
            self.server.close()
            await asyncio.wait_for(self.server.wait_closed(), 5)

        try:
            asyncio.run_coroutine_threadsafe(stop(), self.server_loop).result(10)
        except Exception:  # noqa: BLE001
            pass
        self.server_loop.call_soon_threadsafe(self.server_loop.stop)
        self.thread.join(5)
        self.server_loop.close()


@pytest.fixture(scope="module")
def pki() -> Any:
    return make_pki()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("loop_kind", LOOPS)
def test_asyncio_ssl_bulk(benchmark: Any, pki: Any, loop_kind: str, impl: str) -> None:
    if impl == "ferrotls":
        load("native")
    bench = AsyncioBulk(impl, loop_kind, pki)
    try:
        expected = "TLSObject" if impl == "ferrotls" else "SSLObject"
        assert type(bench.ssl_object).__name__ == expected
        bench.run(N // 8)  # warm-up
        benchmark.group = f"asyncio-ssl-bulk-{loop_kind}"
        benchmark.extra_info.update(impl=impl, loop=loop_kind, units=N * CHUNK, unit="MB/s",
                                    note=bench.note)
        result = benchmark.pedantic(bench.run, args=(N,), rounds=5, iterations=1, warmup_rounds=0)
        assert result == N * CHUNK
    finally:
        bench.close()


def main() -> None:
    """Alternate the implementations round by round and print the best MB/s of each."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    pki = make_pki()
    for loop_kind in LOOPS:
        if loop_kind == "uvloop" and uvloop is None:
            continue
        benches = {impl: AsyncioBulk(impl, loop_kind, pki) for impl in IMPLS}
        best = dict.fromkeys(IMPLS, float("inf"))
        try:
            for b in benches.values():
                b.run(N // 8)
            for _ in range(rounds):
                for impl, b in benches.items():
                    t = time.perf_counter()
                    b.run(N)
                    best[impl] = min(best[impl], time.perf_counter() - t)
        finally:
            for b in benches.values():
                b.close()
        rates = {impl: N * CHUNK / best[impl] / 1e6 for impl in IMPLS}
        print(f"{loop_kind:8s} " + "  ".join(f"{impl} {rate:7.0f} MB/s" for impl, rate in rates.items())
              + f"  ferrotls/ssl {rates['ferrotls'] / rates['ssl']:.2f}x")


if __name__ == "__main__":
    main()
