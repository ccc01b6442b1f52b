"""DTLS 1.3 and 1.2 over asyncio datagram endpoints (``ferrotls.asyncio.create_dtls_endpoint``).

A client endpoint is one :class:`~ferrotls.dtls.DTLSClientConnection` on a
connected UDP socket; a server endpoint demultiplexes many peers on one socket,
each a :class:`DTLSSession`, found by its address or -- once connection IDs are
in use -- by the CID in its records, so a peer whose address changes (a NAT
rebinding) keeps its session: the session moves to the new address when a
record from it authenticates.

The versions are those of ``DTLSConfig.versions`` (DTLS 1.2: RFC 6347, with
connection IDs per RFC 9146).  Per-peer state is bounded: new peers get a
stateless cookie first -- in a HelloRetryRequest (DTLS 1.3) or a
HelloVerifyRequest (DTLS 1.2) from :class:`~ferrotls.dtls.cookie.CookieGate`,
on by default --, at most ``max_peers`` sessions exist at once, a handshake not done within
``handshake_timeout`` seconds is dropped, and so is a session idle for
``idle_timeout``.  The connections' clock is the event loop's (``loop.time()``);
each connection's retransmission timer is a ``loop.call_at``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any, cast

from ..config import ClientConfig, ServerConfig
from ..dtls import DTLSClientConnection, DTLSConfig, DTLSConnection, DTLSServerConnection
from ..dtls.cookie import CookieGate
from ..errors import TLSError, UsageError
from ..events import ApplicationData, ConnectionClosed, HandshakeComplete
from ..tickets import ClientSession

__all__ = ["DTLSSession", "DTLSServerEndpoint", "create_dtls_endpoint", "CID_LENGTH"]

CID_LENGTH = 8
"""Bytes of the connection IDs a server endpoint gives its sessions."""
_TLS12_CID = 25
_DTLS12_CID_AT = 11
"""type, version, epoch, 48-bit sequence number: the CID of a tls12_cid record starts here."""

Address = Any


class DTLSSession:
    """One DTLS peer: application datagrams in (``recv``) and out (``send``)."""

    def __init__(self, conn: DTLSConnection, peer: Address, send: Callable[[bytes, Address], None],
                 loop: asyncio.AbstractEventLoop) -> None:
        self.conn = conn
        self.peer = peer
        """The peer's current address (it follows a rebinding when CIDs are in use)."""
        self._send = send
        self._loop = loop
        self._incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._timer: asyncio.TimerHandle | None = None
        self.ready: asyncio.Future[HandshakeComplete] = loop.create_future()
        self.closed = False
        self.error: BaseException | None = None
        self.created = loop.time()
        self.last_seen = self.created
        self.on_close: Callable[[DTLSSession], None] | None = None

    @property
    def info(self) -> HandshakeComplete | None:
        return self.conn.info

    def __repr__(self) -> str:
        return f"DTLSSession(peer={self.peer!r}, state={self.conn.state.value})"

    # -- the application's side -------------------------------------------------

    async def recv(self) -> bytes:
        """The next application datagram; b"" once the session is closed."""
        data = await self._incoming.get()
        if data is None:
            self._incoming.put_nowait(None)
            if self.error is not None and not isinstance(self.error, ConnectionClosedByPeer):
                raise self.error
            return b""
        return data

    def send(self, data: bytes) -> None:
        """Send one application datagram."""
        if self.closed:
            raise UsageError("the DTLS session is closed")
        self.conn.send(data)
        self.flush()

    def close(self) -> None:
        """Send close_notify and forget the session."""
        if self.closed:
            return
        try:
            self.conn.close()
            self.flush()
        except TLSError:
            pass
        self._finish(None)

    # -- the endpoint's side ----------------------------------------------------

    def datagram(self, data: bytes) -> None:
        now = self._loop.time()
        self.last_seen = now
        try:
            self.conn.receive_datagram(data, now)
        except TLSError as exc:
            self.flush()
            self._finish(exc)
            return
        self.flush()
        self._events()

    def _events(self) -> None:
        for event in self.conn.events():
            if isinstance(event, HandshakeComplete):
                if not self.ready.done():
                    self.ready.set_result(event)
            elif isinstance(event, ApplicationData):
                self._incoming.put_nowait(event.data)
            elif isinstance(event, ConnectionClosed):
                self._finish(ConnectionClosedByPeer("the peer closed the DTLS session"))

    def flush(self) -> None:
        for d in self.conn.datagrams_to_send():
            self._send(d, self.peer)
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        when = self.conn.next_timeout()
        if when is not None and not self.closed:
            self._timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        try:
            self.conn.handle_timeout(self._loop.time())
        except TLSError as exc:
            self._finish(exc)
            return
        self.flush()

    def _finish(self, error: BaseException | None) -> None:
        if self.closed:
            return
        self.closed = True
        self.error = error
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.ready.done():
            self.ready.set_exception(error or ConnectionClosedByPeer("closed before the handshake completed"))
            self.ready.exception()  # (retrieved: no "never retrieved" warning)
        self._incoming.put_nowait(None)
        if self.on_close is not None:
            self.on_close(self)


class ConnectionClosedByPeer(TLSError):
    """The peer closed the DTLS session (close_notify), or it ended before its handshake."""


class _ClientProtocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.session: DTLSSession | None = None
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if self.session is not None and not self.session.closed:
            self.session.datagram(data)

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable and the like: keep retrying
        pass


class DTLSServerEndpoint(asyncio.DatagramProtocol):
    """Many DTLS peers on one UDP socket (see the module docstring); ``accept()``
    returns each session once its handshake completes."""

    def __init__(self, config: ServerConfig, dtls: DTLSConfig | None = None, *, max_peers: int = 1024,
                 handshake_timeout: float = 30.0, idle_timeout: float | None = 600.0, cookies: bool = True,
                 connection_ids: bool = True, cookie_secret: bytes | None = None) -> None:
        self.config = config
        self.dtls = dtls or DTLSConfig()
        self.max_peers = max_peers
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.gate = CookieGate(config, self.dtls, secret=cookie_secret) if cookies else None
        self.connection_ids = connection_ids
        self.transport: asyncio.DatagramTransport | None = None
        self._loop = asyncio.get_running_loop()
        self._by_addr: dict[Address, DTLSSession] = {}
        self._by_cid: dict[bytes, DTLSSession] = {}
        self._accepted: asyncio.Queue[DTLSSession] = asyncio.Queue()
        self.refused = 0
        """New peers turned away because ``max_peers`` sessions exist."""
        self.rebinds = 0
        """Sessions that moved to a new address (by their connection ID)."""
        self._sweeper: asyncio.TimerHandle | None = None
        self.on_session: Callable[[DTLSSession], None] | None = None
        """Called with each new session as its handshake completes (instead of ``accept``)."""

    # -- asyncio ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self._sweeper = self._loop.call_later(1.0, self._sweep)

    def connection_lost(self, exc: Exception | None) -> None:
        for session in list(self._by_addr.values()):
            session._finish(exc)
        if self._sweeper is not None:
            self._sweeper.cancel()

    def error_received(self, exc: Exception) -> None:
        pass

    @property
    def sessions(self) -> list[DTLSSession]:
        return list(self._by_addr.values())

    def local_address(self) -> Address:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")

    async def accept(self) -> DTLSSession:
        """The next session whose handshake completed."""
        return await self._accepted.get()

    def close(self) -> None:
        for session in list(self._by_addr.values()):
            session.close()
        if self.transport is not None:
            self.transport.close()

    def _sendto(self, data: bytes, addr: Address) -> None:
        if self.transport is not None:
            self.transport.sendto(data, addr)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        session = self._by_addr.get(addr)
        if session is None:
            session = self._by_connection_id(data)
            if session is not None:
                self._rebind(session, data, addr)
                return
            self._new_peer(data, addr)
            return
        session.datagram(data)

    def _by_connection_id(self, data: bytes) -> DTLSSession | None:
        """The session whose CID the first record of ``data`` carries: a DTLS 1.3
        unified header with the C bit (the CID follows the first byte), or a DTLS
        1.2 tls12_cid record (RFC 9146: the CID follows the sequence number)."""
        if not self._by_cid or not data:
            return None
        if data[0] & 0xF0 == 0x30 and len(data) >= 1 + CID_LENGTH:
            return self._by_cid.get(bytes(data[1 : 1 + CID_LENGTH]))
        if data[0] == _TLS12_CID and len(data) >= _DTLS12_CID_AT + CID_LENGTH:
            return self._by_cid.get(bytes(data[_DTLS12_CID_AT : _DTLS12_CID_AT + CID_LENGTH]))
        return None

    def _rebind(self, session: DTLSSession, data: bytes, addr: Address) -> None:
        """A datagram with a session's CID from a new address: the session moves once
        one of its records authenticates (RFC 9146 section 6, RFC 9147 section 9)."""
        conn = session.conn
        before = (conn.dropped.total, conn.datagrams_received)
        old = session.peer
        session.peer = addr
        session.datagram(data)
        dropped = conn.dropped.total > before[0]
        if dropped or session.closed:
            session.peer = old  # not the peer's: stay where we were
            return
        self._by_addr.pop(old, None)
        self._by_addr[addr] = session
        self.rebinds += 1

    def _new_peer(self, data: bytes, addr: Address) -> None:
        if len(self._by_addr) >= self.max_peers:
            self.refused += 1
            return
        now = self._loop.time()
        cid = os.urandom(CID_LENGTH) if self.connection_ids else None
        while cid is not None and cid in self._by_cid:
            cid = os.urandom(CID_LENGTH)
        if self.gate is not None:
            result = self.gate.handle(data, repr(addr).encode(), now)
            for reply in result.reply:
                self._sendto(reply, addr)
            if result.state is None:
                return
            conn: DTLSServerConnection = DTLSServerConnection.from_cookie(
                self.config, result.state, dtls=self.dtls, now=now, connection_id=cid)
        else:
            conn = DTLSServerConnection(self.config, dtls=self.dtls, now=now, connection_id=cid)
        session = DTLSSession(conn, addr, self._sendto, self._loop)
        session.on_close = self._forget
        self._by_addr[addr] = session
        if cid is not None:
            self._by_cid[cid] = session
        session.ready.add_done_callback(lambda f: self._ready(session, f))
        session.datagram(data)

    def _ready(self, session: DTLSSession, fut: asyncio.Future[HandshakeComplete]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return
        if self.on_session is not None:
            self.on_session(session)
        else:
            self._accepted.put_nowait(session)

    def _forget(self, session: DTLSSession) -> None:
        if self._by_addr.get(session.peer) is session:
            del self._by_addr[session.peer]
        cid = session.conn.own_connection_id
        if cid and self._by_cid.get(cid) is session:
            del self._by_cid[cid]
        for key in [k for k, v in self._by_cid.items() if v is session]:
            del self._by_cid[key]

    def _sweep(self) -> None:
        now = self._loop.time()
        for session in list(self._by_addr.values()):
            if not session.ready.done() and now - session.created > self.handshake_timeout:
                session._finish(TimeoutError("the DTLS handshake did not complete in time"))
            elif self.idle_timeout is not None and now - session.last_seen > self.idle_timeout:
                session.close()
        self._sweeper = self._loop.call_later(1.0, self._sweep)


async def create_dtls_endpoint(
    config: ClientConfig | ServerConfig,
    *,
    local_addr: tuple[str, int] | None = None,
    remote_addr: tuple[str, int] | None = None,
    server_hostname: str | None = None,
    dtls: DTLSConfig | None = None,
    session: ClientSession | None = None,
    handshake_timeout: float = 30.0,
    **server_options: Any,
) -> DTLSSession | DTLSServerEndpoint:
    """A DTLS endpoint on an asyncio datagram socket.

    With a ClientConfig and ``remote_addr``: connects, completes the handshake
    (TimeoutError after ``handshake_timeout``) and returns the :class:`DTLSSession`.
    With a ServerConfig and ``local_addr``: returns the listening
    :class:`DTLSServerEndpoint` (``server_options``: ``max_peers``,
    ``idle_timeout``, ``cookies``, ``connection_ids``, ``cookie_secret``).
    """
    loop = asyncio.get_running_loop()
    if isinstance(config, ClientConfig):
        if remote_addr is None:
            raise UsageError("a DTLS client endpoint needs remote_addr")
        transport, protocol = await loop.create_datagram_endpoint(
            _ClientProtocol, local_addr=local_addr, remote_addr=remote_addr)
        conn = DTLSClientConnection(config, server_hostname, dtls=dtls, session=session, now=loop.time())

        def send(data: bytes, addr: Address) -> None:
            transport.sendto(data)

        client = DTLSSession(conn, remote_addr, send, loop)
        client.on_close = lambda s: transport.close()
        protocol.session = client
        client.flush()
        try:
            await asyncio.wait_for(asyncio.shield(client.ready), handshake_timeout)
        except BaseException:
            client._finish(TimeoutError("the DTLS handshake did not complete in time"))
            transport.close()
            raise
        client._events()
        return client
    if local_addr is None:
        raise UsageError("a DTLS server endpoint needs local_addr")
    _, endpoint = await loop.create_datagram_endpoint(
        lambda: DTLSServerEndpoint(config, dtls, handshake_timeout=handshake_timeout, **server_options),
        local_addr=local_addr)
    return endpoint
