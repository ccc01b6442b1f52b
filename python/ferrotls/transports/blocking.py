"""Blocking sockets: :class:`TLSSocket` (the ``ssl.SSLSocket`` API) and :func:`connect`.

``TLSSocket`` drives a sans-I/O connection over a TCP socket.  It reads with
``recv_into`` into one reusable buffer, hands the bytes to ``receive_data`` and
sends ``data_to_send()`` straight after, so handshake replies, KeyUpdate
responses and fatal alerts leave at once (an alert is flushed before the error
propagates).

What it wraps, as ``ssl.SSLContext.wrap_socket`` does:

* a connected socket: the handshake runs at once (``do_handshake_on_connect``);
* an unconnected one: ``connect()`` / ``connect_ex()`` connect and handshake;
* a listening one (``server_side=True``): ``accept()`` returns ``(TLSSocket,
  address)``, the handshake run as in ``ssl`` (so ``http.server``'s usual
  ``httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)`` works).

Timeouts: ``settimeout(t)`` bounds each call -- a whole handshake, one
``recv``, one ``sendall`` -- by ``t`` seconds in total (not per ``recv`` of the
socket), raising ``TimeoutError`` (``socket.timeout``).  A send that timed out
may have queued part of its data; close the socket after a send timeout.

Non-blocking (``setblocking(False)``): calls raise ``ssl.SSLWantReadError`` /
``ssl.SSLWantWriteError`` (:class:`~ferrotls.errors.WantReadError` /
:class:`~ferrotls.errors.WantWriteError`, which are also ``BlockingIOError``)
as ``ssl`` does.  After ``SSLWantWriteError`` from ``send``, call ``send`` again
with the same data once the socket is writable: it returns the length then.

End of stream: ``recv`` returns ``b""`` after the peer's close_notify.  A TCP
EOF *without* close_notify reads as ``b""`` too with ``suppress_ragged_eofs``
(``wrap_socket``'s default, as in ``ssl``), and raises ``ssl.SSLEOFError``
(:class:`ferrotls.TruncationError`) without it -- :func:`connect` turns it off.
``close()`` and ``shutdown(SHUT_WR)`` send close_notify first; ``unwrap()``
exchanges close_notify both ways and returns the plain socket.

A ``TLSSocket`` is an ``ssl.SSLSocket`` for ``isinstance`` checks but drives the
socket it wrapped: it has the methods ``http.client``, ``socketserver`` and
``http.server`` use (``recv``, ``recv_into``, ``send``, ``sendall``, ``makefile``,
``settimeout``, ``fileno``, ``getpeername``, ``setsockopt``, ``shutdown``,
``close``, ``accept`` ...).  Threads: one thread reading while another writes is
supported (websockets' sync implementation does that with ``ssl`` sockets);
two threads reading, or two writing, at once are not.
"""

from __future__ import annotations

import errno
import io
from collections import deque
import socket
import ssl
import threading
import time
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Self, cast

from ..connection import ConnectionState
from ..errors import TLSError, TruncationError, UsageError, WantReadError, WantWriteError
from ..events import NEED_DATA as _NEED_DATA
from ..events import ApplicationData
from . import Session, TLSInfo, newest_session

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ..connection import ClientConnection, ServerConnection
    from ..context import Context

__all__ = ["TLSSocket", "connect"]

_RECV_SIZE = 256 * 1024
"""Bytes read from the socket at once (many records per ``receive_data``)."""
_SEND_CHUNK = 256 * 1024
"""Plaintext handed to the connection per step of ``sendall`` (bounds memory)."""
_CLOSE_TIMEOUT = 5.0
"""Upper bound for flushing close_notify in ``close()`` on a blocking socket."""
_WANT_READ = "The operation did not complete (read)"
_WANT_WRITE = "The operation did not complete (write)"


def _is_connected(sock: socket.socket) -> bool:
    try:
        sock.getpeername()
    except OSError as exc:
        if exc.errno != errno.ENOTCONN:
            raise
        return False
    return True


class TLSSocket(TLSInfo, ssl.SSLSocket):  # type: ignore[misc]
    """A TLS 1.3 connection over a socket: an ``ssl.SSLSocket``.

    Make one with ``Context.wrap_socket(sock, server_side=..., server_hostname=...)``
    or :func:`ferrotls.connect`.  With ``do_handshake_on_connect`` (the default)
    the handshake runs as soon as the socket is connected (in the constructor,
    ``connect()`` or ``accept()``), bounded by the socket's timeout; the socket is
    closed if it fails.  Otherwise the first read or write runs it.

    It is an ``ssl.SSLSocket`` (so ``socket.socket``) for ``isinstance`` checks
    and annotations, but it does not own a descriptor: it drives the socket it
    wrapped, and every method is its own (none reaches OpenSSL or the
    unencrypted socket underneath).
    """

    def __init__(
        self,
        sock: socket.socket,
        context: Context,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = False,
        session: Session | None = None,
    ) -> None:
        context.check_side(server_side)
        if sock.type != socket.SOCK_STREAM:
            raise NotImplementedError("only stream sockets are supported")
        if server_side and server_hostname:
            raise ValueError("server_hostname can only be specified in client mode")
        self.connection = None  # type: ignore[assignment]
        self._context = context
        self.server_side = server_side
        self.server_hostname = server_hostname
        self._sock = sock
        self._timeout: float | None = sock.gettimeout()
        self.do_handshake_on_connect = do_handshake_on_connect
        self.suppress_ragged_eofs = suppress_ragged_eofs or bool(
            context.options & ssl.OP_IGNORE_UNEXPECTED_EOF
        )
        self._session: Session | None = session
        self._buf = bytearray(_RECV_SIZE)
        self._view = memoryview(self._buf)
        self._pending = bytearray()  # ciphertext taken from the connection, not yet sent
        self._lock = threading.Lock()  # the connection's state: held for CPU work, never for I/O
        self._send_lock = threading.Lock()  # one sender at a time (see _flush)
        self._flush_wanted = False
        self._write_retry: int | None = None  # non-blocking send accepted, not yet all sent
        self._chunk: bytes = b""  # current ApplicationData payload and read position
        self._pos = 0
        self._queue: deque[bytes] = deque()  # decrypted payloads behind _chunk
        self._queued = 0
        self._eof_reported = False
        self._need = 0  # bytes of the current record not yet read from the socket
        self._hdr = bytearray()  # a record header read in part
        self._record_size = 0
        self._eof = False  # the transport was closed by the peer
        self._ragged = False  # ... without close_notify, and suppress_ragged_eofs
        self._truncation: TruncationError | None = None
        self._counted = False
        self._closed = False
        self._real_closed = False
        self._detached = False
        self._io_refs = 0
        if not _is_connected(sock):
            return  # connect() / accept() later
        if do_handshake_on_connect and self._timeout == 0.0:
            raise ValueError("do_handshake_on_connect should not be specified for non-blocking sockets")
        try:
            self._start()
            if do_handshake_on_connect:
                self.do_handshake()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        """Create the TLS connection (the socket is, or is about to be, connected)."""
        self.connection = self.context.connection_for(
            self, self.server_side, self.server_hostname, self._session
        )

    @property  # type: ignore[override]
    def context(self) -> Context:
        """The Context; a server's sni_callback may set another one (its certificates are used)."""
        return self._context

    @context.setter
    def context(self, context: Context) -> None:
        self._context = context

    @property
    def _sslobj(self) -> TLSSocket | None:
        """What ``ssl.SSLSocket._sslobj`` is to code that reaches for it (httpcore's
        ``ssl_object``): this socket, which answers the SSLObject questions itself."""
        return None if self.connection is None else self

    @property
    def _conn(self) -> ClientConnection | ServerConnection:
        conn = self.connection
        if conn is None:
            raise OSError(errno.ENOTCONN, "Transport endpoint is not connected (TLSSocket)")
        return conn

    def __repr__(self) -> str:
        side = "server" if self.server_side else "client"
        conn = self.connection
        state = "closed" if self._closed else ("unconnected" if conn is None else conn.state.value)
        try:
            peer = self._sock.getpeername() if not self._closed else None
        except OSError:
            peer = None
        return f"<ferrotls.TLSSocket {side} {state} peer={peer}>"

    # -- socket plumbing -----------------------------------------------------------

    def fileno(self) -> int:
        return self._sock.fileno()

    def getpeername(self) -> Any:
        return self._sock.getpeername()

    def getsockname(self) -> Any:
        return self._sock.getsockname()

    def setsockopt(self, *args: Any) -> None:
        self._sock.setsockopt(*args)

    def getsockopt(self, *args: Any) -> Any:
        return self._sock.getsockopt(*args)

    def bind(self, address: Any) -> None:
        self._sock.bind(address)

    def listen(self, backlog: int = socket.SOMAXCONN) -> None:
        self._sock.listen(backlog)

    def accept(self) -> tuple[TLSSocket, Any]:
        """Accept a connection on a listening socket and wrap it (server side), as
        ``ssl.SSLSocket.accept``: the handshake runs here unless
        ``do_handshake_on_connect`` is False."""
        sock, address = self._sock.accept()
        try:
            tls = self.context.wrap_socket(
                sock,
                server_side=self.server_side,
                do_handshake_on_connect=self.do_handshake_on_connect,
                suppress_ragged_eofs=self.suppress_ragged_eofs,
            )
        except BaseException:
            sock.close()
            raise
        return tls, address

    def _connect(self, address: Any, connect_ex: bool) -> int | None:
        if self.server_side:
            raise ValueError("can't connect in server-side mode")
        if self.connection is not None:
            raise ValueError("attempt to connect already-connected TLSSocket!")
        self._start()
        try:
            rc = None
            if connect_ex:
                rc = self._sock.connect_ex(address)
            else:
                self._sock.connect(address)
            if not rc and self.do_handshake_on_connect:
                self.do_handshake()
            return rc
        except (OSError, ValueError):
            self.connection = None
            raise

    def connect(self, address: Any) -> None:
        """Connect an unconnected socket and run the handshake (client side)."""
        self._connect(address, False)

    def connect_ex(self, address: Any) -> int:
        """``connect`` returning an errno value instead of raising for the TCP part."""
        rc = self._connect(address, True)
        return rc or 0

    @property
    def family(self) -> socket.AddressFamily:
        return self._sock.family

    @property
    def timeout(self) -> float | None:
        return self._timeout

    def get_inheritable(self) -> bool:
        return self._sock.get_inheritable()

    def set_inheritable(self, inheritable: bool) -> None:
        self._sock.set_inheritable(inheritable)

    def dup(self) -> socket.socket:  # type: ignore[override]
        raise NotImplementedError("Can't dup() TLSSocket instances")

    def _refuse(self, name: str) -> Any:
        raise ValueError(f"{name}() not allowed on instances of TLSSocket")

    def recvfrom(self, *args: Any) -> Any:
        return self._refuse("recvfrom")

    def recvfrom_into(self, *args: Any) -> Any:
        return self._refuse("recvfrom_into")

    def recvmsg(self, *args: Any) -> Any:  # type: ignore[override]
        raise NotImplementedError("recvmsg not allowed on instances of TLSSocket")

    def recvmsg_into(self, *args: Any) -> Any:  # type: ignore[override]
        raise NotImplementedError("recvmsg_into not allowed on instances of TLSSocket")

    def sendto(self, *args: Any) -> Any:
        return self._refuse("sendto")

    def sendmsg(self, *args: Any) -> Any:  # type: ignore[override]
        raise NotImplementedError("sendmsg not allowed on instances of TLSSocket")

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """Send a file's bytes through TLS (never ``os.sendfile``, which would bypass it)."""
        sent: int = socket.socket._sendfile_use_send(self, file, offset, count)  # type: ignore[attr-defined]
        return sent

    def __getstate__(self) -> Any:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    @property
    def type(self) -> socket.SocketKind:
        return self._sock.type

    @property
    def proto(self) -> int:
        return self._sock.proto

    def settimeout(self, value: float | None) -> None:
        """Bound every later call (handshake, recv, sendall) by ``value`` seconds; None blocks."""
        self._sock.settimeout(value)
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        self.settimeout(None if flag else 0.0)

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- I/O core --------------------------------------------------------------------

    def _deadline(self) -> float | None:
        t = self._timeout
        return None if not t else time.monotonic() + t

    def _arm(self, deadline: float | None) -> None:
        """Give the next socket call what is left of the deadline."""
        if deadline is None:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        self._sock.settimeout(remaining)

    def _check_usable(self) -> None:
        if self._real_closed or self._detached:
            raise OSError(9, "Bad file descriptor (TLSSocket is closed)")

    def _flush(self, deadline: float | None, wait: bool = True) -> None:
        """Send everything the connection has queued (and anything left from before).

        One thread sends at a time (``_send_lock``), so records leave in order when a
        reader thread and a writer thread share the socket, as websockets' sync
        implementation does.  A reader (``wait=False``) never blocks behind a writer
        stuck in ``sendall``: it leaves its output to that writer, which flushes
        again after letting go of the lock when ``_flush_wanted`` is set.
        """
        lock = self._send_lock
        while True:
            if not lock.acquire(blocking=wait):
                self._flush_wanted = True
                if not lock.acquire(blocking=False):
                    return  # the holder checks _flush_wanted after it lets go
            try:
                self._flush_wanted = False
                self._flush_locked(deadline)
            finally:
                lock.release()
            if not self._flush_wanted:
                return
            wait = False

    def _flush_locked(self, deadline: float | None) -> None:
        with self._lock:
            data = self._conn.data_to_send()
        pending = self._pending
        if pending:
            if data:
                pending += data
            while pending:
                self._arm(deadline)
                del pending[: self._sock.send(pending)]
            return
        if not data:
            return
        if deadline is None and self._timeout is None:
            self._sock.sendall(data)
            return
        view = memoryview(data)
        sent = 0
        try:
            while sent < len(view):
                self._arm(deadline)
                sent += self._sock.send(view[sent:])
        except BaseException:
            pending += view[sent:]
            raise

    def _flush_after_error(self) -> None:
        """Best effort: put a queued alert on the wire before the error propagates."""
        try:
            deadline = time.monotonic() + min(self._timeout or _CLOSE_TIMEOUT, _CLOSE_TIMEOUT)
            self._flush(deadline, wait=False)
        except OSError:
            pass

    def _read_more(self, deadline: float | None, budget: int = _RECV_SIZE) -> None:
        """One ``recv_into`` fed to the connection, replies flushed.

        It takes no more from the kernel than ``budget`` bytes of plaintext can come
        from (``budget=0``: exactly one record), as OpenSSL's record-by-record reads
        do: decrypted data is never left behind while the socket looks idle, so a
        select() before recv() -- websockets' loop -- does not wait for bytes that
        were already read.  The handshake reads one record at a time, leaving the
        application data that follows it in the socket.
        """
        if deadline is not None:
            self._arm(deadline)
        if self._hdr:
            limit = 5 - len(self._hdr)  # finish the header, then the record's size is known
        elif self._need:
            limit = self._need + max(0, budget - self._record_size)
        else:
            limit = max(budget, 5)
        try:
            n = self._sock.recv_into(self._buf, min(limit, _RECV_SIZE))
        except BlockingIOError:
            if self._timeout == 0.0:
                raise WantReadError(_WANT_READ) from None
            raise
        if n == 0:
            self._on_eof()
            return
        data = self._view[:n]
        self._track(data)
        try:
            with self._lock:
                self._conn.receive_data(data)
        except TLSError:
            self._flush_after_error()
            raise
        self._flush(deadline, wait=False)

    def _track(self, data: memoryview) -> None:
        """Follow the record boundaries in the bytes read (``_need``: what is missing
        of the current record; ``_hdr``: a header read in part)."""
        pos, n = 0, len(data)
        while pos < n:
            if self._need:
                take = min(self._need, n - pos)
                self._need -= take
                pos += take
                continue
            hdr = self._hdr
            take = min(5 - len(hdr), n - pos)
            hdr += data[pos : pos + take]
            pos += take
            if len(hdr) == 5:
                self._need = int.from_bytes(hdr[3:5], "big")
                self._record_size = 5 + self._need
                hdr.clear()

    def _on_eof(self) -> None:
        self._eof = True
        try:
            with self._lock:
                self._conn.receive_data(b"")
        except TruncationError as exc:
            if self.suppress_ragged_eofs and self.connection.handshake_complete:
                self._ragged = True
                return
            self._truncation = exc
            raise

    def _drain(self) -> None:
        """Take the connection's events: application data queues up behind ``_chunk``
        (so ``pending()`` counts it)."""
        conn = self.connection
        if conn is None:
            return
        while True:
            with self._lock:
                event = conn.next_event()
            if event is _NEED_DATA:
                return
            if isinstance(event, ApplicationData):
                data = event.data
                if data:
                    self._queue.append(data)
                    self._queued += len(data)

    def _wait_data(self, budget: int = _RECV_SIZE) -> bool:
        """Make application data available in ``_chunk`` (reading for at most about
        ``budget`` bytes of it); False at a clean end of stream."""
        if self._pos < len(self._chunk):
            return True
        self._check_usable()
        conn = self._conn
        if not conn.handshake_complete:
            self.do_handshake()
        deadline = self._deadline()
        while True:
            self._drain()
            if self._queue:
                chunk = self._chunk = self._queue.popleft()
                self._queued -= len(chunk)
                self._pos = 0
                return True
            if conn.peer_closed or self._ragged:
                self._eof_reported = True
                return False
            if self._eof:
                if self._truncation is not None:
                    raise self._truncation
                return False
            self._read_more(deadline, budget)

    def _take(self, n: int) -> bytes:
        chunk, pos = self._chunk, self._pos
        if pos == 0 and n >= len(chunk):
            self._chunk = b""
            return chunk
        out = chunk[pos : pos + n]
        self._pos = pos + len(out)
        return out

    # -- public I/O ------------------------------------------------------------------

    def do_handshake(self, block: bool = False) -> None:
        """Run the handshake to completion (bounded by the timeout); no-op when done.

        Non-blocking: ``ssl.SSLWantReadError`` / ``SSLWantWriteError`` until done.
        """
        self._check_usable()
        conn = self._conn
        deadline = self._deadline()
        try:
            self._flush(deadline)
            while not conn.handshake_complete:
                if self._eof:
                    raise TruncationError("the peer closed the connection during the handshake")
                self._read_more(deadline, 0)  # record by record: what follows stays in the socket
            self._flush(deadline)
        except BlockingIOError as exc:
            if self._timeout != 0.0 or isinstance(exc, TLSError):
                raise
            raise WantWriteError(_WANT_WRITE) from None
        if not self._counted:
            self._counted = True
            context = self.context
            context.record_stat("accept_good" if self.server_side else "connect_good")
            if conn.info.resumed:
                context.record_stat("hits")

    @property  # type: ignore[override]
    def session(self) -> Session | None:
        """Client: the newest resumable session (a NewSessionTicket arrives after the
        handshake, with the first data read; a TLS 1.2 session with the handshake).
        Set it before the handshake (on an unconnected socket) or pass ``session=``
        to ``wrap_socket`` to resume."""
        self._session = newest_session(self._session, self.connection)
        return self._session

    @session.setter
    def session(self, value: Session | None) -> None:
        if self.server_side:
            raise ValueError("Cannot set session for server-side SSLSocket.")
        if self.connection is not None:
            raise ValueError("Cannot set session after handshake.")
        if value is not None and not isinstance(value, Session):
            raise TypeError("Value is not a ferrotls Session.")
        self._session = value

    def recv(self, bufsize: int = 1024, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes of application data; ``b""`` after close_notify."""
        if flags:
            raise ValueError("non-zero flags not allowed in calls to recv() on TLSSocket")
        if bufsize <= 0:
            if bufsize < 0:
                raise ValueError("negative buffersize in recv")
            return b""
        if not self._wait_data(bufsize):
            return b""
        return self._take(bufsize)

    def recv_into(self, buffer: Buffer, nbytes: int | None = None, flags: int = 0) -> int:
        """Read up to ``nbytes`` (default: the buffer's size) into ``buffer``; 0 at the end."""
        if flags:
            raise ValueError("non-zero flags not allowed in calls to recv_into() on TLSSocket")
        view = memoryview(buffer).cast("B")
        if not nbytes or nbytes <= 0 or nbytes > len(view):
            nbytes = len(view)
        if nbytes == 0 or not self._wait_data(nbytes):
            return 0
        pos = self._pos
        n = min(nbytes, len(self._chunk) - pos)
        view[:n] = memoryview(self._chunk)[pos : pos + n]
        self._pos = pos + n
        return n

    def read(self, len: int = 1024, buffer: Buffer | None = None) -> bytes | int:  # type: ignore[override]
        """``ssl.SSLSocket.read``: bytes, or the count written into ``buffer``."""
        if buffer is not None:
            return self.recv_into(buffer, len)
        return self.recv(len)

    def pending(self) -> int:
        """Decrypted bytes ready to be read without touching the socket (check it
        before waiting in select(): records that arrived together are decrypted
        together).  1 when only the peer's close_notify is left to report."""
        self._drain()
        n = len(self._chunk) - self._pos + self._queued
        conn = self.connection
        if not n and conn is not None and conn.peer_closed and not self._eof_reported:
            return 1  # the peer's close_notify is in: recv() returns b"" at once
        return n

    def send(self, data: Buffer, flags: int = 0) -> int:
        """Encrypt and send all of ``data``; returns its length.

        Non-blocking: ``ssl.SSLWantWriteError`` when the socket does not take the
        bytes; call again with the same data once it is writable.
        """
        if flags:
            raise ValueError("non-zero flags not allowed in calls to send() on TLSSocket")
        self._check_usable()
        conn = self._conn
        if not conn.handshake_complete:
            self.do_handshake()
        timeout = self._timeout
        if timeout is None and isinstance(data, (bytes, bytearray)) and len(data) <= _SEND_CHUNK:
            # the common case (blocking socket, bytes): one seal call, then one sendall
            with self._lock:
                conn.send(data)
            self._flush(None)
            return len(data)
        if timeout == 0.0:
            return self._send_nonblocking(data)
        view = memoryview(data).cast("B")
        total = len(view)
        deadline = self._deadline()
        for start in range(0, total, _SEND_CHUNK):
            with self._lock:
                conn.send(view[start : start + _SEND_CHUNK] if total > _SEND_CHUNK else view)
            self._flush(deadline)
        return total

    def _send_nonblocking(self, data: Buffer) -> int:
        """ssl's non-blocking write: all or SSLWantWriteError (retry with the same data)."""
        conn = self._conn
        try:
            self._flush(None)  # what an earlier call left (its data was accepted)
        except BlockingIOError:
            raise WantWriteError(_WANT_WRITE) from None
        if self._write_retry is not None:
            n, self._write_retry = self._write_retry, None
            return n
        view = memoryview(data).cast("B")
        total = len(view)
        if not total:
            return 0
        with self._lock:
            conn.send(view)
        try:
            self._flush(None)
        except BlockingIOError:
            self._write_retry = total
            raise WantWriteError(_WANT_WRITE) from None
        return total

    def sendall(self, data: Buffer, flags: int = 0) -> None:
        """Encrypt and send all of ``data``."""
        self.send(data, flags)

    def write(self, data: Buffer) -> int:
        """``ssl.SSLSocket.write``: send ``data``, return its length."""
        return self.send(data)

    def makefile(
        self,
        mode: str = "r",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> Any:
        """A file object over the TLS stream (as ``socket.makefile``); keeps the socket open
        until the file is closed too."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b allowed)")
        writing = "w" in mode
        reading = "r" in mode or not writing
        binary = "b" in mode
        rawmode: Literal["r", "w", "rw"] = "rw" if reading and writing else "r" if reading else "w"
        raw = socket.SocketIO(cast(socket.socket, self), rawmode)
        self._io_refs += 1
        if buffering is None or buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        buffer: BinaryIO
        if reading and writing:
            buffer = cast(BinaryIO, io.BufferedRWPair(raw, raw, buffering))
        elif reading:
            buffer = cast(BinaryIO, io.BufferedReader(raw, buffering))
        else:
            buffer = cast(BinaryIO, io.BufferedWriter(raw, buffering))
        if binary:
            return buffer
        text = io.TextIOWrapper(buffer, io.text_encoding(encoding), errors, newline)
        text.mode = mode  # type: ignore[misc]
        return text

    def _decref_socketios(self) -> None:
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed:
            self.close()

    # -- ending ----------------------------------------------------------------------

    def _send_close_notify(self, deadline: float | None) -> None:
        conn = self.connection
        if conn is None:
            return
        if conn.state in (ConnectionState.ESTABLISHED, ConnectionState.CLOSED) or (
            conn.handshake_complete and conn.state is not ConnectionState.ERROR
        ):
            with self._lock:
                conn.close()
            self._flush(deadline)

    def shutdown(self, how: int) -> None:
        """Shut down the socket; SHUT_WR/SHUT_RDWR send close_notify first."""
        if how in (socket.SHUT_WR, socket.SHUT_RDWR) and not self._detached:
            try:
                self._send_close_notify(self._deadline())
            except (TLSError, BlockingIOError):
                pass
        self._sock.shutdown(how)

    def unwrap(self) -> socket.socket:
        """Exchange close_notify (ours, then wait for the peer's) and return the plain socket.

        Application data still arriving is discarded.  Records are read one at a
        time, so bytes the peer sends in the clear after its close_notify stay in
        the socket.  Bounded by the timeout; TruncationError if the peer closes TCP
        without close_notify.
        """
        self._check_usable()
        conn = self._conn
        if not conn.handshake_complete:
            raise UsageError("unwrap() before the handshake completed")
        deadline = self._deadline()
        with self._lock:
            conn.close()
        self._flush(deadline)
        while not conn.peer_closed:
            if self._eof:
                raise TruncationError("the peer closed the connection without close_notify")
            self._read_more(deadline, 0)  # one record at a time: never past the peer's close_notify
            conn.events()
        self._chunk, self._pos = b"", 0
        self._queue.clear()
        self._queued = 0
        self._detached = True
        self._closed = True
        sock = self._sock
        sock.settimeout(self._timeout)
        return sock

    def detach(self) -> socket.socket:  # type: ignore[override]
        """Give up the socket without any TLS shutdown (the connection becomes unusable)."""
        self._detached = True
        self._closed = True
        return self._sock

    def close(self) -> None:
        """Send close_notify (best effort, bounded) and close the socket.

        If files from ``makefile()`` are still open the socket closes with the last of them.
        """
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self) -> None:
        if self._real_closed or self._detached:
            return
        self._real_closed = True
        try:
            if self._timeout == 0.0:
                deadline = None
            else:
                deadline = time.monotonic() + min(self._timeout or _CLOSE_TIMEOUT, _CLOSE_TIMEOUT)
            self._send_close_notify(deadline)
        except (OSError, TLSError):
            pass
        finally:
            self._sock.close()

    @property
    def closed(self) -> bool:
        return self._closed


def connect(
    host: str,
    port: int,
    *,
    context: Context | None = None,
    server_hostname: str | None = None,
    timeout: float | None = None,
    source_address: tuple[str, int] | None = None,
) -> TLSSocket:
    """Open a TCP connection and run the TLS handshake; returns a :class:`TLSSocket`.

    ``context`` defaults to ``create_default_context()`` (system trust store,
    host name checked against ``server_hostname``, which defaults to ``host``).
    ``timeout`` bounds the TCP connect, the handshake and every later call.
    Unlike ``wrap_socket``'s default, a TCP EOF without close_notify raises
    :class:`~ferrotls.TruncationError` (``ssl.SSLEOFError``).
    """
    from ..context import create_default_context

    if context is None:
        context = create_default_context()
    sock = socket.create_connection((host, port), timeout=timeout, source_address=source_address)
    try:
        return context.wrap_socket(sock, server_hostname=server_hostname or host, suppress_ragged_eofs=False)
    except BaseException:
        sock.close()
        raise
