"""The DTLS handshake reliability layer (RFC 9147 sections 5.2, 5.5, 5.8 and 7;
RFC 6347 section 4.2): handshake message framing, fragmentation, reassembly,
ACKs and the retransmission timer.  Sans-I/O and free of keys: the connection
gives it records and takes records from it.

* :func:`dtls_header` / :func:`parse_fragments`: the 12-byte DTLS handshake
  header -- msg_type, length, message_seq, fragment_offset, fragment_length.
* :class:`Reassembler`: incoming fragments, tolerating overlaps, gaps and
  duplicates within a bounded number of messages and bytes, handed out whole
  in message_seq order.
* :class:`Outbox`: the messages we sent that the peer has not acknowledged,
  split into fragments, each tracked by the record that carried it last, so
  an ACK (or the peer's next flight) removes them and a retransmission resends
  only what is missing; the timer doubles from ``initial_timeout`` up to
  ``max_timeout``.
* :func:`encode_ack` / :func:`decode_ack`: the ACK message (section 7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..backend.interface import DatagramProtector
from ..messages.enums import HandshakeType

__all__ = [
    "HEADER_LEN",
    "Fragment",
    "dtls_header",
    "parse_fragments",
    "Reassembler",
    "AddResult",
    "OutMessage",
    "Outbox",
    "encode_ack",
    "decode_ack",
    "RecordNumber",
]

HEADER_LEN = 12
RecordNumber = tuple[int, int]
"""(epoch, sequence number): what an ACK names."""


def dtls_header(msg_type: int, length: int, message_seq: int, offset: int, fragment_length: int) -> bytes:
    """The DTLS handshake header (RFC 9147 section 5.2)."""
    return (
        bytes((msg_type,)) + length.to_bytes(3, "big") + message_seq.to_bytes(2, "big")
        + offset.to_bytes(3, "big") + fragment_length.to_bytes(3, "big")
    )


@dataclass(frozen=True, slots=True)
class Fragment:
    """One handshake fragment as received."""

    msg_type: int
    length: int
    message_seq: int
    offset: int
    data: bytes


def parse_fragments(payload: bytes) -> list[Fragment] | None:
    """The fragments of one handshake record, or None when it is malformed (a
    fragment past its message's length or past the record)."""
    out = []
    pos = 0
    end = len(payload)
    while pos < end:
        if end - pos < HEADER_LEN:
            return None
        msg_type = payload[pos]
        length = int.from_bytes(payload[pos + 1 : pos + 4], "big")
        seq = int.from_bytes(payload[pos + 4 : pos + 6], "big")
        offset = int.from_bytes(payload[pos + 6 : pos + 9], "big")
        flen = int.from_bytes(payload[pos + 9 : pos + 12], "big")
        pos += HEADER_LEN
        if offset + flen > length or pos + flen > end or (flen == 0 and length != 0):
            return None
        out.append(Fragment(msg_type, length, seq, offset, payload[pos : pos + flen]))
        pos += flen
    return out


class AddResult:
    """What :meth:`Reassembler.add` did with a fragment."""

    NEW = "new"
    """Stored (new bytes, or a message not seen before)."""
    DUPLICATE = "duplicate"
    """Of a message already delivered (the peer is retransmitting)."""
    DROPPED = "dropped"
    """Too far ahead, too large, or inconsistent with what is stored."""


class _Partial:
    __slots__ = ("msg_type", "length", "epoch", "data", "ranges")

    def __init__(self, msg_type: int, length: int, epoch: int) -> None:
        self.msg_type = msg_type
        self.length = length
        self.epoch = epoch
        self.data = bytearray(length)
        self.ranges: list[tuple[int, int]] = []

    def add(self, offset: int, data: bytes) -> bool:
        """Copy in ``data`` at ``offset``; True when it added bytes we lacked."""
        start, stop = offset, offset + len(data)
        if any(a <= start and stop <= b for a, b in self.ranges):
            return False
        self.data[start:stop] = data
        merged: list[tuple[int, int]] = []
        for a, b in sorted([*self.ranges, (start, stop)]):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self.ranges = merged
        return True

    @property
    def complete(self) -> bool:
        return self.length == 0 or self.ranges == [(0, self.length)]


class Reassembler:
    """Incoming handshake messages, in message_seq order.

    ``max_pending`` messages at most are kept ahead of the next expected one,
    ``max_bytes`` bytes of them in all, ``max_message`` bytes in one message;
    what does not fit is dropped (the peer retransmits it).
    """

    def __init__(self, max_pending: int, max_bytes: int, max_message: int) -> None:
        self.next_seq = 0
        """The message_seq of the next message to deliver."""
        self.max_pending = max_pending
        self.max_bytes = max_bytes
        self.max_message = max_message
        self._partials: dict[int, _Partial] = {}

    @property
    def buffered(self) -> int:
        """Bytes held for messages not yet delivered."""
        return sum(p.length for p in self._partials.values())

    @property
    def has_gap(self) -> bool:
        """Something is held but the next message is not complete."""
        return bool(self._partials)

    def add(self, fragment: Fragment, epoch: int) -> str:
        """Take one fragment (of a record of ``epoch``); returns an :class:`AddResult`."""
        seq = fragment.message_seq
        if seq < self.next_seq:
            return AddResult.DUPLICATE
        if seq >= self.next_seq + self.max_pending or fragment.length > self.max_message:
            return AddResult.DROPPED
        partial = self._partials.get(seq)
        if partial is None:
            if self.buffered + fragment.length > self.max_bytes:
                return AddResult.DROPPED
            partial = self._partials[seq] = _Partial(fragment.msg_type, fragment.length, epoch)
        elif (partial.msg_type, partial.length, partial.epoch) != (fragment.msg_type, fragment.length, epoch):
            return AddResult.DROPPED
        return AddResult.NEW if partial.add(fragment.offset, fragment.data) else AddResult.DUPLICATE

    def peek(self) -> tuple[int, int] | None:
        """(msg_type, epoch) of the next message if it is complete."""
        partial = self._partials.get(self.next_seq)
        if partial is None or not partial.complete:
            return None
        return partial.msg_type, partial.epoch

    def pop(self) -> tuple[int, bytes, int] | None:
        """The next message if it is complete: (msg_type, body, epoch)."""
        partial = self._partials.get(self.next_seq)
        if partial is None or not partial.complete:
            return None
        del self._partials[self.next_seq]
        self.next_seq += 1
        return partial.msg_type, bytes(partial.data), partial.epoch

    def discard(self, message_seq: int) -> None:
        """Forget what is held of ``message_seq`` (a message in the wrong epoch)."""
        self._partials.pop(message_seq, None)


# --------------------------------------------------------------------------- sending


_HANDSHAKE = 22
_CHANGE_CIPHER_SPEC = 20


class OutMessage:
    """One handshake message we sent: its fragments and their acknowledgement.

    DTLS 1.2's ChangeCipherSpec is part of a flight too (RFC 6347 section 4.2.4):
    :meth:`change_cipher_spec` makes one, a record of its own that is resent with
    the flight."""

    __slots__ = ("msg_type", "message_seq", "body", "protector", "fragments", "acked", "content_type")

    def __init__(self, msg_type: int, message_seq: int, body: bytes, protector: DatagramProtector | None,
                 fragment_size: int, content_type: int = _HANDSHAKE) -> None:
        self.content_type = content_type
        """The record type: handshake (22), or change_cipher_spec (20) for DTLS 1.2's CCS."""
        self.msg_type = msg_type
        self.message_seq = message_seq
        self.body = body
        self.protector = protector
        """The epoch it goes in, first time and every retransmission (None: plaintext)."""
        size = max(1, fragment_size)
        self.fragments = [(o, min(size, len(body) - o)) for o in range(0, len(body), size)] or [(0, 0)]
        """(offset, length) of each fragment."""
        self.acked = [False] * len(self.fragments)

    @classmethod
    def change_cipher_spec(cls, protector: DatagramProtector | None) -> OutMessage:
        """DTLS 1.2's ChangeCipherSpec (one byte, 1) under ``protector``."""
        return cls(-1, -1, b"\x01", protector, 1, _CHANGE_CIPHER_SPEC)

    @property
    def epoch(self) -> int:
        return 0 if self.protector is None else self.protector.epoch

    @property
    def done(self) -> bool:
        return all(self.acked)

    def fragment_bytes(self, index: int) -> bytes:
        if self.content_type != _HANDSHAKE:
            return self.body
        offset, length = self.fragments[index]
        return dtls_header(self.msg_type, len(self.body), self.message_seq, offset, length) + self.body[offset : offset + length]


WriteRecord = Callable[[DatagramProtector | None, bytes, int], RecordNumber]
"""Writes one record (protector, payload, content type) and returns its record number."""
RecordRoom = Callable[[DatagramProtector | None], int]
"""The most content bytes one record under a protector may carry."""


class Outbox:
    """Our unacknowledged handshake messages and the retransmission timer."""

    def __init__(self, initial_timeout: float, max_timeout: float, max_retransmissions: int) -> None:
        self.initial_timeout = initial_timeout
        self.max_timeout = max_timeout
        self.max_retransmissions = max_retransmissions
        self.messages: list[OutMessage] = []
        self._records: dict[RecordNumber, list[tuple[OutMessage, int]]] = {}
        self.interval = initial_timeout
        self.deadline: float | None = None
        self.retransmissions = 0
        """Retransmissions since the last progress (a new flight or an ACK)."""
        self.sent_records = 0
        self.retransmitted_records = 0
        self.final = False
        """DTLS 1.2: what is held is our last flight, which the peer does not answer
        (RFC 6347 section 4.2.4): no timer; it is resent only when the peer
        retransmits its own last flight."""

    @property
    def outstanding(self) -> bool:
        return any(not m.done for m in self.messages)

    def clear(self) -> None:
        """The peer's next flight acknowledges everything we sent (implicit ACK)."""
        self.messages = []
        self._records = {}
        self.deadline = None
        self.retransmissions = 0
        self.interval = self.initial_timeout
        self.final = False

    def hold_final(self) -> None:
        """Keep what is outstanding as the last flight (see ``final``): no timer."""
        self.final = True
        self.deadline = None

    def add(self, messages: Iterable[OutMessage], now: float, write: WriteRecord, room: RecordRoom) -> None:
        """Send new messages (a flight, or post-handshake messages) and arm the timer."""
        fresh = list(messages)
        self.messages.extend(fresh)
        self.interval = self.initial_timeout
        self.retransmissions = 0
        self._transmit(fresh, write, room)
        self.deadline = None if self.final else now + self.interval

    def on_ack(self, records: Iterable[RecordNumber]) -> list[OutMessage]:
        """Mark what ``records`` carried as received; returns the messages that
        became fully acknowledged (they leave the outbox)."""
        finished: list[OutMessage] = []
        for number in records:
            for message, index in self._records.pop(number, ()):
                if not message.acked[index]:
                    message.acked[index] = True
                    if message.done:
                        finished.append(message)
        if finished:
            self.messages = [m for m in self.messages if not m.done]
        if not self.outstanding:
            self.clear()
        return finished

    def retransmit(self, now: float, write: WriteRecord, room: RecordRoom, *, backoff: bool) -> None:
        """Resend every unacknowledged fragment; ``backoff``: the timer fired (it
        doubles, up to ``max_timeout``), else the peer showed it lacks something."""
        if not self.outstanding:
            return
        if backoff:
            self.retransmissions += 1
            self.interval = min(self.interval * 2, self.max_timeout)
        self.retransmitted_records += self._transmit(self.messages, write, room)
        self.deadline = None if self.final else now + self.interval

    def _transmit(self, messages: list[OutMessage], write: WriteRecord, room: RecordRoom) -> int:
        """Write the unacknowledged fragments of ``messages``, packing consecutive
        fragments of one epoch into one record; returns the records written."""
        written = 0
        batch: list[tuple[OutMessage, int]] = []
        batch_bytes: list[bytes] = []
        batch_protector: DatagramProtector | None = None
        batch_size = 0

        def flush() -> None:
            nonlocal batch, batch_bytes, batch_size, written
            if not batch:
                return
            number = write(batch_protector, b"".join(batch_bytes), _HANDSHAKE)
            self._records[number] = batch
            written += 1
            batch, batch_bytes, batch_size = [], [], 0

        for message in messages:
            for index in range(len(message.fragments)):
                if message.acked[index]:
                    continue
                data = message.fragment_bytes(index)
                if message.content_type != _HANDSHAKE:  # a record of its own
                    flush()
                    number = write(message.protector, data, message.content_type)
                    self._records[number] = [(message, index)]
                    written += 1
                    continue
                if batch and (message.protector is not batch_protector or batch_size + len(data) > room(batch_protector)):
                    flush()
                batch_protector = message.protector
                batch.append((message, index))
                batch_bytes.append(data)
                batch_size += len(data)
        flush()
        self.sent_records += written
        return written

    def forget_records(self) -> None:
        """Drop the record-number map of fragments no longer outstanding."""
        self._records = {n: f for n, f in self._records.items() if any(not m.acked[i] for m, i in f)}


# --------------------------------------------------------------------------- ACK


def encode_ack(records: Iterable[RecordNumber]) -> bytes:
    """ACK: RecordNumber record_numbers<0..2^16-1>, each uint64 epoch || uint64 sequence."""
    body = b"".join(e.to_bytes(8, "big") + s.to_bytes(8, "big") for e, s in records)
    return len(body).to_bytes(2, "big") + body


def decode_ack(payload: bytes) -> list[RecordNumber] | None:
    """The record numbers of an ACK, or None when it is malformed."""
    if len(payload) < 2:
        return None
    length = int.from_bytes(payload[:2], "big")
    if length != len(payload) - 2 or length % 16:
        return None
    return [
        (int.from_bytes(payload[i : i + 8], "big"), int.from_bytes(payload[i + 8 : i + 16], "big"))
        for i in range(2, len(payload), 16)
    ]


NEEDS_EXPLICIT_ACK = frozenset({HandshakeType.NEW_SESSION_TICKET, HandshakeType.KEY_UPDATE})
"""Post-handshake messages the receiver acknowledges with an ACK (RFC 9147 section 7)."""
