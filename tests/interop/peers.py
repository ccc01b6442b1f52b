"""Helpers that put a ferrotls connection in front of a real peer, on 127.0.0.1 only.

* :class:`FerroSocket` drives a sans-I/O connection over a connected socket with a
  deadline on every wait (socket timeouts, never a bare ``recv``).
* :class:`FerroServer` accepts one connection on ``127.0.0.1:0`` in a daemon thread
  and runs a handler on it; the handler's exception is re-raised in the test.
* :class:`MemoryPeer` pumps a ferrotls connection against an ``ssl.SSLObject``
  (``SSLContext.wrap_bio``) in process, with no socket at all.
* :class:`OpenSSLProcess` runs ``openssl s_server`` / ``s_client`` with a reader
  thread that collects its output, so tests can wait for a marker with a timeout;
  the process is always killed on exit.  :func:`ferrotls_cli` runs ``python -m
  ferrotls`` (the command line) the same way.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from certs import Issued, TestCA
from ferrotls.config import CertifiedKey, ClientAuth, ClientConfig, ServerConfig
from ferrotls.connection import Connection
from ferrotls.events import ApplicationData, ConnectionClosed, HandshakeComplete, KeyUpdated
from ferrotls.x509 import DefaultVerifier, TrustStore

__all__ = [
    "HRR_RANDOM",
    "LOOPBACK",
    "TIMEOUT",
    "FerroServer",
    "FerroSocket",
    "MemoryPeer",
    "OpenSSLProcess",
    "contains_hrr",
    "ferrotls_cli",
    "ferrotls_cli_server",
    "openssl_client",
    "openssl_server",
]

LOOPBACK = "127.0.0.1"
TIMEOUT = 15.0
"""Upper bound for any single wait (handshake, a read, a process exit)."""

# RFC 8446 section 4.1.3: the ServerHello.random of a HelloRetryRequest.
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def contains_hrr(server_bytes: bytes) -> bool:
    """Whether plaintext server records hold a HelloRetryRequest."""
    return HRR_RANDOM in server_bytes


# --------------------------------------------------------------------------- PKI and configs

SERVER_NAME = "localhost"
OTHER_NAME = "other.ferrotls.test"


@dataclass
class Leaf:
    issued: Issued
    cert_pem: Path
    key_pem: Path

    @property
    def certified(self) -> CertifiedKey:
        return CertifiedKey(self.issued.chain, self.issued.key)


@dataclass
class PKI:
    ca: TestCA
    ca_pem: Path
    server_p256: Leaf
    server_p384: Leaf
    server_rsa: Leaf
    server_other: Leaf
    client_p256: Leaf
    client_rsa: Leaf

    @property
    def ca_text(self) -> str:
        return self.ca.pem().decode("ascii")

    def verifier(self) -> DefaultVerifier:
        return DefaultVerifier(TrustStore.from_pem(cadata=self.ca.pem()))


def client_config(backend: Any, pki: PKI, **kw: Any) -> ClientConfig:
    kw.setdefault("verifier", pki.verifier())
    return ClientConfig(backend=backend, **kw)


def server_config(backend: Any, pki: PKI, leaf: Leaf | None = None, **kw: Any) -> ServerConfig:
    kw.setdefault("certificates", ((leaf or pki.server_p256).certified,))
    if kw.get("client_auth", ClientAuth.NONE) is not ClientAuth.NONE:
        kw.setdefault("client_verifier", pki.verifier())
    return ServerConfig(backend=backend, **kw)


# --------------------------------------------------------------------------- sockets


class FerroSocket:
    """A ferrotls connection over a connected socket.

    Every event is kept in ``events``; application data accumulates in ``data``;
    ``raw_in``/``raw_out`` keep every byte received/sent (to spot a HelloRetryRequest).
    """

    def __init__(self, conn: Connection, sock: socket.socket, timeout: float = TIMEOUT) -> None:
        self.conn = conn
        self.sock = sock
        self.timeout = timeout
        sock.settimeout(timeout)
        self.events: list[Any] = []
        self.data = bytearray()
        self.raw_in = bytearray()
        self.raw_out = bytearray()
        self.peer_closed = False
        self.eof = False

    def flush(self) -> None:
        out = self.conn.data_to_send()
        if out:
            self.raw_out += out
            self.sock.sendall(out)

    def _collect(self) -> None:
        for event in self.conn.events():
            self.events.append(event)
            if isinstance(event, ApplicationData):
                self.data += event.data
            elif isinstance(event, ConnectionClosed):
                self.peer_closed = True

    def read_once(self) -> None:
        """One recv (bounded by the socket timeout) fed to the connection."""
        if self.eof:
            raise EOFError("the peer already closed the transport")
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
        self.raw_in += chunk
        try:
            self.conn.receive_data(chunk)
        finally:
            with contextlib.suppress(OSError):
                self.flush()
            self._collect()

    def wait_for(self, predicate: Callable[[], bool], what: str = "condition") -> None:
        deadline = time.monotonic() + self.timeout
        self._collect()
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}; events: {self.events}")
            if self.eof:
                raise EOFError(f"transport closed while waiting for {what}; events: {self.events}")
            self.read_once()

    def handshake(self) -> HandshakeComplete:
        self.flush()
        self.wait_for(lambda: self.conn.handshake_complete, "the handshake")
        info = self.conn.info
        assert isinstance(info, HandshakeComplete)
        return info

    def send(self, data: bytes) -> None:
        self.conn.send(data)
        self.flush()

    def read_until(self, marker: bytes) -> bytes:
        """Wait until ``marker`` is in the data received so far; return all of it."""
        self.wait_for(lambda: marker in self.data, f"{marker!r} in the data")
        return bytes(self.data)

    def read_exactly(self, n: int) -> bytes:
        self.wait_for(lambda: len(self.data) >= n, f"{n} bytes of data")
        return bytes(self.data)

    def key_updates(self) -> list[KeyUpdated]:
        return [e for e in self.events if isinstance(e, KeyUpdated)]

    def wait_closed(self) -> None:
        """Wait for the peer's close_notify (EOF after it is fine)."""
        self.wait_for(lambda: self.peer_closed, "close_notify")

    def close(self) -> None:
        """Send close_notify (if possible) and flush it."""
        self.conn.close()
        with contextlib.suppress(OSError):
            self.flush()

    def shutdown(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def connect(conn: Connection, port: int, timeout: float = TIMEOUT) -> FerroSocket:
    """Connect to 127.0.0.1:port, retrying briefly while the peer starts listening."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.create_connection((LOOPBACK, port), timeout=timeout)
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return FerroSocket(conn, sock, timeout)


class FerroServer:
    """Listen on 127.0.0.1:0, accept one connection in a daemon thread, run ``handler``.

    ``handler(fs: FerroSocket)`` does the conversation; whatever it returns is ``result``.
    Leaving the ``with`` block joins the thread (bounded) and re-raises its exception.
    ``expect_error=True`` keeps the exception in ``error`` instead.
    """

    def __init__(
        self,
        make_conn: Callable[[], Connection],
        handler: Callable[[FerroSocket], Any],
        *,
        timeout: float = TIMEOUT,
        expect_error: bool = False,
    ) -> None:
        self.make_conn = make_conn
        self.handler = handler
        self.timeout = timeout
        self.expect_error = expect_error
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(1)
        self.listener.settimeout(timeout)
        self.port: int = self.listener.getsockname()[1]
        self.result: Any = None
        self.error: BaseException | None = None
        self.fs: FerroSocket | None = None
        self.thread = threading.Thread(target=self._run, name="ferrotls-server", daemon=True)

    def _run(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
            return
        self.fs = FerroSocket(self.make_conn(), sock, self.timeout)
        try:
            self.result = self.handler(self.fs)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            self.fs.shutdown()

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def join(self) -> None:
        self.thread.join(self.timeout + 5)
        if self.thread.is_alive():
            # unblock accept()/recv() so the daemon thread ends soon
            self.listener.close()
            if self.fs is not None:
                self.fs.shutdown()
            raise TimeoutError("ferrotls server thread did not finish")

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.join()
        finally:
            self.listener.close()
        if self.error is not None and not self.expect_error:
            if exc_info[0] is None:
                raise self.error
            if isinstance(exc_info[1], BaseException):  # the test failed first: say why
                exc_info[1].add_note(f"ferrotls server thread failed: {self.error!r}")


def echo_handler(fs: FerroSocket, prefix: bytes = b"echo:") -> FerroSocket:
    """Server conversation: handshake, echo every chunk (with ``prefix``) until
    close_notify, then close_notify back."""
    fs.handshake()
    echoed = 0
    while True:

        def more_or_closed(seen: int = echoed) -> bool:
            return len(fs.data) > seen or fs.peer_closed

        fs.wait_for(more_or_closed, "data or close_notify")
        if len(fs.data) > echoed:
            fs.send(prefix + bytes(fs.data[echoed:]))
            echoed = len(fs.data)
        if fs.peer_closed:
            fs.close()
            return fs


# --------------------------------------------------------------------------- ssl in memory


class MemoryPeer:
    """A ferrotls connection and an ``ssl.SSLObject`` joined by MemoryBIOs."""

    def __init__(
        self,
        ferro: Connection,
        context: ssl.SSLContext,
        *,
        server_side: bool,
        server_hostname: str | None = None,
    ) -> None:
        self.ferro = ferro
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.ssl = context.wrap_bio(
            self.incoming, self.outgoing, server_side=server_side, server_hostname=server_hostname
        )
        self.events: list[Any] = []
        self.ferro_data = bytearray()
        self.ssl_data = bytearray()
        self.ssl_closed = False
        self.ssl_handshake_done = False
        self.to_ferro = bytearray()  # everything ssl wrote
        self.to_ssl = bytearray()  # everything ferrotls wrote (HRR detection)

    def _collect(self) -> None:
        for event in self.ferro.events():
            self.events.append(event)
            if isinstance(event, ApplicationData):
                self.ferro_data += event.data

    def pump(self, rounds: int = 50) -> None:
        """Move bytes both ways until both sides are quiet (bounded)."""
        for _ in range(rounds):
            moved = False
            out = self.ferro.data_to_send()
            if out:
                self.to_ssl += out
                self.incoming.write(out)
                moved = True
            self._ssl_read()
            data = self.outgoing.read()
            if data:
                self.to_ferro += data
                self.ferro.receive_data(data)
                moved = True
            self._collect()
            if not moved:
                return
        raise RuntimeError("MemoryPeer.pump did not settle")

    def _ssl_read(self) -> None:
        if not self.ssl_handshake_done or self.ssl_closed:
            return
        while True:
            try:
                chunk = self.ssl.read(65536)
            except ssl.SSLWantReadError:
                return
            except ssl.SSLZeroReturnError:
                self.ssl_closed = True
                return
            if not chunk:
                self.ssl_closed = True
                return
            self.ssl_data += chunk

    def handshake(self, rounds: int = 20) -> None:
        for _ in range(rounds):
            if not self.ssl_handshake_done:
                try:
                    self.ssl.do_handshake()
                    self.ssl_handshake_done = True
                except ssl.SSLWantReadError:
                    pass
            self.pump()
            if self.ssl_handshake_done and self.ferro.handshake_complete:
                return
        raise RuntimeError("handshake did not complete")

    def ssl_write(self, data: bytes) -> None:
        self.ssl.write(data)
        self.pump()

    def ferro_send(self, data: bytes) -> None:
        self.ferro.send(data)
        self.pump()

    def ssl_unwrap(self) -> bool:
        """ssl sends close_notify; True once ssl also got ours."""
        try:
            self.ssl.unwrap()
            done = True
        except ssl.SSLWantReadError:
            done = False
        self.pump()
        return done


# --------------------------------------------------------------------------- openssl CLI


class OpenSSLProcess:
    """An ``openssl`` subprocess whose stdout+stderr is collected by a reader thread.

    ``program`` runs another command line the same way (see :func:`ferrotls_cli`).
    """

    def __init__(
        self, args: Sequence[str], timeout: float = TIMEOUT, program: Sequence[str] = ("openssl",)
    ) -> None:
        self.args = [*program, *args]
        self.timeout = timeout
        self.output = bytearray()
        self._cond = threading.Condition()
        self._done = False
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._reader = threading.Thread(target=self._read, name="openssl-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self._cond:
                if not chunk:
                    self._done = True
                    self._cond.notify_all()
                    return
                self.output += chunk
                self._cond.notify_all()

    @property
    def text(self) -> str:
        with self._cond:
            return self.output.decode("utf-8", "replace")

    def wait_for(self, needle: bytes | re.Pattern[bytes], timeout: float | None = None) -> Any:
        """Wait until ``needle`` (bytes or compiled regex) appears in the output."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while True:
                if isinstance(needle, bytes):
                    if needle in self.output:
                        return needle
                else:
                    m = needle.search(self.output)
                    if m:
                        return m
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._done:
                    raise TimeoutError(
                        f"{needle!r} not seen from {' '.join(self.args)}\n--- output ---\n"
                        + self.output.decode("utf-8", "replace")
                    )
                self._cond.wait(min(remaining, 0.5))

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def wait(self, timeout: float | None = None) -> int:
        rc = self.proc.wait(timeout or self.timeout)
        self._reader.join(self.timeout)
        return rc

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)
        self.close_stdin()
        self._reader.join(3)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


_ACCEPT = re.compile(rb"ACCEPT 127\.0\.0\.1:(\d+)")


@contextlib.contextmanager
def openssl_server(
    *args: str, timeout: float = TIMEOUT, version: str = "-tls1_3", naccept: int = 1
) -> Any:
    """``openssl s_server -tls1_3 -accept 127.0.0.1:0 -naccept 1 ARGS``; yields (proc, port).

    ``version``: the version option (``"-tls1_2"``, or ``""`` for OpenSSL's default
    range); ``naccept``: how many connections it serves before exiting."""
    proc = OpenSSLProcess(
        ["s_server", *([version] if version else []), "-accept", f"{LOOPBACK}:0",
         "-naccept", str(naccept), *args],
        timeout,
    )
    try:
        m = proc.wait_for(_ACCEPT)
        yield proc, int(m.group(1))
    finally:
        proc.stop()


_LISTENING = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")


@contextlib.contextmanager
def ferrotls_cli(*args: str, timeout: float = TIMEOUT) -> Any:
    """``python -m ferrotls ARGS`` (the command line, a real subprocess); yields the process."""
    proc = OpenSSLProcess(args, timeout, program=(sys.executable, "-m", "ferrotls"))
    try:
        yield proc
    finally:
        proc.stop()


@contextlib.contextmanager
def ferrotls_cli_server(*args: str, timeout: float = TIMEOUT) -> Any:
    """``ferrotls server --port 0 ARGS`` on 127.0.0.1; yields (proc, port)."""
    with ferrotls_cli("server", "--host", LOOPBACK, "--port", "0", *args, timeout=timeout) as proc:
        m = proc.wait_for(_LISTENING, timeout=30)
        yield proc, int(m.group(1))


@contextlib.contextmanager
def openssl_client(
    port: int, *args: str, timeout: float = TIMEOUT, version: str = "-tls1_3"
) -> Any:
    """``openssl s_client -connect 127.0.0.1:PORT -tls1_3 ARGS``; yields the process
    (``version``: the version option, ``""`` for OpenSSL's default range)."""
    proc = OpenSSLProcess(
        ["s_client", "-connect", f"{LOOPBACK}:{port}", *([version] if version else []), *args],
        timeout,
    )
    try:
        yield proc
    finally:
        proc.stop()
