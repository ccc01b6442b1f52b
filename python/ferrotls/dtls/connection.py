"""The sans-I/O DTLS 1.3 (RFC 9147) and DTLS 1.2 (RFC 6347) connection.

Datagrams in, datagrams and events out; time is explicit::

    conn = DTLSClientConnection(config, server_hostname="sensor.example", now=clock())
    for d in conn.datagrams_to_send():        # the ClientHello
        sock.sendto(d, peer)
    while ...:
        wait for a datagram until conn.next_timeout() (None: no timer)
        if one came:  conn.receive_datagram(data, clock())
        else:         conn.handle_timeout(clock())
        for d in conn.datagrams_to_send(): sock.sendto(d, peer)
        for event in conn.events(): ...        # HandshakeComplete, ApplicationData, ...

The TLS 1.3 handshake states run unchanged but for the hooks of
``handshake/datagram.py``; this module is their connection (it implements
:class:`~ferrotls.handshake.io.DatagramIO`) and adds what datagrams need on
top of :class:`~ferrotls.dtls_record.DatagramRecordLayer`:

* handshake messages get the DTLS header (message_seq, fragment_offset,
  fragment_length), are fragmented to the MTU and reassembled
  (``dtls/reliability.py``), each checked against the epoch it may arrive in
  (hellos in epoch 0, the rest of the handshake in epoch 2, NewSessionTicket
  and KeyUpdate in 3 or later); a message in the wrong epoch is dropped;
* flights are retransmitted on a timer that doubles from
  ``DTLSConfig.initial_timeout`` to ``max_timeout``; the peer's next flight
  acknowledges ours implicitly, and ACK records (section 7) name what arrived,
  so only the rest is resent.  We ACK the client's last flight (server), every
  NewSessionTicket and KeyUpdate, and, a short delay after a flight arrives
  with a gap, what we have of it;
* a KeyUpdate's new sending keys are used once the peer acknowledges it
  (section 8);
* application data: one record per ``send()``, one datagram per record; only
  epochs 3 and up carry it.

Records that fail to open, and messages or records that arrive where they may
not, are dropped silently and counted (``dropped``): an attacker who can send
datagrams cannot make a connection fail.  Protocol errors inside authentic
handshake messages fail the connection with an alert, as in TLS.  Records that
fail authentication are counted per key against the AEAD's integrity limit
(RFC 9147 section 4.5.3, ``dtls/limits.py``).

DTLS 1.2 (``DTLSConfig.versions``) runs the TLS 1.2 states of
``handshake/client12.py`` and ``server12.py`` on the same machinery, with what
RFC 6347 changes:

* a HelloVerifyRequest cookie exchange before the handshake proper (the client
  repeats its ClientHello with the cookie; a server endpoint answers statelessly,
  ``dtls/cookie.py``); neither the first ClientHello nor the HelloVerifyRequest
  is in the transcript;
* the transcript -- Finished, CertificateVerify, the extended master secret's
  session hash -- holds each message with its 12-byte DTLS header as if sent in
  one fragment (message_seq, fragment_offset 0, fragment_length = length; RFC
  6347 section 4.2.6);
* epochs: 0 until a side's ChangeCipherSpec, 1 after it.  The CCS is a record
  of its own in its flight and is retransmitted with it; a CCS the state does not
  expect (one of a retransmitted flight, one that overtook the messages before
  it) is dropped;
* no ACKs: each flight is acknowledged by the next, and the last flight of the
  handshake (the server's in a full handshake, the client's in a resumed one)
  has no timer -- it is resent when the peer resends its own last flight, and
  forgotten once the peer's application data shows it arrived (section 4.2.4);
* connection IDs (RFC 9146): the connection_id extension in the hellos, and
  tls12_cid records from epoch 1 on.
"""

from __future__ import annotations

import warnings
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from ..backend import insecure_reason, resolve
from ..backend.interface import DTLS_SEQUENCE_LIMIT
from ..config import DEFAULT_KEY_SHARE_GROUPS
from ..connection import ConnectionState as DTLSState
from ..dtls_record import DTLS_1_2, DTLS_1_3, DatagramRecordLayer, DropCounts, DtlsRecord, dtls13_protector
from ..errors import (
    AlertDescription,
    AlertReceived,
    HandshakeTimeout,
    InsecureBackendWarning,
    InternalError,
    KeyLimitReached,
    ProtocolVersionError,
    ProtocolError,
    TLSError,
    UnexpectedMessage,
    UsageError,
)
from ..events import ApplicationData, ConnectionClosed, Event, NEED_DATA, NeedData
from ..messages.enums import ContentType, HandshakeType, NamedGroup
from ..messages.extensions import ConnectionId, Extension, get_extension
from ..messages.handshake import ClientHello, ServerHello
from ..stats import HandshakeStats, StatsRecorder
from .config import DTLSConfig
from .keys import Dtls13Backend
from .limits import integrity_limit
from .reliability import (
    HEADER_LEN,
    NEEDS_EXPLICIT_ACK,
    AddResult,
    OutMessage,
    Outbox,
    Reassembler,
    RecordNumber,
    decode_ack,
    encode_ack,
    parse_fragments,
)

if TYPE_CHECKING:
    from ..backend.interface import Backend, DatagramProtector, RecordProtector
    from ..handshake.server import ServerHandshake
    from .cookie import CookieState
    from ..config import ClientConfig, ServerConfig
    from ..events import HandshakeComplete
    from ..handshake.machine import Handshake
    from ..suites import SuiteInfo, Tls12SuiteInfo
    from ..tickets import ClientSession

__all__ = ["DTLSConnection", "DTLSClientConnection", "DTLSServerConnection", "DTLSState"]

_WARNING, _FATAL = 1, 2
_HANDSHAKE = int(ContentType.HANDSHAKE)
_ALERT = int(ContentType.ALERT)
_APPLICATION_DATA = int(ContentType.APPLICATION_DATA)
_CCS = int(ContentType.CHANGE_CIPHER_SPEC)
_ACK = 26
_TLS12, _TLS13 = 0x0303, 0x0304
_HS = HandshakeType
_PLAINTEXT_MESSAGES = frozenset({_HS.CLIENT_HELLO, _HS.SERVER_HELLO, _HS.HELLO_VERIFY_REQUEST})
_RENEGOTIATION = frozenset({_HS.HELLO_REQUEST, _HS.CLIENT_HELLO})
"""DTLS 1.2 messages that may come under epoch 1 after the handshake (refused)."""
_POST_HANDSHAKE = frozenset({_HS.NEW_SESSION_TICKET, _HS.KEY_UPDATE})
_HANDSHAKE_EPOCH = 2
_FIRST_APPLICATION_EPOCH = 3
_MAX_ACK_RECORDS = 256
_C = TypeVar("_C", "ClientConfig", "ServerConfig")


def _for_datagrams(config: _C, dtls: DTLSConfig) -> _C:
    """``config`` as DTLS runs it: the versions of ``dtls.versions`` (DTLS 1.3 is
    TLS 1.3, DTLS 1.2 is TLS 1.2), no middlebox compatibility mode, no 0-RTT; a
    client left at the default key shares sends X25519 alone (the X25519MLKEM768
    share would make the ClientHello two datagrams, which servers that answer
    statelessly, wolfSSL's among them, do not reassemble; a server that wants
    ML-KEM still gets it through a HelloRetryRequest)."""
    versions = [_TLS13 if v == DTLS_1_3 else _TLS12 for v in dtls.versions]
    changes: dict[str, Any] = {"middlebox_compat": False, "minimum_version": min(versions),
                               "maximum_version": max(versions)}
    if hasattr(config, "early_data"):
        changes["early_data"] = False
    if getattr(config, "key_share_groups", None) == DEFAULT_KEY_SHARE_GROUPS:
        changes["key_share_groups"] = (NamedGroup.X25519,)
    return replace(config, **changes)


class DTLSConnection:
    """What DTLSClientConnection and DTLSServerConnection share; see the module docstring."""

    is_client: bool

    def __init__(self, config: ClientConfig | ServerConfig, dtls: DTLSConfig | None, now: float) -> None:
        self.config = config
        self.dtls = dtls if dtls is not None else DTLSConfig()
        self.backend: Backend = resolve(config.backend)
        if not getattr(self.backend, "constant_time", False):
            warnings.warn(
                f"{insecure_reason(self.backend)}; this connection's keys may leak through timing",
                InsecureBackendWarning,
                stacklevel=3,
            )
        self._keys_backend = Dtls13Backend(self.backend)
        dc = self.dtls
        self._layer = DatagramRecordLayer(DTLS_1_3 if DTLS_1_3 in dc.versions else DTLS_1_2, dc.mtu,
                                          dc.max_stashed_records)
        # a client that offers both reads both record formats until the ServerHello
        self._layer.negotiating = self.is_client and len(set(dc.versions)) == 2
        self._layer.padding = config.record_padding
        self._dtls12 = False
        """DTLS 1.2 was negotiated (the TLS 1.2 states run)."""
        self._handling_seq = 0
        """The message_seq of the handshake message being handled."""
        self._limit_noted: set[int] = set()
        """Read epochs whose failed authentications passed half the integrity limit."""
        self._reassembler = Reassembler(dc.max_pending_messages, dc.max_buffered_handshake,
                                        config.limits.max_handshake_size)
        self._outbox = Outbox(dc.initial_timeout, dc.max_timeout, dc.max_retransmissions)
        self._pending: list[OutMessage] = []
        """Messages the handshake wrote during the current call (a new flight)."""
        self._send_seq = 0
        self._read_epoch = 1
        self._write_epoch = 1
        self._acks: list[RecordNumber] = []
        """Handshake records of the peer's current flight that brought something new."""
        self._last_ack: list[RecordNumber] = []
        self._ack_deadline: float | None = None
        self._peer_retransmitted = False
        self._key_update_unacked = False
        self._after_key_update: list[tuple[Any, ...]] = []
        self._events: deque[Event] = deque()
        self._error: TLSError | None = None
        self._peer_closed = False
        self._close_sent = False
        self._app_read = False
        self._app_write = False
        self.state = DTLSState.HANDSHAKING
        self._now = now
        self._recorder = StatsRecorder(self.is_client, config.cpu_clock)
        self._stats: StatsRecorder | None = self._recorder
        self._handshake_stats: HandshakeStats | None = None
        self.key_updates_received = 0
        self.own_connection_id = b""
        """The connection ID the peer puts in its records (b"": none)."""
        self.peer_connection_id = b""
        """The connection ID we put in our records (b"": none)."""
        self._cid_offer: bytes | None = None
        """Client: the CID asked for in our ClientHello; server: the CID to ask for
        when the client offers the extension (None: no connection_id extension)."""
        self.datagrams_received = 0
        """Application datagrams delivered (ApplicationData events)."""
        self._io = _DatagramIO(self)
        self._handshake: Handshake

    # -- public API ------------------------------------------------------------------

    @property
    def handshake_complete(self) -> bool:
        return self._handshake.complete

    @property
    def version(self) -> str | None:
        """"DTLSv1.3" or "DTLSv1.2" once the handshake completed (None before)."""
        info = self._handshake.info
        return info.version if info is not None else None

    @property
    def info(self) -> HandshakeComplete | None:
        """The HandshakeComplete event (None before completion)."""
        return self._handshake.info

    @property
    def handshake_stats(self) -> HandshakeStats | None:
        return self._handshake_stats

    @property
    def dropped(self) -> DropCounts:
        """Records dropped so far, by reason (they never fail the connection)."""
        return self._layer.dropped

    @property
    def retransmissions(self) -> int:
        """Records we sent again (timer or the peer's ACKs and retransmissions)."""
        return self._outbox.retransmitted_records

    @property
    def mtu(self) -> int:
        return self._layer.mtu

    def max_datagram_payload(self) -> int:
        """The largest ``send()`` that fits one datagram under the current keys."""
        return self._layer.max_payload()

    def receive_datagram(self, data: bytes | bytearray | memoryview, now: float) -> None:
        """Process one datagram from the peer, received at ``now`` (seconds, any epoch).

        Raises a ProtocolError subclass (after queueing the alert) when an authentic
        handshake message breaks the protocol, AlertReceived for the peer's fatal
        alert; never for records that do not open (they are dropped).
        """
        if self._error is not None:
            raise UsageError(f"connection failed earlier: {self._error}")
        self._now = now
        if self._peer_closed:
            return
        stats = self._stats
        if stats is not None:
            stats.on_received(len(data))
            stats.begin()
        try:
            self._layer.feed(data)
            self._check_integrity()
            self._process_records()
            self._after_input()
        except ProtocolError as exc:
            self._fail(exc)
            raise
        except AlertReceived as exc:
            self._error = exc
            self.state = DTLSState.ERROR
            raise
        except TLSError:
            raise
        except Exception as exc:  # a bug: never let it pass silently
            err = InternalError(f"internal error while processing a datagram: {exc!r}")
            self._fail(err)
            raise
        finally:
            if stats is not None:
                stats.end()

    def datagrams_to_send(self) -> list[bytes]:
        """Datagrams to send now, each at most ``mtu`` bytes (may be empty)."""
        out = self._layer.datagrams_to_send()
        if self._stats is not None:
            self._stats.on_sent(sum(len(d) for d in out))
        return out

    def next_timeout(self) -> float | None:
        """When ``handle_timeout`` should be called next (None: no timer runs)."""
        deadlines = [d for d in (self._ack_deadline, self._outbox.deadline) if d is not None]
        return min(deadlines) if deadlines else None

    def handle_timeout(self, now: float) -> None:
        """Retransmit (or send a delayed ACK) if a timer expired by ``now``.

        Raises HandshakeTimeout when a flight went unanswered through
        ``max_retransmissions`` retransmissions."""
        if self._error is not None:
            return
        self._now = now
        if self._ack_deadline is not None and now >= self._ack_deadline:
            self._ack_deadline = None
            if self._flight_incomplete():
                self._send_ack(self._acks)
        outbox = self._outbox
        if outbox.deadline is None or now < outbox.deadline:
            return
        if outbox.retransmissions >= self.dtls.max_retransmissions:
            if self._handshake.complete and not self._key_update_unacked:
                outbox.clear()  # unacknowledged tickets: the client may have gone
                return
            what = "KeyUpdate" if self._handshake.complete else "handshake flight"
            self._error = HandshakeTimeout(
                f"no answer to our {what} after {outbox.retransmissions} retransmissions"
            )
            self.state = DTLSState.ERROR
            raise self._error
        outbox.retransmit(now, self._write_record, self._room, backoff=True)

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

    def send(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data`` as one application datagram (one record in its own datagram).

        UsageError before the handshake completes, after close, or when ``data``
        exceeds ``max_datagram_payload()``."""
        if self._error is not None:
            raise UsageError(f"connection failed earlier: {self._error}")
        if self._close_sent:
            raise UsageError("cannot send after close()")
        if not self._app_write:
            raise UsageError("cannot send application data before the handshake completes")
        room = self._layer.max_payload()
        if len(data) > room:
            raise UsageError(f"a datagram of {len(data)} bytes exceeds what one record of this path holds ({room})")
        try:
            self._layer.write_application_data(data)
        except KeyLimitReached:
            if self._key_update_unacked:
                raise UsageError("the sending key is at its usage limit; wait for the KeyUpdate's ACK") from None
            self._handshake.send_key_update(False)
            self._flush_messages()
            self._layer.write_application_data(data)
        self._layer.flush()

    def close(self) -> None:
        """Queue a close_notify alert; nothing can be sent afterwards."""
        if self._close_sent or self._error is not None:
            return
        self._close_sent = True
        self._send_alert(_WARNING, AlertDescription.CLOSE_NOTIFY)
        self._outbox.clear()
        self._ack_deadline = None
        if self._peer_closed:
            self.state = DTLSState.CLOSED

    def update_keys(self, request_peer_update: bool = True) -> None:
        """Send a KeyUpdate (RFC 9147 section 8); our new keys are used once it is ACKed."""
        if self.state is not DTLSState.ESTABLISHED or self._close_sent:
            raise UsageError("key updates need an established connection")
        if self._key_update_unacked:
            raise UsageError("a KeyUpdate is still waiting for its ACK")
        self._handshake.send_key_update(request_peer_update)
        self._flush_messages()

    def export_keying_material(self, label: bytes | str, context: bytes | None, length: int) -> bytes:
        """The exporter of RFC 8446 section 7.5 with DTLS 1.3's labels."""
        if isinstance(label, str):
            label = label.encode("ascii")
        return self._handshake.export(label, context, length)

    @property
    def key_update_pending(self) -> bool:
        """Our KeyUpdate went out and waits for the peer's ACK."""
        return self._key_update_unacked

    @property
    def peer_closed(self) -> bool:
        return self._peer_closed

    # -- input ----------------------------------------------------------------------

    def _process_records(self) -> None:
        layer = self._layer
        while not self._peer_closed:
            records = layer.read_dtls_records()  # new keys may release records kept for them
            if not records:
                return
            for record in records:
                kind = record.content_type
                if kind == _HANDSHAKE:
                    self._on_handshake_record(record)
                elif kind == _CCS:
                    self._on_change_cipher_spec(record)
                elif kind == _APPLICATION_DATA:
                    self._on_application_data(record)
                elif kind == _ACK:
                    self._on_ack(record)
                elif kind == _ALERT:
                    self._on_alert(record)
                    if self._peer_closed:
                        return
                else:
                    self._drop(record.epoch)

    def _drop(self, epoch: int) -> None:
        self._layer.dropped.add(invalid=1)
        self._layer.dropped_in(epoch).add(invalid=1)

    def _epoch_allows(self, msg_type: int, epoch: int, message_seq: int) -> bool:
        if self._layer.negotiating:  # a client that offered both: either version's rule
            return self._epoch_allows12(msg_type, epoch, message_seq) or self._epoch_allows13(msg_type, epoch)
        if self._dtls12 or self._layer.version == DTLS_1_2:
            return self._epoch_allows12(msg_type, epoch, message_seq)
        return self._epoch_allows13(msg_type, epoch)

    def _epoch_allows12(self, msg_type: int, epoch: int, message_seq: int) -> bool:
        # RFC 6347: Finished under the new keys, the rest of the handshake in the
        # clear; once the peer's keys are in use, only its retransmissions come in
        # the clear, and only a refused renegotiation under the keys
        if msg_type == _HS.FINISHED:
            return epoch >= 1
        if epoch == 0:
            return not self._layer.read_epochs or message_seq < self._reassembler.next_seq
        return self._handshake.complete and msg_type in _RENEGOTIATION

    def _epoch_allows13(self, msg_type: int, epoch: int) -> bool:
        if msg_type in _PLAINTEXT_MESSAGES:
            return epoch == 0
        if msg_type in _POST_HANDSHAKE:
            return epoch >= _FIRST_APPLICATION_EPOCH
        return epoch == _HANDSHAKE_EPOCH

    def _on_handshake_record(self, record: DtlsRecord) -> None:
        fragments = parse_fragments(record.payload)
        if fragments is None:
            self._drop(record.epoch)
            return
        fresh = False
        for fragment in fragments:
            if not self._epoch_allows(fragment.msg_type, record.epoch, fragment.message_seq):
                self._drop(record.epoch)
                continue
            result = self._reassembler.add(fragment, record.epoch)
            if result is AddResult.NEW:
                fresh = True
            elif result is AddResult.DUPLICATE:
                self._peer_retransmitted = True
        if fresh and len(self._acks) < _MAX_ACK_RECORDS:
            self._acks.append((record.epoch, record.sequence))
        self._deliver_messages()

    def _deliver_messages(self) -> None:
        hs = self._handshake
        while (head := self._reassembler.peek()) is not None:
            if not self._epoch_allows(head[0], head[1], self._reassembler.next_seq):
                # (taken in while the version was open; not this version's: the real one comes)
                self._reassembler.discard(self._reassembler.next_seq)
                self._drop(head[1])
                return
            message = self._reassembler.pop()
            assert message is not None
            msg_type, body, _epoch = message
            if not hs.complete:
                self._outbox.clear()  # the peer's next flight: ours arrived (implicit ACK)
            explicit_ack = not self._dtls12 and (
                (hs.complete and msg_type in NEEDS_EXPLICIT_ACK) or (not self.is_client and msg_type == _HS.FINISHED)
            )
            self._handling_seq = self._reassembler.next_seq - 1
            raw = bytes((msg_type,)) + len(body).to_bytes(3, "big") + body
            if self._dtls12:
                raw = self._transcript_form(raw, sent=False)
            hs.handle_message(msg_type, body, raw)
            if explicit_ack:
                self._flush_messages()  # (our own messages go first, in their epoch)
                self._send_ack(self._acks)
                self._acks = []
                self._ack_deadline = None

    def _on_application_data(self, record: DtlsRecord) -> None:
        first = 1 if self._dtls12 else _FIRST_APPLICATION_EPOCH
        if record.epoch < first or not self._app_read:
            self._drop(record.epoch)
            return
        if self._outbox.final:  # DTLS 1.2: the peer has our last flight
            self._outbox.clear()
        if record.payload:
            self.datagrams_received += 1
            self._events.append(ApplicationData(record.payload))
            self.key_updates_received = 0

    def _on_ack(self, record: DtlsRecord) -> None:
        if record.epoch == 0 and self._layer.read_epochs:
            self._drop(0)  # a plaintext ACK once we have keys: anyone could have sent it
            return
        numbers = decode_ack(record.payload)
        if numbers is None:
            self._drop(record.epoch)
            return
        outbox = self._outbox
        before = sum(m.acked.count(False) for m in outbox.messages)
        finished = outbox.on_ack(numbers)
        after = sum(m.acked.count(False) for m in outbox.messages)
        if any(m.msg_type == _HS.KEY_UPDATE for m in finished):
            self._key_update_acknowledged()
        if after and after < before:  # the peer has part of a flight: resend the rest now
            outbox.retransmit(self._now, self._write_record, self._room, backoff=False)

    def _on_change_cipher_spec(self, record: DtlsRecord) -> None:
        """DTLS 1.2: the peer's records use the new keys from here (epoch 1).  A CCS
        the handshake does not expect now is dropped: a retransmission's, or one
        that overtook the messages before it (they come again)."""
        hs = self._handshake
        if not self._dtls12 or record.epoch != 0 or record.payload != b"\x01" or not hs.accepts_ccs():
            self._drop(record.epoch)
            return
        if self._reassembler.has_gap:
            self._drop(record.epoch)  # a later message is in: this CCS is not next
            return
        hs.receive_change_cipher_spec()

    def _on_alert(self, record: DtlsRecord) -> None:
        payload = record.payload
        if len(payload) != 2 or (record.epoch == 0 and self._layer.read_epochs):
            self._drop(record.epoch)  # (a plaintext alert once keys exist could be forged)
            return
        description = payload[1]
        if description == AlertDescription.CLOSE_NOTIFY:
            self._peer_closed = True
            self._events.append(ConnectionClosed())
            self._outbox.clear()
            if self._close_sent:
                self.state = DTLSState.CLOSED
            return
        if description == AlertDescription.USER_CANCELED:
            return
        raise AlertReceived(description)

    def _after_input(self) -> None:
        """End of a receive: send the flight the handshake wrote, answer a peer that
        retransmits, schedule the ACK of a flight that came with a gap."""
        retransmitted, self._peer_retransmitted = self._peer_retransmitted, False
        had_pending = bool(self._pending)
        self._flush_messages()
        if retransmitted and not had_pending:
            if self._outbox.outstanding:  # our flight (or part of it) was lost
                self._outbox.retransmit(self._now, self._write_record, self._room, backoff=False)
            elif (self._last_ack or self._acks) and not self._dtls12:  # our ACK was lost
                self._send_ack(self._last_ack + [n for n in self._acks if n not in self._last_ack])
        if self._ack_deadline is None and self._flight_incomplete():
            self._ack_deadline = self._now + self.dtls.initial_timeout * self.dtls.ack_delay_fraction

    def _flight_incomplete(self) -> bool:
        """Part of the peer's flight arrived but not all: during the handshake, any
        records we have not answered with a flight of our own; afterwards, a message
        left incomplete.  (Only once we have keys: no plaintext ACKs.)"""
        if not self._acks or not self._layer.write_epoch or self._dtls12:
            return False
        return not self._handshake.complete or self._reassembler.has_gap

    # -- output ---------------------------------------------------------------------

    def _room(self, protector: DatagramProtector | None) -> int:
        layer = self._layer
        saved = layer.write_protector
        layer.write_protector = protector
        try:
            return layer.max_payload()
        finally:
            layer.write_protector = saved

    def _write_record(self, protector: DatagramProtector | None, payload: bytes,
                      content_type: int = _HANDSHAKE) -> RecordNumber:
        layer = self._layer
        saved = layer.write_protector
        layer.write_protector = protector
        try:
            if protector is None:
                number = (0, layer.plaintext_sequence)
            else:
                number = (protector.epoch, protector.sequence)
            layer.write(content_type, payload, 0xFEFD)
        finally:
            layer.write_protector = saved
        return number

    def _flush_messages(self) -> None:
        """Send the messages written since the last flush as a flight."""
        if not self._pending:
            return
        messages, self._pending = self._pending, []
        self._outbox.add(messages, self._now, self._write_record, self._room)
        if self.is_client and not self._recorder.client_hello_size:
            self._recorder.client_hello_size = self._layer.pending_output()
        if not self._handshake.complete:
            # our flight acknowledges the peer's implicitly
            self._last_ack = []
            self._acks = []
            self._ack_deadline = None

    def _send_ack(self, numbers: list[RecordNumber]) -> None:
        if not numbers:
            return
        self._last_ack = list(numbers)
        self._layer.write(_ACK, encode_ack(numbers[:_MAX_ACK_RECORDS]), 0xFEFD)
        self._layer.flush()

    def _send_alert(self, level: int, description: int) -> None:
        self._layer.write(_ALERT, bytes((level, description)), 0xFEFD)
        self._layer.flush()

    def _fail(self, exc: ProtocolError) -> None:
        self._error = exc
        self.state = DTLSState.ERROR
        try:
            self._send_alert(_FATAL, exc.description)
        except TLSError:
            pass

    # -- what the handshake does (through _DatagramIO) -------------------------------

    def _client_hello_extensions(self) -> list[Extension]:
        if self._cid_offer is None:
            return []
        return [ConnectionId(self._cid_offer)]

    def _server_hello_received(self, hello: ServerHello) -> None:
        if not self._dtls12 and self._layer.negotiating:
            self._layer.set_version(DTLS_1_3)
        answer = get_extension(hello.extensions, ConnectionId)
        if answer is None or self._cid_offer is None:  # (we offered it, or it was refused)
            return
        self._use_connection_ids(self._cid_offer, answer.cid)

    def _server_hello_extensions(self, client_hello: ClientHello) -> list[Extension]:
        offer = get_extension(client_hello.extensions, ConnectionId)
        if offer is None or self._cid_offer is None:
            return []
        self._use_connection_ids(self._cid_offer, offer.cid)
        return [ConnectionId(self._cid_offer)]

    def _use_connection_ids(self, own: bytes, peer: bytes) -> None:
        """RFC 9147 section 9: from the handshake epoch on, the peer's records carry
        ``own`` and ours carry ``peer``."""
        self.own_connection_id = own
        self.peer_connection_id = peer
        self._layer.connection_id = own

    def _check_integrity(self) -> None:
        """RFC 9147 section 4.5.3: records failing authentication under a read key
        are attempts at a forgery; past the AEAD's integrity limit the key is
        done.  DTLS 1.3 asks the peer for new keys at half the limit."""
        layer = self._layer
        if not layer.dropped.unauthentic:  # (the usual case: nothing to count, per datagram)
            return
        for epoch in layer.read_epochs:
            failed = layer.dropped_in(epoch).unauthentic
            if not failed:
                continue
            protector = layer.read_protector_of(epoch)
            limit = self.dtls.max_failed_decryptions or integrity_limit(protector.suite)
            if failed >= limit:
                self._error = KeyLimitReached(
                    f"{failed} records failed authentication under the read key of epoch {epoch}, "
                    f"the AEAD's integrity limit (RFC 9147 section 4.5.3): the connection is closed"
                )
                self.state = DTLSState.ERROR
                raise self._error
            if (2 * failed >= limit and epoch not in self._limit_noted and not self._dtls12
                    and self.state is DTLSState.ESTABLISHED and not self._key_update_unacked
                    and not self._close_sent and epoch == max(layer.read_epochs)):
                self._limit_noted.add(epoch)
                self._handshake.send_key_update(True)  # the peer's new keys replace this one

    def _transcript_form(self, raw: bytes, sent: bool) -> bytes:
        """DTLS 1.2 (RFC 6347 section 4.2.6): a message as the transcript holds it,
        with its DTLS header as if sent whole; ``sent``: the message just written
        (else the one being handled).  DTLS 1.3 hashes the TLS form (``raw``)."""
        if not self._dtls12:
            return raw
        seq = self._send_seq - 1 if sent else self._handling_seq
        return raw[:4] + seq.to_bytes(2, "big") + b"\x00\x00\x00" + raw[1:4] + raw[4:]

    def _use_tls12(self) -> None:
        """The handshake settled on DTLS 1.2: its record format from now on."""
        if DTLS_1_2 not in self.dtls.versions:
            raise ProtocolVersionError("the peer chose DTLS 1.2, which this side does not speak")
        self._dtls12 = True
        self._layer.set_version(DTLS_1_2)

    def _write_ccs(self) -> None:
        """DTLS 1.2: ChangeCipherSpec, a record of its own in the current flight."""
        self._pending.append(OutMessage.change_cipher_spec(self._layer.write_protector))

    def _set_tls12_keys(self, suite: Tls12SuiteInfo, key: bytes, iv: bytes, sending: bool) -> None:
        """DTLS 1.2: protection of the next epoch for one direction (the CCS switches
        to it: ours goes out before the records it protects, the peer's is read)."""
        if sending:
            self._write_epoch = 1
            limit = min(suite.max_records, DTLS_SEQUENCE_LIMIT)
            self._layer.write_protector = self.backend.dtls12_record_protector(
                int(suite.suite), key, iv, 1, 0, limit, self.peer_connection_id or None)
        else:
            self._read_epoch = 1
            self._layer.install_read_protector(self.backend.dtls12_record_protector(
                int(suite.suite), key, iv, 1, 0, None, self.own_connection_id or None))

    def _write_handshake(self, raw: bytes) -> None:
        msg_type = raw[0]
        if self._key_update_unacked or self._after_key_update:
            # RFC 9147 section 8: nothing new until our KeyUpdate is acknowledged
            self._after_key_update.append(("message", raw))
            return
        if msg_type == _HS.KEY_UPDATE:
            self._key_update_unacked = True
        protector = self._layer.write_protector
        message = OutMessage(msg_type, self._send_seq, raw[4:], protector, self._room(protector) - HEADER_LEN)
        self._send_seq += 1
        self._pending.append(message)

    def _set_read_secret(self, suite: SuiteInfo, secret: bytes) -> None:
        self._read_epoch += 1
        protector = dtls13_protector(self.backend, int(suite.suite), secret, self._read_epoch,
                                     connection_id=self.own_connection_id)
        self._layer.install_read_protector(protector)

    def _set_write_secret(self, suite: SuiteInfo, secret: bytes) -> None:
        if self._key_update_unacked:
            self._after_key_update.append(("keys", suite, secret))
            return
        self._write_epoch += 1
        self._layer.write_protector = dtls13_protector(
            self.backend, int(suite.suite), secret, self._write_epoch, connection_id=self.peer_connection_id
        )

    def _key_update_acknowledged(self) -> None:
        self._key_update_unacked = False
        queued, self._after_key_update = self._after_key_update, []
        for item in queued:
            if self._key_update_unacked:  # a second KeyUpdate went out: the rest waits again
                self._after_key_update.append(item)
            elif item[0] == "keys":
                self._set_write_secret(item[1], item[2])
            else:
                self._write_handshake(item[1])
        self._flush_messages()

    def _finish_stats(self) -> HandshakeStats | None:
        stats = self._stats
        if stats is None:
            return None
        self._flush_messages()
        self._stats = None
        self._handshake_stats = stats.snapshot(self._layer.pending_output(), self._layer.buffered)
        return self._handshake_stats

    def _established(self, info: HandshakeComplete) -> None:
        self._app_read = self._app_write = True
        self.state = DTLSState.ESTABLISHED
        if self._dtls12 and self._outbox.outstanding:
            self._outbox.hold_final()  # our last flight: resent only if the peer asks
        self._events.append(info)

    def _note_key_update(self) -> None:
        self.key_updates_received += 1
        limit = self.config.limits.max_key_updates
        if self.key_updates_received > limit:
            raise UnexpectedMessage(f"more than {limit} KeyUpdates without application data")


class _DatagramIO:
    """The DTLS connection as its handshake sees it (:class:`~ferrotls.handshake.io.DatagramIO`)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: DTLSConnection) -> None:
        self._conn = conn

    @property
    def backend(self) -> Backend:
        return self._conn._keys_backend

    @property
    def stats(self) -> StatsRecorder:
        return self._conn._recorder

    @property
    def close_sent(self) -> bool:
        return self._conn._close_sent

    def write_handshake(self, raw: bytes, legacy_version: int = 0x0303) -> None:
        self._conn._write_handshake(raw)

    def write_application_data(self, data: bytes | bytearray | memoryview) -> None:
        raise UsageError("0-RTT is not supported over DTLS")

    def send_ccs(self) -> None:
        """DTLS 1.2's ChangeCipherSpec; DTLS 1.3 has none."""
        if self._conn._dtls12:
            self._conn._write_ccs()

    def set_read_protector(self, protector: RecordProtector | None) -> None:
        raise InternalError("a DTLS handshake installs keys as secrets")

    def set_write_protector(self, protector: RecordProtector | None) -> None:
        if protector is None:  # (a HelloRetryRequest after 0-RTT: never over DTLS)
            return
        raise InternalError("a DTLS handshake installs keys as secrets")

    def set_read_secret(self, suite: SuiteInfo, secret: bytes) -> None:
        self._conn._set_read_secret(suite, secret)

    def set_write_secret(self, suite: SuiteInfo, secret: bytes) -> None:
        self._conn._set_write_secret(suite, secret)

    def limit_outgoing_records(self, max_fragment: int) -> None:
        layer = self._conn._layer
        layer.max_fragment = max_fragment
        if layer.padding >= max_fragment:
            layer.padding = max_fragment - 1

    def limit_incoming_records(self, max_plaintext: int) -> None:
        self._conn._layer.peer_max_plaintext = max_plaintext

    def skip_early_data(self, budget: int) -> None:
        """0-RTT is off over DTLS: nothing to skip."""

    def note_key_update(self) -> None:
        self._conn._note_key_update()

    def use_tls12_records(self) -> None:
        self._conn._use_tls12()

    def set_tls12_keys(self, suite: Tls12SuiteInfo, key: bytes, iv: bytes, sending: bool) -> None:
        self._conn._set_tls12_keys(suite, key, iv, sending)

    def transcript_form(self, raw: bytes, sent: bool = True) -> bytes:
        return self._conn._transcript_form(raw, sent)

    def send_warning_alert(self, description: int) -> None:
        self._conn._send_alert(_WARNING, description)

    def emit(self, event: Event) -> None:
        self._conn._events.append(event)

    def finish_stats(self) -> HandshakeStats | None:
        return self._conn._finish_stats()

    def client_hello_extensions(self) -> list[Extension]:
        return self._conn._client_hello_extensions()

    def server_hello_received(self, hello: ServerHello) -> None:
        self._conn._server_hello_received(hello)

    def server_hello_extensions(self, client_hello: ClientHello) -> list[Extension]:
        return self._conn._server_hello_extensions(client_hello)

    def established(self, info: HandshakeComplete) -> None:
        self._conn._established(info)


class DTLSClientConnection(DTLSConnection):
    """A DTLS client (1.3, 1.2 or both: ``DTLSConfig.versions``): the ClientHello
    is ready in ``datagrams_to_send()`` at once."""

    is_client = True

    def __init__(
        self,
        config: ClientConfig,
        server_hostname: str | None = None,
        *,
        dtls: DTLSConfig | None = None,
        session: ClientSession | None = None,
        now: float = 0.0,
    ) -> None:
        """``session``: a ClientSession to resume (default: the newest for
        ``server_hostname`` in ``config.session_cache``); ``now``: the time the
        ClientHello leaves (its retransmission timer starts then)."""
        adapted = _for_datagrams(config, dtls or DTLSConfig())
        super().__init__(adapted, dtls, now)
        from ..handshake.client import ClientHandshake

        self._cid_offer = self.dtls.connection_id
        if self._cid_offer:  # to frame records kept until their keys arrive (a C bit: our CID)
            self._layer.connection_id = self._cid_offer
        self.server_hostname = server_hostname
        handshake = ClientHandshake(self._io, adapted, server_hostname, session, None, datagram=self._io)
        self._handshake = handshake
        handshake.start()
        self._flush_messages()


class DTLSServerConnection(DTLSConnection):
    """A DTLS server for one client (1.3, 1.2 or both: ``DTLSConfig.versions``):
    feed it that client's datagrams."""

    is_client = False

    def __init__(
        self, config: ServerConfig, *, dtls: DTLSConfig | None = None, now: float = 0.0,
        connection_id: bytes | None = None,
    ) -> None:
        """``connection_id``: the CID to ask a client that offers connection IDs
        to put in its records (default: ``dtls.connection_id``; an endpoint gives
        each connection its own, to find it by); None: no CIDs."""
        adapted = _for_datagrams(config, dtls or DTLSConfig())
        super().__init__(adapted, dtls, now)
        from ..handshake.server import ServerHandshake

        self._cid_offer = connection_id if connection_id is not None else self.dtls.connection_id
        if self._cid_offer is not None and len(self._cid_offer) > 255:
            raise ValueError("a connection ID has at most 255 bytes")
        self._server_handshake = ServerHandshake(self._io, adapted, datagram=self._io)
        self._handshake = self._server_handshake

    @classmethod
    def from_cookie(
        cls, config: ServerConfig, state: CookieState, *, dtls: DTLSConfig | None = None, now: float = 0.0,
        connection_id: bytes | None = None,
    ) -> DTLSServerConnection:
        """The connection for a client whose second ClientHello returned a valid
        cookie (:class:`~ferrotls.dtls.cookie.CookieGate`); feed it that datagram."""
        conn = cls(config, dtls=dtls, now=now, connection_id=connection_id)
        if state.version == DTLS_1_3:  # (DTLS 1.2: the handshake starts at the second ClientHello)
            conn._server_handshake.start_after_cookie(state.suite, state.group, state.hello1_hash,
                                                      state.hello_retry_request())
        conn._reassembler.next_seq = state.message_seq
        conn._send_seq = state.message_seq
        conn._layer.plaintext_sequence = state.record_sequence
        return conn

    def version_for(self, hello: ClientHello) -> int:
        """The DTLS version (DTLS_1_3, DTLS_1_2) this server would answer ``hello``
        with; ProtocolVersionError if none (for the cookie gate)."""
        from ..handshake.server import choose_version

        config = self._server_handshake.sconfig
        return DTLS_1_3 if choose_version(config, hello, datagram=True)[0] == _TLS13 else DTLS_1_2

    def hello_retry_choice(self, hello: ClientHello, raw: bytes) -> tuple[int, int]:
        """(suite, group or 0) a HelloRetryRequest to ``hello`` would name (for the
        cookie gate; this connection is not used afterwards)."""
        return self._server_handshake.hello_retry_choice(hello, raw)
