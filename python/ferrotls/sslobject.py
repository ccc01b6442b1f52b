"""``TLSObject``: the ``ssl.SSLObject`` API over the sans-I/O connection.

``Context.wrap_bio(incoming, outgoing, ...)`` returns one.  It reads the peer's
bytes from the ``incoming`` :class:`ssl.MemoryBIO` and writes its own to
``outgoing``, and raises what ``ssl.SSLObject`` raises, which is what asyncio's
``sslproto`` (``ssl=``, ``start_tls``), uvloop and anyio (httpx, ...) expect:

* ``do_handshake()``, ``read()``, ``write()`` raise ``ssl.SSLWantReadError``
  (:class:`~ferrotls.errors.WantReadError`) when they need more bytes;
* ``read()`` returns ``b""`` (or 0 into a buffer) after the peer's close_notify,
  raises ``ssl.SSLZeroReturnError`` once both sides have sent it, and
  ``ssl.SSLEOFError`` (:class:`~ferrotls.errors.TruncationError`) when
  ``incoming`` reached EOF without one (unless the context has
  ``OP_IGNORE_UNEXPECTED_EOF``);
* ``unwrap()`` sends close_notify and raises ``SSLWantReadError`` until the
  peer's arrives; before the handshake completed it raises ``ssl.SSLError``;
* protocol and certificate failures are the ferrotls errors, which are
  ``ssl.SSLError`` / ``ssl.SSLCertVerificationError``; the alert is in
  ``outgoing`` when they are raised.

It is a subclass of ``ssl.SSLObject`` (every method overridden; OpenSSL is never
used), so ``isinstance`` checks and annotations accept it.
"""

from __future__ import annotations

import ssl
from collections import deque
from typing import TYPE_CHECKING, Any

from .errors import TLSError, TruncationError, UsageError, WantReadError, ZeroReturnError
from .events import NEED_DATA as _NEED_DATA
from .events import ApplicationData
from .transports import ConnectionInfo, Session, newest_session

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from .context import Context

__all__ = ["TLSObject"]

_WANT_READ = "The operation did not complete (read)"


class TLSObject(ConnectionInfo, ssl.SSLObject):  # type: ignore[misc]
    """A TLS 1.3 connection over two memory BIOs, shaped like ``ssl.SSLObject``.

    Made by :meth:`ferrotls.Context.wrap_bio`.  Not thread-safe, like the
    connection it drives.
    """

    def __init__(
        self,
        context: Context,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool,
        server_hostname: str | None,
        session: Session | None,
    ) -> None:
        self._incoming = incoming
        self._outgoing = outgoing
        self._session: Session | None = session
        self._closed_sent = False
        self._counted = False
        self._truncated: TruncationError | None = None
        self._ignore_eof = bool(context.options & ssl.OP_IGNORE_UNEXPECTED_EOF)
        self._chunk: bytes = b""
        self._pos = 0
        self._queue: deque[bytes] = deque()  # decrypted payloads behind _chunk
        self._queued = 0
        self._eof_reported = False
        ConnectionInfo.__init__(self, None, context, server_side, server_hostname)  # type: ignore[arg-type]
        self.connection = context.connection_for(self, server_side, server_hostname, session)

    def __repr__(self) -> str:
        side = "server" if self.server_side else "client"
        return f"<ferrotls.TLSObject {side} {self.connection.state.value}>"

    # -- plumbing ------------------------------------------------------------------

    def _flush(self) -> None:
        data = self.connection.data_to_send()
        if data:
            self._outgoing.write(data)

    def _feed(self) -> bool:
        """Give the connection what ``incoming`` holds; False if it held nothing.

        At EOF of ``incoming`` the connection is told the transport closed, which
        raises TruncationError (``ssl.SSLEOFError``) unless close_notify came
        first.  A protocol error puts its alert in ``outgoing`` before it propagates.
        """
        if self._truncated is not None:
            raise self._truncated
        data = self._incoming.read()
        if not data:
            if self._incoming.eof:
                try:
                    self.connection.receive_data(b"")
                except TruncationError as exc:
                    self._truncated = exc
                    raise
            return False
        try:
            self.connection.receive_data(data)
        finally:
            self._flush()
        return True

    def _completed(self) -> None:
        """Count the finished handshake in the context's session_stats (once)."""
        self._counted = True
        context = self.context
        context.record_stat("accept_good" if self.server_side else "connect_good")
        if self.connection.info.resumed:
            context.record_stat("hits")

    def _drain(self) -> None:
        """Take the connection's events: application data queues up behind ``_chunk``
        (so ``pending()`` counts it -- uvloop reads only while something is pending)."""
        conn = self.connection
        while True:
            event = conn.next_event()
            if event is _NEED_DATA:
                return
            if isinstance(event, ApplicationData):
                data = event.data
                if data:
                    self._queue.append(data)
                    self._queued += len(data)

    def _events_until_data(self) -> bool:
        """True when application data is in ``_chunk``."""
        self._drain()
        if not self._queue:
            return False
        chunk = self._chunk = self._queue.popleft()
        self._queued -= chunk.__len__()
        self._pos = 0
        return True

    # -- the ssl.SSLObject API -----------------------------------------------------

    def do_handshake(self) -> None:
        """Advance the handshake; ``ssl.SSLWantReadError`` until it is complete."""
        conn = self.connection
        self._flush()
        while not conn.handshake_complete:
            if conn.peer_closed:
                raise ZeroReturnError("the peer closed the connection (close_notify) during the handshake")
            if not self._feed():
                raise WantReadError(_WANT_READ)
        self._flush()
        if not self._counted:
            self._completed()

    def read(self, len: int = 1024, buffer: Buffer | None = None) -> Any:
        """Up to ``len`` bytes of application data (or their count, written into ``buffer``).

        ``b""``/0 after the peer's close_notify; ``ssl.SSLWantReadError`` when
        ``incoming`` has nothing decryptable yet.
        """
        if len < 0 and buffer is None:
            raise ValueError("size should not be negative")
        conn = self.connection
        if not conn.handshake_complete:
            self.do_handshake()
        if self._pos >= self._chunk.__len__() and not self._fill():
            if conn.peer_closed and self._closed_sent:
                raise ZeroReturnError("TLS/SSL connection has been closed (EOF)")
            self._eof_reported = True
            return 0 if buffer is not None else b""
        chunk, pos = self._chunk, self._pos
        if buffer is not None:
            view = memoryview(buffer).cast("B")
            n = view.nbytes if len <= 0 else min(len, view.nbytes)
            n = min(n, chunk.__len__() - pos)
            view[:n] = memoryview(chunk)[pos : pos + n]
            self._pos = pos + n
            return n
        if len == 0:
            return b""
        if pos == 0 and len >= chunk.__len__():
            self._chunk = b""
            return chunk
        out = chunk[pos : pos + len]
        self._pos = pos + out.__len__()
        return out

    def _fill(self) -> bool:
        """Make plaintext available; False at the end of the stream (close_notify)."""
        conn = self.connection
        while True:
            if self._events_until_data():
                return True
            if conn.peer_closed:
                return False
            try:
                fed = self._feed()
            except TruncationError:
                if self._ignore_eof:
                    return False
                raise
            if not fed:
                if self._incoming.eof and self._ignore_eof:
                    return False
                raise WantReadError(_WANT_READ)

    def write(self, data: Buffer) -> int:
        """Encrypt ``data`` into ``outgoing``; returns its length."""
        conn = self.connection
        if not conn.handshake_complete:
            self.do_handshake()
        if self._closed_sent:
            err = UsageError("protocol is shutdown: close_notify was sent")
            err.reason = "PROTOCOL_IS_SHUTDOWN"
            raise err
        if self._truncated is not None:
            raise TruncationError("EOF occurred in violation of protocol")
        n = memoryview(data).nbytes
        if n:
            conn.send(data)  # type: ignore[arg-type]
            self._flush()
        return n

    def pending(self) -> int:
        """Decrypted bytes ready to be read without more input (everything ``incoming``
        held is decrypted at once, so this is where arrived data shows).  1 when
        only the peer's close_notify is left to report (read() returns ``b""``)."""
        self._drain()
        n = self._chunk.__len__() - self._pos + self._queued
        if not n and self.connection.peer_closed and not self._eof_reported:
            return 1  # the peer's close_notify is in: a read returns b"" at once
        return n

    def unwrap(self) -> None:
        """Send close_notify, then wait (``ssl.SSLWantReadError``) for the peer's.

        Application data still arriving is discarded.  ``ssl.SSLError`` before the
        handshake completed (as ``ssl``: "shutdown while in init").
        """
        conn = self.connection
        if not conn.handshake_complete:
            err = UsageError("shutdown while in init: the handshake has not completed")
            err.reason = "SHUTDOWN_WHILE_IN_INIT"
            raise err
        if not self._closed_sent:
            self._closed_sent = True
            conn.close()
            self._flush()
        while not conn.peer_closed:
            conn.events()
            if not self._feed():
                raise WantReadError(_WANT_READ)
        self._chunk, self._pos = b"", 0
        self._queue.clear()
        self._queued = 0
        return None

    @property  # type: ignore[override]
    def session(self) -> Session | None:
        """Client: the newest resumable session (a NewSessionTicket arrives after the
        handshake, with the first data read; a TLS 1.2 session with the handshake);
        pass ``session=`` to ``wrap_bio`` to resume."""
        self._session = newest_session(self._session, self.connection)
        return self._session

    @session.setter
    def session(self, value: Session | None) -> None:
        raise ValueError("Cannot set session after the TLSObject was created; pass session= to wrap_bio")

