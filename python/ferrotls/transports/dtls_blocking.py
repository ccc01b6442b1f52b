"""A blocking DTLS client: :func:`dtls_connect` and :class:`DTLSSocket`.

The same shape as the asyncio client (``create_dtls_endpoint`` with a
ClientConfig returns a :class:`~ferrotls.transports.dtls_aio.DTLSSession`):
one :class:`~ferrotls.dtls.DTLSClientConnection` on a connected UDP socket,
``send`` one application datagram, ``recv`` the next one (b"" once the peer
closed), ``close`` with close_notify.  DTLS 1.3 and 1.2 (``DTLSConfig.versions``).

Every wait is bounded: the handshake by ``handshake_timeout``, each ``recv`` by
the socket's timeout (``settimeout``; None: wait for ever) or its own
``timeout`` argument, raising :class:`TimeoutError`.  While a call waits, the
connection's retransmission timer runs (``next_timeout`` / ``handle_timeout``,
``time.monotonic`` as the clock), so lost flights are resent and post-handshake
messages (NewSessionTicket, KeyUpdate) are acknowledged; nothing runs between
calls.  A datagram the peer sends while nobody calls ``recv`` waits in the
socket's buffer.  ICMP port-unreachable errors (``ConnectionRefusedError`` on a
connected UDP socket) are ignored while handshaking, as the retransmission timer
covers them, and raised afterwards.
"""

from __future__ import annotations

import select
import socket
import time
from collections import deque
from typing import Any

from ..config import ClientConfig
from ..dtls import DTLSClientConnection, DTLSConfig
from ..errors import TLSError, UsageError
from ..events import ApplicationData, ConnectionClosed, HandshakeComplete
from ..tickets import ClientSession

__all__ = ["DTLSSocket", "dtls_connect"]

_MAX_DATAGRAM = 65535
_DEFAULT = object()


class DTLSSocket:
    """A DTLS client connection over a connected UDP socket (see the module docstring).

    Made by :func:`dtls_connect`; ``conn`` is the sans-I/O connection, ``info``
    its HandshakeComplete event, ``sessions`` the tickets received so far (for
    ``dtls_connect(..., session=)``)."""

    def __init__(self, conn: DTLSClientConnection, sock: socket.socket, timeout: float | None = None) -> None:
        self.conn = conn
        self.sock = sock
        self._timeout = timeout
        self._incoming: deque[bytes] = deque()
        self._peer_closed = False
        self._closed = False
        self.sessions: list[ClientSession] = []
        """ClientSessions from the server's tickets, newest last."""

    def __repr__(self) -> str:
        return f"<DTLSSocket peer={self.peer!r} state={self.conn.state.value}>"

    # -- the ssl-like surface ---------------------------------------------------

    @property
    def info(self) -> HandshakeComplete | None:
        return self.conn.info

    @property
    def version(self) -> str | None:
        """"DTLSv1.3" or "DTLSv1.2"."""
        return self.conn.version

    @property
    def peer(self) -> Any:
        try:
            return self.sock.getpeername()
        except OSError:
            return None

    @property
    def closed(self) -> bool:
        return self._closed

    def fileno(self) -> int:
        return self.sock.fileno()

    def gettimeout(self) -> float | None:
        return self._timeout

    def settimeout(self, timeout: float | None) -> None:
        """Bound for each ``recv`` (None: no bound)."""
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be non-negative or None")
        self._timeout = timeout

    def __enter__(self) -> DTLSSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- data -------------------------------------------------------------------

    def send(self, data: bytes | bytearray | memoryview) -> None:
        """Send ``data`` as one application datagram (UsageError when it exceeds
        ``conn.max_datagram_payload()``, or after close)."""
        if self._closed:
            raise UsageError("the DTLS socket is closed")
        self.conn.send(data)
        self._flush()

    def recv(self, timeout: Any = _DEFAULT) -> bytes:
        """The next application datagram; b"" once the peer has closed.  Waits at most
        ``timeout`` seconds (default: the socket's timeout), then raises TimeoutError."""
        if self._closed:
            raise UsageError("the DTLS socket is closed")
        limit: float | None = self._timeout if timeout is _DEFAULT else timeout
        deadline = None if limit is None else time.monotonic() + limit
        while not self._incoming:
            if self._peer_closed:
                return b""
            if not self._wait(deadline):
                raise TimeoutError(f"no DTLS datagram within {limit} s")
        return self._incoming.popleft()

    def close(self) -> None:
        """Send close_notify (when the handshake completed) and close the socket."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.conn.handshake_complete and not self.conn.peer_closed:
                self.conn.close()
                self._flush()
        except (TLSError, OSError):
            pass
        finally:
            self.sock.close()

    # -- the pump ----------------------------------------------------------------

    def _flush(self) -> None:
        for d in self.conn.datagrams_to_send():
            try:
                self.sock.send(d)
            except ConnectionRefusedError:
                if self.conn.handshake_complete:
                    raise

    def _flush_quietly(self) -> None:
        """Send what the connection queued (a fatal alert), ignoring socket errors."""
        try:
            self._flush()
        except OSError:
            pass

    def _wait(self, deadline: float | None) -> bool:
        """Wait for one datagram (or the connection's timer) until ``deadline``;
        False when the deadline passed with nothing done."""
        conn = self.conn
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return False
        timer = conn.next_timeout()
        bounds = [t for t in (deadline, timer) if t is not None]
        wait = max(0.0, min(bounds) - now) if bounds else None
        ready, _, _ = select.select([self.sock], [], [], wait)
        if ready:
            try:
                data = self.sock.recv(_MAX_DATAGRAM)
            except ConnectionRefusedError:
                if conn.handshake_complete:
                    raise
                return True  # (an ICMP error while handshaking: the timer resends)
            try:
                conn.receive_datagram(data, time.monotonic())
            finally:
                self._flush()
            self._events()
            return True
        if timer is not None and time.monotonic() >= timer:
            try:
                conn.handle_timeout(time.monotonic())
            finally:
                self._flush()
            return True
        return deadline is None or time.monotonic() < deadline  # (woken early: not a timeout)

    def _events(self) -> None:
        from ..events import SessionTicket

        for event in self.conn.events():
            if isinstance(event, ApplicationData):
                self._incoming.append(event.data)
            elif isinstance(event, SessionTicket) and isinstance(event.session, ClientSession):
                self.sessions.append(event.session)
            elif isinstance(event, ConnectionClosed):
                self._peer_closed = True

    def _handshake(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._flush()
        while not self.conn.handshake_complete:
            if not self._wait(deadline):
                raise TimeoutError(f"the DTLS handshake did not complete within {timeout} s")


def dtls_connect(
    config: ClientConfig,
    address: tuple[str, int],
    *,
    server_hostname: str | None = None,
    dtls: DTLSConfig | None = None,
    session: ClientSession | None = None,
    timeout: float | None = None,
    handshake_timeout: float = 30.0,
    local_addr: tuple[str, int] | None = None,
) -> DTLSSocket:
    """Connect a UDP socket to ``address``, run the DTLS handshake and return the
    :class:`DTLSSocket` (TimeoutError after ``handshake_timeout`` seconds; the
    handshake's ProtocolError or AlertReceived otherwise).

    ``server_hostname`` (SNI and the name the certificate must match) defaults to
    ``address[0]``; ``timeout`` becomes the socket's ``recv`` timeout; ``session``
    resumes a ticket (``DTLSSocket.sessions`` of an earlier connection)."""
    host, port = address
    family, _, _, _, peer = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if local_addr is not None:
            sock.bind(local_addr)
        sock.connect(peer)
        name = server_hostname if server_hostname is not None else host
        conn = DTLSClientConnection(config, name, dtls=dtls, session=session, now=time.monotonic())
        client = DTLSSocket(conn, sock, timeout)
        try:
            client._handshake(handshake_timeout)
        except BaseException:
            client._flush_quietly()
            raise
        client._events()
        return client
    except BaseException:
        sock.close()
        raise

