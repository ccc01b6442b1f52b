"""Under inject_into_ssl(), libraries that build their own default context -- no
context passed at all -- run on ferrotls.  SSL_CERT_FILE points the default
verify paths at the test CA (SSL_CERT_DIR at an empty directory), as it would at
a private CA; REQUESTS_CA_BUNDLE does the same for requests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import ferrotls
import httpx
import pytest
import requests
import urllib3
import websockets.sync.client
from eco_support import LOOPBACK, PKI, Opened, openssl_server
from test_websockets import sync_server


@pytest.fixture
def private_ca(pki: PKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_pem))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_pem))


def test_defaults_are_ferrotls(private_ca: None, openssl_https: int, opened: Opened, pki: PKI) -> None:
    url = f"https://{LOOPBACK}:{openssl_https}/"
    with ferrotls.injected():
        assert requests.get(url, timeout=10).text == "hello /"
        with urllib3.PoolManager() as pool:
            assert pool.request("GET", url).data == b"hello /"
        with httpx.Client() as client:
            assert client.get(url).text == "hello /"

        async def main() -> Any:
            async with httpx.AsyncClient() as client:
                assert (await client.get(url)).text == "hello /"
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                assert await response.text() == "hello /"

        asyncio.run(main())
        with sync_server(openssl_server(pki.server_pem)) as port:
            with websockets.sync.client.connect(f"wss://{LOOPBACK}:{port}/", open_timeout=10) as ws:
                ws.send("x")
                assert ws.recv(timeout=10) == "x"
    assert opened.client == 6
