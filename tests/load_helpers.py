"""Shared pieces of tests/test_load.py and tests/test_faults.py.

Everything is on 127.0.0.1.  Clients are asyncio tasks using
``ferrotls.asyncio.open_connection``; the plaintext echo backend is an asyncio
server in the same loop.  Contexts are X25519-only and the clients keep no
session cache (every handshake is a full one).

Process measurements come from Linux ``/proc``: :func:`rss_kib` (VmRSS of
``/proc/PID/status``) and :func:`fd_count` (entries of ``/proc/PID/fd``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import os
import random
import re
import resource
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ferrotls
import ferrotls.asyncio as fa
from certs import TestCA
from ferrotls import Context, Purpose

LOOPBACK = "127.0.0.1"

#: ``ferrotls gateway`` logs one line per finished connection.
GATEWAY_LINE = re.compile(rb"ferrotls gateway: 127\.0\.0\.1:\d+ -> [^\n]* close=[^\n]*\n")


# --------------------------------------------------------------------------- PKI and contexts


@dataclass
class Pki:
    ca: Path
    cert: Path
    key: Path


def make_pki(tmp: Path) -> Pki:
    """A CA and a P-256 leaf for localhost / 127.0.0.1, written to ``tmp``."""
    ca = TestCA("ferrotls load CA", key_kind="p256", key_index=31)
    leaf = ca.issue("localhost", "127.0.0.1", key_kind="p256", key_index=32)
    pki = Pki(tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem")
    pki.ca.write_bytes(ca.pem())
    pki.cert.write_bytes(leaf.chain_pem())
    pki.key.write_bytes(leaf.key_pem())
    return pki


def server_context(pki: Pki) -> Context:
    """X25519 only, no session tickets (nothing to resume)."""
    ctx = ferrotls.create_default_context(Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki.cert, pki.key)
    ctx.set_groups(["x25519"])
    ctx.set_options(ticket_count=0)
    return ctx


def client_context(pki: Pki) -> Context:
    """X25519 only; no session cache, so every connection is a full handshake."""
    ctx = ferrotls.create_default_context(cafile=pki.ca)
    ctx.set_groups(["x25519"])
    return ctx


# --------------------------------------------------------------------------- process measurements


def rss_kib(pid: int | None = None) -> int:
    """VmRSS of a process in KiB (``/proc/PID/status``)."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert m, status
    return int(m.group(1))


def fd_count(pid: int | None = None) -> int:
    """Open file descriptors of a process (``/proc/PID/fd``)."""
    return len(os.listdir(f"/proc/{pid or os.getpid()}/fd"))


def raise_fd_limit(needed: int) -> None:
    """Raise RLIMIT_NOFILE's soft limit to at least ``needed`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def set_rst_on_close(sock: socket.socket) -> None:
    """SO_LINGER 0: close() sends a RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# --------------------------------------------------------------------------- asyncio pieces


def other_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def settle(rounds: int = 5) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0.01)


async def wait_until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def echo_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo until EOF (close_notify, or FIN over plain TCP), then close."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, ferrotls.TLSError):
        writer.transport.abort()
        return
    writer.close()
    with contextlib.suppress(OSError, ferrotls.TLSError):
        await writer.wait_closed()


class PlainEchoBackend:
    """A plaintext asyncio echo server on 127.0.0.1:0 in the running loop."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0
        self.active = 0
        self.total = 0

    async def start(self) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.active += 1
            self.total += 1
            try:
                await echo_handler(reader, writer)
            finally:
                self.active -= 1

        self.server = await asyncio.start_server(handle, LOOPBACK, 0, backlog=1024)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


# --------------------------------------------------------------------------- the load run


@dataclass
class LoadResult:
    connections: int
    peak_open: int
    bytes_each_way: int
    duration: float
    handshake_time: float
    errors: list[str] = field(default_factory=list)


async def load_run(
    port: int,
    ctx: Context,
    *,
    connections: int,
    min_size: int,
    max_size: int,
    wave: int = 100,
    seed: int = 0,
    timeout: float = 120.0,
) -> LoadResult:
    """``connections`` TLS clients; all open at once, then each echoes a random payload.

    Handshakes run ``wave`` at a time (the listen backlog and two cores), but
    no connection closes before every one of them is open.  Each client sends
    its payload in uneven pieces while reading the echo back and compares
    SHA-256 digests and lengths; the payload ends with close_notify (write_eof),
    and the echo must end with the peer's close_notify.
    """
    rng = random.Random(seed)
    sizes = [rng.randint(min_size, max_size) for _ in range(connections)]
    all_open = asyncio.Event()
    opened = 0
    open_now = 0
    peak = 0
    errors: list[str] = []
    started = time.monotonic()
    handshakes_done = 0.0

    async def client(i: int, ready: asyncio.Event) -> None:
        nonlocal opened, open_now, peak
        payload = random.Random(seed * 1_000_003 + i).randbytes(sizes[i])
        try:
            reader, writer = await fa.open_connection(
                LOOPBACK, port, context=ctx, server_hostname="localhost",
                ssl_handshake_timeout=60.0, ssl_shutdown_timeout=10.0)
        except Exception as exc:  # noqa: BLE001 - collected and reported
            errors.append(f"client {i}: connect: {type(exc).__name__}: {exc}")
            ready.set()
            return
        opened += 1
        open_now += 1
        peak = max(peak, open_now)
        ready.set()
        try:
            await all_open.wait()

            async def send() -> None:
                view = memoryview(payload)
                pos = 0
                step = 1000 + (i * 37) % 9000
                while pos < len(view):
                    writer.write(view[pos : pos + step])
                    pos += step
                    await writer.drain()
                writer.write_eof()

            sender = asyncio.create_task(send())
            digest = hashlib.sha256()
            got = 0
            while chunk := await reader.read(65536):
                digest.update(chunk)
                got += len(chunk)
            await sender
            if got != len(payload) or digest.digest() != hashlib.sha256(payload).digest():
                errors.append(f"client {i}: {got} of {len(payload)} bytes back, digest "
                              f"{'ok' if digest.digest() == hashlib.sha256(payload).digest() else 'differs'}")
        except Exception as exc:  # noqa: BLE001
            errors.append(f"client {i}: transfer: {type(exc).__name__}: {exc}")
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"client {i}: close: {type(exc).__name__}: {exc}")
            open_now -= 1

    async def main() -> None:
        nonlocal handshakes_done
        tasks: list[asyncio.Task[None]] = []
        for start in range(0, connections, wave):
            readies = []
            for i in range(start, min(start + wave, connections)):
                ready = asyncio.Event()
                readies.append(ready)
                tasks.append(asyncio.create_task(client(i, ready)))
            await asyncio.gather(*(r.wait() for r in readies))
        handshakes_done = time.monotonic() - started
        all_open.set()
        await asyncio.gather(*tasks)

    async with asyncio.timeout(timeout):
        await main()
    return LoadResult(connections, peak, sum(sizes), time.monotonic() - started,
                      handshakes_done, errors)


def run_loop(fn: Callable[[], Awaitable[Any]], bound: float) -> Any:
    """Run ``fn()`` on a fresh event loop, bounded by ``bound`` seconds."""

    async def bounded() -> Any:
        async with asyncio.timeout(bound):
            return await fn()

    with asyncio.Runner() as r:
        result = r.run(bounded())
    gc.collect()
    return result
