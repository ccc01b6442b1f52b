"""The ``ferrotls`` command line, driven as real subprocesses (``sys.executable -m ferrotls``).

* ``ferrotls server`` against curl, ``openssl s_client`` (echo, client certificates,
  the certificate_required alert, RSA/ECDSA selection by -sigalgs), and Python's
  ``ssl``/``http.client``/``urllib``;
* ``ferrotls client`` against ``openssl s_server -www`` and against an untrusted server;
* the client's relay: 50 MiB from a regular file and from a pipe through
  ``ferrotls server --echo`` and a stdlib ``ssl`` echo server (SHA-256 equal), and
  ``--timeout`` against a server that completes the handshake and then never reads;
* ``ferrotls bench --quick``.

Everything listens on 127.0.0.1 with port 0 (the server prints the port it got);
every subprocess is killed in teardown and every wait is bounded.  Tests using
curl or openssl are marked interop and are opt-in (``-m interop`` or
FERROTLS_INTEROP=1), as in tests/interop.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from certs import TestCA

LOOPBACK = "127.0.0.1"
TIMEOUT = 15.0
_LISTENING = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")


@pytest.fixture(autouse=True)
def _interop_opt_in(request: pytest.FixtureRequest) -> None:
    """Same opt-in as tests/interop/conftest.py for tests marked interop."""
    if request.node.get_closest_marker("interop") is None:
        return
    if "interop" in (request.config.option.markexpr or "") or os.environ.get("FERROTLS_INTEROP") == "1":
        return
    pytest.skip("interop tests are opt-in: run with -m interop or FERROTLS_INTEROP=1")


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not on PATH")
    return path


# --------------------------------------------------------------------------- processes


class Proc:
    """A subprocess whose stdout and stderr are collected by reader threads."""

    def __init__(self, args: Sequence[str], *, stdin: bytes | None = None, stdin_pipe: bool = False,
                 env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self.out = bytearray()
        self.err = bytearray()
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.PIPE if (stdin is not None or stdin_pipe) else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self._threads = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for t in self._threads:
            t.start()
        if stdin is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(stdin)
            self.proc.stdin.close()

    def _read(self, stream: Any, buf: bytearray) -> None:
        fd = stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self._cond:
                if chunk:
                    buf += chunk
                self._cond.notify_all()
            if not chunk:
                return

    @property
    def text(self) -> str:
        with self._cond:
            return (self.out + b"\n--- stderr ---\n" + self.err).decode("utf-8", "replace")

    def wait_for(self, pattern: re.Pattern[bytes] | bytes, *, stream: str = "out",
                 timeout: float = TIMEOUT) -> re.Match[bytes]:
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                buf = self.out if stream == "out" else self.err
                m = regex.search(bytes(buf))
                if m:
                    return m
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.proc.poll() is not None and not self._alive_readers():
                    raise TimeoutError(f"{pattern!r} not seen from {self.args}\n{self.text}")
                self._cond.wait(min(remaining, 0.2))

    def _alive_readers(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def wait(self, timeout: float = TIMEOUT) -> int:
        rc = self.proc.wait(timeout)
        for t in self._threads:
            t.join(timeout)
        return rc

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
        self.close_stdin()
        for t in self._threads:
            t.join(3)
        for s in (self.proc.stdout, self.proc.stderr):
            if s is not None:
                s.close()


def ferrotls_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "ferrotls", *args]


@contextlib.contextmanager
def running(args: Sequence[str], **kw: Any) -> Iterator[Proc]:
    proc = Proc(args, **kw)
    try:
        yield proc
    finally:
        proc.stop()


@contextlib.contextmanager
def ferrotls_server(*args: str, port_pattern: re.Pattern[bytes] = _LISTENING) -> Iterator[tuple[Proc, int]]:
    """``ferrotls server --port 0 ARGS`` (or any ferrotls command printing "listening on")."""
    argv = list(args) if args and args[0] in ("gateway",) else ["server", "--port", "0", *args]
    with running(ferrotls_cmd(*argv)) as proc:
        m = proc.wait_for(port_pattern, timeout=30)
        yield proc, int(m.group(1))


def run(args: Sequence[str], *, stdin: bytes = b"", timeout: float = TIMEOUT) -> tuple[int, str, str]:
    """Run to completion (bounded); (exit code, stdout, stderr)."""
    with running(args, stdin=stdin) as proc:
        rc = proc.wait(timeout)
        return rc, proc.out.decode("utf-8", "replace"), proc.err.decode("utf-8", "replace")


def openssl(*args: str) -> list[str]:
    return [need("openssl"), *args]


# --------------------------------------------------------------------------- PKI


class Files:
    """A CA and leaves on disk: ECDSA and RSA servers, a client, and an untrusted server."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        ca = TestCA("ferrotls cli CA", key_kind="p256", key_index=11)
        self.ca = self._write("ca.pem", ca.pem())
        self.ec_cert, self.ec_key = self._leaf(ca, "server-ec", "localhost", "127.0.0.1", kind="p256")
        self.rsa_cert, self.rsa_key = self._leaf(ca, "server-rsa", "localhost", "127.0.0.1",
                                                 kind="rsa2048")
        self.client_cert, self.client_key = self._leaf(ca, "client", "client.cli.test", kind="p256",
                                                       index=3, cn="cli test client")
        other = TestCA("an untrusted CA", key_kind="p256", key_index=12)
        self.other_ca = self._write("other-ca.pem", other.pem())
        self.untrusted_cert, self.untrusted_key = self._leaf(other, "untrusted", "localhost",
                                                             "127.0.0.1", kind="p256", index=4)

    def _write(self, name: str, data: bytes) -> str:
        path = self.tmp / name
        path.write_bytes(data)
        return str(path)

    def _leaf(self, ca: TestCA, name: str, *names: str, kind: str, index: int = 1,
              cn: str | None = None) -> tuple[str, str]:
        issued = ca.issue(*names, key_kind=kind, key_index=index, common_name=cn)
        return self._write(f"{name}.pem", issued.chain_pem()), self._write(f"{name}.key", issued.key_pem())


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("cli-pki"))


# --------------------------------------------------------------------------- info / bench


def test_info_still_works() -> None:
    rc, out, err = run(ferrotls_cmd("info"))
    assert rc == 0, err
    assert "active backend" in out


def test_bench_quick_prints_table(tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    rc, out, err = run(ferrotls_cmd("bench", "--quick", "--chart", str(chart)), timeout=60)
    assert rc == 0, err
    assert "ferrotls-native" in out or "ferrotls-python" in out
    assert "ssl" in out and "/ssl" in out
    assert "full handshakes" in out and "64-byte messages" in out
    assert "12/12" in err or "done" in err  # the progress bar
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        assert "chart skipped" in out and not chart.exists()
    else:
        assert chart.read_bytes().startswith(b"\x89PNG")


# --------------------------------------------------------------------------- ferrotls server


def test_server_generated_certificate_python_ssl_clients(tmp_path: Path) -> None:
    """http.client, urllib and a raw ssl socket against the throw-away certificate."""
    ca = tmp_path / "ca.pem"
    with ferrotls_server("--write-ca", str(ca)) as (proc, port):
        proc.wait_for(re.compile(rb"SHA-256 fingerprint [0-9A-F:]{95}"), stream="err")
        ctx = ssl.create_default_context(cafile=str(ca))
        conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=TIMEOUT)
        conn.request("GET", "/status")
        resp = conn.getresponse()
        page = resp.read().decode()
        conn.close()
        assert resp.status == 200
        assert "TLSv1.3" in page and "TLS_AES_256_GCM_SHA384" in page
        assert "GET /status HTTP/1.1" in page and "SNI" in page and "localhost" in page

        with urllib.request.urlopen(f"https://localhost:{port}/u", context=ctx, timeout=TIMEOUT) as r:
            assert b"GET /u HTTP/1.1" in r.read()

        with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                assert tls.version() == "TLSv1.3"
                tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := tls.recv(65536):
                    data += chunk
        assert data.startswith(b"HTTP/1.0 200 OK") and b"127.0.0.1" in data

        # bare LF line ends (RFC 9112 section 2.2; tlsfuzzer sends "GET / HTTP/1.0\n\n"),
        # TLS 1.2, the request line split over records
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                assert tls.version() == "TLSv1.2"
                tls.sendall(b"\nGET /lf HT")
                tls.sendall(b"TP/1.0\nX-A: b\n\n")
                data = b""
                while chunk := tls.recv(65536):
                    data += chunk
        assert data.startswith(b"HTTP/1.0 200 OK") and b"GET /lf HTTP/1.0" in data


def test_server_sigterm_exits_cleanly(tmp_path: Path) -> None:
    with ferrotls_server("--echo", "--write-ca", str(tmp_path / "ca.pem")) as (proc, port):
        # an idle client connection must not hold the shutdown up
        idle = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
        try:
            proc.proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0
        finally:
            idle.close()
        assert "shutting down" in proc.err.decode()


def test_server_keeps_serving_after_a_bad_client(tmp_path: Path) -> None:
    """Garbage and an untrusting client fail alone; the server answers the next one."""
    ca = tmp_path / "ca.pem"
    with ferrotls_server("--write-ca", str(ca)) as (proc, port):
        with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as s:
            s.sendall(b"this is not TLS at all\r\n\r\n")
            reply = s.recv(100)
            assert reply[:1] == b"\x15"  # an alert record
        wrong = ssl.create_default_context()  # does not trust the throw-away CA
        with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as raw:
            with pytest.raises(ssl.SSLCertVerificationError):
                wrong.wrap_socket(raw, server_hostname="localhost")
        proc.wait_for(b"handshake failed", stream="err")
        ctx = ssl.create_default_context(cafile=str(ca))
        with urllib.request.urlopen(f"https://localhost:{port}/", context=ctx, timeout=TIMEOUT) as r:
            assert b"TLSv1.3" in r.read()


@pytest.mark.interop
def test_curl_against_server(files: Files) -> None:
    need("curl")
    with ferrotls_server("--cert", files.ec_cert, "--key", files.ec_key,
                         "--suites", "TLS_CHACHA20_POLY1305_SHA256", "--alpn", "http/1.1") as (_, port):
        rc, out, err = run(["curl", "-sS", "--max-time", "10", "--cacert", files.ca,
                            f"https://localhost:{port}/hello"])
        assert rc == 0, err
        assert "TLSv1.3" in out and "TLS_CHACHA20_POLY1305_SHA256" in out
        assert "http/1.1" in out and "GET /hello" in out


@pytest.mark.interop
def test_openssl_s_client_echo(files: Files) -> None:
    with ferrotls_server("--echo", "--cert", files.ec_cert, "--key", files.ec_key) as (srv, port):
        with running(openssl("s_client", "-connect", f"{LOOPBACK}:{port}", "-tls1_3",
                             "-CAfile", files.ca, "-servername", "localhost", "-quiet"),
                     stdin_pipe=True) as sc:
            sc.write(b"ping from s_client\n")
            sc.wait_for(b"ping from s_client")
        srv.wait_for(b"closed after echoing", stream="err")


@pytest.mark.interop
def test_openssl_s_client_certificate_required(files: Files) -> None:
    args = ("--echo", "--cert", files.ec_cert, "--key", files.ec_key,
            "--ca", files.ca, "--verify-client", "required")
    with ferrotls_server(*args) as (srv, port):
        base = ["s_client", "-connect", f"{LOOPBACK}:{port}", "-tls1_3", "-CAfile", files.ca,
                "-servername", "localhost"]
        with running(openssl(*base, "-cert", files.client_cert, "-key", files.client_key,
                             "-quiet"), stdin_pipe=True) as sc:
            sc.write(b"with a certificate\n")
            sc.wait_for(b"with a certificate")
        srv.wait_for(b"client CN=cli test client", stream="err")
        # no certificate: the certificate_required alert shows in s_client's output
        with running(openssl(*base), stdin_pipe=True) as sc:
            sc.write(b"hello\n")
            m = sc.wait_for(re.compile(rb"alert certificate required|alert number 116"),
                            stream="err")
            assert m
        srv.wait_for(b"CertificateRequired", stream="err")


@pytest.mark.interop
def test_two_certificates_selected_by_sigalgs(files: Files) -> None:
    args = ("--echo", "--cert", files.rsa_cert, "--key", files.rsa_key,
            "--cert", files.ec_cert, "--key", files.ec_key)
    with ferrotls_server(*args) as (_, port):
        for sigalgs, expect in (("RSA-PSS+SHA256", b"RSA-PSS"), ("ECDSA+SHA256", b"ECDSA")):
            with running(openssl("s_client", "-connect", f"{LOOPBACK}:{port}", "-tls1_3",
                                 "-CAfile", files.ca, "-servername", "localhost",
                                 "-sigalgs", sigalgs), stdin_pipe=True) as sc:
                m = sc.wait_for(re.compile(rb"Peer signature type: (\S+)"))
                assert m.group(1) == expect
                sc.wait_for(b"Verify return code: 0 (ok)")


@pytest.mark.interop
def test_server_external_psk_with_openssl_s_client(files: Files) -> None:
    """--psk-identity/--psk (tools/conformance.py's psk rows): s_client's external PSK."""
    args = ("--echo", "--cert", files.ec_cert, "--key", files.ec_key,
            "--psk-identity", "test", "--psk", "aa")
    with ferrotls_server(*args) as (srv, port):
        with running(openssl("s_client", "-connect", f"{LOOPBACK}:{port}", "-tls1_3",
                             "-psk_identity", "test", "-psk", "aa",
                             "-ciphersuites", "TLS_AES_128_GCM_SHA256"), stdin_pipe=True) as sc:
            sc.wait_for(b"Reused, TLSv1.3")  # s_client's word for a PSK handshake
            sc.write(b"over the psk\n")
            sc.wait_for(b"over the psk")
        srv.wait_for(b"client psk:test", stream="err")
        # a wrong key: the binder does not verify (decrypt_error)
        with running(openssl("s_client", "-connect", f"{LOOPBACK}:{port}", "-tls1_3",
                             "-psk_identity", "test", "-psk", "bb",
                             "-ciphersuites", "TLS_AES_128_GCM_SHA256"), stdin_pipe=True) as sc:
            sc.wait_for(re.compile(rb"alert decrypt error|alert number 51"), stream="err")
        srv.wait_for(b"DecryptError", stream="err")


@pytest.mark.interop
def test_server_keyupdate_path_with_openssl_s_client(files: Files) -> None:
    """GET /keyupdate is answered after our KeyUpdate (tlsfuzzer's keyupdate-from-server)."""
    with ferrotls_server("--cert", files.ec_cert, "--key", files.ec_key) as (_, port):
        with running(openssl("s_client", "-connect", f"{LOOPBACK}:{port}", "-tls1_3", "-msg",
                             "-CAfile", files.ca, "-servername", "localhost", "-ign_eof"),
                     stdin=b"GET /keyupdate HTTP/1.0\r\n\r\n") as sc:
            sc.wait_for(b"HTTP/1.0 200 OK")
            sc.wait_for(b"Request            : GET /keyupdate HTTP/1.0")
        out = sc.out.decode("latin-1")
        # -msg shows our KeyUpdate before the response (OpenSSL sends its own reply lazily,
        # with its next write, so it is not asserted here; tlsfuzzer's script checks it)
        assert re.search(r"<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate", out), out
        assert out.index("KeyUpdate") < out.index("HTTP/1.0 200 OK")


def test_server_option_errors(tmp_path: Path) -> None:
    for args, message in (
        (("--psk", "aa"), "--psk-identity and --psk-hex go together"),
        (("--psk-identity", "x", "--psk", "zz"), "--psk-hex: not a hex string"),
        (("--cert-compression", "lzma"), "unknown certificate compression 'lzma'"),
    ):
        rc, _, err = run(ferrotls_cmd("server", "--port", "0", *args))
        assert rc == 2 and message in err, err


# --------------------------------------------------------------------------- ferrotls client


@contextlib.contextmanager
def s_server(*args: str) -> Iterator[int]:
    with running(openssl("s_server", "-tls1_3", "-accept", f"{LOOPBACK}:0", *args),
                 stdin_pipe=True) as proc:
        m = proc.wait_for(re.compile(rb"ACCEPT 127\.0\.0\.1:(\d+)"))
        yield int(m.group(1))


@pytest.mark.interop
def test_client_against_openssl_www(files: Files) -> None:
    with s_server("-www", "-cert", files.ec_cert, "-key", files.ec_key) as port:
        rc, out, err = run(ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--ca", files.ca,
                                        "--servername", "localhost"),
                           stdin=b"GET / HTTP/1.0\r\n\r\n")
    assert rc == 0, err
    assert out.startswith("HTTP/1.0 200 ok"), out
    assert "TLSv1.3" in out
    assert "Protocol     : TLSv1.3" in err and "Cipher suite" in err
    assert "0 subject: CN=localhost" in err and "valid  :" in err
    assert "Verification : OK" in err and re.search(r"Handshake\s+: [\d.]+ ms; \d+ bytes sent", err)


@pytest.mark.interop
def test_client_quiet_with_client_certificate(files: Files) -> None:
    with s_server("-www", "-cert", files.ec_cert, "-key", files.ec_key, "-Verify", "1",
                  "-CAfile", files.ca) as port:
        rc, out, err = run(ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--ca", files.ca,
                                        "--servername", "localhost", "--quiet",
                                        "--cert", files.client_cert, "--key", files.client_key),
                           stdin=b"GET / HTTP/1.0\r\n\r\n")
    assert rc == 0, err
    assert out.startswith("HTTP/1.0 200 ok") and err == ""


@pytest.mark.interop
def test_client_rejects_untrusted_server(files: Files) -> None:
    with s_server("-www", "-cert", files.untrusted_cert, "-key", files.untrusted_key) as port:
        rc, out, err = run(ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--ca", files.ca,
                                        "--servername", "localhost"), stdin=b"GET / HTTP/1.0\r\n\r\n")
        assert rc != 0
        assert out == ""
        assert "handshake failed" in err and "UnknownCA" in err and "unknown_ca" in err
        # --insecure connects, with a loud warning
        rc, out, err = run(ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--insecure"),
                           stdin=b"GET / HTTP/1.0\r\n\r\n")
    assert rc == 0, err
    assert "WARNING" in err and "NOT VERIFIED" in err and "HTTP/1.0 200 ok" in out


def test_client_against_ferrotls_server_echo(tmp_path: Path) -> None:
    """Both ends are the CLI: stdin -> TLS -> echo -> stdout; ALPN and groups negotiated."""
    ca = tmp_path / "ca.pem"
    keylog = tmp_path / "keys.log"
    with ferrotls_server("--echo", "--write-ca", str(ca), "--alpn", "x-echo,h2",
                         "--groups", "secp256r1,x25519") as (_, port):
        payload = os.urandom(100_000).hex().encode()
        rc, out, err = run(ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--ca", str(ca),
                                        "--alpn", "x-echo", "--groups", "secp256r1",
                                        "--keylog", str(keylog)),
                           stdin=payload)
        assert rc == 0, err
        assert out.encode() == payload
        assert "ALPN         : x-echo" in err and "SECP256R1" in err
        assert "CLIENT_TRAFFIC_SECRET_0" in keylog.read_text()
        # a wrong name fails verification: exit 1, reason on stderr
        rc, out, err = run(ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--ca", str(ca),
                                        "--servername", "wrong.example"))
        assert rc == 1 and "handshake failed" in err and "BadCertificate" in err


def test_client_connection_refused_and_bad_arguments() -> None:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        port = s.getsockname()[1]
    rc, _, err = run(ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--insecure"))
    assert rc == 1 and "cannot connect" in err
    rc, _, err = run(ferrotls_cmd("client", "no-port-here"))
    assert rc == 2 and "HOST:PORT" in err


# --------------------------------------------------------------------------- ferrotls client: the relay

BIG_SIZE = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """50 MiB of random bytes on disk and their SHA-256."""
    path = tmp_path_factory.mktemp("relay") / "big.bin"
    digest = hashlib.sha256()
    with path.open("wb") as f:
        for _ in range(BIG_SIZE // (1 << 20)):
            block = os.urandom(1 << 20)
            digest.update(block)
            f.write(block)
    return path, digest.hexdigest()


def _relay_through(port: int, ca: str, source: Path, stdin_kind: str, *extra: str,
                   timeout: float = 60) -> tuple[int, str, int, str]:
    """``ferrotls client`` with ``source`` as stdin (a regular file, or a pipe fed by a
    thread); (exit code, SHA-256 of stdout, its length, stderr)."""
    args = ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--ca", ca, "--servername", "localhost",
                        *extra)
    digest = hashlib.sha256()
    received = 0
    err = bytearray()
    with source.open("rb") as f:
        proc = subprocess.Popen(args, stdin=f if stdin_kind == "file" else subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None

        def feed() -> None:
            assert proc.stdin is not None
            with contextlib.suppress(OSError):
                while block := f.read(1 << 20):
                    proc.stdin.write(block)
            with contextlib.suppress(OSError):
                proc.stdin.close()

        def read_err() -> None:
            assert proc.stderr is not None
            while chunk := proc.stderr.read(65536):
                err.extend(chunk)

        threads = [threading.Thread(target=read_err, daemon=True)]
        if stdin_kind == "pipe":
            threads.append(threading.Thread(target=feed, daemon=True))
        for t in threads:
            t.start()
        timer = threading.Timer(timeout, proc.kill)  # a hang fails the test, bounded
        timer.start()
        try:
            while chunk := proc.stdout.read(1 << 20):
                digest.update(chunk)
                received += len(chunk)
            rc = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for t in threads:
                t.join(10)
            proc.stdout.close()
            proc.stderr.close()
    return rc, digest.hexdigest(), received, err.decode("utf-8", "replace")


@pytest.mark.parametrize("stdin_kind", ["file", "pipe"])
def test_client_relays_50mb_through_ferrotls_echo(files: Files, big_file: tuple[Path, str],
                                                  stdin_kind: str) -> None:
    """A regular file as stdin behaves like ``cat file |``: no deadlock against an echo."""
    path, sha = big_file
    with ferrotls_server("--echo", "--cert", files.ec_cert, "--key", files.ec_key) as (srv, port):
        started = time.monotonic()
        rc, got, n, err = _relay_through(port, files.ca, path, stdin_kind)
        elapsed = time.monotonic() - started
        assert rc == 0, err
        assert (n, got) == (BIG_SIZE, sha)
        assert "close_notify" in err and "Traceback" not in err
        srv.wait_for(f"closed after echoing {BIG_SIZE} bytes".encode(), stream="err")
    assert elapsed < 45, f"50 MiB took {elapsed:.1f} s"


@contextlib.contextmanager
def ssl_server(files: Files, handler: Any) -> Iterator[int]:
    """A stdlib ``ssl`` server on 127.0.0.1:0 in a thread, one connection, ``handler(tls)``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(files.ec_cert, files.ec_key)
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(TIMEOUT)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sock, _ = listener.accept()
            with ctx.wrap_socket(sock, server_side=True) as tls:
                handler(tls)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(TIMEOUT + 60)
        listener.close()
    assert not thread.is_alive(), "ssl server thread hung"
    if errors:
        raise errors[0]


def _ssl_echo(tls: ssl.SSLSocket) -> None:
    tls.settimeout(30)
    while data := tls.recv(262144):  # b"" at the client's close_notify
        tls.sendall(data)
    tls.unwrap()  # our close_notify back


@pytest.mark.parametrize("stdin_kind", ["file", "pipe"])
def test_client_relays_50mb_through_ssl_echo(files: Files, big_file: tuple[Path, str],
                                             stdin_kind: str) -> None:
    """The same through Python's ssl module (OpenSSL) as the echoing peer."""
    path, sha = big_file
    with ssl_server(files, _ssl_echo) as port:
        rc, got, n, err = _relay_through(port, files.ca, path, stdin_kind)
    assert rc == 0, err
    assert (n, got) == (BIG_SIZE, sha)
    assert "(close_notify)" in err


@pytest.mark.parametrize("stdin_kind,size", [("file", BIG_SIZE), ("pipe", 5)])
def test_client_times_out_on_a_server_that_never_reads(
    files: Files, big_file: tuple[Path, str], tmp_path: Path, stdin_kind: str, size: int
) -> None:
    """Handshake done, then the server neither reads nor answers: exit 1 at --timeout.

    50 MiB from a file fill the socket buffers (output the server never takes); 5 bytes
    from a pipe fit, then stdin ends and the client waits for an answer that never comes.
    """
    release = threading.Event()
    source = big_file[0]
    if size != BIG_SIZE:
        source = tmp_path / "small.bin"
        source.write_bytes(b"hello"[:size])
    with ssl_server(files, lambda tls: release.wait(60)) as port:
        try:
            started = time.monotonic()
            rc, _, n, err = _relay_through(port, files.ca, source, stdin_kind, "--timeout", "2")
            elapsed = time.monotonic() - started
        finally:
            release.set()
    assert rc == 1, err
    assert n == 0
    assert "Verification : OK" in err  # the handshake did complete
    assert "connection stalled" in err and "--timeout" in err and "Traceback" not in err
    assert 2 <= elapsed < 15, elapsed


def test_client_idle_stdin_is_not_a_stall(files: Files) -> None:
    """An open, silent stdin (a person at a terminal) waits on stdin, not on the server:
    no timeout then; once stdin ends, the unanswered wait does time out."""
    release = threading.Event()
    with ssl_server(files, lambda tls: release.wait(60)) as port:
        try:
            with running(ferrotls_cmd("client", f"{LOOPBACK}:{port}", "--ca", files.ca,
                                      "--servername", "localhost", "--timeout", "1"),
                         stdin_pipe=True) as client:
                client.wait_for(b"Verification : OK", stream="err")
                client.write(b"typed\n")
                time.sleep(2.5)
                assert client.proc.poll() is None, client.text
                client.close_stdin()
                assert client.wait(10) == 1
                assert b"connection stalled" in client.err
        finally:
            release.set()
