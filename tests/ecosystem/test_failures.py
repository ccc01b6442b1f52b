"""The failure cases raise what the libraries raise over the ssl module.

Each client runs against five bad servers (unknown CA, wrong host, expired
certificate, a TLS 1.2-only server, a TCP reset after the ClientHello), once with
an OpenSSL context (ssl's own, TLS 1.3 only like ferrotls) and once with
ferrotls's (explicit / injected).  The exception the *library* raises must be of
the same class both ways, and so must the ssl error inside it
(SSLCertVerificationError, SSLError, ConnectionResetError ...).
"""

from __future__ import annotations

import asyncio
import http.client
import ssl
import urllib.request
from collections.abc import Callable
from typing import Any

import aiohttp
import ferrotls
import httpx
import pytest
import requests
import requests.adapters
import urllib3
import websockets.asyncio.client
import websockets.sync.client
from eco_support import (
    BAD_CASES,
    LOOPBACK,
    PKI,
    bad_server,
    chain,
    ferro_failing_client,
    openssl_failing_client,
    run_loop,
    ssl_kind,
)

Client = Callable[[int, Any], None]


def _urllib(port: int, ctx: Any) -> None:
    urllib.request.urlopen(f"https://{LOOPBACK}:{port}/", context=ctx, timeout=10)


def _http_client(port: int, ctx: Any) -> None:
    conn = http.client.HTTPSConnection(LOOPBACK, port, context=ctx, timeout=10)
    try:
        conn.request("GET", "/")
    finally:
        conn.close()


class _Adapter(requests.adapters.HTTPAdapter):
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self.ctx
        super().init_poolmanager(*args, **kwargs)


def _requests(port: int, ctx: Any) -> None:
    with requests.Session() as session:
        session.mount("https://", _Adapter(ctx))
        session.get(f"https://{LOOPBACK}:{port}/", timeout=10)


def _urllib3(port: int, ctx: Any) -> None:
    with urllib3.PoolManager(ssl_context=ctx, retries=False) as pool:
        pool.request("GET", f"https://{LOOPBACK}:{port}/", timeout=10)


def _httpx(port: int, ctx: Any) -> None:
    with httpx.Client(verify=ctx, timeout=10) as client:
        client.get(f"https://{LOOPBACK}:{port}/")


def _httpx_async(port: int, ctx: Any) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(verify=ctx, timeout=10) as client:
            await client.get(f"https://{LOOPBACK}:{port}/")

    run_loop(main())


def _aiohttp(port: int, ctx: Any) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            await session.get(f"https://{LOOPBACK}:{port}/", ssl=ctx)

    run_loop(main())


def _websockets_sync(port: int, ctx: Any) -> None:
    websockets.sync.client.connect(f"wss://{LOOPBACK}:{port}/", ssl=ctx, open_timeout=10).close()


def _websockets_asyncio(port: int, ctx: Any) -> None:
    async def main() -> None:
        async with websockets.asyncio.client.connect(f"wss://{LOOPBACK}:{port}/", ssl=ctx, open_timeout=10):
            pass

    run_loop(main())


def _asyncio(loop_kind: str) -> Client:
    def client(port: int, ctx: Any) -> None:
        async def main() -> None:
            _, writer = await asyncio.open_connection(LOOPBACK, port, ssl=ctx)
            writer.close()

        run_loop(main(), loop_kind)

    return client


CLIENTS: dict[str, Client] = {
    "urllib.request": _urllib,
    "http.client": _http_client,
    "requests": _requests,
    "urllib3": _urllib3,
    "httpx": _httpx,
    "httpx-async": _httpx_async,
    "aiohttp": _aiohttp,
    "websockets-sync": _websockets_sync,
    "websockets-asyncio": _websockets_asyncio,
    "asyncio": _asyncio("asyncio"),
    "asyncio-uvloop": _asyncio("uvloop"),
}

#: What the ssl error inside must be, per case (the same for OpenSSL and ferrotls).
EXPECTED_KIND: dict[str, type[BaseException]] = {
    "unknown_ca": ssl.SSLCertVerificationError,
    "wrong_host": ssl.SSLCertVerificationError,
    "expired": ssl.SSLCertVerificationError,
    "tls12_only": ssl.SSLError,
    "reset": ConnectionResetError,
}


def failure(client: Client, port: int, ctx: Any) -> BaseException:
    try:
        client(port, ctx)
    except Exception as exc:  # noqa: BLE001 - the outcome under test
        return exc
    raise AssertionError("the handshake was expected to fail")


@pytest.mark.parametrize("case", BAD_CASES)
@pytest.mark.parametrize("name", list(CLIENTS))
def test_same_exception_as_ssl(name: str, case: str, mode: str, pki: PKI) -> None:
    client = CLIENTS[name]
    with bad_server(case, pki) as port:
        reference = failure(client, port, openssl_failing_client(case, pki))
        ours = failure(client, port, ferro_failing_client(mode, pki))
    if type(reference).__module__ == "ssl" or isinstance(reference, OSError) and type(reference).__module__ == "builtins":
        # raised as is (http.client, asyncio, websockets): ours is a subclass (ferrotls.UnknownCA ...)
        assert isinstance(ours, type(reference)), (chain(ours), chain(reference))
    else:  # the library's own class (requests.exceptions.SSLError, httpx.ConnectError ...)
        assert type(ours) is type(reference), (chain(ours), chain(reference))
    assert ssl_kind(ours) is ssl_kind(reference) is EXPECTED_KIND[case], (chain(ours), chain(reference))
    if EXPECTED_KIND[case] is ssl.SSLCertVerificationError:
        # the innermost one (aiohttp's ClientConnectorCertificateError is a CertificateError too)
        ferro_error = [e for e in chain(ours) if isinstance(e, ssl.SSLCertVerificationError)][-1]
        assert isinstance(ferro_error, ferrotls.TLSError)
        openssl_error = [e for e in chain(reference) if isinstance(e, ssl.SSLCertVerificationError)][-1]
        assert ferro_error.verify_code == openssl_error.verify_code, (ferro_error, openssl_error)
        assert ferro_error.reason == openssl_error.reason == "CERTIFICATE_VERIFY_FAILED"


def test_tls12_only_server(pki: PKI) -> None:
    """A TLS 1.2-only server: the default context speaks TLS 1.2 with it, as ssl's
    does; with minimum_version TLSv1_3 the handshake fails on its protocol_version
    alert."""
    import http.client

    with bad_server("tls12_only", pki) as port:
        ctx = ferrotls.create_default_context(cafile=pki.ca_pem)
        conn = http.client.HTTPSConnection(LOOPBACK, port, context=ctx, timeout=10)
        conn.connect()
        assert conn.sock.version() == "TLSv1.2"
        assert conn.sock.cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"
        conn.close()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        exc = failure(_http_client, port, ctx)
    assert isinstance(exc, ssl.SSLError)
    assert "protocol_version" in str(exc)
