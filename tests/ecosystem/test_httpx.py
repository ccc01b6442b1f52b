"""httpx over ferrotls: the sync client (httpcore's socket backend, wrap_socket) and the
async one (anyio's TLSStream, wrap_bio), on asyncio and on uvloop."""

from __future__ import annotations

import httpx
import pytest
from eco_support import PKI, Opened, client_context, run_loop


def test_httpx_sync(mode: str, pki: PKI, openssl_https: int, opened: Opened) -> None:
    with httpx.Client(verify=client_context(mode, pki), timeout=10) as client:
        for path in ("/s1", "/s2"):
            r = client.get(f"https://127.0.0.1:{openssl_https}{path}")
            assert r.status_code == 200 and r.text == f"hello {path}"
        r = client.post(f"https://127.0.0.1:{openssl_https}/", content=b"h" * 80_000)
        assert r.content == b"h" * 80_000
    assert opened.client == 1


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_httpx_async(mode: str, loop_kind: str, pki: PKI, openssl_https: int, opened: Opened) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(verify=client_context(mode, pki), timeout=10) as client:
            for path in ("/a1", "/a2"):
                r = await client.get(f"https://127.0.0.1:{openssl_https}{path}")
                assert r.status_code == 200 and r.text == f"hello {path}"
            r = await client.post(f"https://127.0.0.1:{openssl_https}/", content=b"k" * 80_000)
            assert r.content == b"k" * 80_000

    run_loop(main(), loop_kind)
    assert opened.client == 1
