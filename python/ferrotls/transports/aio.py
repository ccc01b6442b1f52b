"""asyncio streams over ferrotls (``ferrotls.asyncio`` re-exports this module).

:func:`open_connection` and :func:`start_server` mirror the functions of the
same names in :mod:`asyncio` and hand out standard ``asyncio.StreamReader`` /
``asyncio.StreamWriter`` objects.  Underneath, :class:`TLSProtocol` is the
``asyncio.BufferedProtocol`` on the TCP transport: the loop reads into one
reusable buffer per connection (no bytes object per read), the protocol feeds
that view to a sans-I/O connection (which copies what it has to keep, such as
a partial record), writes ``data_to_send()`` back at once (alerts included),
and presents a :class:`TLSTransport` to the application protocol (a
``StreamReaderProtocol``), the way :mod:`asyncio.sslproto` does for ``ssl``.
It runs on the default loop and on uvloop.

Behaviour:

* Handshake: bounded by ``ssl_handshake_timeout`` (default 60 s): TimeoutError.
  A cancelled ``open_connection`` aborts the TCP connection; nothing is left
  running (no tasks are created, only futures and timer handles).
* ``writer.close()`` sends close_notify, waits (at most ``ssl_shutdown_timeout``,
  default 30 s) for the peer's close_notify while discarding incoming data, then
  closes TCP; ``wait_closed()`` returns when that is done.
* ``writer.write_eof()`` sends close_notify and keeps reading (TLS 1.3 half-close).
* The peer's close_notify is end of stream: ``reader.read()`` returns ``b""``.
  TLS 1.3 allows half-close, so a stream stays writable until ``writer.close()``
  (as over plain TCP; asyncio's ``ssl`` closes at once).  Other app protocols
  decide with ``eof_received()``'s return value, as over TCP.  A TCP EOF without
  close_notify is :class:`~ferrotls.TruncationError` on the reader; any TLS error
  is raised by the reader (and by ``drain()``), after the alert went out.
* 0-RTT: early data a server accepted is handed to the app protocol's
  ``data_received`` right after its ``connection_made``, before any later data.
* Backpressure: when the app stops reading (``StreamReader`` over its limit) the
  TCP transport stops reading too; the TCP transport's write buffer limits are the
  TLS transport's, and its pause/resume_writing reach the app (``drain()``).
* Memory: from its first read until it closes, a connection holds a read buffer of
  64 KiB, doubled up to 256 KiB by reads that fill it (asyncio's ``ssl`` holds
  256 KiB per connection).
* ``get_extra_info``: ``"peercert"``, ``"cipher"``, ``"compression"``,
  ``"ssl_object"`` (a :class:`~ferrotls.transports.ConnectionInfo`),
  ``"sslcontext"`` (the :class:`~ferrotls.Context`), ``"ferrotls_connection"``;
  anything else (``"socket"``, ``"peername"``, ``"sockname"``) from the TCP transport.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import ssl as _ssl
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from ..context import Context, Purpose, create_default_context
from ..errors import TLSError
from ..events import NEED_DATA, ApplicationData, ConnectionClosed, EarlyData, HandshakeComplete
from . import ConnectionInfo

__all__ = [
    "TLSProtocol",
    "TLSTransport",
    "create_connection",
    "create_server",
    "open_connection",
    "start_server",
]

logger = logging.getLogger("ferrotls.asyncio")

HANDSHAKE_TIMEOUT = 60.0
SHUTDOWN_TIMEOUT = 30.0
READ_BUFFER_SIZE = 256 * 1024
"""Bytes of the buffer lent to the loop for each read: as much as asyncio and uvloop
read per call for a plain Protocol.  One buffer per thread, shared by every
TLSProtocol of the loop running in it (see :func:`_thread_read_view`), so idle
connections hold none."""

_READ_BUFFERS = threading.local()
_PROACTOR: tuple[type, ...] = tuple(
    c for c in (getattr(asyncio, "ProactorEventLoop", None),) if isinstance(c, type)
)


def _thread_read_view() -> memoryview:
    """This thread's read buffer.

    Selector loops and uvloop call ``get_buffer``, read into it and call
    ``buffer_updated`` back to back in one callback, and the protocol hands the
    bytes to its connection, which copies what it keeps, before returning: the
    buffer is free again before any other read of the thread's loop starts.
    """
    view: memoryview | None = getattr(_READ_BUFFERS, "view", None)
    if view is None:
        view = _READ_BUFFERS.view = memoryview(bytearray(READ_BUFFER_SIZE))
    return view


LINGER_AFTER_ALERT = 1.0
"""Seconds a connection that sent a fatal alert keeps reading (and dropping) input, so
that the alert reaches a peer that is still writing."""


class _State(enum.Enum):
    HANDSHAKING = "handshaking"
    WRAPPED = "wrapped"
    CLOSING = "closing"  # our close_notify is out; waiting for the peer's
    CLOSED = "closed"


class _App(enum.Enum):
    INIT = "init"
    CONNECTED = "connected"
    EOF = "eof"
    LOST = "lost"


class TLSTransport(asyncio.Transport):
    """The transport the application protocol sees: plaintext in, plaintext out."""

    def __init__(self, tls: TLSProtocol) -> None:
        super().__init__()
        self._tls = tls
        self._closing = False
        self._closed = False
        self._eof_written = False

    def __repr__(self) -> str:
        return f"<ferrotls TLSTransport {self._tls._state.value}>"

    def __del__(self, _warn: Any = warnings.warn) -> None:
        if not self._closed and not self._closing and self._tls._app_state is not _App.INIT:
            _warn(f"unclosed transport {self!r}", ResourceWarning, source=self)

    @property
    def tls_protocol(self) -> TLSProtocol:
        """The protocol on the TCP transport (for inspection)."""
        return self._tls

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._tls._get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._tls._app_protocol = protocol  # type: ignore[assignment]

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._tls._app_protocol

    def is_closing(self) -> bool:
        return self._closing or self._closed

    def close(self) -> None:
        """Send close_notify, wait (bounded) for the peer's, then close TCP."""
        if not self._closing:
            self._closing = True
            self._tls._start_shutdown()

    def abort(self) -> None:
        """Close TCP at once (no close_notify)."""
        self._closing = True
        self._tls._abort(None)

    def is_reading(self) -> bool:
        return not self._tls._app_reading_paused and not self.is_closing()

    def pause_reading(self) -> None:
        self._tls._pause_reading()

    def resume_reading(self) -> None:
        self._tls._resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        raw = self._tls._transport
        if raw is not None:
            raw.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        raw = self._tls._transport
        if raw is None:
            return (0, 0)
        limits: tuple[int, int] = raw.get_write_buffer_limits()
        return limits

    def get_write_buffer_size(self) -> int:
        raw = self._tls._transport
        return 0 if raw is None else raw.get_write_buffer_size()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data: expecting a bytes-like instance, got {type(data).__name__}")
        if self._eof_written:
            raise RuntimeError("Cannot call write() after write_eof()")
        if not data:
            return
        self._tls._write(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        # One join, then one seal (full-size records, no per-piece records) and one
        # transport write; a single bytes piece passes through join without a copy.
        self.write(b"".join(list_of_data))

    def write_eof(self) -> None:
        """Send close_notify; reading goes on until the peer's close_notify (half-close)."""
        if self._eof_written:
            return
        self._eof_written = True
        self._tls._write_eof()

    def can_write_eof(self) -> bool:
        return True


class TLSProtocol(asyncio.BufferedProtocol):
    """Runs a sans-I/O connection on a TCP transport for an application protocol.

    The loop reads into :meth:`get_buffer`'s view of one reusable bytearray
    (replaced by a bigger one only when a read fills it, at most twice);
    :meth:`buffer_updated` and :meth:`data_received` (kept for callers that feed
    bytes directly) share one path.  Nothing keeps a reference to the lent view
    after ``buffer_updated`` returns: the connection copies leftover partial
    records, and event payloads are new bytes objects.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        app_protocol: asyncio.Protocol,
        context: Context,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        waiter: asyncio.Future[None] | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> None:
        context.check_side(server_side)
        self._loop = loop
        self._app_protocol = app_protocol
        self._context = context
        self._conn = context.new_connection(None if server_side else server_hostname)
        self._info = ConnectionInfo(self._conn, context, server_side, server_hostname)
        self._waiter = waiter
        self._handshake_timeout = HANDSHAKE_TIMEOUT if ssl_handshake_timeout is None else ssl_handshake_timeout
        self._shutdown_timeout = SHUTDOWN_TIMEOUT if ssl_shutdown_timeout is None else ssl_shutdown_timeout
        if self._handshake_timeout <= 0 or self._shutdown_timeout <= 0:
            raise ValueError("ssl_handshake_timeout and ssl_shutdown_timeout must be positive")
        self._transport: asyncio.Transport | None = None
        self._app_transport = TLSTransport(self)
        self._lingering = False
        self._state = _State.HANDSHAKING
        self._app_state = _App.INIT
        self._app_reading_paused = False
        self._raw_reading_paused = False
        self._raw_writing_paused = False
        self._app_writing_paused = False
        self._error: BaseException | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._delivering = False
        self._lent: memoryview | None = None  # the view get_buffer lent for the read under way
        self._own_view: memoryview | None = None  # proactor loops only (see get_buffer)
        self._early: list[bytes] | None = None  # 0-RTT data, handed over after connection_made

    def __repr__(self) -> str:
        side = "server" if self._info.server_side else "client"
        return f"<ferrotls TLSProtocol {side} {self._state.value}>"

    @property
    def raw_transport(self) -> asyncio.Transport | None:
        """The TCP transport underneath (None once it is gone)."""
        return self._transport

    @property
    def app_transport(self) -> TLSTransport:
        return self._app_transport

    @property
    def connection(self) -> Any:
        return self._conn

    # -- asyncio.BufferedProtocol (the TCP side) ----------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._timer = self._loop.call_later(self._handshake_timeout, self._on_handshake_timeout)
        self._flush()

    def get_buffer(self, sizehint: int) -> memoryview:
        """The thread's shared read buffer (``sizehint`` is ignored: asyncio passes
        -1, uvloop its own read size).  A proactor loop (Windows) keeps the buffer
        across an overlapped read, so there each protocol gets its own."""
        if _PROACTOR and isinstance(self._loop, _PROACTOR):
            if self._own_view is None:
                self._own_view = memoryview(bytearray(READ_BUFFER_SIZE))
            view = self._own_view
        else:
            view = _thread_read_view()
        self._lent = view
        return view

    def buffer_updated(self, nbytes: int) -> None:
        view = self._lent
        assert view is not None, "buffer_updated() without get_buffer()"
        self._lent = None
        # Released on return: a reference kept by mistake fails loudly instead of
        # reading the bytes of a later read.
        with view[:nbytes] as data:
            self._receive(data)

    def data_received(self, data: bytes) -> None:
        """Bytes fed directly (the ``asyncio.Protocol`` way); same path as buffer_updated."""
        self._receive(data)

    def _receive(self, data: bytes | bytearray | memoryview) -> None:
        """Feed received bytes to the connection; send what it answers, deliver events.

        ``data`` may be a view of the reusable read buffer: it must not outlive the call.
        """
        if self._state is _State.CLOSED or not data or self._lingering:  # b"" would mean EOF
            return
        try:
            self._conn.receive_data(data)
        except Exception as exc:  # noqa: BLE001 - TLSError, or a core bug (alert queued either way)
            self._flush()
            self._fatal(exc)
            return
        self._flush()
        self._deliver()

    def eof_received(self) -> bool:
        if self._lingering:
            return False  # the peer read our alert and hung up: close now
        try:
            self._conn.receive_data(b"")
        except TLSError as exc:
            if self._state is _State.HANDSHAKING:
                self._fatal(ConnectionResetError(f"connection closed during the TLS handshake ({exc})"))
            elif self._state is _State.WRAPPED:
                self._fatal(exc)
            # CLOSING: our close_notify is out and the peer just hung up: fine.
        return False  # the TCP transport closes itself

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_timer()
        self._state = _State.CLOSED
        self._app_transport._closed = True
        error = self._error or exc
        self._wake(error or ConnectionResetError("connection lost during the TLS handshake"))
        if self._app_state in (_App.CONNECTED, _App.EOF):
            self._app_reading_paused = False
            self._deliver(final=True)
            self._app_state = _App.LOST
            self._loop.call_soon(self._app_protocol.connection_lost, error)  # type: ignore[arg-type]
        self._transport = None
        self._lent = self._own_view = None  # no reads after this

    def pause_writing(self) -> None:
        self._raw_writing_paused = True
        if self._app_state is _App.CONNECTED and not self._app_writing_paused:
            self._app_writing_paused = True
            self._app_protocol.pause_writing()

    def resume_writing(self) -> None:
        self._raw_writing_paused = False
        if self._app_writing_paused:
            self._app_writing_paused = False
            self._app_protocol.resume_writing()

    # -- internals ---------------------------------------------------------------------

    def _get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peercert":
            return self._info.getpeercert() if self._conn.handshake_complete else default
        if name == "cipher":
            return self._info.cipher()
        if name == "compression":
            return None
        if name == "ssl_object":
            return self._info
        if name == "sslcontext":
            return self._context
        if name == "ferrotls_connection":
            return self._conn
        if self._transport is not None:
            return self._transport.get_extra_info(name, default)
        return default

    def _flush(self) -> None:
        data = self._conn.data_to_send()
        if data and self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _wake(self, exc: BaseException | None) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if exc is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(exc)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_handshake_timeout(self) -> None:
        self._timer = None
        if self._state is _State.HANDSHAKING:
            exc = TimeoutError(f"TLS handshake did not complete within {self._handshake_timeout} seconds")
            self._abort(exc)

    def _on_shutdown_timeout(self) -> None:
        self._timer = None
        if self._state is _State.CLOSING:
            logger.debug("%r: no close_notify from the peer in %ss; closing", self, self._shutdown_timeout)
            self._close_raw()

    def _on_handshake_complete(self) -> None:
        self._cancel_timer()
        self._state = _State.WRAPPED
        self._wake(None)
        self._app_state = _App.CONNECTED
        self._app_protocol.connection_made(self._app_transport)
        early, self._early = self._early, None
        if early:  # a server that accepted 0-RTT: the early data comes first
            self._app_protocol.data_received(b"".join(early))
        if self._raw_writing_paused and not self._app_writing_paused:
            self._app_writing_paused = True
            self._app_protocol.pause_writing()

    def _deliver(self, final: bool = False) -> None:
        """Hand pending events to the app, in order, until it pauses reading."""
        if self._delivering:
            return
        self._delivering = True
        try:
            conn = self._conn
            while not self._app_reading_paused or final:
                event = conn.next_event()
                if event is NEED_DATA:
                    break
                kind = type(event)
                if kind is ApplicationData:
                    if self._app_state is _App.CONNECTED and self._state is _State.WRAPPED:
                        self._app_protocol.data_received(event.data)  # type: ignore[union-attr]
                    # after close()/write_eof-and-EOF: discarded
                elif kind is HandshakeComplete:
                    if self._state is _State.HANDSHAKING:
                        self._on_handshake_complete()
                elif kind is EarlyData:
                    if self._early is None:
                        self._early = []
                    self._early.append(event.data)  # type: ignore[union-attr]
                elif kind is ConnectionClosed and not final:
                    self._on_close_notify()
        finally:
            self._delivering = False

    def _on_close_notify(self) -> None:
        if self._state is _State.CLOSING:
            self._close_raw()
            return
        if self._app_state is _App.CONNECTED:
            self._app_state = _App.EOF
            keep_open = self._app_protocol.eof_received()
            # StreamReaderProtocol answers False only because ``ssl`` cannot half-close
            # (see asyncio/streams.py); TLS 1.3 can, so streams keep writing until close().
            if isinstance(self._app_protocol, asyncio.StreamReaderProtocol):
                keep_open = True
            if keep_open:
                if self._app_transport._eof_written:
                    self._close_raw()  # both close_notify sent: done
                return
        self._app_transport._closing = True
        self._start_shutdown()

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        if self._state is not _State.WRAPPED:
            logger.debug("%r: write() in state %s ignored", self, self._state.value)
            return
        self._conn.send(data)
        self._flush()

    def _write_eof(self) -> None:
        if self._state is _State.WRAPPED:
            self._conn.close()
            self._flush()
            if self._conn.peer_closed:
                self._close_raw()

    def _start_shutdown(self) -> None:
        if self._state in (_State.CLOSING, _State.CLOSED):
            return
        if self._state is _State.HANDSHAKING:
            self._abort(None)
            return
        self._state = _State.CLOSING
        self._conn.close()
        self._flush()
        if self._conn.peer_closed:
            self._close_raw()
            return
        self._timer = self._loop.call_later(self._shutdown_timeout, self._on_shutdown_timeout)
        # keep reading (and discarding) until the peer's close_notify arrives
        self._app_reading_paused = False
        self._set_raw_reading(True)
        self._loop.call_soon(self._deliver)

    def _close_raw(self) -> None:
        self._cancel_timer()
        if self._transport is not None:
            self._transport.close()  # flushes what is buffered first

    def _fatal(self, exc: BaseException) -> None:
        """A TLS error: the alert is already written; close TCP and report ``exc``."""
        if self._error is None:
            self._error = exc
        self._app_transport._closing = True
        self._wake(exc)
        if self._state is _State.HANDSHAKING:
            logger.debug("%r: handshake failed: %r", self, exc)
        self._state = _State.CLOSING
        raw = self._transport
        if raw is not None and not raw.is_closing() and raw.can_write_eof():
            # Closing with unread input makes the kernel send RST, and a peer still
            # writing may lose our alert: send it with a FIN, then drop what the peer
            # sends for a moment before closing.
            self._lingering = True
            raw.write_eof()
            self._cancel_timer()
            self._timer = self._loop.call_later(LINGER_AFTER_ALERT, self._close_raw)
            return
        self._close_raw()

    def _abort(self, exc: BaseException | None) -> None:
        if exc is not None and self._error is None:
            self._error = exc
        self._wake(exc or ConnectionAbortedError("TLS connection aborted"))
        self._cancel_timer()
        self._state = _State.CLOSED if self._transport is None else self._state
        if self._transport is not None:
            self._transport.abort()

    def _set_raw_reading(self, reading: bool) -> None:
        raw = self._transport
        if raw is None or raw.is_closing() or reading != self._raw_reading_paused:
            return
        self._raw_reading_paused = not reading
        if reading:
            raw.resume_reading()
        else:
            raw.pause_reading()

    def _pause_reading(self) -> None:
        if not self._app_reading_paused and self._state is _State.WRAPPED:
            self._app_reading_paused = True
            self._set_raw_reading(False)

    def _resume_reading(self) -> None:
        if self._app_reading_paused:
            self._app_reading_paused = False

            def resume() -> None:
                self._deliver()
                if not self._app_reading_paused:
                    self._set_raw_reading(True)

            self._loop.call_soon(resume)


# --------------------------------------------------------------------------- public functions


def _pick_context(context: Context | None, ssl: Any, purpose: Purpose) -> Context:
    if ssl is not None and ssl is not True and context is not None and ssl is not context:
        raise ValueError("give context= or ssl=, not both")
    chosen = context if context is not None else (None if ssl is True else ssl)
    if chosen is None:
        return create_default_context(purpose)
    if isinstance(chosen, Context):
        return chosen
    if isinstance(chosen, _ssl.SSLContext):
        raise TypeError("ferrotls.asyncio needs a ferrotls.Context, not an ssl.SSLContext")
    raise TypeError(f"context must be a ferrotls.Context, not {type(chosen).__name__}")


async def create_connection(
    protocol_factory: Callable[[], asyncio.Protocol],
    host: str | None = None,
    port: int | None = None,
    *,
    context: Context | None = None,
    ssl: Any = None,
    server_hostname: str | None = None,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
    **kwds: Any,
) -> tuple[TLSTransport, asyncio.Protocol]:
    """``loop.create_connection`` with ferrotls; returns once the handshake is done.

    ``server_hostname`` defaults to ``host``.  Other keywords go to the loop's
    ``create_connection`` (``sock=``, ``local_addr=``, ``family=`` ...).
    """
    loop = asyncio.get_running_loop()
    ctx = _pick_context(context, ssl, Purpose.SERVER_AUTH)
    if server_hostname is None:
        server_hostname = host
    app_protocol = protocol_factory()
    waiter: asyncio.Future[None] = loop.create_future()
    tls = TLSProtocol(
        loop,
        app_protocol,
        ctx,
        server_hostname=server_hostname,
        waiter=waiter,
        ssl_handshake_timeout=ssl_handshake_timeout,
        ssl_shutdown_timeout=ssl_shutdown_timeout,
    )
    raw, _ = await loop.create_connection(lambda: tls, host, port, **kwds)  # type: ignore[arg-type]
    try:
        await waiter
    except BaseException:
        raw.abort()
        raise
    return tls.app_transport, app_protocol


async def open_connection(
    host: str | None = None,
    port: int | None = None,
    *,
    context: Context | None = None,
    ssl: Any = None,
    server_hostname: str | None = None,
    limit: int = 2**16,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
    **kwds: Any,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``asyncio.open_connection`` over ferrotls: (reader, writer) after the handshake.

    ``context`` (or ``ssl``, for drop-in use) is a :class:`ferrotls.Context`;
    default: ``create_default_context()``.  ``server_hostname`` defaults to ``host``.
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport, _ = await create_connection(
        lambda: protocol,
        host,
        port,
        context=context,
        ssl=ssl,
        server_hostname=server_hostname,
        ssl_handshake_timeout=ssl_handshake_timeout,
        ssl_shutdown_timeout=ssl_shutdown_timeout,
        **kwds,
    )
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    return reader, writer


async def create_server(
    protocol_factory: Callable[[], asyncio.Protocol],
    host: Any = None,
    port: int | None = None,
    *,
    context: Context | None = None,
    ssl: Any = None,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
    **kwds: Any,
) -> asyncio.Server:
    """``loop.create_server`` with ferrotls: each accepted connection's protocol is
    connected once its handshake completes (failed handshakes are logged at debug
    level on the ``ferrotls.asyncio`` logger and closed)."""
    loop = asyncio.get_running_loop()
    ctx = _pick_context(context, ssl, Purpose.CLIENT_AUTH)
    ctx.config  # configuration errors surface here, not per connection  # noqa: B018

    def factory() -> TLSProtocol:
        return TLSProtocol(
            loop,
            protocol_factory(),
            ctx,
            server_side=True,
            ssl_handshake_timeout=ssl_handshake_timeout,
            ssl_shutdown_timeout=ssl_shutdown_timeout,
        )

    return await loop.create_server(factory, host, port, **kwds)


async def start_server(
    client_connected_cb: Callable[
        [asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None] | None
    ],
    host: Any = None,
    port: int | None = None,
    *,
    context: Context | None = None,
    ssl: Any = None,
    limit: int = 2**16,
    ssl_handshake_timeout: float | None = None,
    ssl_shutdown_timeout: float | None = None,
    **kwds: Any,
) -> asyncio.Server:
    """``asyncio.start_server`` over ferrotls: ``client_connected_cb(reader, writer)``
    runs for each client once its handshake completed."""
    loop = asyncio.get_running_loop()

    def factory() -> asyncio.Protocol:
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        return asyncio.StreamReaderProtocol(reader, client_connected_cb, loop=loop)

    return await create_server(
        factory,
        host,
        port,
        context=context,
        ssl=ssl,
        ssl_handshake_timeout=ssl_handshake_timeout,
        ssl_shutdown_timeout=ssl_shutdown_timeout,
        **kwds,
    )
