"""HTTPS with the standard library's http.client and http.server over ferrotls.

The code in docs/https-example.md, run for real on 127.0.0.1: a ferrotls
``HTTPSConnection`` (http.client.HTTPConnection with a connect() that wraps the
socket) against http.server wrapped with ferrotls, and (@interop) against an
``ssl``-wrapped http.server, plus the stdlib HTTPS client against the ferrotls server.
"""

from __future__ import annotations

import http.client
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ferrotls
import pytest
from certs import TestCA

TIMEOUT = 10.0


# --------------------------------------------------------------------------- the example


class HTTPSConnection(http.client.HTTPConnection):
    """http.client over ferrotls: only connect() differs from HTTPConnection."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int | None = None, *, context: ferrotls.Context | None = None,
                 **kw: Any) -> None:
        super().__init__(host, port, **kw)
        self._context = context or ferrotls.create_default_context()

    def connect(self) -> None:
        super().connect()  # the TCP connection (and proxy tunnel, if any)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


class HTTPSServer(http.server.ThreadingHTTPServer):
    """http.server over ferrotls: accepted sockets are wrapped; the handshake runs
    in the request's thread (do_handshake_on_connect=False)."""

    def __init__(self, address: tuple[str, int], handler: Any, context: ferrotls.Context) -> None:
        super().__init__(address, handler)
        self.context = context

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        sock.settimeout(TIMEOUT)
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/stream":  # HTTP/1.0-style body: no length, ends at close_notify
            self.protocol_version = "HTTP/1.0"
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"streamed until close")
            self.close_connection = True
            return
        body = f"hello over {type(self.connection).__name__}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("https-pki")
    ca = TestCA("ferrotls https CA", key_index=31)
    leaf = ca.issue("localhost", key_index=32)
    (tmp / "ca.pem").write_bytes(ca.pem())
    (tmp / "cert.pem").write_bytes(leaf.chain_pem())
    (tmp / "key.pem").write_bytes(leaf.key_pem())
    return tmp


def running(server: http.server.HTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


@pytest.fixture
def ferro_server(pki: Path) -> Iterator[int]:
    ctx = ferrotls.create_default_context(ferrotls.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki / "cert.pem", pki / "key.pem")
    yield from running(HTTPSServer(("127.0.0.1", 0), Handler, ctx))


class SSLServer(http.server.ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], handler: Any, context: ssl.SSLContext) -> None:
        super().__init__(address, handler)
        self.socket = context.wrap_socket(self.socket, server_side=True)


@pytest.fixture
def ssl_server(pki: Path) -> Iterator[int]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / "cert.pem", pki / "key.pem")
    yield from running(SSLServer(("127.0.0.1", 0), Handler, ctx))


def client(pki: Path, port: int) -> HTTPSConnection:
    ctx = ferrotls.create_default_context(cafile=pki / "ca.pem")
    return HTTPSConnection("localhost", port, context=ctx, timeout=TIMEOUT)


# --------------------------------------------------------------------------- tests


def test_https_get_post_keepalive(pki: Path, ferro_server: int) -> None:
    conn = client(pki, ferro_server)
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.read() == b"hello over TLSSocket\n"
    assert isinstance(conn.sock, ferrotls.TLSSocket)
    first_sock = conn.sock
    body = bytes(range(256)) * 4096  # 1 MiB, many records
    conn.request("POST", "/echo", body=body)  # same connection (keep-alive)
    resp = conn.getresponse()
    assert resp.read() == body
    assert conn.sock is first_sock
    conn.close()


def test_https_body_ends_at_close_notify(pki: Path, ferro_server: int) -> None:
    conn = client(pki, ferro_server)
    conn.request("GET", "/stream")
    resp = conn.getresponse()
    assert resp.version == 10
    # read-until-EOF: the server's shutdown(SHUT_WR) sent close_notify, so no TruncationError
    assert resp.read() == b"streamed until close"
    conn.close()


def test_https_bad_name_fails(pki: Path, ferro_server: int) -> None:
    ctx = ferrotls.create_default_context(cafile=pki / "ca.pem")
    conn = HTTPSConnection("127.0.0.1", ferro_server, context=ctx, timeout=TIMEOUT)
    with pytest.raises(ferrotls.TLSError):
        conn.request("GET", "/")
    conn.close()


@pytest.mark.interop
def test_ferrotls_client_against_ssl_http_server(pki: Path, ssl_server: int) -> None:
    conn = client(pki, ssl_server)
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert resp.read() == b"hello over SSLSocket\n"
    conn.request("POST", "/", body=b"x" * 100_000)
    assert conn.getresponse().read() == b"x" * 100_000
    conn.close()


@pytest.mark.interop
def test_stdlib_https_client_against_ferrotls_server(pki: Path, ferro_server: int) -> None:
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    conn = http.client.HTTPSConnection("localhost", ferro_server, context=ctx, timeout=TIMEOUT)
    conn.request("GET", "/")
    assert conn.getresponse().read() == b"hello over TLSSocket\n"
    conn.request("GET", "/stream")
    assert conn.getresponse().read() == b"streamed until close"
    conn.close()


def test_connect_helper_speaks_http(pki: Path, ferro_server: int) -> None:
    ctx = ferrotls.create_default_context(cafile=pki / "ca.pem")
    with ferrotls.connect("127.0.0.1", ferro_server, context=ctx, server_hostname="localhost",
                          timeout=TIMEOUT) as tls:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := tls.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"hello over TLSSocket\n")
