"""aiohttp client and server over ferrotls (explicit and injected), each against OpenSSL."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from eco_support import LOOPBACK, PKI, Opened, client_context, openssl_client, run_loop, server_context


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_aiohttp_client(mode: str, loop_kind: str, pki: PKI, openssl_https: int, opened: Opened) -> None:
    async def main() -> None:
        ctx = client_context(mode, pki)
        async with aiohttp.ClientSession() as session:
            for path in ("/c1", "/c2"):
                async with session.get(f"https://127.0.0.1:{openssl_https}{path}", ssl=ctx) as r:
                    assert r.status == 200 and await r.text() == f"hello {path}"
            async with session.post(f"https://127.0.0.1:{openssl_https}/", data=b"m" * 90_000, ssl=ctx) as r:
                assert await r.read() == b"m" * 90_000

    run_loop(main(), loop_kind)
    assert opened.client == 1


async def _hello(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(body=body or f"hello {request.path}".encode())


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_aiohttp_server(mode: str, loop_kind: str, pki: PKI, opened: Opened) -> None:
    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", _hello)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, LOOPBACK, 0, ssl_context=server_context(mode, pki))
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            openssl: Any = openssl_client(pki)
            async with aiohttp.ClientSession() as session:
                for path in ("/s1", "/s2"):
                    async with session.get(f"https://127.0.0.1:{port}{path}", ssl=openssl) as r:
                        assert await r.text() == f"hello {path}"
                async with session.post(f"https://127.0.0.1:{port}/", data=b"n" * 90_000, ssl=openssl) as r:
                    assert await r.read() == b"n" * 90_000
        finally:
            await runner.cleanup()

    run_loop(main(), loop_kind)
    assert opened.server == 1
