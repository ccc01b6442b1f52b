"""requests and urllib3 over ferrotls (explicit and injected), against an OpenSSL server."""

from __future__ import annotations

import ssl
from typing import Any

import ferrotls
import requests
import requests.adapters
import urllib3
from eco_support import PKI, Opened, client_context, openssl_client


class ContextAdapter(requests.adapters.HTTPAdapter):
    """requests' documented way to use a given SSLContext."""

    def __init__(self, context: Any) -> None:
        self.context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self.context
        super().init_poolmanager(*args, **kwargs)


def test_urllib3(mode: str, pki: PKI, openssl_https: int, opened: Opened) -> None:
    if mode == "explicit":
        pool = urllib3.PoolManager(ssl_context=client_context(mode, pki))
    else:  # urllib3 builds its own context (create_urllib3_context) and loads the CA
        pool = urllib3.PoolManager(ca_certs=str(pki.ca_pem))
    with pool:
        for path in ("/1", "/2"):
            r = pool.request("GET", f"https://127.0.0.1:{openssl_https}{path}", timeout=10)
            assert r.status == 200 and r.data == f"hello {path}".encode()
        r = pool.request("POST", f"https://127.0.0.1:{openssl_https}/p", body=b"q" * 50_000, timeout=10)
        assert r.data == b"q" * 50_000
    assert opened.client == 1  # one pooled connection


def test_requests(mode: str, pki: PKI, openssl_https: int, opened: Opened) -> None:
    with requests.Session() as session:
        if mode == "explicit":
            session.mount("https://", ContextAdapter(client_context(mode, pki)))
            verify: Any = True
        else:
            verify = str(pki.ca_pem)
        for path in ("/r1", "/r2", "/r3"):
            r = session.get(f"https://127.0.0.1:{openssl_https}{path}", verify=verify, timeout=10)
            assert r.status_code == 200 and r.text == f"hello {path}"
        r = session.post(f"https://127.0.0.1:{openssl_https}/", data=b"w" * 40_000, verify=verify, timeout=10)
        assert r.content == b"w" * 40_000
    assert opened.client == 1


def test_requests_does_not_grow_the_ca_list(pki: PKI, openssl_https: int, monkeypatch: Any) -> None:
    """With a shared context, requests loads its CA bundle into it for every new
    connection; the store keeps each certificate once, as ssl's does (it grew
    145 -> 289 -> 433 ... before)."""
    calls = []
    real = ferrotls.Context.load_verify_locations

    def spy(self: ferrotls.Context, *args: Any, **kwargs: Any) -> None:
        calls.append(args or kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ferrotls.Context, "load_verify_locations", spy)
    ferro = ferrotls.Context(ssl.PROTOCOL_TLS_CLIENT)
    openssl = openssl_client(pki)
    for ctx in (ferro, openssl):
        with requests.Session() as session:
            session.mount("https://", ContextAdapter(ctx))
            for i in range(4):
                r = session.get(f"https://127.0.0.1:{openssl_https}/{i}", verify=str(pki.ca_pem),
                                timeout=10, headers={"Connection": "close"})
                assert r.status_code == 200
    assert len(calls) >= 4, calls  # requests did load the bundle on every connection
    assert ferro.cert_store_stats() == openssl.cert_store_stats() == {"x509": 1, "crl": 0, "x509_ca": 1}
