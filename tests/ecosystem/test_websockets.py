"""websockets over ferrotls: the sync and asyncio implementations, client and server,
each against the other implementation running on OpenSSL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import websockets.asyncio.client
import websockets.asyncio.server
import websockets.sync.client
import websockets.sync.server
from eco_support import LOOPBACK, PKI, Opened, client_context, openssl_client, openssl_server, run_loop, server_context


def _echo_sync(ws: Any) -> None:
    for message in ws:
        ws.send(message)


@contextmanager
def sync_server(ctx: Any) -> Iterator[int]:
    server = websockets.sync.server.serve(_echo_sync, LOOPBACK, 0, ssl=ctx)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.socket.getsockname()[1]
    finally:
        server.shutdown()
        thread.join(10)


def _talk_sync(uri: str, ctx: Any) -> None:
    with websockets.sync.client.connect(uri, ssl=ctx, open_timeout=10, close_timeout=5) as ws:
        for message in ("hi", b"\x00" * 70_000, "bye"):
            ws.send(message)
            assert ws.recv(timeout=10) == message


def test_websockets_sync_client(mode: str, pki: PKI, opened: Opened) -> None:
    with sync_server(openssl_server(pki.server_pem)) as port:
        _talk_sync(f"wss://127.0.0.1:{port}/", client_context(mode, pki))
    assert opened.client == 1


def test_websockets_sync_server(mode: str, pki: PKI, opened: Opened) -> None:
    with sync_server(server_context(mode, pki)) as port:
        _talk_sync(f"wss://127.0.0.1:{port}/", openssl_client(pki))
    assert opened.server == 1


async def _echo_async(ws: Any) -> None:
    async for message in ws:
        await ws.send(message)


async def _talk_async(uri: str, ctx: Any) -> None:
    async with websockets.asyncio.client.connect(uri, ssl=ctx, open_timeout=10, close_timeout=5) as ws:
        for message in ("hi", b"\x01" * 70_000, "bye"):
            await ws.send(message)
            assert await ws.recv() == message


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_websockets_asyncio_client(mode: str, loop_kind: str, pki: PKI, opened: Opened) -> None:
    async def main() -> None:
        async with websockets.asyncio.server.serve(_echo_async, LOOPBACK, 0, ssl=openssl_server(pki.server_pem)) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            await _talk_async(f"wss://127.0.0.1:{port}/", client_context(mode, pki))

    run_loop(main(), loop_kind)
    assert opened.client == 1


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_websockets_asyncio_server(mode: str, loop_kind: str, pki: PKI, opened: Opened) -> None:
    async def main() -> None:
        async with websockets.asyncio.server.serve(_echo_async, LOOPBACK, 0, ssl=server_context(mode, pki)) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            await _talk_async(f"wss://127.0.0.1:{port}/", openssl_client(pki))

    run_loop(main(), loop_kind)
    assert opened.server == 1
