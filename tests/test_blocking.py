# ruff: noqa: SIM117 - a server context around a client context reads best nested
"""ferrotls.Context and TLSSocket over real sockets on 127.0.0.1 (threads, bounded timeouts).

ferrotls on both ends; ferrotls against the stdlib ``ssl`` module both ways
(@interop); timeouts, unwrap, makefile, getpeercert, truncation, alerts, and the
Context setters.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ferrotls
import pytest
from certs import TestCA
from ferrotls import CERT_NONE, CERT_REQUIRED, Context, Purpose, TLSSocket
from ferrotls.errors import AlertReceived, BadCertificate, TruncationError, UnknownCA
from ferrotls.suites import NamedGroup

LOOPBACK = "127.0.0.1"
TIMEOUT = 10.0


@dataclass
class Files:
    ca: TestCA
    ca_pem: Path
    cert: Path
    key: Path
    other_cert: Path
    other_key: Path
    ed_cert: Path
    ed_key: Path
    client_cert: Path
    client_key: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    tmp = tmp_path_factory.mktemp("blocking-pki")
    ca = TestCA("ferrotls blocking CA", key_index=11)
    (tmp / "ca.pem").write_bytes(ca.pem())
    out: dict[str, Path] = {}
    for name, names, kind in (
        ("", ("localhost", "127.0.0.1"), "p256"),
        ("other_", ("other.test",), "p256"),
        ("ed_", ("localhost",), "ed25519"),
        ("client_", ("client.test",), "p256"),
    ):
        issued = ca.issue(*names, key_kind=kind, key_index=12)
        out[name + "cert"] = tmp / f"{name}cert.pem"
        out[name + "key"] = tmp / f"{name}key.pem"
        out[name + "cert"].write_bytes(issued.chain_pem())
        out[name + "key"].write_bytes(issued.key_pem())
    return Files(ca=ca, ca_pem=tmp / "ca.pem", **out)


def server_context(files: Files, **kw: Any) -> Context:
    ctx = ferrotls.create_default_context(Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(files.cert, files.key)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def client_context(files: Files) -> Context:
    return ferrotls.create_default_context(cafile=files.ca_pem)


@dataclass
class Server:
    port: int
    value: Any = None
    error: BaseException | None = None


@contextlib.contextmanager
def serve(
    handler: Callable[[socket.socket], Any], *, expect_error: bool = False
) -> Iterator[Server]:
    """Accept one connection on 127.0.0.1:0 in a thread; ``handler(plain_socket)`` runs there."""
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(TIMEOUT)
    server = Server(listener.getsockname()[1])

    def run() -> None:
        try:
            sock, _ = listener.accept()
            sock.settimeout(TIMEOUT)
            with sock:
                server.value = handler(sock)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            server.error = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        thread.join(TIMEOUT + 5)
        listener.close()
    assert not thread.is_alive(), "server thread hung"
    if server.error is not None and not expect_error:
        raise server.error


def ferro_echo(ctx: Context) -> Callable[[socket.socket], Any]:
    def handler(sock: socket.socket) -> bytes:
        with ctx.wrap_socket(sock, server_side=True) as tls:
            received = bytearray()
            while data := tls.recv(65536):
                received += data
                tls.sendall(data)
            return bytes(received)

    return handler


# --------------------------------------------------------------------------- ferrotls <-> ferrotls


def test_echo_both_sides_ferrotls(files: Files, backend: Any) -> None:
    sctx = server_context(files)
    sctx.backend = backend
    sctx.set_alpn_protocols(["h2", "http/1.1"])
    cctx = client_context(files)
    cctx.backend = backend
    cctx.set_alpn_protocols(["http/1.1"])
    payload = bytes(range(256)) * (400 if backend.name == "native" else 40)
    with serve(ferro_echo(sctx)) as server:
        tls = ferrotls.connect(LOOPBACK, server.port, context=cctx, server_hostname="localhost", timeout=TIMEOUT)
        with tls:
            assert isinstance(tls, TLSSocket)
            assert tls.version() == "TLSv1.3"
            name, proto, bits = tls.cipher()  # type: ignore[misc]
            assert proto == "TLSv1.3" and name.startswith("TLS_") and bits in (128, 256)
            assert tls.selected_alpn_protocol() == "http/1.1"
            assert tls.server_hostname == "localhost"
            cert = tls.getpeercert()
            assert isinstance(cert, dict)
            assert ("DNS", "localhost") in cert["subjectAltName"]
            assert dict(x[0] for x in cert["subject"])["commonName"] == "localhost"
            der = tls.getpeercert(binary_form=True)
            assert isinstance(der, bytes) and der[0] == 0x30
            tls.sendall(payload)
            got = bytearray()
            while len(got) < len(payload):
                chunk = tls.recv(10_000)
                assert chunk
                got += chunk
            assert got == payload
            tls.shutdown(socket.SHUT_WR)  # close_notify: the server's recv returns b""
            assert tls.recv(10) == b""  # ... and its close_notify ends our stream
    assert server.value == payload


def test_recv_into_read_write_and_pending(files: Files) -> None:
    with serve(ferro_echo(server_context(files))) as server:
        sock = socket.create_connection((LOOPBACK, server.port), timeout=TIMEOUT)
        tls = client_context(files).wrap_socket(sock, server_hostname="localhost")
        assert tls.write(b"hello world") == 11
        buf = bytearray(5)
        assert tls.recv_into(buf) == 5 and buf == b"hello"
        assert tls.pending() == 6
        assert tls.read(3) == b" wo"
        into = bytearray(10)
        assert tls.read(10, into) == 3 and into[:3] == b"rld"
        assert tls.fileno() == sock.fileno()
        assert tls.getpeername()[1] == server.port
        tls.close()
        assert tls.closed


def test_makefile_readline(files: Files) -> None:
    def handler(sock: socket.socket) -> None:
        with server_context(files).wrap_socket(sock, server_side=True) as tls:
            f = tls.makefile("rwb")
            for line in f:
                f.write(line.upper())
                f.flush()
                if line == b"quit\n":
                    break
            f.close()

    with serve(handler) as server:
        with ferrotls.connect(
            LOOPBACK, server.port, context=client_context(files), server_hostname="localhost", timeout=TIMEOUT
        ) as tls:
            rf = tls.makefile("r", encoding="ascii", newline="\n")
            tls.sendall(b"one\ntw")
            tls.sendall(b"o\nquit\n")
            assert rf.readline() == "ONE\n"
            assert rf.readline() == "TWO\n"
            assert rf.readline() == "QUIT\n"
            tls.close()  # the socket stays open while rf is
            assert tls.fileno() >= 0
            assert rf.readline() == ""  # close_notify from the server
            rf.close()
        assert tls.fileno() == -1  # closed with the last file, like a socket


def test_unwrap_returns_plain_socket(files: Files) -> None:
    def handler(sock: socket.socket) -> bytes:
        tls = server_context(files).wrap_socket(sock, server_side=True)
        assert tls.recv(100) == b"secret"
        plain = tls.unwrap()
        assert plain is sock
        plain.sendall(b"in the clear")
        return plain.recv(100)

    with serve(handler) as server:
        sock = socket.create_connection((LOOPBACK, server.port), timeout=TIMEOUT)
        tls = client_context(files).wrap_socket(sock, server_hostname="localhost")
        tls.sendall(b"secret")
        plain = tls.unwrap()
        assert plain is sock
        assert plain.recv(100) == b"in the clear"
        plain.sendall(b"bye")
        plain.close()
    assert server.value == b"bye"


def test_handshake_timeout_silent_server(files: Files) -> None:
    hold = threading.Event()

    def silent(sock: socket.socket) -> None:
        hold.wait(TIMEOUT)

    with serve(silent) as server:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            ferrotls.connect(LOOPBACK, server.port, context=client_context(files), server_hostname="localhost", timeout=0.3)
        assert time.monotonic() - start < 2.0
        hold.set()


def test_recv_timeout_then_close(files: Files) -> None:
    hold = threading.Event()

    def quiet(sock: socket.socket) -> None:
        with server_context(files).wrap_socket(sock, server_side=True) as tls:
            hold.wait(TIMEOUT)
            tls.sendall(b"late")

    with serve(quiet) as server:
        tls = ferrotls.connect(LOOPBACK, server.port, context=client_context(files), server_hostname="localhost", timeout=TIMEOUT)
        tls.settimeout(0.2)
        assert tls.gettimeout() == 0.2
        start = time.monotonic()
        with pytest.raises(socket.timeout):
            tls.recv(10)
        assert time.monotonic() - start < 1.5
        hold.set()
        tls.settimeout(TIMEOUT)
        assert tls.recv(10) == b"late"
        tls.close()


def test_nonblocking_recv_raises_blocking_io(files: Files) -> None:
    hold = threading.Event()

    def quiet(sock: socket.socket) -> None:
        with server_context(files).wrap_socket(sock, server_side=True):
            hold.wait(TIMEOUT)

    with serve(quiet) as server:
        tls = ferrotls.connect(LOOPBACK, server.port, context=client_context(files), server_hostname="localhost", timeout=TIMEOUT)
        tls.setblocking(False)
        assert not tls.getblocking()
        with pytest.raises(BlockingIOError):
            tls.recv(10)
        hold.set()
        tls.setblocking(True)
        tls.close()


def truncating(files: Files) -> Callable[[socket.socket], None]:
    def handler(sock: socket.socket) -> None:
        tls = server_context(files).wrap_socket(sock, server_side=True)
        tls.sendall(b"partial")
        tls.detach()  # no close_notify; the serve() helper closes the TCP socket

    return handler


def test_truncation_raises(files: Files) -> None:
    with serve(truncating(files)) as server:
        tls = ferrotls.connect(LOOPBACK, server.port, context=client_context(files), server_hostname="localhost", timeout=TIMEOUT)
        assert tls.recv(100) == b"partial"
        with pytest.raises(TruncationError):
            tls.recv(100)
        with pytest.raises(TruncationError):
            tls.recv(100)
        tls.close()


def test_truncation_suppressed_on_request(files: Files) -> None:
    with serve(truncating(files)) as server:
        sock = socket.create_connection((LOOPBACK, server.port), timeout=TIMEOUT)
        tls = client_context(files).wrap_socket(sock, server_hostname="localhost", suppress_ragged_eofs=True)
        assert tls.recv(100) == b"partial"
        assert tls.recv(100) == b""
        assert tls.recv(100) == b""
        tls.close()


def test_alert_reaches_peer_on_verification_failure(files: Files) -> None:
    """The client rejects the certificate: its bad_certificate alert is flushed before it raises."""

    def handler(sock: socket.socket) -> None:
        server_context(files).wrap_socket(sock, server_side=True)

    with serve(handler, expect_error=True) as server:
        with pytest.raises(BadCertificate):
            ferrotls.connect(LOOPBACK, server.port, context=client_context(files), server_hostname="wrong.test", timeout=TIMEOUT)
    assert isinstance(server.error, AlertReceived)
    assert server.error.description == ferrotls.AlertDescription.BAD_CERTIFICATE


def test_unknown_ca(files: Files) -> None:
    with serve(lambda s: server_context(files).wrap_socket(s, server_side=True), expect_error=True) as server:
        other = TestCA("unrelated CA", key_index=13)
        ctx = ferrotls.create_default_context(cadata=other.pem().decode())
        with pytest.raises(UnknownCA):
            ferrotls.connect(LOOPBACK, server.port, context=ctx, server_hostname="localhost", timeout=TIMEOUT)
    assert isinstance(server.error, AlertReceived)


def test_client_certificate_required(files: Files) -> None:
    sctx = server_context(files)
    sctx.load_verify_locations(cafile=files.ca_pem)
    sctx.verify_mode = CERT_REQUIRED

    def handler(sock: socket.socket) -> Any:
        with sctx.wrap_socket(sock, server_side=True) as tls:
            tls.sendall(b"ok")
            return tls.getpeercert()

    cctx = client_context(files)
    cctx.load_cert_chain(files.client_cert, files.client_key)
    with serve(handler) as server:
        with ferrotls.connect(LOOPBACK, server.port, context=cctx, server_hostname="localhost", timeout=TIMEOUT) as tls:
            assert tls.recv(2) == b"ok"
    assert ("DNS", "client.test") in server.value["subjectAltName"]


# --------------------------------------------------------------------------- Context


def test_context_defaults_and_config_cache(files: Files) -> None:
    c = Context(Purpose.SERVER_AUTH)
    assert not c.server_side and c.check_hostname and c.verify_mode is CERT_REQUIRED
    s = Context(ssl.Purpose.CLIENT_AUTH)  # ssl's Purpose works too
    assert s.server_side and not s.check_hostname and s.verify_mode is CERT_NONE
    cctx = client_context(files)
    first = cctx.config
    assert cctx.config is first
    cctx.set_alpn_protocols(["h2"])
    assert cctx.config is not first and cctx.config.alpn_protocols == ("h2",)
    with pytest.raises(ValueError):
        cctx.wrap_socket(socket.socket(), server_side=True)
    with pytest.raises(ValueError, match="needs load_cert_chain"):
        Context(Purpose.CLIENT_AUTH).config  # noqa: B018


def test_disabling_verification_is_explicit_and_loud(files: Files) -> None:
    ctx = client_context(files)
    with pytest.raises(ValueError, match="check_hostname"):
        ctx.verify_mode = CERT_NONE
    ctx.check_hostname = False
    with pytest.warns(ferrotls.InsecureVerificationWarning):
        ctx.verify_mode = ssl.CERT_NONE
    assert ctx.verify_mode is CERT_NONE
    other = TestCA("unrelated CA", key_index=13)
    strict = ferrotls.create_default_context(cadata=other.pem())
    with serve(ferro_echo(server_context(files))) as server:
        with ferrotls.connect(LOOPBACK, server.port, context=ctx, timeout=TIMEOUT) as tls:
            assert tls.getpeercert() == {}  # unverified: empty, as in ssl
            assert tls.getpeercert(binary_form=True)
            tls.sendall(b"x")
            assert tls.recv(1) == b"x"
    ctx.check_hostname = True  # re-enabling verification sets CERT_REQUIRED (as ssl)
    assert ctx.verify_mode is CERT_REQUIRED
    assert strict.verify_mode is CERT_REQUIRED


def test_ciphersuites_and_groups_by_name(files: Files) -> None:
    sctx = server_context(files)
    cctx = client_context(files)
    cctx.set_ciphersuites("TLS_CHACHA20_POLY1305_SHA256")
    cctx.set_groups(["secp256r1"])
    assert [c["name"] for c in cctx.get_ciphers() if c["protocol"] == "TLSv1.3"] == ["TLS_CHACHA20_POLY1305_SHA256"]
    with pytest.raises(ValueError):
        cctx.set_ciphersuites("TLS_RSA_WITH_RC4_128_MD5")
    with pytest.raises(ValueError):
        cctx.set_groups("ffdhe2048")
    with serve(ferro_echo(sctx)) as server:
        with ferrotls.connect(LOOPBACK, server.port, context=cctx, server_hostname="localhost", timeout=TIMEOUT) as tls:
            assert tls.cipher() == ("TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", 256)
            assert tls.connection.info.group == NamedGroup.SECP256R1
    cctx.set_groups("X25519MLKEM768:X25519")
    cctx.set_ciphersuites(["TLS_AES_128_GCM_SHA256"])
    with serve(ferro_echo(sctx)) as server:
        with ferrotls.connect(LOOPBACK, server.port, context=cctx, server_hostname="localhost", timeout=TIMEOUT) as tls:
            assert tls.cipher() == ("TLS_AES_128_GCM_SHA256", "TLSv1.3", 128)
            assert tls.connection.info.group == NamedGroup.X25519MLKEM768


def test_server_with_several_certificates_and_sni_callback(files: Files) -> None:
    sctx = server_context(files)
    sctx.load_cert_chain(files.ed_cert, files.ed_key)  # a second chain (Ed25519)
    other = server_context(files)
    other.load_cert_chain(files.other_cert, files.other_key)
    seen: list[str | None] = []

    def sni(tls: Any, name: str | None, ctx: Context) -> None:  # ssl's signature
        assert ctx is sctx
        seen.append(name)
        if name == "other.test":
            tls.context = other

    sctx.sni_callback = sni
    for host, ed_only, expect in (
        ("localhost", False, "localhost"),
        ("localhost", True, "localhost"),
        ("other.test", False, "other.test"),
    ):
        cctx = client_context(files)
        if ed_only:
            cctx.set_options(signature_schemes=(ferrotls.SignatureScheme.ED25519,))
        with serve(ferro_echo(sctx)) as server:
            with ferrotls.connect(LOOPBACK, server.port, context=cctx, server_hostname=host, timeout=TIMEOUT) as tls:
                cert = tls.getpeercert()
                assert isinstance(cert, dict)
                assert ("DNS", expect) in cert["subjectAltName"]
                if ed_only:
                    assert tls.connection.info.signature_scheme == ferrotls.SignatureScheme.ED25519
    assert seen == ["localhost", "localhost", "other.test"]


def test_keylog_filename(files: Files, tmp_path: Path) -> None:
    cctx = client_context(files)
    cctx.keylog_filename = tmp_path / "keys.log"
    with serve(ferro_echo(server_context(files))) as server:
        with ferrotls.connect(LOOPBACK, server.port, context=cctx, server_hostname="localhost", timeout=TIMEOUT):
            pass
    labels = {line.split()[0] for line in (tmp_path / "keys.log").read_text().splitlines()}
    assert {"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"} <= labels


# --------------------------------------------------------------------------- stdlib ssl peers


def ssl_server_context(files: Files) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(files.cert, files.key)
    return ctx


@pytest.mark.interop
def test_ferrotls_client_stdlib_ssl_server(files: Files) -> None:
    sslctx = ssl_server_context(files)

    def handler(sock: socket.socket) -> bytes:
        with sslctx.wrap_socket(sock, server_side=True) as tls:
            data = b""
            while not data.endswith(b"\n"):
                data += tls.recv(100)
            tls.sendall(b"ssl says " + data)
            tls.unwrap()  # send close_notify and wait for ours
            return data

    with serve(handler) as server:
        tls = ferrotls.connect(LOOPBACK, server.port, context=client_context(files), server_hostname="localhost", timeout=TIMEOUT)
        tls.sendall(b"hi\n")
        got = b""
        while chunk := tls.recv(100):
            got += chunk
        assert got == b"ssl says hi\n"
        tls.close()
    assert server.value == b"hi\n"


@pytest.mark.interop
def test_stdlib_ssl_client_ferrotls_server(files: Files) -> None:
    sctx = server_context(files)
    sctx.set_alpn_protocols(["http/1.1"])
    sslctx = ssl.create_default_context(cafile=str(files.ca_pem))
    sslctx.set_alpn_protocols(["http/1.1"])
    payload = bytes(range(256)) * 1000
    with serve(ferro_echo(sctx)) as server:
        with socket.create_connection((LOOPBACK, server.port), timeout=TIMEOUT) as sock:
            with sslctx.wrap_socket(sock, server_hostname="localhost") as tls:
                assert tls.version() == "TLSv1.3"
                assert tls.selected_alpn_protocol() == "http/1.1"
                tls.sendall(payload)
                got = bytearray()
                while len(got) < len(payload):
                    got += tls.recv(65536)
                assert got == payload
                tls.unwrap()  # close_notify both ways: ferrotls answers it on close
    assert server.value == payload


@pytest.mark.interop
def test_stdlib_client_sees_close_notify_not_eof_error(files: Files) -> None:
    def handler(sock: socket.socket) -> None:
        with server_context(files).wrap_socket(sock, server_side=True) as tls:
            tls.sendall(b"bye")
        # leaving the with block sent close_notify before closing TCP

    sslctx = ssl.create_default_context(cafile=str(files.ca_pem))
    with serve(handler) as server:
        with socket.create_connection((LOOPBACK, server.port), timeout=TIMEOUT) as sock:
            with sslctx.wrap_socket(sock, server_hostname="localhost", suppress_ragged_eofs=False) as tls:
                assert tls.recv(10) == b"bye"
                assert tls.recv(10) == b""  # SSLZeroReturn -> b"", not SSLEOFError


def test_warning_free_default_run(files: Files) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with serve(ferro_echo(server_context(files))) as server:
            with ferrotls.connect(LOOPBACK, server.port, context=client_context(files), server_hostname="localhost", timeout=TIMEOUT) as tls:
                tls.sendall(b"z")
                assert tls.recv(1) == b"z"
