"""What the DTLS interop tests share: driving a sans-I/O DTLS connection over a
real UDP socket on 127.0.0.1, a ferrotls DTLS server endpoint in a thread, and
waiting for a peer's UDP listener.

* :func:`drive` runs a :class:`~ferrotls.dtls.DTLSConnection` over a socket until
  a condition on its events holds (real time as the connection's clock, every
  wait bounded);
* :class:`EndpointServer` runs ``ferrotls.asyncio.create_dtls_endpoint`` (the
  stateless cookie gate included) in a thread; each session echoes what it
  receives with a prefix, and the test reads the sessions it served;
* :func:`need` skips a test whose peer is missing, or fails it when
  FERROTLS_INTEROP=1 asks for every peer;
* :class:`FramingUpstream`: a TLS server of the ``ssl`` module answering
  2-byte length-prefixed messages (the upstream of ``ferrotls gateway
  --accept-dtls --connect``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from ferrotls.config import ServerConfig
from ferrotls.dtls import DTLSConfig, DTLSConnection
from ferrotls.events import ApplicationData, HandshakeComplete

from .peers import LOOPBACK

__all__ = [
    "TIMEOUT", "ECHO_PREFIX", "drive", "has", "data_of", "free_udp_port", "wait_udp_listener",
    "need", "info_of", "EndpointServer", "ServedSession", "FramingUpstream",
]

TIMEOUT = 20.0
ECHO_PREFIX = b"ferrotls echo: "


def need(message: str) -> NoReturn:
    """A peer is missing: skip, or fail under FERROTLS_INTEROP=1 (every peer asked for)."""
    if os.environ.get("FERROTLS_INTEROP") == "1":
        pytest.fail(f"{message}; FERROTLS_INTEROP=1 runs every interop peer")
    pytest.skip(message)


def drive(conn: DTLSConnection, sock: socket.socket, peer: tuple[str, int] | None,
          done: Callable[[list[Any]], bool], timeout: float = TIMEOUT) -> list[Any]:
    """Run ``conn`` over ``sock`` until ``done(events so far)``; returns the events.
    ``peer`` None: learn it from the first datagram (a server)."""
    events: list[Any] = []
    deadline = time.monotonic() + timeout
    while True:
        if peer is not None:
            for d in conn.datagrams_to_send():
                sock.sendto(d, peer)
        if done(events):
            return events
        now = time.monotonic()
        if now > deadline:
            raise AssertionError(f"no progress before the deadline; events so far: {events}")
        timer = conn.next_timeout()
        wait = min(deadline - now, 0.2 if timer is None else max(0.0, timer - now))
        sock.settimeout(max(0.001, wait))
        try:
            data, addr = sock.recvfrom(65536)
        except TimeoutError:
            conn.handle_timeout(time.monotonic())
        else:
            if peer is None:
                peer = addr
            conn.receive_datagram(data, time.monotonic())
        events.extend(conn.events())


def has(kind: type) -> Callable[[list[Any]], bool]:
    return lambda events: any(isinstance(e, kind) for e in events)


def data_of(events: list[Any]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, ApplicationData))


def info_of(events: list[Any]) -> HandshakeComplete:
    return next(e for e in events if isinstance(e, HandshakeComplete))


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_udp_listener(port: int, proc: subprocess.Popen[Any] | None = None, timeout: float = 10.0) -> None:
    """Wait until something listens on UDP ``port`` (``ss -uln``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["ss", "-uln"], capture_output=True, text=True).stdout
        if f":{port} " in out:
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the peer exited before listening (status {proc.returncode})")
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on udp port {port}")


@dataclass
class ServedSession:
    """What one session of an :class:`EndpointServer` saw."""

    info: HandshakeComplete | None
    peer: Any
    received: list[bytes] = field(default_factory=list)
    own_cid: bytes = b""
    peer_cid: bytes = b""
    error: BaseException | None = None


class EndpointServer:
    """``create_dtls_endpoint`` on 127.0.0.1:0 in a thread; every session echoes each
    datagram with :data:`ECHO_PREFIX` until the peer closes.  ``sessions``: one
    :class:`ServedSession` per completed handshake; ``endpoint``: the
    DTLSServerEndpoint (for its counters), valid while the server runs."""

    def __init__(self, config: ServerConfig, dtls: DTLSConfig | None = None, **options: Any) -> None:
        self.config = config
        self.dtls = dtls
        self.options = options
        self.port = 0
        self.sessions: list[ServedSession] = []
        self.endpoint: Any = None
        self.error: BaseException | None = None
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="dtls-endpoint", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            self.error = exc
            self._started.set()

    async def _main(self) -> None:
        from ferrotls.asyncio import DTLSServerEndpoint, DTLSSession, create_dtls_endpoint

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        endpoint = await create_dtls_endpoint(self.config, local_addr=(LOOPBACK, 0), dtls=self.dtls, **self.options)
        assert isinstance(endpoint, DTLSServerEndpoint)
        self.endpoint = endpoint
        self.port = endpoint.local_address()[1]
        tasks: set[asyncio.Task[None]] = set()

        async def serve(session: DTLSSession) -> None:
            served = ServedSession(session.info, session.peer, own_cid=session.conn.own_connection_id,
                                   peer_cid=session.conn.peer_connection_id)
            self.sessions.append(served)
            try:
                while data := await session.recv():
                    served.received.append(data)
                    session.send(ECHO_PREFIX + data)
            except Exception as exc:  # noqa: BLE001 - reported to the test
                served.error = exc
            served.peer = session.peer

        def on_session(session: DTLSSession) -> None:
            task = asyncio.get_running_loop().create_task(serve(session))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        endpoint.on_session = on_session
        self._started.set()
        await self._stop.wait()
        await asyncio.sleep(0.2)  # (the last echoes go out)
        endpoint.close()

    def __enter__(self) -> EndpointServer:
        self._thread.start()
        if not self._started.wait(10):
            raise AssertionError("the DTLS endpoint did not start")
        if self.error is not None:
            raise self.error
        return self

    def wait_sessions(self, n: int = 1, timeout: float = TIMEOUT) -> list[ServedSession]:
        deadline = time.monotonic() + timeout
        while len(self.sessions) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.sessions)} sessions, expected {n}")
            time.sleep(0.05)
        return self.sessions

    def close_sessions(self, timeout: float = 5.0) -> None:
        """Close every session (close_notify), from the endpoint's event loop."""
        done = threading.Event()

        def run() -> None:
            for session in list(self.endpoint.sessions):
                session.close()
            done.set()

        assert self._loop is not None
        self._loop.call_soon_threadsafe(run)
        if not done.wait(timeout):
            raise AssertionError("the endpoint's loop did not close its sessions")

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        if self.error is not None:
            raise self.error


class FramingUpstream:
    """A TLS server from the ``ssl`` module (OpenSSL) on 127.0.0.1: each message of a
    2-byte big-endian length and its bytes is answered by one such message,
    ``ack:`` + the message; ``connections`` counts the TLS connections, ``messages``
    keeps what arrived."""

    def __init__(self, tmp_path: Path) -> None:
        import ssl

        from certs import TestCA

        ca = TestCA("upstream CA", key_kind="p256", key_index=11)
        leaf = ca.issue("upstream.test", key_kind="p256", key_index=12)
        (tmp_path / "up-ca.pem").write_bytes(ca.pem())
        (tmp_path / "up-chain.pem").write_bytes(leaf.chain_pem())
        (tmp_path / "up-key.pem").write_bytes(leaf.key_pem())
        self.ca_pem = tmp_path / "up-ca.pem"
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(tmp_path / "up-chain.pem", tmp_path / "up-key.pem")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.messages: list[bytes] = []
        self.clean_closes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FramingUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        import ssl

        raw.settimeout(30)
        with self.context.wrap_socket(raw, server_side=True) as tls:
            self.connections += 1
            buf = b""
            while True:
                try:
                    data = tls.recv(65536)
                except (ssl.SSLError, OSError):
                    return
                if not data:  # the gateway's close_notify
                    self.clean_closes += 1
                    return
                buf += data
                while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                    n = int.from_bytes(buf[:2], "big")
                    message, buf = buf[2 : 2 + n], buf[2 + n :]
                    self.messages.append(message)
                    answer = b"ack:" + message
                    tls.sendall(len(answer).to_bytes(2, "big") + answer)


def start_dtls_gateway(log: Path, *args: str, timeout: float = 20.0) -> tuple[subprocess.Popen[bytes], int]:
    """``python -m ferrotls gateway --accept-dtls 127.0.0.1:0 ARGS`` with its output in
    ``log``; returns the process and the DTLS port once it listens."""
    import re
    import sys

    root = Path(__file__).resolve().parent.parent.parent
    env = dict(os.environ, PYTHONPATH=str(root / "python"))
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ferrotls", "gateway", "--accept-dtls", "127.0.0.1:0", *args],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"DTLS 127\.0\.0\.1:(\d+) -> ", log.read_text())
        if match:
            return proc, int(match.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.terminate()
    proc.wait(10)
    raise AssertionError(f"the DTLS gateway did not start:\n{log.read_text()}")
