"""The record layer (RFC 8446 section 5): framing over protection.

Protection -- nonces, sequence numbers, AEAD, inner content types -- lives in
the backend's ``RecordProtector`` objects, one per direction.  Framing lives
here: :class:`StreamRecordLayer` deframes a TLS byte stream into records,
applies the length limits, hands protected records to the read protector in
batches, frames outgoing records and coalesces handshake messages.  The
connection talks only to :class:`RecordInterface`, which a datagram framer
for DTLS implements over the same protectors.  The backend's ``STOP_*`` codes
stay below this interface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .backend.interface import MAX_CIPHERTEXT, MAX_CIPHERTEXT_TLS12, MAX_PLAINTEXT, STOP_END, RecordProtector
from .errors import (
    BadRecordMac,
    DecodeError,
    IllegalParameter,
    RecordOverflow,
    UnexpectedMessage,
)
from .messages.enums import ContentType
from .suites import SUITES

__all__ = [
    "ContentType",
    "RecordInterface",
    "StreamRecordLayer",
    "HandshakeBuffer",
    "DEFAULT_MAX_HANDSHAKE_SIZE",
]

# Plain ints for the hot paths (the one ContentType is messages.enums.ContentType).
_CCS = int(ContentType.CHANGE_CIPHER_SPEC)
_ALERT = int(ContentType.ALERT)
_HANDSHAKE = int(ContentType.HANDSHAKE)
_APPLICATION_DATA = int(ContentType.APPLICATION_DATA)
_CCS_RECORD = b"\x14\x03\x03\x00\x01\x01"

DEFAULT_MAX_HANDSHAKE_SIZE = 1 << 17
_PLAINTEXT_TYPES = frozenset((_CCS, _ALERT, _HANDSHAKE))
_PROTECTED_TLS12_TYPES = frozenset((_CCS, _ALERT, _HANDSHAKE, _APPLICATION_DATA))


class RecordInterface(Protocol):
    """What the connection needs from a record layer (TLS stream or DTLS datagrams)."""

    read_protector: RecordProtector | None
    max_fragment: int
    """Content bytes per outgoing record (the peer's record_size_limit - 1)."""
    padding: int
    """Zero bytes added to each protected record."""
    peer_max_plaintext: int
    """Largest record plaintext the peer may send (our record_size_limit - 1)."""

    @property
    def write_protector(self) -> RecordProtector | None: ...

    @write_protector.setter
    def write_protector(self, protector: RecordProtector | None) -> None: ...

    @property
    def buffered(self) -> int:
        """Bytes received but not yet decoded into records."""
        ...

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Take bytes (or a datagram) from the transport."""
        ...

    def read_records(self) -> list[tuple[int, bytes]]:
        """The next batch of complete records as ``(content_type, payload)``; [] for more data."""
        ...

    def read_application_data(self, data: bytes | bytearray | memoryview = b"") -> tuple[bytes | None, bool]:
        """The established fast path: ``(plaintext or None, more)``, ``more`` when a
        record is left for :meth:`read_records`."""
        ...

    def skip_early_data(self, budget: int) -> None:
        """Drop up to ``budget`` bytes of 0-RTT records that cannot be read (0: stop)."""
        ...

    def use_tls12_format(self) -> None:
        """TLS 1.2 records from now on: every protected record keeps its outer content
        type, ciphertexts may reach 2**14 + 2048, no padding."""
        ...

    def write(self, content_type: int, data: bytes | bytearray | memoryview, legacy_version: int = 0x0303) -> None:
        """Queue ``data`` as records of ``content_type``."""
        ...

    def write_application_data(self, data: bytes | bytearray | memoryview) -> None:
        """Queue application data (one backend call per write)."""
        ...

    def write_change_cipher_spec(self) -> None:
        """Queue the dummy change_cipher_spec of middlebox compatibility."""
        ...

    def pending_output(self) -> int:
        """Bytes queued for the transport."""
        ...

    def take_output(self) -> bytes:
        """All queued output, emptying the queue."""
        ...


class StreamRecordLayer:
    """The TLS record layer over a byte stream (implements :class:`RecordInterface`).

    ``read_records()`` returns the next batch of ``(content_type, payload)``
    items decoded from buffered input; ``write()`` queues outgoing records.
    Consecutive handshake messages are coalesced into as few records as the
    fragment limit allows (RFC 8446 section 5.1 permits it; RFC 8448 traces do
    it): they are held until another content type is written, the write keys
    change or the output is taken, so no record ever spans a key change.
    """

    __slots__ = (
        "_in",
        "_out",
        "_hs_pending",
        "_hs_version",
        "read_protector",
        "_write_protector",
        "max_fragment",
        "padding",
        "peer_max_plaintext",
        "allow_plaintext_alerts",
        "early_skip",
        "protect_all",
        "max_ciphertext",
    )

    def __init__(self) -> None:
        self._in = bytearray()
        self._out: list[bytes] = []
        self._hs_pending = bytearray()
        self._hs_version = 0x0303
        self.read_protector: RecordProtector | None = None
        self._write_protector: RecordProtector | None = None
        self.max_fragment = MAX_PLAINTEXT
        self.padding = 0
        self.peer_max_plaintext = MAX_PLAINTEXT
        self.allow_plaintext_alerts = True
        """Whether an unprotected alert is accepted while read keys are installed:
        only until the first record protected by the peer has been opened (a peer
        that failed before it had keys sends its alert in the clear)."""
        self.early_skip = 0
        """Server that rejected 0-RTT: bytes of undecryptable records still to skip
        (RFC 8446 section 4.2.10); 0 when not skipping."""
        self.protect_all = False
        """TLS 1.2: once read keys are in, records of every content type are protected
        (TLS 1.3 hides the type inside; its outer type is always application_data)."""
        self.max_ciphertext = MAX_CIPHERTEXT

    # -- input ---------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self._in += data

    @property
    def buffered(self) -> int:
        """Bytes received but not yet decoded into records."""
        return len(self._in)

    def read_records(self) -> list[tuple[int, bytes]]:
        """Decode the next batch of complete records; [] when more data is needed.

        A plaintext record is returned alone, so the caller can install keys
        before the next record is read.  Protected application data comes in
        batches; a protected non-application-data record ends a batch.
        """
        buf = self._in
        if len(buf) < 5:
            return []
        content_type = buf[0]
        length = (buf[3] << 8) | buf[4]
        protector = self.read_protector
        if self.early_skip and content_type == _APPLICATION_DATA:
            return self._skip_early(protector)
        if protector is None or (content_type != _APPLICATION_DATA and not self.protect_all):
            return self._read_plaintext(content_type, length)
        if content_type not in _PROTECTED_TLS12_TYPES and self.protect_all:
            # TLS 1.2 protects every record under its real type: one we do not know
            # is unexpected_message (RFC 5246 section 6), not a record to wait behind
            raise UnexpectedMessage(f"record with unknown content type {content_type}")
        if length > self.max_ciphertext:
            raise RecordOverflow(f"protected record of {length} bytes exceeds {self.max_ciphertext}")
        items, consumed = protector.open_records(buf, self.peer_max_plaintext)
        if consumed:
            del buf[:consumed]
            # The peer protects its records now: an unprotected alert could only
            # come from someone without the keys (RFC 8446 sections 5 and 6.1).
            self.allow_plaintext_alerts = False
            for content_type, _ in items:
                if content_type == _CCS:
                    raise UnexpectedMessage("protected change_cipher_spec record")
        return items

    def _skip_early(self, protector: RecordProtector | None) -> list[tuple[int, bytes]]:
        """Drop 0-RTT records we cannot (or will not) decrypt, up to ``early_skip`` bytes."""
        buf = self._in
        while self.early_skip and len(buf) >= 5 and buf[0] == _APPLICATION_DATA:
            length = (buf[3] << 8) | buf[4]
            if length > MAX_CIPHERTEXT:
                raise RecordOverflow(f"protected record of {length} bytes exceeds 2^14 + 256")
            if len(buf) < 5 + length:
                return []
            if protector is not None:
                try:
                    items, consumed = protector.open_records(buf[: 5 + length], self.peer_max_plaintext)
                except BadRecordMac:
                    pass
                else:  # the first record under the handshake keys: stop skipping
                    self.early_skip = 0
                    del buf[:consumed]
                    return items
            # content type and tag are not early data; the handshake keys' suite
            # gives the tag length (8 for CCM_8, else 16)
            tag_len = SUITES[protector.suite].tag_len if protector is not None else 16
            skipped = max(1, length - 1 - tag_len)
            if skipped > self.early_skip:
                raise BadRecordMac("bad record MAC")  # more than max_early_data_size
            self.early_skip -= skipped  # at 0 the budget is spent: failures are fatal again
            del buf[: 5 + length]
        return self.read_records() if len(buf) >= 5 else []

    def read_application_data(
        self, data: bytes | bytearray | memoryview = b""
    ) -> tuple[bytes | None, bool]:
        """Feed ``data``, then open the application-data records at the start of
        the input with one ``open_application_data`` call (the established fast
        path).

        Returns ``(plaintext, more)``: the contents of those records concatenated
        (None if none was opened), and whether a record is left for
        :meth:`read_records` (a KeyUpdate, an alert, a plaintext or empty record,
        or one that failed after others were opened).  ``data`` is read in
        place: when the buffer holds the start of a record, only the rest of that
        record is taken from ``data`` to complete it, and only what is left over
        at the end is copied into the buffer.  Needs a read protector; the caller
        checks that application data is allowed.
        """
        buf = self._in
        protector = self.read_protector
        assert protector is not None
        if buf:
            if data and buf[0] == _APPLICATION_DATA and (
                len(buf) < 5 or len(buf) < 5 + ((buf[3] << 8) | buf[4])
            ):
                # the buffer holds the start of one record: only that record is
                # assembled, the rest of ``data`` is read in place
                plain, consumed, stop = protector.open_application_data(
                    data, self.peer_max_plaintext, buf
                )
                if not consumed:
                    buf += data
                    return plain, stop != STOP_END
                buf.clear()
                if consumed < len(data):
                    buf += memoryview(data)[consumed:]
                return plain, stop != STOP_END
            if data:
                buf += data
            if len(buf) < 5:
                return None, False
            plain, consumed, stop = protector.open_application_data(buf, self.peer_max_plaintext)
            if consumed:
                del buf[:consumed]
            return plain, stop != STOP_END
        if len(data) < 5:
            buf += data
            return None, False
        plain, consumed, stop = protector.open_application_data(data, self.peer_max_plaintext)
        if consumed < len(data):
            buf += memoryview(data)[consumed:]
        return plain, stop != STOP_END

    def _read_plaintext(self, content_type: int, length: int) -> list[tuple[int, bytes]]:
        buf = self._in
        if content_type not in _PLAINTEXT_TYPES:
            if content_type == _APPLICATION_DATA:
                raise UnexpectedMessage("application data received before keys were established")
            raise UnexpectedMessage(f"record with unknown content type {content_type}")
        if buf[1] != 3:
            raise DecodeError(f"record with legacy version {buf[1]}.{buf[2]} is not TLS")
        if length > MAX_PLAINTEXT:
            raise RecordOverflow(f"plaintext record of {length} bytes exceeds 2^14")
        if len(buf) < 5 + length:
            return []
        if self.read_protector is not None:
            if content_type == _HANDSHAKE:
                raise UnexpectedMessage("unprotected handshake record after keys were established")
            if content_type == _ALERT and not self.allow_plaintext_alerts:
                raise UnexpectedMessage("unprotected alert after the peer's records were protected")
        if length == 0 and content_type != _APPLICATION_DATA:
            raise DecodeError("zero-length record of a non-application-data type")
        payload = bytes(buf[5 : 5 + length])
        del buf[: 5 + length]
        return [(content_type, payload)]

    # -- output --------------------------------------------------------------

    @property
    def write_protector(self) -> RecordProtector | None:
        return self._write_protector

    @write_protector.setter
    def write_protector(self, protector: RecordProtector | None) -> None:
        self._flush_handshake()  # pending messages go out under the old keys
        self._write_protector = protector

    def write(
        self, content_type: int, data: bytes | bytearray | memoryview, legacy_version: int = 0x0303
    ) -> None:
        """Queue ``data`` as one or more records of ``content_type``."""
        if content_type == _HANDSHAKE:
            if self._hs_pending and legacy_version != self._hs_version:
                self._flush_handshake()
            self._hs_pending += data
            self._hs_version = legacy_version
            return
        self._flush_handshake()
        self._write(content_type, data, legacy_version)

    def write_application_data(self, data: bytes | bytearray | memoryview) -> None:
        """``write(APPLICATION_DATA, data)`` with the checks of the established state
        first: one ``seal_record`` call makes every record of ``data``."""
        protector = self._write_protector
        if protector is None or self._hs_pending:
            self.write(_APPLICATION_DATA, data)
            return
        self._out.append(
            protector.seal_record(_APPLICATION_DATA, data, self.padding, self.max_fragment)
        )

    def _flush_handshake(self) -> None:
        if self._hs_pending:
            data = bytes(self._hs_pending)
            self._hs_pending.clear()
            self._write(_HANDSHAKE, data, self._hs_version)

    def _write(
        self, content_type: int, data: bytes | bytearray | memoryview, legacy_version: int
    ) -> None:
        protector = self._write_protector
        if protector is not None:
            self._out.append(
                protector.seal_record(content_type, data, self.padding, self.max_fragment)
            )
            return
        limit = self.max_fragment
        view = memoryview(data)
        start = 0
        while True:
            chunk = view[start : start + limit]
            n = len(chunk)
            self._out.append(
                bytes((content_type, legacy_version >> 8, legacy_version & 0xFF, n >> 8, n & 0xFF))
            )
            self._out.append(bytes(chunk))
            start += n
            if start >= len(data):
                break

    def write_change_cipher_spec(self) -> None:
        """Queue the dummy change_cipher_spec record (always plaintext)."""
        self._flush_handshake()
        self._out.append(_CCS_RECORD)

    def skip_early_data(self, budget: int) -> None:
        self.early_skip = budget

    def use_tls12_format(self) -> None:
        self.protect_all = True
        self.max_ciphertext = MAX_CIPHERTEXT_TLS12
        self.padding = 0

    def pending_output(self) -> int:
        self._flush_handshake()
        return sum(len(b) for b in self._out)

    def take_output(self) -> bytes:
        """All queued output, emptying the queue."""
        if self._hs_pending:
            self._flush_handshake()
        out = self._out
        if len(out) == 1:
            return out.pop()  # no join, no copy
        if not out:
            return b""
        data = b"".join(out)
        out.clear()
        return data


_FIXED_SIZE = {
    20: 64,  # Finished: verify_data is Hash.length (TLS 1.3) or 12 bytes (TLS 1.2)
    24: 1,  # KeyUpdate
    5: 0,  # EndOfEarlyData
    14: 0,  # ServerHelloDone (TLS 1.2)
    0: 0,  # HelloRequest (TLS 1.2)
}
"""Handshake types whose body has a fixed small size: the most bytes each may announce."""


class HandshakeBuffer:
    """Reassembles handshake messages from handshake record payloads."""

    __slots__ = ("_buf", "max_size")

    def __init__(self, max_size: int = DEFAULT_MAX_HANDSHAKE_SIZE) -> None:
        self._buf = bytearray()
        self.max_size = max_size

    def add(self, payload: bytes) -> None:
        self._buf += payload

    def __len__(self) -> int:
        return len(self._buf)

    def pop_message(self, expected: Callable[[int], bool] | None = None) -> tuple[int, bytes, bytes] | None:
        """The next complete message as (type, body, whole encoding), or None.

        ``expected(type)``: whether the handshake takes that type now; a type it
        does not is unexpected_message as soon as its header is in, as it would be
        once whole (the length checks below would otherwise speak first)."""
        buf = self._buf
        if len(buf) < 4:
            return None
        length = (buf[1] << 16) | (buf[2] << 8) | buf[3]
        bound = _FIXED_SIZE.get(buf[0])
        if bound is not None and length > bound:
            if expected is not None and not expected(buf[0]):
                raise UnexpectedMessage(f"handshake message type {buf[0]} is not expected now")
            # a message whose syntax has a small fixed size cannot be that long: it
            # does not decode (decode_error), whatever our size limit
            raise DecodeError(f"handshake message type {buf[0]} of {length} bytes (at most {bound})")
        if length > self.max_size:
            raise IllegalParameter(
                f"handshake message of {length} bytes exceeds the limit of {self.max_size}"
            )
        end = 4 + length
        if len(buf) < end:
            return None
        whole = bytes(buf[:end])
        del buf[:end]
        return whole[0], whole[4:], whole
