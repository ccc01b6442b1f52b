"""urllib.request, http.client and http.server over ferrotls (explicit and injected)."""

from __future__ import annotations

import http.client
import ssl
import urllib.request

import ferrotls
import pytest
from eco_support import PKI, Opened, client_context, https_server, openssl_client, server_context


def test_urllib_request(mode: str, pki: PKI, openssl_https: int, opened: Opened) -> None:
    ctx = client_context(mode, pki)
    with urllib.request.urlopen(f"https://127.0.0.1:{openssl_https}/u", context=ctx, timeout=10) as r:
        assert r.status == 200
        assert r.read() == b"hello /u"
    assert opened.client == 1


def test_urllib_request_default_context_injected(pki: PKI, openssl_https: int, opened: Opened,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """No context at all: urllib builds ssl's default one, which is ferrotls's when injected
    (SSL_CERT_FILE points it at the test CA, as it would at a private CA)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_pem))
    with ferrotls.injected():
        with urllib.request.urlopen(f"https://127.0.0.1:{openssl_https}/d", timeout=10) as r:
            assert r.read() == b"hello /d"
    assert opened.client == 1


def test_http_client(mode: str, pki: PKI, openssl_https: int, opened: Opened) -> None:
    conn = http.client.HTTPSConnection("127.0.0.1", openssl_https, context=client_context(mode, pki), timeout=10)
    try:
        for path in ("/a", "/b"):  # two requests on one keep-alive connection
            conn.request("GET", path)
            response = conn.getresponse()
            assert response.read() == f"hello {path}".encode()
        conn.request("POST", "/echo", body=b"x" * 100_000)
        assert conn.getresponse().read() == b"x" * 100_000
        assert isinstance(conn.sock, ferrotls.TLSSocket)
        assert conn.sock.version() == "TLSv1.3"
    finally:
        conn.close()
    assert opened.client == 1


def test_http_server(mode: str, pki: PKI, opened: Opened) -> None:
    """http.server's recipe: ctx.wrap_socket(httpd.socket, server_side=True); an OpenSSL client."""
    with https_server(server_context(mode, pki)) as port:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=openssl_client(pki), timeout=10)
        try:
            for path in ("/x", "/y"):
                conn.request("GET", path)
                assert conn.getresponse().read() == f"hello {path}".encode()
            conn.request("POST", "/", body=b"z" * 70_000)
            assert conn.getresponse().read() == b"z" * 70_000
            assert isinstance(conn.sock, ssl.SSLSocket) and conn.sock.version() == "TLSv1.3"
        finally:
            conn.close()
    assert opened.server == 1
