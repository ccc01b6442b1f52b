"""Shared pieces of the ecosystem tests: certificates, servers on 127.0.0.1, the two modes
(the fixtures are registered by conftest.py).

Every client and server is run twice (the ``mode`` fixture):

* ``explicit`` -- a :class:`ferrotls.Context` is handed to the library where it
  takes an ``ssl.SSLContext``;
* ``injected`` -- the library makes its own context with the ``ssl`` module,
  under :func:`ferrotls.injected` (``inject_into_ssl``).

Either way the test checks that ferrotls carried the connection: the
``opened`` fixture counts the connections ferrotls contexts opened.  The other
end is the real ``ssl`` module (OpenSSL), made with the original class, so a
passing test is an interop test against OpenSSL too.

Only the installed package, the ``test`` extra and these files are needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http.server
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ferrotls
import ferrotls.inject
import pytest
import trustme

_ORIGINAL_SSLCONTEXT = ferrotls.inject.STDLIB_SSLCONTEXT
LOOPBACK = "127.0.0.1"
TIMEOUT = 10.0

try:
    import uvloop
except ImportError:  # pragma: no cover - the test extra installs it on Linux
    uvloop = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ecosystem/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.ecosystem)


# --------------------------------------------------------------------------- certificates


@dataclass
class PKI:
    ca_pem: Path
    server_pem: Path
    """chain + key for 127.0.0.1 and localhost"""
    expired_pem: Path
    wrong_host_pem: Path
    """valid, but only for other.test"""
    unknown_ca_pem: Path
    """valid for 127.0.0.1, issued by a CA the clients do not trust"""
    client_pem: Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    tmp = tmp_path_factory.mktemp("ecosystem-pki")
    ca, other_ca = trustme.CA(), trustme.CA()
    now = datetime.datetime.now(datetime.timezone.utc)
    issued = {
        "server": ca.issue_cert(LOOPBACK, "localhost"),
        "expired": ca.issue_cert(
            LOOPBACK, "localhost", not_before=now - datetime.timedelta(days=30),
            not_after=now - datetime.timedelta(days=1),
        ),
        "wrong_host": ca.issue_cert("other.test"),
        "unknown_ca": other_ca.issue_cert(LOOPBACK, "localhost"),
        "client": ca.issue_cert("client.test"),
    }
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    paths = {}
    for name, leaf in issued.items():
        path = tmp / f"{name}.pem"
        leaf.private_key_and_cert_chain_pem.write_to_path(str(path))
        paths[name + "_pem"] = path
    return PKI(ca_pem=tmp / "ca.pem", **paths)


# --------------------------------------------------------------------------- contexts


def openssl_client(pki: PKI, **kw: Any) -> ssl.SSLContext:
    """A real ``ssl`` (OpenSSL) client context trusting the test CA."""
    ctx = _ORIGINAL_SSLCONTEXT(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.ca_pem)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def openssl_server(cert: Path, **kw: Any) -> ssl.SSLContext:
    ctx = _ORIGINAL_SSLCONTEXT(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def ferro_client(pki: PKI) -> ferrotls.Context:
    return ferrotls.create_default_context(cafile=pki.ca_pem)


def ferro_server(pki: PKI) -> ferrotls.Context:
    ctx = ferrotls.create_default_context(ferrotls.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki.server_pem)
    return ctx


@pytest.fixture(params=["explicit", "injected"])
def mode(request: pytest.FixtureRequest) -> Iterator[str]:
    """``explicit``: pass a ferrotls Context; ``injected``: under ferrotls.injected()."""
    if request.param == "injected":
        with ferrotls.injected():
            assert issubclass(ssl.SSLContext, ferrotls.Context)
            yield "injected"
        assert ssl.SSLContext is _ORIGINAL_SSLCONTEXT
    else:
        yield "explicit"


@dataclass
class Opened:
    client: int = 0
    server: int = 0


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Opened:
    """Counts the connections ferrotls contexts open (proof that ferrotls ran them)."""
    counts = Opened()
    real = ferrotls.Context.connection_for

    def counting(self: ferrotls.Context, owner: Any, server_side: bool, *args: Any) -> Any:
        if server_side:
            counts.server += 1
        else:
            counts.client += 1
        return real(self, owner, server_side, *args)

    monkeypatch.setattr(ferrotls.Context, "connection_for", counting)
    return counts


def client_context(mode: str, pki: PKI) -> ssl.SSLContext:
    """The context a client would build: ferrotls's (explicit) or ssl's own (injected)."""
    if mode == "explicit":
        return ferro_client(pki)
    ctx = ssl.create_default_context(cafile=str(pki.ca_pem))
    assert isinstance(ctx, ferrotls.Context)
    return ctx


def server_context(mode: str, pki: PKI) -> ssl.SSLContext:
    if mode == "explicit":
        return ferro_server(pki)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki.server_pem)
    assert isinstance(ctx, ferrotls.Context)
    return ctx


# --------------------------------------------------------------------------- servers


class Handler(http.server.BaseHTTPRequestHandler):
    """GET -> "hello <path>"; POST echoes the body."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = f"hello {self.path}".encode()
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


@contextlib.contextmanager
def https_server(context: ssl.SSLContext) -> Iterator[int]:
    """http.server on 127.0.0.1:0 with the usual recipe: the listening socket wrapped."""
    httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(TIMEOUT)


@pytest.fixture(scope="module")
def openssl_https(pki: PKI) -> Iterator[int]:
    """An OpenSSL-backed HTTPS server (made before any injection)."""
    with https_server(openssl_server(pki.server_pem)) as port:
        yield port


# --------------------------------------------------------------------------- bad servers

BAD_CASES = ("unknown_ca", "wrong_host", "expired", "tls12_only", "reset")


@contextlib.contextmanager
def bad_server(case: str, pki: PKI) -> Iterator[int]:
    """A server that fails the client's handshake in the way ``case`` says."""
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    if case != "reset":
        cert = {"unknown_ca": pki.unknown_ca_pem, "wrong_host": pki.wrong_host_pem,
                "expired": pki.expired_pem, "tls12_only": pki.server_pem}[case]
        ctx = openssl_server(cert)
        if case == "tls12_only":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2

    def serve(sock: socket.socket) -> None:
        with sock:
            sock.settimeout(TIMEOUT)
            if case == "reset":  # read the ClientHello, then RST
                with contextlib.suppress(OSError):
                    sock.recv(65536)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            with contextlib.suppress(OSError), ctx.wrap_socket(sock, server_side=True) as tls:
                tls.recv(1)

    def run() -> None:
        while not stop.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(sock,), daemon=True).start()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(TIMEOUT)
        listener.close()


def openssl_failing_client(case: str, pki: PKI) -> ssl.SSLContext:
    """The ssl-module client the comparison is made with: TLS 1.3 only (both
    clients would simply talk TLS 1.2 to the TLS 1.2-only server otherwise)."""
    return openssl_client(pki, minimum_version=ssl.TLSVersion.TLSv1_3)


def ferro_failing_client(mode: str, pki: PKI) -> ssl.SSLContext:
    """The same, over ferrotls: TLS 1.3 only, set the way an ssl user sets it."""
    ctx = client_context(mode, pki)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and what caused it (__cause__/__context__, urllib3's .reason, URLError's
    .reason, aiohttp's os_error), outermost first."""
    out: list[BaseException] = []
    while exc is not None and exc not in out:
        out.append(exc)
        nxt = exc.__cause__ or exc.__context__
        for attr in ("reason", "os_error", "_os_error"):
            value = getattr(exc, attr, None)
            if isinstance(value, BaseException):
                nxt = value
                break
        if nxt is None and exc.args and isinstance(exc.args[0], BaseException):
            nxt = exc.args[0]
        exc = nxt
    return out


def ssl_kind(exc: BaseException) -> type[BaseException] | None:
    """The most specific ssl/OS exception class in the chain, mapped to the ssl class it is."""
    for e in chain(exc):
        for cls in (ssl.SSLCertVerificationError, ssl.SSLEOFError, ssl.SSLZeroReturnError,
                    ssl.SSLError, ConnectionResetError, ConnectionError):
            if isinstance(e, cls):
                return cls
    return None


def run_loop(coro: Any, loop_kind: str = "asyncio") -> Any:
    """Run ``coro`` on a fresh asyncio or uvloop loop, bounded by TIMEOUT."""
    if loop_kind == "uvloop":
        if uvloop is None:
            pytest.skip("uvloop is not installed")
        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    else:
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(asyncio.wait_for(coro, TIMEOUT))
