"""The sans-I/O TLS 1.3 connection (h11 style).

Bytes in, bytes and events out::

    conn = ClientConnection(config, server_hostname="example.com")
    sock.sendall(conn.data_to_send())          # the ClientHello
    while ...:
        conn.receive_data(sock.recv(65536))    # b"" means the peer closed
        sock.sendall(conn.data_to_send())
        while (event := conn.next_event()) is not NEED_DATA:
            ...

``receive_data`` processes eagerly and has one catch point: a protocol error
moves the connection to ERROR, queues the fatal alert (encrypted when keys
exist) and re-raises; flush ``data_to_send()`` and close the transport.
Nothing here touches sockets, threads, clocks or ``os.urandom``: those come
from the config.
"""

from __future__ import annotations

import enum
import logging
import warnings
from collections import deque
from typing import TYPE_CHECKING, Any

from .backend import insecure_reason, resolve
from .errors import (
    AlertDescription,
    AlertReceived,
    DecodeError,
    HandshakeFailure,
    InsecureBackendWarning,
    InternalError,
    KeyLimitReached,
    ProtocolError,
    TLSError,
    TruncationError,
    UnexpectedMessage,
    UsageError,
)
from .events import NEED_DATA, ApplicationData, ConnectionClosed, Event, NeedData
from .record import ContentType, HandshakeBuffer, RecordInterface, StreamRecordLayer

from .stats import HandshakeStats, StatsRecorder

if TYPE_CHECKING:
    from .backend.interface import Backend, RecordProtector
    from .config import ClientConfig, ServerConfig
    from .events import HandshakeComplete
    from .handshake.client import ClientHandshake
    from .handshake.machine import Handshake
    from .tickets import ClientSession

__all__ = ["ConnectionState", "Connection", "ClientConnection", "ServerConnection", "pump"]

_WARNING, _FATAL = 1, 2
_HANDSHAKE = int(ContentType.HANDSHAKE)
_APPLICATION_DATA = int(ContentType.APPLICATION_DATA)
_TLS12 = 0x0303
_logger = logging.getLogger("ferrotls")

_FATAL_ONLY = frozenset({
    10, 20, 21, 22, 30, 40, 47, 48, 49, 50, 51, 60, 70, 71, 80,  # RFC 5246 section 7.2.2
    86,  # inappropriate_fallback (RFC 7507)
    109, 116,  # missing_extension, certificate_required (TLS 1.3's)
    110, 113, 114,  # unsupported_extension, bad_certificate_{status_response,hash_value} (RFC 6066)
    120,  # no_application_protocol (RFC 7301)
})
"""Alerts their RFCs call always fatal: at warning level (TLS 1.2) they are taken
as fatal all the same.  The others at warning level -- unrecognized_name (RFC 6066
lets a server send it as a warning), no_renegotiation, certificate ones, unknown
codes -- are tolerated in TLS 1.2."""


class ConnectionState(enum.Enum):
    HANDSHAKING = "handshaking"
    ESTABLISHED = "established"
    CLOSED = "closed"
    """Both sides have finished: close_notify sent and received, or a fatal alert."""
    ERROR = "error"


class Connection:
    """Common part of ClientConnection and ServerConnection."""

    is_client: bool

    def __init__(self, config: ClientConfig | ServerConfig) -> None:
        self.config = config
        self.backend = resolve(config.backend)
        if not getattr(self.backend, "constant_time", False):
            warnings.warn(
                f"{insecure_reason(self.backend)}; this connection's keys may leak through timing",
                InsecureBackendWarning,
                stacklevel=3,
            )
        self._records: RecordInterface = StreamRecordLayer()
        self._records.padding = config.record_padding
        self._limits = config.limits
        self._handshake_buffer = HandshakeBuffer(config.limits.max_handshake_size)
        self._hs_partial = False
        """A handshake message is incomplete: only handshake records may follow
        until it is whole (RFC 8446 section 5.1)."""
        self._empty_records = 0
        """Consecutive records that carried nothing (Limits.max_empty_records)."""
        self.key_updates_received = 0
        """KeyUpdates since the last application data (Limits.max_key_updates)."""
        self._warning_alerts = 0
        """Consecutive warning alerts tolerated (TLS 1.2; Limits.max_warning_alerts)."""
        self._renegotiations_refused = 0
        """Renegotiation requests refused since the last application data (TLS 1.2;
        Limits.max_renegotiation_requests)."""
        self.warning_alerts_received = 0
        """TLS 1.2: how many warning alerts the peer sent that the connection went on
        after (close_notify and user_canceled are not counted)."""
        self.last_warning_alert: AlertDescription | int | None = None
        """TLS 1.2: the description of the newest of them (``unrecognized_name`` from a
        server that has no certificate for the name, ``no_renegotiation`` ...)."""
        self._recorder = StatsRecorder(self.is_client, config.cpu_clock)
        self._events: deque[Event] = deque()
        self._error: TLSError | None = None
        self._peer_closed = False
        self._close_sent = False
        self._eof = False
        self.state = ConnectionState.HANDSHAKING
        self._app_read = False
        self._app_write = False
        self._handshake: Handshake
        self._stats: StatsRecorder | None = self._recorder
        """Counts bytes and CPU time while the handshake runs (None afterwards)."""
        self._handshake_stats: HandshakeStats | None = None

    # -- public API ------------------------------------------------------------

    @property
    def handshake_complete(self) -> bool:
        return self._handshake.complete

    @property
    def info(self) -> Any:
        """The HandshakeComplete event of this connection (None before completion)."""
        return self._handshake.info

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Process bytes from the peer; ``b""`` means the transport was closed.

        Raises a ProtocolError subclass (after queueing the alert), AlertReceived
        when the peer sent a fatal alert, or TruncationError when the transport
        closed without close_notify.
        """
        if self._error is not None:
            raise UsageError(f"connection failed earlier: {self._error}")
        if not data:
            self._receive_eof()
            return
        if self._peer_closed:
            return  # data after close_notify is ignored (RFC 8446 section 6.1)
        try:
            if self._app_read and not self._hs_partial:
                if self._receive_application_data(data):
                    self._process_records()
            elif self._stats is None:
                self._records.feed(data)
                self._process_records()
            else:
                self._receive_handshake_data(data, self._stats)
        except ProtocolError as exc:
            self._fail(exc)
            raise
        except AlertReceived as exc:
            self._error = exc
            self.state = ConnectionState.ERROR
            raise
        except TLSError:
            raise
        except Exception as exc:  # a bug: never let it pass silently
            err = InternalError(f"internal error while processing received data: {exc!r}")
            self._fail(err)
            raise

    def next_event(self) -> Event | NeedData:
        """The next pending event, or NEED_DATA."""
        if self._events:
            return self._events.popleft()
        return NEED_DATA

    def events(self) -> list[Event]:
        """All pending events, emptying the queue."""
        out = list(self._events)
        self._events.clear()
        return out

    def data_to_send(self) -> bytes:
        """Bytes to write to the transport (may be empty)."""
        if self._stats is None:
            return self._records.take_output()
        data = self._records.take_output()
        self._stats.on_sent(len(data))
        return data

    @property
    def handshake_stats(self) -> HandshakeStats | None:
        """Flights, bytes, ClientHello size and CPU time of the handshake (None before it completes)."""
        return self._handshake_stats

    def send(self, data: bytes | bytearray | memoryview) -> None:
        """Queue application data.  UsageError before the handshake completes or after close.

        All of ``data`` is sealed at once (records of at most 2**14 bytes, one
        backend call); ``data_to_send()`` then returns it without a copy when
        nothing else is queued.
        """
        if self._app_write and self._error is None and not self._close_sent:
            try:
                self._records.write_application_data(data)
            except KeyLimitReached:
                self._send_across_key_updates(data)
            return
        if self._error is not None:
            raise UsageError(f"connection failed earlier: {self._error}")
        if self._close_sent:
            raise UsageError("cannot send after close()")
        if not self._app_write:
            raise UsageError("cannot send application data before the handshake completes")
        self._records.write(ContentType.APPLICATION_DATA, data)

    def _send_across_key_updates(self, data: bytes | bytearray | memoryview) -> None:
        """``data`` would take the sending key past its AEAD usage limit: seal what
        the key may still protect, send a KeyUpdate, go on under the new key (RFC 8446
        section 5.5).  The peer is not asked to update its own keys."""
        records = self._records
        view = memoryview(data).cast("B")
        per_record = records.max_fragment - records.padding
        while True:
            protector = records.write_protector
            assert protector is not None
            left = protector.data_limit - protector.sequence  # records this key may still seal
            if left >= max(1, -(-len(view) // per_record)):
                records.write_application_data(view)
                return
            if left > 0 and view:  # fill the key; the rest (at least a byte) goes under the next
                records.write_application_data(view[: left * per_record])
                view = view[left * per_record :]
            self._handshake.send_key_update(False)

    def close(self) -> None:
        """Queue a close_notify alert; no application data can be sent afterwards."""
        if self._close_sent or self._error is not None:
            return
        self._close_sent = True
        self._send_alert(_WARNING, AlertDescription.CLOSE_NOTIFY)
        if self._peer_closed:
            self.state = ConnectionState.CLOSED

    def update_keys(self, request_peer_update: bool = True) -> None:
        """Send a KeyUpdate and switch to the next sending keys (RFC 8446 section 4.6.3)."""
        if self.state is not ConnectionState.ESTABLISHED or self._close_sent:
            raise UsageError("key updates need an established connection")
        self._handshake.send_key_update(request_peer_update)

    def export_keying_material(self, label: bytes | str, context: bytes | None, length: int) -> bytes:
        """TLS-Exporter (RFC 8446 section 7.5); context None and b"" are the same in TLS 1.3."""
        if isinstance(label, str):
            label = label.encode("ascii")
        return self._handshake.export(label, context, length)

    @property
    def peer_closed(self) -> bool:
        return self._peer_closed

    # -- internals ------------------------------------------------------------

    def _receive_eof(self) -> None:
        if self._eof:
            return
        self._eof = True
        if self._peer_closed:
            return
        self._error = TruncationError(
            "the peer closed the connection without close_notify: data may be truncated"
            if self.state is ConnectionState.ESTABLISHED
            else "the peer closed the connection during the handshake"
        )
        self.state = ConnectionState.ERROR
        raise self._error

    def _process_records(self) -> None:
        records = self._records
        handlers = self._dispatch
        while not self._peer_closed:
            if self._app_read and not self._hs_partial and not self._receive_application_data():
                return
            items = records.read_records()
            if not items:
                return
            for content_type, payload in items:
                if self._hs_partial and content_type != _HANDSHAKE:
                    raise UnexpectedMessage(
                        f"record of content type {content_type} between the fragments of a "
                        "handshake message"
                    )
                if content_type == _APPLICATION_DATA:
                    if not self._app_read:
                        if self._handshake.reading_early_data:  # accepted 0-RTT data (server)
                            self._handshake.receive_early_data(payload)
                            continue
                        raise UnexpectedMessage("application data before the handshake completed")
                    if not payload:
                        self._empty_record()  # no event
                        continue
                    if (self._empty_records or self.key_updates_received
                            or self._renegotiations_refused):
                        self._made_progress()
                    self._events.append(ApplicationData(payload))
                else:
                    handler = handlers.get(content_type)
                    if handler is None:
                        raise UnexpectedMessage(f"record of content type {content_type}")
                    handler(self, payload)
                    if self._peer_closed:
                        return

    def _receive_application_data(self, data: bytes | bytearray | memoryview = b"") -> bool:
        """The established fast path: feed ``data`` and open every application-data
        record at the start of the input in one backend call; their contents become
        *one* ApplicationData event (none if they carried no bytes).  Returns True
        when a record is left for ``read_records`` (KeyUpdate, alert, plaintext
        record, or a record that failed after others were opened)."""
        plain, more = self._records.read_application_data(data)
        if plain is not None:  # empty records are left for read_records, which counts each
            if self._empty_records or self.key_updates_received or self._renegotiations_refused:
                self._made_progress()
            self._events.append(ApplicationData(plain))
        return more

    def _receive_handshake_data(self, data: bytes | bytearray | memoryview, stats: StatsRecorder) -> None:
        stats.on_received(len(data))
        stats.begin()
        try:
            self._records.feed(data)
            self._process_records()
        finally:
            stats.end()

    def _finish_stats(self) -> HandshakeStats | None:
        """Freeze the handshake's figures (called when it completes): output still
        queued is the last flight, input not yet read is not the handshake's."""
        stats = self._stats
        if stats is None:
            return None
        self._stats = None
        records = self._records
        self._handshake_stats = stats.snapshot(records.pending_output(), records.buffered)
        return self._handshake_stats

    def _on_handshake_record(self, payload: bytes) -> None:
        if not payload:  # RFC 8446 section 5.1: no zero-length handshake fragments
            raise UnexpectedMessage("zero-length handshake record")
        self._empty_records = self._warning_alerts = 0
        buf = self._handshake_buffer
        buf.add(payload)
        while True:
            message = buf.pop_message(self._handshake.takes)
            if message is None:
                self._hs_partial = bool(len(buf))
                return
            self._handshake.handle_message(*message)

    def _on_alert_record(self, payload: bytes) -> None:
        if not payload:  # RFC 8446 sections 5.1 and 5.4
            raise UnexpectedMessage("zero-length alert record")
        if len(payload) != 2:
            raise DecodeError(f"alert record of {len(payload)} bytes, expected 2")
        level, description = payload[0], payload[1]
        if description == AlertDescription.CLOSE_NOTIFY:
            self._peer_closed = True
            self._events.append(ConnectionClosed())
            self.state = ConnectionState.CLOSED if self._close_sent else self.state
            return
        if description == AlertDescription.USER_CANCELED:
            self._empty_record()
            return
        if level == _WARNING and description not in _FATAL_ONLY and self._tolerates_warnings():
            self._warning_alert(description)
            return
        raise AlertReceived(description)

    def _tolerates_warnings(self) -> bool:
        """TLS 1.2 (RFC 5246 section 7.2): a warning alert need not end the connection;
        TLS 1.3 (RFC 8446 section 6): every alert but close_notify and user_canceled
        does.  Before the hellos settle the version, TLS 1.2's rule holds when this side
        may speak TLS 1.2 (an OpenSSL server sends its unrecognized_name warning before
        its ServerHello)."""
        version = self._handshake.version
        return self.config.tls12 if version is None else version == _TLS12

    def _warning_alert(self, description: int) -> None:
        """A TLS 1.2 warning alert: counted, logged, and the connection goes on; more
        than Limits.max_warning_alerts in a row (no handshake message or application
        data between them) is a flood."""
        self._warning_alerts += 1
        self._empty_record()
        limit = self._limits.max_warning_alerts
        if self._warning_alerts > limit:
            raise UnexpectedMessage(f"more than {limit} consecutive warning alerts")
        try:
            name: AlertDescription | int = AlertDescription(description)
        except ValueError:
            name = description
        self.warning_alerts_received += 1
        self.last_warning_alert = name
        _logger.info("TLS 1.2 warning alert from the peer: %s (%d); the connection goes on",
                     getattr(name, "name", "unknown").lower(), description)

    def _on_ccs_record(self, payload: bytes) -> None:
        # RFC 8446 section 5: allowed any time after the first ClientHello was sent or
        # received -- so also between a HelloRetryRequest and the second ClientHello
        # (OpenSSL sends it there) -- until the peer's Finished.
        if payload != b"\x01":
            raise UnexpectedMessage("change_cipher_spec record must hold the single byte 0x01")
        self._handshake.receive_change_cipher_spec()  # TLS 1.3: dropped, where it may be
        self._empty_record()

    def _empty_record(self) -> None:
        """Count a record that carried nothing; too many in a row is a flood."""
        self._empty_records += 1
        if self._empty_records > self._limits.max_empty_records:
            raise UnexpectedMessage(
                f"more than {self._limits.max_empty_records} consecutive records without content"
            )

    _dispatch: dict[int, Any] = {
        ContentType.HANDSHAKE: _on_handshake_record,
        ContentType.ALERT: _on_alert_record,
        ContentType.CHANGE_CIPHER_SPEC: _on_ccs_record,
    }

    def _send_alert(self, level: int, description: int) -> None:
        self._records.write(ContentType.ALERT, bytes((level, description)))

    def _fail(self, exc: ProtocolError) -> None:
        self._error = exc
        self.state = ConnectionState.ERROR
        try:
            self._send_alert(_FATAL, exc.description)
        except TLSError:  # e.g. sequence numbers exhausted: nothing more to send
            pass

    def _made_progress(self) -> None:
        """Application data arrived: the counters of content-free input start again."""
        self._empty_records = self.key_updates_received = self._warning_alerts = 0
        self._renegotiations_refused = 0

    def _refuse_renegotiation(self) -> None:
        """Answer a TLS 1.2 renegotiation request with a no_renegotiation warning;
        past Limits.max_renegotiation_requests without application data in between,
        handshake_failure instead (``gnutls-cli -e`` asks again at every refusal)."""
        self._renegotiations_refused += 1
        limit = self._limits.max_renegotiation_requests
        if self._renegotiations_refused > limit:
            raise HandshakeFailure(
                f"the peer asked to renegotiate more than {limit} times without application "
                "data in between; ferrotls does not renegotiate"
            )
        self._send_alert(_WARNING, AlertDescription.NO_RENEGOTIATION)

    def _note_key_update(self) -> None:
        self.key_updates_received += 1
        limit = self._limits.max_key_updates
        if self.key_updates_received > limit:
            raise UnexpectedMessage(f"more than {limit} KeyUpdates without application data")


class _ConnectionIO:
    """The connection as its handshake sees it (:class:`ferrotls.handshake.io.HandshakeIO`):
    the only way a handshake reaches the record layer, the event queue and the state."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def backend(self) -> Backend:
        return self._conn.backend

    @property
    def stats(self) -> StatsRecorder:
        return self._conn._recorder

    @property
    def close_sent(self) -> bool:
        return self._conn._close_sent

    def write_handshake(self, raw: bytes, legacy_version: int = 0x0303) -> None:
        self._conn._records.write(ContentType.HANDSHAKE, raw, legacy_version)

    def write_application_data(self, data: bytes | bytearray | memoryview) -> None:
        self._conn._records.write(ContentType.APPLICATION_DATA, data)

    def send_ccs(self) -> None:
        self._conn._records.write_change_cipher_spec()

    def set_read_protector(self, protector: RecordProtector | None) -> None:
        conn = self._conn
        if len(conn._handshake_buffer):
            raise UnexpectedMessage("a handshake message spans a key change")
        conn._records.read_protector = protector

    def set_write_protector(self, protector: RecordProtector | None) -> None:
        self._conn._records.write_protector = protector

    def limit_outgoing_records(self, max_fragment: int) -> None:
        records = self._conn._records
        records.max_fragment = max_fragment
        if records.padding >= max_fragment:
            records.padding = max_fragment - 1

    def limit_incoming_records(self, max_plaintext: int) -> None:
        self._conn._records.peer_max_plaintext = max_plaintext

    def skip_early_data(self, budget: int) -> None:
        self._conn._records.skip_early_data(budget)

    def note_key_update(self) -> None:
        self._conn._note_key_update()

    def use_tls12_records(self) -> None:
        self._conn._records.use_tls12_format()

    def send_warning_alert(self, description: int) -> None:
        if description == AlertDescription.NO_RENEGOTIATION:
            self._conn._refuse_renegotiation()  # counted: a peer may ask without end
            return
        self._conn._send_alert(_WARNING, description)

    def emit(self, event: Event) -> None:
        self._conn._events.append(event)

    def finish_stats(self) -> HandshakeStats | None:
        return self._conn._finish_stats()

    def established(self, info: HandshakeComplete) -> None:
        conn = self._conn
        conn._app_read = conn._app_write = True
        conn.state = ConnectionState.ESTABLISHED
        conn._events.append(info)


class ClientConnection(Connection):
    """A TLS 1.3 client.  The ClientHello is ready in ``data_to_send()`` at once."""

    is_client = True

    def __init__(
        self,
        config: ClientConfig,
        server_hostname: str | None = None,
        *,
        session: ClientSession | None = None,
        early_data: bytes | None = None,
    ) -> None:
        """``session``: a ClientSession to resume (default: the newest one for
        ``server_hostname`` in ``config.session_cache``).  ``early_data``: 0-RTT data
        sent with the ClientHello when the session allows it (``b""`` to offer 0-RTT
        and add data with ``send_early_data``).  Whether the server took it is in
        HandshakeComplete.early_data_accepted / early_data_rejected."""
        super().__init__(config)
        from .handshake.client import ClientHandshake

        self.server_hostname = server_hostname
        self._client_handshake: ClientHandshake = ClientHandshake(
            _ConnectionIO(self), config, server_hostname, session, early_data
        )
        self._handshake = self._client_handshake
        self._client_handshake.start()

    @property
    def early_data_open(self) -> bool:
        """Whether ``send_early_data`` can be called now."""
        return self._client_handshake.early_data_open

    def send_early_data(self, data: bytes | bytearray | memoryview) -> None:
        """Queue 0-RTT data (before the server's reply; UsageError otherwise)."""
        if self._error is not None:
            raise UsageError(f"connection failed earlier: {self._error}")
        self._client_handshake.send_early_data(data)

    @property
    def rejected_early_data(self) -> bytes:
        """0-RTT data the server did not accept (empty until the handshake completes)."""
        return self._client_handshake.rejected_early_data

    @property
    def session(self) -> ClientSession | None:
        """The newest session this connection can be resumed from (pass it as
        ``session=`` to a later ClientConnection): a TLS 1.3 ticket's (after its
        NewSessionTicket, as in the SessionTicket event), or the TLS 1.2 session --
        a ticket or the server's session id -- once the handshake completes (the
        one resumed, if the server resumed without a new ticket).  None before
        that, and when the server offered no resumption (a TLS 1.2 session without
        extended_master_secret is never resumed: RFC 7627 section 5.3)."""
        return self._client_handshake.session_established


class ServerConnection(Connection):
    """A TLS 1.3 server: feed it the client's bytes."""

    is_client = False

    def __init__(self, config: ServerConfig) -> None:
        super().__init__(config)
        from .handshake.server import ServerHandshake

        self._handshake = ServerHandshake(_ConnectionIO(self), config)


def pump(client: Connection, server: Connection, max_rounds: int = 10) -> None:
    """Move bytes between two in-memory connections until neither has any to send.

    For tests, benchmarks and demos that run both ends in one process (an
    in-memory handshake is ``pump(ClientConnection(...), ServerConnection(...))``).
    Events stay queued on both connections.
    """
    for _ in range(max_rounds):
        data = client.data_to_send()
        if data:
            server.receive_data(data)
        reply = server.data_to_send()
        if reply:
            client.receive_data(reply)
        if not data and not reply:
            return
