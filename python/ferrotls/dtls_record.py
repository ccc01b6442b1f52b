"""The DTLS record layer (RFC 9147 section 4, RFC 6347 section 4.1): datagram
framing over the backend's per-epoch :class:`~ferrotls.backend.interface.DatagramProtector`.

Protection -- nonces, sequence numbers, record number encryption, the replay
window, dropping invalid records -- lives in the protectors, one per epoch and
direction (in Rust for the native backend).  This module frames: it splits
each received datagram into records, hands each run of records of one epoch to
that epoch's read protector in one call, reads the plaintext (epoch 0) records
itself, and packs outgoing records into datagrams of at most ``mtu`` bytes,
each record whole.  It carries no handshake logic: fragmenting handshake
messages, ACKs, retransmission and the choice of keys belong to the DTLS
handshake layer above it.

API for the handshake layer
===========================

Construct ``DatagramRecordLayer(version=DTLS_1_3 or DTLS_1_2, mtu=1200)``.

Keys (one protector per epoch and direction, built with
:func:`dtls13_protector` / ``Backend.dtls13_record_protector`` or
``Backend.dtls12_record_protector``):

* ``install_read_protector(p)``: accept records of ``p.epoch`` from now on.
  Records that arrived for an epoch with no read protector yet (out-of-order
  epochs: a Finished before the ServerHello that gives its keys) are kept -- at
  most ``max_stashed`` records -- and opened when their epoch's protector is
  installed.  DTLS 1.3 tells epochs apart by their low two bits, so installing
  an epoch removes an older one with the same bits.
* ``retire_read_epoch(epoch)``: stop accepting an epoch (after the handshake,
  or after a KeyUpdate once the old epoch's stragglers are no longer wanted).
* ``install_write_protector(p)`` / ``write_protector = p``: seal records from
  now on under ``p`` (None: plaintext, epoch 0).  Records already queued keep
  their epoch; one datagram may hold records of several epochs.

Receiving:

* ``feed(datagram)``: process one datagram at once (never raises for the
  peer's bytes: what cannot be opened is dropped and counted).
* ``read_dtls_records()``: the records that opened, oldest first, as
  :class:`DtlsRecord` ``(epoch, sequence, content_type, payload)``, the epoch and
  48-bit sequence number being what an ACK names (RFC 9147 section 7).
* ``read_records()``: the same as ``(content_type, payload)`` pairs
  (``record.RecordInterface``).
* ``read_application_data()``: the payload of the next record if it is
  application data (one record = one application datagram; boundaries kept).
* ``dropped``: :class:`DropCounts` for the whole layer, ``dropped_in(epoch)``
  for one epoch (RFC 9147 section 4.5.3 counts failed authentications per key).

Sending:

* ``write(content_type, data)``: one record; ``data`` must fit in one datagram
  (``max_payload()`` says how much does) and in ``max_fragment``.
* ``write_application_data(data)``: the same for application data.
* ``flush()``: close the datagram being filled, so the next record starts a new one.
* ``omit_last_length = True`` (DTLS 1.3): the last record of each datagram goes
  without its length field (2 bytes saved a datagram); protected records are
  then sealed when their datagram closes.
* ``datagrams_to_send()``: every finished datagram (the open one is closed
  first), as a list of ``bytes`` each at most ``mtu`` bytes long.

Plaintext records are DTLSPlaintext (type, version, epoch 0, 48-bit sequence
number, length), with their own sequence counter (``plaintext_sequence``, set
it for a stateless HelloRetryRequest / HelloVerifyRequest reply), and are
accepted with types 21, 22 (and 26, ACK) in DTLS 1.3 and 20, 21, 22 in DTLS
1.2; everything else in epoch 0 is dropped.

A client that offers both versions does not know which one its peer speaks
until the ServerHello, and the datagram carrying it may also hold the DTLS 1.2
records that follow it (a resumed handshake's ChangeCipherSpec and Finished).
``negotiating = True`` makes the layer read both formats -- they never collide:
a unified header's first byte is 0b001xxxxx (32..63), a DTLS 1.2 record's its
content type (20..25) -- keeping records of either kind for epochs without keys;
:meth:`set_version` ends it.  What may arrive in which state
(a plaintext record after keys, say) is the handshake layer's decision: each
record reports its epoch.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import NamedTuple

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:  # typing_extensions is a dependency only before 3.12
    from typing_extensions import Buffer

from .backend.interface import (
    DTLS_REPLAY_WINDOW,
    DTLS_SEQUENCE_LIMIT,
    MAX_PLAINTEXT,
    Backend,
    DatagramProtector,
)
from .errors import KeyLimitReached, SequenceNumberExhausted, UsageError
from .messages.enums import ContentType
from .suites import SUITES

__all__ = [
    "DTLS_1_2",
    "DTLS_1_3",
    "DEFAULT_MTU",
    "DtlsRecord",
    "DropCounts",
    "DatagramRecordLayer",
    "dtls13_record_keys",
    "dtls13_protector",
    "expand_label",
]

DTLS_1_3 = 0xFEFC
DTLS_1_2 = 0xFEFD
DEFAULT_MTU = 1200
"""Bytes of UDP payload per datagram (issue 15: the config default)."""

_PLAINTEXT_HEADER_LEN = 13
_CCS = int(ContentType.CHANGE_CIPHER_SPEC)
_ALERT = int(ContentType.ALERT)
_HANDSHAKE = int(ContentType.HANDSHAKE)
_APPLICATION_DATA = int(ContentType.APPLICATION_DATA)
_ACK = 26
_TLS12_CID = 25
_PLAINTEXT_TYPES = {DTLS_1_3: frozenset((_ALERT, _HANDSHAKE, _ACK)), DTLS_1_2: frozenset((_CCS, _ALERT, _HANDSHAKE))}
_ANY_PLAINTEXT = _PLAINTEXT_TYPES[DTLS_1_3] | _PLAINTEXT_TYPES[DTLS_1_2]
_DTLS12_RECORD_VERSION = b"\xfe\xfd"


def expand_label(backend: Backend, hash_name: str, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """HKDF-Expand-Label with DTLS 1.3's label prefix "dtls13" (RFC 9147 section 5.9)
    in place of TLS 1.3's "tls13 "."""
    full = b"dtls13" + label
    info = length.to_bytes(2, "big") + bytes((len(full),)) + full + bytes((len(context),)) + context
    return backend.hkdf_expand(hash_name, secret, info, length)


def dtls13_record_keys(backend: Backend, suite: int, secret: bytes) -> tuple[bytes, bytes, bytes]:
    """``(key, iv, sn_key)`` of one traffic secret (RFC 8446 section 7.3, RFC 9147
    section 4.2.3), with the "dtls13" label prefix."""
    info = SUITES[suite]
    h = info.hash_name
    return (
        expand_label(backend, h, secret, b"key", b"", info.key_len),
        expand_label(backend, h, secret, b"iv", b"", info.iv_len),
        expand_label(backend, h, secret, b"sn", b"", info.key_len),
    )


def dtls13_protector(
    backend: Backend, suite: int, secret: bytes, epoch: int, connection_id: bytes = b""
) -> DatagramProtector:
    """The DTLS 1.3 protector of ``secret`` for ``epoch``, with the suite's usage
    limit (``suites.SuiteInfo.max_records``) as its data limit."""
    key, iv, sn_key = dtls13_record_keys(backend, suite, secret)
    limit = min(SUITES[suite].max_records, DTLS_SEQUENCE_LIMIT)
    return backend.dtls13_record_protector(
        suite, key, iv, sn_key, epoch, data_limit=limit, connection_id=connection_id
    )


class DtlsRecord(NamedTuple):
    """One record that opened (or a plaintext one): its epoch, 48-bit sequence
    number, content type and payload."""

    epoch: int
    sequence: int
    content_type: int
    payload: bytes


@dataclass
class DropCounts:
    """Records dropped, by reason (see ``DatagramProtector.open_datagram``)."""

    invalid: int = 0
    """Malformed: framing, CID, version, type, length, empty inner plaintext."""
    unauthentic: int = 0
    """Failed authentication (or too short to authenticate)."""
    replayed: int = 0
    """Seen before, or older than the replay window."""
    no_keys: int = 0
    """For an epoch with no read protector, beyond what could be kept for later."""

    @property
    def total(self) -> int:
        return self.invalid + self.unauthentic + self.replayed + self.no_keys

    def add(self, invalid: int = 0, unauthentic: int = 0, replayed: int = 0, no_keys: int = 0) -> None:
        self.invalid += invalid
        self.unauthentic += unauthentic
        self.replayed += replayed
        self.no_keys += no_keys


class _Window:
    """The replay window of the plaintext epoch (the protectors keep their own)."""

    __slots__ = ("top", "bits")

    def __init__(self) -> None:
        self.top = 0
        self.bits = 0

    def accept(self, seq: int) -> bool:
        """Mark ``seq`` and say whether it was fresh."""
        if seq >= self.top:
            shift = seq + 1 - self.top
            self.bits = ((self.bits << shift) | 1) & ((1 << DTLS_REPLAY_WINDOW) - 1) if shift < DTLS_REPLAY_WINDOW else 1
            self.top = seq + 1
            return True
        behind = self.top - 1 - seq
        if behind >= DTLS_REPLAY_WINDOW or (self.bits >> behind) & 1:
            return False
        self.bits |= 1 << behind
        return True


class DatagramRecordLayer:
    """The DTLS record layer over datagrams; see the module docstring for the API.

    Implements :class:`ferrotls.record.RecordInterface` where it makes sense for
    datagrams (``feed`` / ``read_records`` / ``write`` / ``take_output``), with
    protectors that are :class:`~ferrotls.backend.interface.DatagramProtector`
    rather than stream ``RecordProtector``.
    """

    __slots__ = (
        "version",
        "mtu",
        "max_fragment",
        "padding",
        "peer_max_plaintext",
        "connection_id",
        "max_stashed",
        "plaintext_sequence",
        "_read",
        "_write",
        "_plain_window",
        "_records",
        "_stash",
        "_current",
        "_current_size",
        "omit_last_length",
        "_datagrams",
        "_dropped",
        "_dropped_by_epoch",
        "negotiating",
        "opened",
    )

    def __init__(self, version: int = DTLS_1_3, mtu: int = DEFAULT_MTU, max_stashed: int = 32) -> None:
        if version not in (DTLS_1_3, DTLS_1_2):
            raise ValueError(f"version must be DTLS_1_3 (0xfefc) or DTLS_1_2 (0xfefd), got {version:#x}")
        if not 64 <= mtu <= 65507:
            raise ValueError(f"mtu must be in 64..65507 bytes of UDP payload, got {mtu}")
        self.version = version
        self.mtu = mtu
        self.max_fragment = MAX_PLAINTEXT
        """Content bytes per outgoing record (the peer's record_size_limit - 1)."""
        self.padding = 0
        """Zero bytes added to each protected record that has an inner plaintext."""
        self.peer_max_plaintext = MAX_PLAINTEXT
        """Largest record plaintext the peer may send (our record_size_limit - 1)."""
        self.connection_id = b""
        """Our connection ID (the one the peer puts in its records), used to find
        the extent of DTLS 1.3 records kept for an epoch without keys."""
        self.max_stashed = max_stashed
        """Records for epochs without a read protector kept for later."""
        self.plaintext_sequence = 0
        """The sequence number of the next plaintext (epoch 0) record sent."""
        self._read: dict[int, DatagramProtector] = {}
        self._write: DatagramProtector | None = None
        self._plain_window = _Window()
        self._records: list[DtlsRecord] = []
        self._stash: list[bytes] = []
        self._current: list[bytes | tuple[DatagramProtector, int, bytes, int]] = []
        """The datagram being filled: sealed records, and (with ``omit_last_length``)
        records still to seal as (protector, content type, payload, padding)."""
        self._current_size = 0
        self.omit_last_length = False
        """DTLS 1.3: leave the length out of the last record of each datagram (RFC
        9147 section 4: it then runs to the end of the datagram), saving 2 bytes a
        datagram.  Protected records are then sealed when their datagram is closed
        (``flush`` / ``datagrams_to_send``), in the order written."""
        self._datagrams: list[bytes] = []
        self._dropped = DropCounts()
        self._dropped_by_epoch: dict[int, DropCounts] = {}
        self.negotiating = False
        """Read both DTLS 1.3 and DTLS 1.2 records until :meth:`set_version`."""
        self.opened = 0
        """Protected records that authenticated (every epoch)."""

    def set_version(self, version: int) -> None:
        """The version is negotiated: from now on only its record formats are read
        (records kept for later in the other format are dropped)."""
        if version not in (DTLS_1_3, DTLS_1_2):
            raise ValueError(f"version must be DTLS_1_3 or DTLS_1_2, got {version:#x}")
        self.version = version
        self.negotiating = False
        unified = [r for r in self._stash if r[0] & 0xE0 == 0x20]
        if version == DTLS_1_2 and unified:
            self._stash = [r for r in self._stash if r[0] & 0xE0 != 0x20]
        elif version == DTLS_1_3 and len(unified) != len(self._stash):
            self._stash = unified

    # -- keys --------------------------------------------------------------------

    def install_read_protector(self, protector: DatagramProtector) -> None:
        """Open records of ``protector.epoch`` from now on (and those kept for it)."""
        epoch = protector.epoch
        if self.version == DTLS_1_3:
            for old in [e for e in self._read if e & 3 == epoch & 3 and e != epoch]:
                del self._read[old]
        self._read[epoch] = protector
        stash, self._stash = self._stash, []
        for record in stash:
            self._receive(memoryview(record), stash_unknown=True)

    def retire_read_epoch(self, epoch: int) -> None:
        """Stop opening records of ``epoch`` (a no-op if it has no protector)."""
        self._read.pop(epoch, None)

    @property
    def read_epochs(self) -> list[int]:
        """The epochs that have a read protector, oldest first."""
        return sorted(self._read)

    def read_protector_of(self, epoch: int) -> DatagramProtector:
        """The read protector of ``epoch`` (KeyError if it has none)."""
        return self._read[epoch]

    @property
    def read_protector(self) -> DatagramProtector | None:
        """The read protector of the newest epoch (None: plaintext only)."""
        return self._read[max(self._read)] if self._read else None

    @property
    def write_protector(self) -> DatagramProtector | None:
        return self._write

    @write_protector.setter
    def write_protector(self, protector: DatagramProtector | None) -> None:
        self._write = protector

    def install_write_protector(self, protector: DatagramProtector | None) -> None:
        """Seal the records written from now on under ``protector`` (None: plaintext)."""
        self._write = protector

    @property
    def write_epoch(self) -> int:
        return 0 if self._write is None else self._write.epoch

    # -- input -------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        """Bytes of records kept for epochs whose keys are not installed yet."""
        return sum(len(r) for r in self._stash)

    @property
    def dropped(self) -> DropCounts:
        """Records dropped so far, by reason (all epochs)."""
        return self._dropped

    def dropped_in(self, epoch: int) -> DropCounts:
        """Records of ``epoch`` dropped so far (epoch 0: plaintext)."""
        return self._dropped_by_epoch.setdefault(epoch, DropCounts())

    def _drop(self, epoch: int, invalid: int = 0, unauthentic: int = 0, replayed: int = 0, no_keys: int = 0) -> None:
        self._dropped.add(invalid, unauthentic, replayed, no_keys)
        self.dropped_in(epoch).add(invalid, unauthentic, replayed, no_keys)

    def feed(self, data: Buffer) -> None:
        """Process one datagram: its records are opened (or dropped and counted) now."""
        view = memoryview(data)
        self._receive(view if view.format == "B" else view.cast("B"), stash_unknown=True)

    def _receive(self, view: memoryview, stash_unknown: bool) -> None:
        pos = 0
        end = len(view)
        dtls13 = self.version == DTLS_1_3
        while pos < end:
            first = view[pos]
            if dtls13 and first & 0xE0 == 0x20:
                protector = self._protector_for_bits(first & 3)
                if protector is None:
                    pos = self._stash_unified(view, pos, stash_unknown)
                    continue
                pos = self._open(protector, view, pos)
                continue
            if end - pos < _PLAINTEXT_HEADER_LEN:
                self._drop(0, invalid=1)
                return
            epoch = (view[pos + 3] << 8) | view[pos + 4]
            if epoch and (not dtls13 or self.negotiating):
                protector = self._read.get(epoch)
                if protector is None:
                    pos = self._stash_dtls12(view, pos, epoch, stash_unknown)
                    continue
                pos = self._open(protector, view, pos)
                continue
            pos = self._plaintext(view, pos, epoch)

    def _protector_for_bits(self, bits: int) -> DatagramProtector | None:
        for epoch in sorted(self._read, reverse=True):
            if epoch & 3 == bits:
                return self._read[epoch]
        return None

    def _open(self, protector: DatagramProtector, view: memoryview, pos: int) -> int:
        items, consumed, (invalid, unauthentic, replayed) = protector.open_datagram(
            view[pos:], self.peer_max_plaintext
        )
        epoch = protector.epoch
        if invalid or unauthentic or replayed:
            self._drop(epoch, invalid, unauthentic, replayed)
        self._records.extend(DtlsRecord(*item) for item in items)
        self.opened += len(items)
        if consumed == 0:  # cannot happen for a record the protector owns; never loop
            self._drop(epoch, invalid=1)
            return len(view)
        return pos + consumed

    def _keep(self, record: memoryview, epoch: int, stash: bool) -> None:
        if stash and len(self._stash) < self.max_stashed:
            self._stash.append(record.tobytes())
        else:
            self._drop(epoch, no_keys=1)

    def _stash_unified(self, view: memoryview, pos: int, stash: bool) -> int:
        """Keep (or drop) the DTLS 1.3 record at ``pos`` whose epoch has no keys."""
        first = view[pos]
        hlen = 1 + (len(self.connection_id) if first & 0x10 else 0) + (2 if first & 0x08 else 1)
        if first & 0x04:
            if len(view) - pos < hlen + 2:
                self._drop(first & 3, invalid=1)
                return len(view)
            length = hlen + 2 + ((view[pos + hlen] << 8) | view[pos + hlen + 1])
            if length > len(view) - pos:
                self._drop(first & 3, invalid=1)
                return len(view)
        else:
            length = len(view) - pos
        self._keep(view[pos : pos + length], first & 3, stash)
        return pos + length

    def _stash_dtls12(self, view: memoryview, pos: int, epoch: int, stash: bool) -> int:
        cid = len(self.connection_id) if view[pos] == _TLS12_CID else 0
        hlen = _PLAINTEXT_HEADER_LEN + cid
        if len(view) - pos < hlen:
            self._drop(epoch, invalid=1)
            return len(view)
        length = hlen + ((view[pos + hlen - 2] << 8) | view[pos + hlen - 1])
        if length > len(view) - pos:
            self._drop(epoch, invalid=1)
            return len(view)
        self._keep(view[pos : pos + length], epoch, stash)
        return pos + length

    def _plaintext(self, view: memoryview, pos: int, epoch: int) -> int:
        """Read the DTLSPlaintext record at ``pos`` (epoch 0)."""
        content_type = view[pos]
        length = (view[pos + 11] << 8) | view[pos + 12]
        end = pos + _PLAINTEXT_HEADER_LEN + length
        if end > len(view) or view[pos + 1] != 0xFE:
            self._drop(0, invalid=1)  # the framing is lost: the rest goes
            return len(view)
        if (
            epoch != 0
            or content_type not in (_ANY_PLAINTEXT if self.negotiating else _PLAINTEXT_TYPES[self.version])
            or length > MAX_PLAINTEXT
            or length == 0
        ):
            self._drop(0, invalid=1)
            return end
        seq = int.from_bytes(view[pos + 5 : pos + 11], "big")
        if not self._plain_window.accept(seq):
            self._drop(0, replayed=1)
            return end
        payload = view[pos + _PLAINTEXT_HEADER_LEN : end].tobytes()
        self._records.append(DtlsRecord(0, seq, content_type, payload))
        return end

    def read_dtls_records(self) -> list[DtlsRecord]:
        """Every record received so far and not yet read, oldest first."""
        records, self._records = self._records, []
        return records

    def read_records(self) -> list[tuple[int, bytes]]:
        """``read_dtls_records`` as ``(content_type, payload)`` (``RecordInterface``)."""
        return [(r.content_type, r.payload) for r in self.read_dtls_records()]

    def read_application_data(self, data: Buffer = b"") -> tuple[bytes | None, bool]:
        """Feed ``data`` (a datagram) if given, then return ``(payload, more)``: the
        payload of the next record when it is application data (None otherwise),
        and whether records are left."""
        if len(memoryview(data)):
            self.feed(data)
        records = self._records
        if records and records[0].content_type == _APPLICATION_DATA:
            return records.pop(0).payload, bool(records)
        return None, bool(records)

    def skip_early_data(self, budget: int) -> None:
        """0-RTT is off in ferrotls' DTLS: nothing to skip (``RecordInterface``)."""

    # -- output ------------------------------------------------------------------

    def overhead(self) -> int:
        """Bytes a record adds to its content under the current write keys
        (header, inner content type, padding, tag; DTLSPlaintext: the header)."""
        protector = self._write
        if protector is None:
            return _PLAINTEXT_HEADER_LEN
        # 64 content bytes are past DTLS 1.3's padding of short records
        return protector.sealed_size(64, self._padding_for(protector)) - 64

    def max_payload(self) -> int:
        """The most content bytes one record can carry in one datagram of ``mtu``
        bytes under the current write keys (at most ``max_fragment``)."""
        return max(0, min(self.mtu - self.overhead(), self.max_fragment))

    def write(self, content_type: int, data: Buffer, legacy_version: int = DTLS_1_2) -> None:
        """Queue ``data`` as one record of ``content_type`` (sealed when write keys
        are installed, else a DTLSPlaintext record with version ``legacy_version``).

        UsageError when ``data`` exceeds ``max_fragment`` or the record would not
        fit in one datagram of ``mtu`` bytes (see ``max_payload``): DTLS never
        splits a record, and handshake messages are fragmented above this layer.
        """
        payload = bytes(data)
        if len(payload) > self.max_fragment:
            raise UsageError(f"a record of {len(payload)} bytes exceeds max_fragment ({self.max_fragment})")
        protector = self._write
        if protector is None:
            seq = self.plaintext_sequence
            if seq >= DTLS_SEQUENCE_LIMIT:
                raise UsageError("plaintext sequence number would reach 2**48")
            if len(payload) + _PLAINTEXT_HEADER_LEN > self.mtu:
                raise UsageError(f"a record of {len(payload)} bytes does not fit in a datagram of {self.mtu}")
            record = (
                bytes((content_type, legacy_version >> 8, legacy_version & 0xFF, 0, 0))
                + seq.to_bytes(6, "big")
                + len(payload).to_bytes(2, "big")
                + payload
            )
            self.plaintext_sequence = seq + 1
        else:
            padding = self._padding_for(protector)
            size = protector.sealed_size(len(payload), padding)
            if size > self.mtu:
                raise UsageError(f"a record of {len(payload)} bytes does not fit in a datagram of {self.mtu}")
            if self.omit_last_length and self.version == DTLS_1_3:
                self._check_room_to_seal(protector, content_type)
                self._queue((protector, content_type, payload, padding), size)
                return
            record = protector.seal_record(content_type, payload, padding)
        self._queue(record, len(record))

    def _padding_for(self, protector: DatagramProtector) -> int:
        """The padding protected records get (none where the format has no inner plaintext)."""
        if self.version == DTLS_1_2 and not protector.connection_id:
            return 0
        return self.padding

    def write_application_data(self, data: Buffer) -> None:
        """Queue one application-data record (one application datagram)."""
        self.write(_APPLICATION_DATA, data)

    def write_change_cipher_spec(self) -> None:
        """DTLS 1.2: queue a ChangeCipherSpec record under the current write state.
        DTLS 1.3 has none (RFC 9147 section 5): nothing is sent."""
        if self.version == DTLS_1_2:
            self.write(_CCS, b"\x01")

    def _check_room_to_seal(self, protector: DatagramProtector, content_type: int) -> None:
        """Raise now what sealing a deferred record at flush time would raise: the
        sequence number's end, and the data limit for application data."""
        queued = sum(1 for part in self._current if isinstance(part, tuple) and part[0] is protector)
        seq = protector.sequence + queued
        if seq >= DTLS_SEQUENCE_LIMIT:
            raise SequenceNumberExhausted("record sequence number would reach 2**48")
        if content_type == _APPLICATION_DATA and seq + 1 > protector.data_limit:
            raise KeyLimitReached("application data would pass the key's usage limit: update the keys first")

    def _queue(self, part: bytes | tuple[DatagramProtector, int, bytes, int], size: int) -> None:
        if self._current_size + size > self.mtu:
            self.flush()
        self._current.append(part)
        self._current_size += size

    def flush(self) -> None:
        """Close the datagram being filled: the next record starts a new one (deferred
        records are sealed now, the last without its length)."""
        if not self._current:
            return
        parts = self._current
        out = []
        for i, part in enumerate(parts):
            if isinstance(part, bytes):
                out.append(part)
            else:
                protector, content_type, payload, padding = part
                out.append(protector.seal_record(content_type, payload, padding, i < len(parts) - 1))
        self._datagrams.append(b"".join(out))
        self._current = []
        self._current_size = 0

    def datagrams_to_send(self) -> list[bytes]:
        """Every queued datagram (closing the open one), emptying the queue."""
        self.flush()
        out, self._datagrams = self._datagrams, []
        return out

    def pending_output(self) -> int:
        """Bytes queued for the transport (with ``omit_last_length``, the open
        datagram is counted with its last length field, 2 bytes more than it will be)."""
        return sum(len(d) for d in self._datagrams) + self._current_size

    def take_output(self) -> bytes:
        """All queued datagrams joined (``RecordInterface``; a datagram transport
        uses :meth:`datagrams_to_send`, which keeps them apart)."""
        return b"".join(self.datagrams_to_send())
