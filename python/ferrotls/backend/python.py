"""The pure-Python crypto backend (``FERROTLS_BACKEND=python``).

Implements :class:`ferrotls.backend.interface.Backend` with the primitives of
:mod:`ferrotls.backend.pure` (standard library only) and TLS 1.3 record
protection (RFC 8446 section 5), TLS 1.2 AEAD record protection (RFC 5246
section 6.2.3.3) and DTLS 1.3 / DTLS 1.2 record protection (RFC 9147 section 4,
RFC 6347 section 4.1, RFC 9146) written out in Python.

**Not constant-time.**  The AES S-box and GHASH tables are indexed by secret
bytes and Python integer arithmetic runs in value-dependent time, so this
backend leaks through timing and the cache.  It exists as a fallback where the
native extension is not built and as an independent reference implementation
for differential tests; the native (Rust) backend is the default.

ML-KEM-768 is the one exception to "standard library only": it delegates to
pyca/cryptography (imported lazily), which is a dependency of ferrotls anyway.
"""

from __future__ import annotations

import hmac
import operator
import os
from typing import Any, Callable

from .. import errors
from ..suites import SUITES, TLS12_SUITES, CipherSuite, suite_info, tls12_suite_info
from .interface import (
    CONTENT_TYPE_APPLICATION_DATA,
    MAX_CIPHERTEXT,
    MAX_CIPHERTEXT_TLS12,
    MAX_PLAINTEXT,
    RECORD_HEADER_LEN,
    STOP_END,
    STOP_OUT_FULL,
    STOP_RECORD,
    Buffer,
)
from .pure import aes as _aes
from .pure import hkdf as _hkdf
from .pure import prf as _prf
from .pure.ccm import AESCCM
from .pure.chacha20 import ChaCha20Poly1305, chacha20_keystream
from .pure.gcm import AESGCM
from .pure.x25519 import x25519, x25519_base

__all__ = [
    "BACKEND",
    "PythonBackend",
    "PyAead",
    "PyRecordProtector",
    "PyTls12RecordProtector",
    "PyDtls13RecordProtector",
    "PyDtls12RecordProtector",
    "dtls_reconstruct_sequence",
    "PyX25519PrivateKey",
]

_BAD_RECORD_MAC = "bad record MAC"
_SEQ_LIMIT = 1 << 64
_HEADER_PREFIX = bytes((CONTENT_TYPE_APPLICATION_DATA, 3, 3))
_TLS12_FIRST_TYPE = 20  # change_cipher_spec; TLS 1.2 protects types 20..23
_DTLS_SEQ_LIMIT = 1 << 48
_DTLS_REPLAY_WINDOW = 128
_DTLS12_HEADER_LEN = 13
_DTLS12_VERSION = b"\xfe\xfd"
_TLS12_CID = 25
_MAX_CID_LEN = 255
_RNE_SAMPLE_LEN = 16
_MLKEM768_PUBLIC_LEN = 1184
_MLKEM768_CIPHERTEXT_LEN = 1088
_MLKEM768_SEED_LEN = 64

_PRIMITIVES: dict[int, Callable[[bytes], Any]] = {
    CipherSuite.TLS_AES_128_GCM_SHA256: AESGCM,
    CipherSuite.TLS_AES_256_GCM_SHA384: AESGCM,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256: ChaCha20Poly1305,
    CipherSuite.TLS_AES_128_CCM_SHA256: lambda key: AESCCM(key, 16),
    CipherSuite.TLS_AES_128_CCM_8_SHA256: lambda key: AESCCM(key, 8),
}
"""Each suite's AEAD; its tag length is ``suites.SUITES[suite].tag_len``."""


def _bytes(value: Buffer, what: str) -> bytes:
    """The contents of a C-contiguous buffer as bytes; TypeError for anything else."""
    if type(value) is bytes:
        return value
    try:
        view = memoryview(value)
    except TypeError:
        raise TypeError(f"{what} must be a bytes-like object, not {type(value).__name__}") from None
    if not view.c_contiguous:
        raise TypeError(f"{what} must be a C-contiguous buffer")
    return view.tobytes()


def _index(value: object, what: str) -> int:
    """An integer argument (bool and float rejected as TypeError, like the native module)."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            return operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(f"{what} must be an int, not {type(value).__name__}") from None
    return int(value)


def _suite_and_key(suite: int, key: Buffer) -> tuple[int, bytes]:
    suite = _index(suite, "suite")
    info = suite_info(suite)
    key_bytes = _bytes(key, "key")
    if len(key_bytes) != info.key_len:
        raise ValueError(
            f"{info.suite.name} needs a {info.key_len}-byte key, got {len(key_bytes)} bytes"
        )
    return suite, key_bytes


def _suite_name(suite: int) -> str:
    return SUITES[suite].suite.name


class PyAead:
    """An AEAD keyed for one cipher suite (pure Python; see the module docstring)."""

    __slots__ = ("_suite", "_impl")

    def __init__(self, suite: int, key: Buffer) -> None:
        self._suite, key_bytes = _suite_and_key(suite, key)
        self._impl = _PRIMITIVES[self._suite](key_bytes)

    @property
    def suite(self) -> int:
        return self._suite

    def __repr__(self) -> str:
        return f"<PyAead suite={_suite_name(self._suite)}>"

    @staticmethod
    def _nonce(nonce: Buffer) -> bytes:
        n = _bytes(nonce, "nonce")
        if len(n) != 12:
            raise ValueError(f"nonce must be 12 bytes, got {len(n)}")
        return n

    def seal(self, nonce: Buffer, aad: Buffer, plaintext: Buffer) -> bytes:
        """Return ciphertext || tag."""
        n = self._nonce(nonce)
        return self._impl.seal(n, _bytes(aad, "aad"), _bytes(plaintext, "plaintext"))  # type: ignore[no-any-return]

    def open(self, nonce: Buffer, aad: Buffer, ciphertext: Buffer) -> bytes:
        """Return the plaintext, or raise BadRecordMac (no partial plaintext)."""
        n = self._nonce(nonce)
        out = self._impl.open(n, _bytes(aad, "aad"), _bytes(ciphertext, "ciphertext"))
        if out is None:
            raise errors.BadRecordMac(_BAD_RECORD_MAC)
        return out  # type: ignore[no-any-return]


def _record_count(length: int, fragment: int) -> int:
    return max(1, -(-length // fragment))


def _writable_view(out: Buffer) -> memoryview:
    """A 1-D unsigned-byte view of a writable C-contiguous buffer (TypeError otherwise)."""
    try:
        view = memoryview(out)
    except TypeError:
        raise TypeError(f"out must be a writable buffer, not {type(out).__name__}") from None
    if view.readonly:
        raise TypeError("out must be a writable buffer")
    if not view.c_contiguous:
        raise TypeError("out must be a C-contiguous buffer")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


class _RecordProtection:
    """What TLS 1.3 and TLS 1.2 record protection share: arguments, the sequence
    number and data limit, fragmenting, and the batch loops with their stop rules
    (see :class:`ferrotls.backend.interface.RecordProtector`).

    A subclass is one wire format: it checks the content type and padding a seal
    may use, seals one record (``_seal_one``), decrypts one authenticated record
    (``_decrypt``), and says which outer types ``open_records`` opens.  The one
    per-record routine of every open path is ``_open_one``.
    """

    __slots__ = ("_suite", "_impl", "_iv", "_seq", "_tag_len", "_explicit", "_data_limit")

    _MAX_CIPHERTEXT = MAX_CIPHERTEXT
    """Largest TLSCiphertext.length accepted (RecordOverflow above it)."""

    _suite: int
    _impl: Any
    _iv: int
    _seq: int
    _tag_len: int
    _explicit: int
    _data_limit: int

    def _setup(
        self,
        suite: int,
        impl: Any,
        tag_len: int,
        explicit: int,
        iv: Buffer,
        sequence: int,
        data_limit: int | None,
    ) -> None:
        """Check ``iv`` (12 - ``explicit`` bytes), ``sequence`` and ``data_limit``; store all."""
        iv_bytes = _bytes(iv, "iv")
        if len(iv_bytes) != 12 - explicit:
            raise ValueError(f"iv must be {12 - explicit} bytes, got {len(iv_bytes)}")
        sequence = _index(sequence, "sequence")
        if not 0 <= sequence < _SEQ_LIMIT:
            raise ValueError(f"sequence must be in 0..2**64-1, got {sequence}")
        limit = _SEQ_LIMIT if data_limit is None else _index(data_limit, "data_limit")
        if not 0 <= limit <= _SEQ_LIMIT:
            raise ValueError(f"data_limit must be in 0..2**64, got {limit}")
        self._suite = suite
        self._impl = impl
        self._tag_len = tag_len
        self._explicit = explicit
        self._data_limit = limit
        # A 4-byte salt is the top of the 12-byte nonce: salt || explicit = iv XOR explicit.
        self._iv = int.from_bytes(iv_bytes + bytes(explicit), "big")
        self._seq = sequence

    @property
    def suite(self) -> int:
        return self._suite

    @property
    def sequence(self) -> int:
        """The sequence number the next record will use."""
        return self._seq

    @property
    def data_limit(self) -> int:
        """Application data may use sequence numbers below this."""
        return self._data_limit

    def _nonce(self, seq: int) -> bytes:
        return (self._iv ^ seq).to_bytes(12, "big")

    # --- the format ------------------------------------------------------------

    def _check_content_type(self, content_type: int) -> None:
        raise NotImplementedError

    def _check_padding(self, padding: int) -> None:
        """Refuse padding the format does not have (after the common checks)."""

    def _overhead(self, padding: int) -> int:
        """Body bytes a record adds to its content."""
        raise NotImplementedError

    def _seal_one(self, seq: int, content_type: int, fragment: bytes, padding: int) -> list[bytes]:
        """One record's header and body, in pieces."""
        raise NotImplementedError

    def _opens(self, outer_type: int) -> bool:
        """Whether ``open_records`` opens a record of this outer type."""
        raise NotImplementedError

    def _decrypt(
        self, header: bytes, body: memoryview, max_plaintext: int
    ) -> tuple[int, bytes]:
        """Authenticate and decrypt ``body`` (at least explicit nonce + tag bytes)
        with the current sequence number: ``(content_type, content)``."""
        raise NotImplementedError

    # --- shared ----------------------------------------------------------------

    def _check_seal_args(self, padding: object, max_fragment: object) -> tuple[int, int]:
        padding = _index(padding, "padding")
        max_fragment = _index(max_fragment, "max_fragment")
        if not 1 <= max_fragment <= MAX_PLAINTEXT:
            raise ValueError(f"max_fragment must be in 1..{MAX_PLAINTEXT}, got {max_fragment}")
        if padding < 0:
            raise ValueError(f"padding must be >= 0, got {padding}")
        self._check_padding(padding)
        if padding >= max_fragment:
            raise ValueError(f"padding ({padding}) must be smaller than max_fragment ({max_fragment})")
        return padding, max_fragment

    def sealed_size(self, length: int, padding: int = 0, max_fragment: int = MAX_PLAINTEXT) -> int:
        """Bytes that ``seal_record`` produces for ``length`` bytes of content."""
        length = _index(length, "length")
        if length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        padding, max_fragment = self._check_seal_args(padding, max_fragment)
        records = _record_count(length, max_fragment - padding)
        return length + records * (RECORD_HEADER_LEN + self._overhead(padding))

    def seal_record(
        self,
        content_type: int,
        data: Buffer,
        padding: int = 0,
        max_fragment: int = MAX_PLAINTEXT,
    ) -> bytes:
        """Protect ``data`` as one or more complete TLSCiphertext records (headers included)."""
        payload = _bytes(data, "data")
        content_type = _index(content_type, "content_type")
        self._check_content_type(content_type)
        padding, max_fragment = self._check_seal_args(padding, max_fragment)
        fragment = max_fragment - padding
        records = _record_count(len(payload), fragment)
        seq = self._seq
        limit = self._data_limit  # with none (2**64), running out is SequenceNumberExhausted
        if content_type == CONTENT_TYPE_APPLICATION_DATA and limit < _SEQ_LIMIT and seq + records > limit:
            raise errors.KeyLimitReached(
                "application data would pass the key's usage limit: update the keys first"
            )
        if seq + records > _SEQ_LIMIT:
            raise errors.SequenceNumberExhausted(
                "sealing would need sequence number 2**64: the key must be updated"
            )
        out: list[bytes] = []
        for i in range(records):
            frag = payload[i * fragment : (i + 1) * fragment]
            out += self._seal_one(seq + i, content_type, frag, padding)
        self._seq = seq + records
        return b"".join(out)

    def seal_record_into(
        self,
        out: Buffer,
        content_type: int,
        data: Buffer,
        padding: int = 0,
        max_fragment: int = MAX_PLAINTEXT,
    ) -> int:
        """As ``seal_record`` but write into the writable buffer ``out``; returns bytes written."""
        view = _writable_view(out)
        payload = _bytes(data, "data")
        content_type = _index(content_type, "content_type")
        self._check_content_type(content_type)
        needed = self.sealed_size(len(payload), padding, max_fragment)
        if view.nbytes < needed:
            raise ValueError(f"out is too small: {view.nbytes} bytes, {needed} needed")
        sealed = self.seal_record(content_type, payload, padding, max_fragment)
        view[: len(sealed)] = sealed
        return len(sealed)

    def _open_one(
        self, view: memoryview, pos: int, length: int, max_plaintext: int
    ) -> tuple[int, bytes]:
        """Open the complete record at ``pos`` with the current sequence number (not
        advanced here): ``(content_type, content)``.  Checks, in order: sequence
        number (SequenceNumberExhausted), a body shorter than explicit nonce + tag
        (BadRecordMac), then the format's ``_decrypt``: authentication
        (BadRecordMac), content (and padding) above ``max_plaintext``
        (RecordOverflow), and for TLS 1.3 an all-zero inner plaintext (UnexpectedMessage)."""
        if self._seq >= _SEQ_LIMIT:
            raise errors.SequenceNumberExhausted(
                "opening would need sequence number 2**64: the key must be updated"
            )
        if length < self._explicit + self._tag_len:
            raise errors.BadRecordMac(_BAD_RECORD_MAC)
        header = view[pos : pos + RECORD_HEADER_LEN].tobytes()
        body = view[pos + RECORD_HEADER_LEN : pos + RECORD_HEADER_LEN + length]
        return self._decrypt(header, body, max_plaintext)

    def open_records(
        self, data: Buffer, max_plaintext: int = MAX_PLAINTEXT
    ) -> tuple[list[tuple[int, bytes]], int]:
        """Open the complete records at the start of ``data``; returns ``(items, consumed)``.

        See :meth:`ferrotls.backend.interface.RecordProtector.open_records` for
        the stop rules.  Checks, in order, for each record: the outer type (else
        stop), header length <= the format's limit (RecordOverflow, checked as
        soon as the header is there), completeness (else stop), then ``_open_one``.
        """
        view = _byte_view(data, "data")
        max_plaintext = _max_plaintext(max_plaintext)

        items: list[tuple[int, bytes]] = []
        pos = 0
        end = len(view)
        while end - pos >= RECORD_HEADER_LEN:
            if not self._opens(view[pos]):
                break
            length = (view[pos + 3] << 8) | view[pos + 4]
            try:
                if length > self._MAX_CIPHERTEXT:
                    raise errors.RecordOverflow(
                        f"record length {length} exceeds {self._MAX_CIPHERTEXT}"
                    )
                if end - pos - RECORD_HEADER_LEN < length:
                    break
                content_type, content = self._open_one(view, pos, length, max_plaintext)
            except (errors.ProtocolError, errors.SequenceNumberExhausted):
                if items:
                    break
                raise
            self._seq += 1
            items.append((content_type, content))
            pos += RECORD_HEADER_LEN + length
            if content_type != CONTENT_TYPE_APPLICATION_DATA:
                break
        return items, pos

    def open_records_into(
        self, data: Buffer, out: Buffer, max_plaintext: int = MAX_PLAINTEXT
    ) -> tuple[int, int, int]:
        """Open the application-data records at the start of ``data`` into ``out``.

        Returns ``(consumed, written, stop)``; see
        :meth:`ferrotls.backend.interface.RecordProtector.open_records_into`.
        Written simply: each record is opened as in ``open_records`` and its
        content copied to ``out``; nothing past ``written`` is written.
        """
        view = _byte_view(data, "data")
        dst = _writable_view(out)
        max_plaintext = _max_plaintext(max_plaintext)

        pos = written = 0
        end = len(view)
        room = len(dst)
        overhead = self._explicit + self._tag_len
        stop = STOP_END
        while end - pos >= RECORD_HEADER_LEN:
            if view[pos] != CONTENT_TYPE_APPLICATION_DATA:
                stop = STOP_RECORD
                break
            length = (view[pos + 3] << 8) | view[pos + 4]
            try:
                if length > self._MAX_CIPHERTEXT:
                    raise errors.RecordOverflow(f"record length {length} exceeds {self._MAX_CIPHERTEXT}")
                if end - pos - RECORD_HEADER_LEN < length:
                    break
                if room - written < max(0, length - overhead):
                    stop = STOP_OUT_FULL
                    break
                content_type, content = self._open_one(view, pos, length, max_plaintext)
            except (errors.ProtocolError, errors.SequenceNumberExhausted):
                if pos:
                    stop = STOP_RECORD
                    break
                raise
            if content_type != CONTENT_TYPE_APPLICATION_DATA or not content:
                # not consumed: open_records opens it again (an empty record too, so
                # that the caller counts each one)
                stop = STOP_RECORD
                break
            self._seq += 1
            dst[written : written + len(content)] = content
            written += len(content)
            pos += RECORD_HEADER_LEN + length
        return pos, written, stop

    def open_application_data(
        self, data: Buffer, max_plaintext: int = MAX_PLAINTEXT, head: Buffer | None = None
    ) -> tuple[bytes | None, int, int]:
        """``open_records_into`` with room for every record: ``(plaintext or None,
        consumed, stop)``; see
        :meth:`ferrotls.backend.interface.RecordProtector.open_application_data`.
        With a ``head``, written simply: the joined input is opened."""
        view = _byte_view(data, "data")
        skip = 0
        if head is not None and len(head_view := _byte_view(head, "head")):
            skip = len(head_view)
            if (
                head_view[0] == CONTENT_TYPE_APPLICATION_DATA
                and skip >= RECORD_HEADER_LEN
                and skip >= RECORD_HEADER_LEN + ((head_view[3] << 8) | head_view[4])
            ):
                raise ValueError(f"head must be the start of one incomplete record, got {skip} bytes")
            view = memoryview(bytes(head_view) + bytes(view))
        out = bytearray(len(view))  # the bodies of the records in it are shorter
        consumed, written, stop = self.open_records_into(view, out, max_plaintext)
        if consumed:
            consumed -= skip
        if not written:
            return None, consumed, stop
        del out[written:]
        return bytes(out), consumed, stop


class PyRecordProtector(_RecordProtection):
    """One direction of TLS 1.3 record protection (RFC 8446 section 5), in Python.

    The nonce of each record is ``iv XOR seq`` and its additional data the
    5-byte record header.  See :class:`ferrotls.backend.interface.RecordProtector`.
    """

    __slots__ = ()

    def __init__(
        self, suite: int, key: Buffer, iv: Buffer, sequence: int = 0, data_limit: int | None = None
    ) -> None:
        suite, key_bytes = _suite_and_key(suite, key)
        self._setup(
            suite, _PRIMITIVES[suite](key_bytes), SUITES[suite].tag_len, 0, iv, sequence, data_limit
        )

    def __repr__(self) -> str:
        return f"<PyRecordProtector suite={_suite_name(self._suite)} sequence={self._seq}>"

    def _check_content_type(self, content_type: int) -> None:
        if not 1 <= content_type <= 255:
            raise ValueError(f"content_type must be in 1..255, got {content_type}")

    def _overhead(self, padding: int) -> int:
        return 1 + padding + self._tag_len

    def _seal_one(self, seq: int, content_type: int, fragment: bytes, padding: int) -> list[bytes]:
        inner = fragment + bytes((content_type,)) + bytes(padding)
        header = _HEADER_PREFIX + (len(inner) + self._tag_len).to_bytes(2, "big")
        return [header, self._impl.seal(self._nonce(seq), header, inner)]

    def _opens(self, outer_type: int) -> bool:
        return outer_type == CONTENT_TYPE_APPLICATION_DATA

    def _decrypt(self, header: bytes, body: memoryview, max_plaintext: int) -> tuple[int, bytes]:
        inner = self._impl.open(self._nonce(self._seq), header, body.tobytes())
        if inner is None:
            raise errors.BadRecordMac(_BAD_RECORD_MAC)
        if len(inner) > max_plaintext + 1:
            raise errors.RecordOverflow(
                f"record plaintext of {len(inner) - 1} bytes exceeds {max_plaintext}"
            )
        stripped = inner.rstrip(b"\x00")
        if not stripped:
            raise errors.UnexpectedMessage("record inner plaintext is all zeros")
        return stripped[-1], bytes(stripped[:-1])


class PyTls12RecordProtector(_RecordProtection):
    """One direction of TLS 1.2 AEAD record protection (RFC 5246 section 6.2.3.3), in Python.

    The outer type is the content type; there is no inner type and no padding.
    The additional data is seq_num || type || version || plaintext length.
    AES-GCM and AES-CCM suites take a 4-byte ``iv`` (the salt) and carry an
    8-byte explicit nonce in each record, the sequence number when sealing
    (nonce = salt || explicit); ChaCha20-Poly1305 takes a 12-byte ``iv`` and
    uses ``iv XOR seq``.  See ``Backend.record_protector_tls12``.
    """

    __slots__ = ()

    _MAX_CIPHERTEXT = MAX_CIPHERTEXT_TLS12

    def __init__(
        self, suite: int, key: Buffer, iv: Buffer, sequence: int = 0, data_limit: int | None = None
    ) -> None:
        info = tls12_suite_info(_index(suite, "suite"))
        key_bytes = _bytes(key, "key")
        if len(key_bytes) != info.key_len:
            raise ValueError(
                f"{info.suite.name} needs a {info.key_len}-byte key, got {len(key_bytes)} bytes"
            )
        impl = _PRIMITIVES[info.tls13_equivalent](key_bytes)
        self._setup(info.suite, impl, info.tag_len, info.record_iv_len, iv, sequence, data_limit)

    def __repr__(self) -> str:
        name = TLS12_SUITES[self._suite].suite.name
        return f"<PyTls12RecordProtector suite={name} sequence={self._seq}>"

    def _check_content_type(self, content_type: int) -> None:
        if not _TLS12_FIRST_TYPE <= content_type <= CONTENT_TYPE_APPLICATION_DATA:
            raise ValueError(f"TLS 1.2 content_type must be in 20..23, got {content_type}")

    def _check_padding(self, padding: int) -> None:
        if padding:
            raise ValueError(f"TLS 1.2 records have no padding: padding must be 0, got {padding}")

    def _overhead(self, padding: int) -> int:
        return self._explicit + self._tag_len

    def _seal_one(self, seq: int, content_type: int, fragment: bytes, padding: int) -> list[bytes]:
        prefix = bytes((content_type, 3, 3))
        header = prefix + (self._explicit + len(fragment) + self._tag_len).to_bytes(2, "big")
        seq_bytes = seq.to_bytes(8, "big")
        aad = seq_bytes + prefix + len(fragment).to_bytes(2, "big")
        # nonce_explicit = seq, so the nonce salt || explicit is iv XOR seq in both cases
        sealed = self._impl.seal(self._nonce(seq), aad, fragment)
        return [header, seq_bytes[: self._explicit], sealed]

    def _opens(self, outer_type: int) -> bool:
        return _TLS12_FIRST_TYPE <= outer_type <= CONTENT_TYPE_APPLICATION_DATA

    def _decrypt(self, header: bytes, body: memoryview, max_plaintext: int) -> tuple[int, bytes]:
        explicit = self._explicit
        nonce_seq = int.from_bytes(body[:explicit], "big") if explicit else self._seq
        ciphertext = body[explicit:].tobytes()
        # the header's own type and version: an altered one fails to authenticate
        aad = (
            self._seq.to_bytes(8, "big")
            + header[:3]
            + (len(ciphertext) - self._tag_len).to_bytes(2, "big")
        )
        plain = self._impl.open(self._nonce(nonce_seq), aad, ciphertext)
        if plain is None:
            raise errors.BadRecordMac(_BAD_RECORD_MAC)
        if len(plain) > max_plaintext:
            raise errors.RecordOverflow(
                f"record plaintext of {len(plain)} bytes exceeds {max_plaintext}"
            )
        return header[0], bytes(plain)


def dtls_reconstruct_sequence(expected: int, low: int, bits: int) -> int | None:
    """The 48-bit sequence number whose low ``bits`` bits are ``low``, closest to
    ``expected`` (RFC 9147 section 4.2.2), as QUIC's RFC 9000 appendix A.3 picks
    it: in ``(expected - 2**(bits-1), expected + 2**(bits-1)]`` where the space
    allows; None past 2**48 - 1."""
    win = 1 << bits
    half = win >> 1
    candidate = (expected & ~(win - 1)) | (low & (win - 1))
    if candidate + half <= expected and candidate + win < _DTLS_SEQ_LIMIT:
        candidate += win
    elif candidate > expected + half and candidate >= win:
        candidate -= win
    return candidate if candidate < _DTLS_SEQ_LIMIT else None


class _DatagramProtection:
    """What DTLS 1.3 and DTLS 1.2 record protection share (see
    ``ferrotls.backend.interface.DatagramProtector``): arguments, the 48-bit
    sending sequence number and data limit, the 128-record replay window, and the
    datagram loop that drops and counts.  A subclass is one header format:
    ``_header_len``, ``_seal_one`` and ``_parse`` / ``_open_one``."""

    __slots__ = (
        "_suite", "_impl", "_iv", "_seq", "_tag_len", "_explicit", "_data_limit",
        "_epoch", "_cid", "_inner", "_top", "_bits",
    )

    _UNIFIED_HEADER = False
    """Whether the header is RFC 9147's unified header (the length is optional)."""

    _suite: int
    _impl: Any
    _iv: int
    _seq: int
    _tag_len: int
    _explicit: int
    _data_limit: int
    _epoch: int
    _cid: bytes
    _inner: bool
    _top: int
    _bits: int

    def _setup(
        self, suite: int, impl: Any, tag_len: int, explicit: int, iv: Buffer, epoch: int,
        sequence: int, data_limit: int | None, connection_id: Buffer | None, inner: bool,
    ) -> None:
        iv_bytes = _bytes(iv, "iv")
        if len(iv_bytes) != 12 - explicit:
            raise ValueError(f"iv must be {12 - explicit} bytes, got {len(iv_bytes)}")
        sequence = _index(sequence, "sequence")
        if not 0 <= sequence < _DTLS_SEQ_LIMIT:
            raise ValueError(f"sequence must be in 0..2**48 - 1, got {sequence}")
        limit = _SEQ_LIMIT if data_limit is None else _index(data_limit, "data_limit")
        if not 0 <= limit <= _SEQ_LIMIT:
            raise ValueError(f"data_limit must be in 0..2**64, got {limit}")
        cid = b"" if connection_id is None else _bytes(connection_id, "connection_id")
        if len(cid) > _MAX_CID_LEN:
            raise ValueError(f"connection_id must be at most {_MAX_CID_LEN} bytes, got {len(cid)}")
        self._suite = suite
        self._impl = impl
        self._tag_len = tag_len
        self._explicit = explicit
        self._iv = int.from_bytes(iv_bytes + bytes(explicit), "big")
        self._epoch = epoch
        self._seq = sequence
        self._data_limit = limit
        self._cid = cid
        self._inner = inner
        self._top = 0
        self._bits = 0

    @property
    def suite(self) -> int:
        return self._suite

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def sequence(self) -> int:
        """The sequence number the next sealed record will use."""
        return self._seq

    @property
    def data_limit(self) -> int:
        return self._data_limit

    @property
    def connection_id(self) -> bytes:
        return self._cid

    @property
    def next_expected(self) -> int:
        """One more than the highest sequence number opened (0: none yet)."""
        return self._top

    def _nonce(self, seq: int) -> bytes:
        return (self._iv ^ seq).to_bytes(12, "big")

    # --- the replay window --------------------------------------------------------

    def _fresh(self, seq: int) -> bool:
        if seq >= self._top:
            return True
        behind = self._top - 1 - seq
        return behind < _DTLS_REPLAY_WINDOW and not (self._bits >> behind) & 1

    def _mark(self, seq: int) -> None:
        if seq >= self._top:
            shift = seq + 1 - self._top
            bits = 0 if shift >= _DTLS_REPLAY_WINDOW else self._bits << shift
            self._bits = (bits | 1) & ((1 << _DTLS_REPLAY_WINDOW) - 1)
            self._top = seq + 1
        else:
            self._bits |= 1 << (self._top - 1 - seq)

    # --- the format ---------------------------------------------------------------

    def _seq_bits(self, sequence_bits: int) -> bool:
        """Whether the header carries 16 bits (ValueError for what the format refuses)."""
        raise NotImplementedError

    def _header_len(self, length_field: bool, seq16: bool) -> int:
        raise NotImplementedError

    def _seal_one(
        self, seq: int, content_type: int, inner: bytes, length_field: bool, seq16: bool
    ) -> bytes:
        raise NotImplementedError

    def _open_one(
        self, rec: memoryview, max_plaintext: int
    ) -> tuple[int, int, bytes] | str:
        """``(seq, content_type, content)`` or the drop reason."""
        raise NotImplementedError

    def _parse(self, rest: memoryview) -> int | str | None:
        """What the header at the start of ``rest`` says: the record's length;
        None: the record is another protector's (stop); ``"garbled"``: the framing
        is lost, the rest is dropped; a negative number: an invalid record of that
        many bytes, dropped."""
        raise NotImplementedError

    def record_number_mask(self, sample: Buffer) -> bytes:
        raise ValueError("DTLS 1.2 has no record number encryption")

    # --- shared -------------------------------------------------------------------

    def _check_seal(
        self, content_type: object, padding: object, length_field: bool, sequence_bits: object
    ) -> tuple[int, int, bool]:
        content_type = _index(content_type, "content_type")
        if self._inner:
            if not 1 <= content_type <= 255:
                raise ValueError(f"content_type must be in 1..255, got {content_type}")
        elif not _TLS12_FIRST_TYPE <= content_type <= CONTENT_TYPE_APPLICATION_DATA:
            raise ValueError(f"TLS 1.2 content_type must be in 20..23, got {content_type}")
        padding = _index(padding, "padding")
        if padding < 0:
            raise ValueError(f"padding must be >= 0, got {padding}")
        if not self._inner and padding:
            raise ValueError(f"TLS 1.2 records have no padding: padding must be 0, got {padding}")
        if padding >= MAX_PLAINTEXT:
            raise ValueError(f"padding ({padding}) must be smaller than max_fragment ({MAX_PLAINTEXT})")
        seq16 = self._seq_bits(_index(sequence_bits, "sequence_bits"))
        if not length_field and not self._UNIFIED_HEADER:
            raise ValueError("DTLS 1.2 records always carry their length: length_field must be true")
        return content_type, padding, seq16

    def _padding_for(self, length: int, padding: int) -> int:
        return padding

    def _size(self, length: int, padding: int, length_field: bool, seq16: bool) -> int:
        if length + padding > MAX_PLAINTEXT:
            raise ValueError(
                f"a DTLS record holds at most {MAX_PLAINTEXT} bytes of content and padding, "
                f"got {length + padding}"
            )
        padding = self._padding_for(length, padding)
        inner = length + (1 + padding if self._inner else 0)
        return self._header_len(length_field, seq16) + self._explicit + inner + self._tag_len

    def sealed_size(
        self, length: int, padding: int = 0, length_field: bool = True, sequence_bits: int = 16
    ) -> int:
        """Bytes ``seal_record`` writes for ``length`` bytes of content (one record)."""
        _, padding, seq16 = self._check_seal(CONTENT_TYPE_APPLICATION_DATA, padding, length_field, sequence_bits)
        length = _index(length, "length")
        if length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        return self._size(length, padding, length_field, seq16)

    def seal_record(
        self, content_type: int, data: Buffer, padding: int = 0, length_field: bool = True,
        sequence_bits: int = 16,
    ) -> bytes:
        """Protect ``data`` as one record, header included."""
        content_type, padding, seq16 = self._check_seal(content_type, padding, length_field, sequence_bits)
        payload = _bytes(data, "data")
        self._size(len(payload), padding, length_field, seq16)
        seq = self._seq
        limit = self._data_limit
        if content_type == CONTENT_TYPE_APPLICATION_DATA and limit < _SEQ_LIMIT and seq + 1 > limit:
            raise errors.KeyLimitReached(
                "application data would pass the key's usage limit: update the keys first"
            )
        if seq + 1 > _DTLS_SEQ_LIMIT:
            raise errors.SequenceNumberExhausted(
                "record sequence number would reach 2**48: update the keys or close the connection"
            )
        if self._inner:
            inner = payload + bytes((content_type,)) + bytes(self._padding_for(len(payload), padding))
        else:
            inner = payload
        self._seq = seq + 1
        return self._seal_one(seq, content_type, inner, bool(length_field), seq16)

    def open_datagram(
        self, data: Buffer, max_plaintext: int = MAX_PLAINTEXT
    ) -> tuple[list[tuple[int, int, int, bytes]], int, tuple[int, int, int]]:
        """Open this epoch's records at the start of the datagram ``data``:
        ``(items, consumed, (invalid, unauthentic, replayed))``; see
        :meth:`ferrotls.backend.interface.DatagramProtector.open_datagram`."""
        view = _byte_view(data, "data")
        max_plaintext = _max_plaintext(max_plaintext)
        items: list[tuple[int, int, int, bytes]] = []
        dropped = {"invalid": 0, "unauthentic": 0, "replayed": 0}
        pos = 0
        end = len(view)
        while pos < end:
            rest = view[pos:]
            length = self._parse(rest)
            if length is None:
                break
            if length == "garbled":
                dropped["invalid"] += 1
                pos = end
                break
            assert isinstance(length, int)
            if length < 0:
                dropped["invalid"] += 1
                pos -= length
                continue
            pos += length
            opened = self._open_one(rest[:length], max_plaintext)
            if isinstance(opened, str):
                dropped[opened] += 1
                continue
            seq, content_type, content = opened
            items.append((self._epoch, seq, content_type, content))
        return items, pos, (dropped["invalid"], dropped["unauthentic"], dropped["replayed"])

    def _decrypt(
        self, nonce_seq: int, aad: bytes, body: bytes, max_plaintext: int
    ) -> tuple[int, bytes] | str:
        """Authenticate and decrypt a body (ciphertext || tag): ``(inner type or 0,
        content)`` or the drop reason."""
        plain = self._impl.open(self._nonce(nonce_seq), aad, body)
        if plain is None:
            return "unauthentic"
        if not self._inner:
            return (0, bytes(plain)) if len(plain) <= max_plaintext else "invalid"
        if len(plain) > max_plaintext + 1:
            return "invalid"
        stripped = plain.rstrip(b"\x00")
        if not stripped:
            return "invalid"
        return stripped[-1], bytes(stripped[:-1])


class PyDtls13RecordProtector(_DatagramProtection):
    """One epoch and direction of DTLS 1.3 record protection (RFC 9147 section 4), in Python.

    The unified header 0b001CSLEE, record number encryption with AES-ECB or
    ChaCha20 of the ciphertext's first 16 bytes, nonce = iv XOR the 48-bit
    sequence number, AAD = the header before record number encryption.  See
    ``Backend.dtls13_record_protector``.
    """

    __slots__ = ("_mask",)

    _UNIFIED_HEADER = True

    def __init__(
        self, suite: int, key: Buffer, iv: Buffer, sn_key: Buffer, epoch: int, sequence: int = 0,
        data_limit: int | None = None, connection_id: Buffer | None = None,
    ) -> None:
        suite, key_bytes = _suite_and_key(suite, key)
        info = SUITES[suite]
        sn = _bytes(sn_key, "sn_key")
        if len(sn) != info.key_len:
            raise ValueError(f"sn_key must be {info.key_len} bytes, got {len(sn)}")
        epoch = _index(epoch, "epoch")
        if not 0 <= epoch < _SEQ_LIMIT:
            raise ValueError(f"epoch must be in 0..2**64 - 1, got {epoch}")
        if suite == CipherSuite.TLS_CHACHA20_POLY1305_SHA256:
            self._mask: Callable[[bytes], bytes] = lambda s: chacha20_keystream(
                sn, s[4:16], int.from_bytes(s[:4], "little"), 2
            )
        else:
            cipher = _aes.new_cipher(sn)
            self._mask = lambda s: _aes.encrypt_block(cipher, s)[:2]
        self._setup(
            suite, _PRIMITIVES[suite](key_bytes), info.tag_len, 0, iv, epoch, sequence,
            data_limit, connection_id, True,
        )

    def __repr__(self) -> str:
        return (
            f"<PyDtls13RecordProtector suite={_suite_name(self._suite)} epoch={self._epoch} "
            f"sequence={self._seq}>"
        )

    def record_number_mask(self, sample: Buffer) -> bytes:
        """The first two bytes of the record number mask of a 16-byte ciphertext sample."""
        raw = _bytes(sample, "sample")
        if len(raw) != _RNE_SAMPLE_LEN:
            raise ValueError(f"sample must be {_RNE_SAMPLE_LEN} bytes, got {len(raw)}")
        return self._mask(raw)

    def _seq_bits(self, sequence_bits: int) -> bool:
        if sequence_bits not in (8, 16):
            raise ValueError(f"sequence_bits must be 8 or 16, got {sequence_bits}")
        return sequence_bits == 16

    def _header_len(self, length_field: bool, seq16: bool) -> int:
        return 1 + len(self._cid) + (2 if seq16 else 1) + (2 if length_field else 0)

    def _padding_for(self, length: int, padding: int) -> int:
        body = length + 1 + padding + self._tag_len
        return padding + _RNE_SAMPLE_LEN - body if body < _RNE_SAMPLE_LEN else padding

    def _seal_one(
        self, seq: int, content_type: int, inner: bytes, length_field: bool, seq16: bool
    ) -> bytes:
        seq_len = 2 if seq16 else 1
        first = (
            0x20 | (0x10 if self._cid else 0) | (0x08 if seq16 else 0)
            | (0x04 if length_field else 0) | (self._epoch & 3)
        )
        seq_bytes = (seq & ((1 << (8 * seq_len)) - 1)).to_bytes(seq_len, "big")
        length = (len(inner) + self._tag_len).to_bytes(2, "big") if length_field else b""
        header = bytes((first,)) + self._cid + seq_bytes + length
        body: bytes = self._impl.seal(self._nonce(seq), header, inner)
        mask = self._mask(body[:_RNE_SAMPLE_LEN])
        masked = bytes(b ^ m for b, m in zip(seq_bytes, mask))
        return bytes((first,)) + self._cid + masked + length + body

    def _parse(self, rest: memoryview) -> int | str | None:
        first = rest[0]
        if first & 0xE0 != 0x20 or (first & 3) != (self._epoch & 3):
            return None
        if bool(first & 0x10) != bool(self._cid):
            return "garbled"
        seq_at = 1 + len(self._cid)
        hlen = seq_at + (2 if first & 0x08 else 1) + (2 if first & 0x04 else 0)
        if len(rest) < hlen:
            return "garbled"
        if first & 0x04:
            length = hlen + ((rest[hlen - 2] << 8) | rest[hlen - 1])
            if length > len(rest):
                return "garbled"
        else:
            length = len(rest)
        if rest[1:seq_at] != self._cid or length - hlen > MAX_CIPHERTEXT:
            return -length
        return length

    def _open_one(self, rec: memoryview, max_plaintext: int) -> tuple[int, int, bytes] | str:
        first = rec[0]
        seq_at = 1 + len(self._cid)
        seq_len = 2 if first & 0x08 else 1
        hlen = seq_at + seq_len + (2 if first & 0x04 else 0)
        body = rec[hlen:].tobytes()
        if len(body) < self._tag_len or len(body) < _RNE_SAMPLE_LEN:
            return "unauthentic"
        mask = self._mask(body[:_RNE_SAMPLE_LEN])
        low_bytes = bytes(b ^ m for b, m in zip(rec[seq_at : seq_at + seq_len], mask))
        seq = dtls_reconstruct_sequence(self._top, int.from_bytes(low_bytes, "big"), 8 * seq_len)
        if seq is None:
            return "invalid"
        if not self._fresh(seq):
            return "replayed"
        aad = rec[:seq_at].tobytes() + low_bytes + rec[seq_at + seq_len : hlen].tobytes()
        opened = self._decrypt(seq, aad, body, max_plaintext)
        if isinstance(opened, str):
            return opened
        self._mark(seq)
        return seq, opened[0], opened[1]


class PyDtls12RecordProtector(_DatagramProtection):
    """One epoch and direction of DTLS 1.2 AEAD record protection (RFC 6347 section
    4.1; RFC 9146 with a connection ID), in Python.

    The 13-byte header type || version || epoch || sequence_number || length; the
    TLS 1.2 body with epoch || sequence_number as its 64-bit number (explicit
    nonce of AES-GCM/CCM, ChaCha20 nonce, AAD).  With a ``connection_id`` the
    records are tls12_cid (25) with an inner plaintext and the RFC 9146 AAD.  See
    ``Backend.dtls12_record_protector``.
    """

    __slots__ = ()

    def __init__(
        self, suite: int, key: Buffer, iv: Buffer, epoch: int, sequence: int = 0,
        data_limit: int | None = None, connection_id: Buffer | None = None,
    ) -> None:
        info = tls12_suite_info(_index(suite, "suite"))
        key_bytes = _bytes(key, "key")
        if len(key_bytes) != info.key_len:
            raise ValueError(
                f"{info.suite.name} needs a {info.key_len}-byte key, got {len(key_bytes)} bytes"
            )
        epoch = _index(epoch, "epoch")
        if not 0 <= epoch <= 0xFFFF:
            raise ValueError(f"DTLS 1.2 epoch must be in 0..65535, got {epoch}")
        cid = b"" if connection_id is None else _bytes(connection_id, "connection_id")
        impl = _PRIMITIVES[info.tls13_equivalent](key_bytes)
        self._setup(
            info.suite, impl, info.tag_len, info.record_iv_len, iv, epoch, sequence,
            data_limit, cid, bool(cid),
        )

    def __repr__(self) -> str:
        name = TLS12_SUITES[self._suite].suite.name
        return f"<PyDtls12RecordProtector suite={name} epoch={self._epoch} sequence={self._seq}>"

    def _seq_bits(self, sequence_bits: int) -> bool:
        if sequence_bits != 16:
            raise ValueError(
                f"DTLS 1.2 sequence numbers are 48-bit: sequence_bits must be 16, got {sequence_bits}"
            )
        return True

    def _header_len(self, length_field: bool, seq16: bool) -> int:
        return _DTLS12_HEADER_LEN + len(self._cid)

    def _cid_aad(self, number: bytes, inner_len: int) -> bytes:
        """RFC 9146 section 5: 8 x 0xff || tls12_cid || cid_length || tls12_cid ||
        version || epoch || sequence_number || cid || length_of_DTLSInnerPlaintext."""
        return (
            b"\xff" * 8 + bytes((_TLS12_CID, len(self._cid), _TLS12_CID)) + _DTLS12_VERSION
            + number + self._cid + inner_len.to_bytes(2, "big")
        )

    def _seal_one(
        self, seq: int, content_type: int, inner: bytes, length_field: bool, seq16: bool
    ) -> bytes:
        number = ((self._epoch << 48) | seq).to_bytes(8, "big")
        outer = _TLS12_CID if self._cid else content_type
        length = (self._explicit + len(inner) + self._tag_len).to_bytes(2, "big")
        header = bytes((outer,)) + _DTLS12_VERSION + number + self._cid + length
        if self._cid:
            aad = self._cid_aad(number, len(inner))
        else:
            aad = number + bytes((outer,)) + _DTLS12_VERSION + len(inner).to_bytes(2, "big")
        sealed: bytes = self._impl.seal(self._nonce((self._epoch << 48) | seq), aad, inner)
        return header + number[: self._explicit] + sealed

    def _parse(self, rest: memoryview) -> int | str | None:
        if len(rest) < _DTLS12_HEADER_LEN:
            return "garbled"
        if ((rest[3] << 8) | rest[4]) != self._epoch:
            return None
        is_cid = rest[0] == _TLS12_CID
        hlen = _DTLS12_HEADER_LEN + (len(self._cid) if is_cid else 0)
        if len(rest) < hlen:
            return "garbled"
        length = hlen + ((rest[hlen - 2] << 8) | rest[hlen - 1])
        if length > len(rest):
            return "garbled"
        if self._cid:
            type_ok = is_cid and rest[11 : hlen - 2] == self._cid
        else:
            type_ok = _TLS12_FIRST_TYPE <= rest[0] <= CONTENT_TYPE_APPLICATION_DATA
        if not type_ok or rest[1:3] != _DTLS12_VERSION or length - hlen > MAX_CIPHERTEXT_TLS12:
            return -length
        return length

    def _open_one(self, rec: memoryview, max_plaintext: int) -> tuple[int, int, bytes] | str:
        hlen = _DTLS12_HEADER_LEN + len(self._cid)
        body = rec[hlen:]
        if len(body) < self._explicit + self._tag_len:
            return "unauthentic"
        number = rec[3:11].tobytes()
        seq = int.from_bytes(number[2:], "big")
        if not self._fresh(seq):
            return "replayed"
        explicit = self._explicit
        nonce_seq = int.from_bytes(body[:explicit], "big") if explicit else int.from_bytes(number, "big")
        ciphertext = body[explicit:].tobytes()
        inner_len = len(ciphertext) - self._tag_len
        if self._cid:
            aad = self._cid_aad(number, inner_len)
        else:
            aad = number + rec[0:3].tobytes() + inner_len.to_bytes(2, "big")
        opened = self._decrypt(nonce_seq, aad, ciphertext, max_plaintext)
        if isinstance(opened, str):
            return opened
        self._mark(seq)
        return seq, (opened[0] if self._cid else rec[0]), opened[1]


def _byte_view(data: Buffer, name: str) -> memoryview:
    """A 1-D unsigned-byte view of a C-contiguous buffer (TypeError otherwise)."""
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"{name} must be a bytes-like object, not {type(data).__name__}") from None
    if not view.c_contiguous:
        raise TypeError(f"{name} must be a C-contiguous buffer")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def _max_plaintext(value: int) -> int:
    value = _index(value, "max_plaintext")
    if not 1 <= value <= MAX_PLAINTEXT:
        raise ValueError(f"max_plaintext must be in 1..{MAX_PLAINTEXT}, got {value}")
    return value


class PyX25519PrivateKey:
    """An X25519 private key (RFC 7748), pure Python."""

    __slots__ = ("_private", "_public")

    def __init__(self, private: Buffer) -> None:
        raw = _bytes(private, "private key")
        if len(raw) != 32:
            raise ValueError(f"X25519 private key must be 32 bytes, got {len(raw)}")
        self._private = raw
        self._public: bytes | None = None

    def __repr__(self) -> str:
        return "<PyX25519PrivateKey>"

    def public_bytes(self) -> bytes:
        """The 32-byte public key."""
        if self._public is None:
            self._public = x25519_base(self._private)
        return self._public

    def exchange(self, peer_public: Buffer) -> bytes:
        """The 32-byte shared secret; IllegalParameter if it is all zeros."""
        peer = _bytes(peer_public, "peer public key")
        if len(peer) != 32:
            raise ValueError(f"X25519 public key must be 32 bytes, got {len(peer)}")
        shared = x25519(self._private, peer)
        if not any(shared):
            raise errors.IllegalParameter("X25519 shared secret is all zeros (low-order point)")
        return shared


class PyMlKem768PrivateKey:
    """An ML-KEM-768 decapsulation key, delegated to pyca/cryptography."""

    __slots__ = ("_key",)

    def __init__(self, key: Any) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "<PyMlKem768PrivateKey>"

    def public_bytes(self) -> bytes:
        """The 1184-byte encapsulation key."""
        return self._key.public_key().public_bytes_raw()  # type: ignore[no-any-return]

    def decapsulate(self, ciphertext: Buffer) -> bytes:
        """The 32-byte shared secret (implicit rejection); ValueError if not 1088 bytes."""
        ct = _bytes(ciphertext, "ciphertext")
        if len(ct) != _MLKEM768_CIPHERTEXT_LEN:
            raise ValueError(f"ML-KEM-768 ciphertext must be {_MLKEM768_CIPHERTEXT_LEN} bytes, got {len(ct)}")
        return self._key.decapsulate(ct)  # type: ignore[no-any-return]


class PythonBackend:
    """The pure-Python backend object (one per process: :data:`BACKEND`)."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return "python"

    @property
    def constant_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<PythonBackend>"

    def features(self) -> dict[str, str]:
        return {
            "implementation": "pure Python",
            "constant_time": "no",
            "aes": "byte-sliced, bytes.translate S-box",
            "ghash": "Shoup tables (4-bit, 8-bit once a key carries bulk data)",
            "chacha20": "SWAR on Python ints",
            "ccm": "CBC-MAC one block at a time (T-tables), byte-sliced CTR",
            "x25519": "Montgomery ladder on Python ints",
            "mlkem768": "pyca/cryptography",
        }

    def aead(self, suite: int, key: Buffer) -> PyAead:
        return PyAead(suite, key)

    def record_protector(
        self, suite: int, key: Buffer, iv: Buffer, sequence: int = 0, data_limit: int | None = None
    ) -> PyRecordProtector:
        return PyRecordProtector(suite, key, iv, sequence, data_limit)

    def record_protector_tls12(
        self, suite: int, key: Buffer, iv: Buffer, sequence: int = 0, data_limit: int | None = None
    ) -> PyTls12RecordProtector:
        return PyTls12RecordProtector(suite, key, iv, sequence, data_limit)

    def dtls13_record_protector(
        self, suite: int, key: Buffer, iv: Buffer, sn_key: Buffer, epoch: int, sequence: int = 0,
        data_limit: int | None = None, connection_id: Buffer | None = None,
    ) -> PyDtls13RecordProtector:
        return PyDtls13RecordProtector(suite, key, iv, sn_key, epoch, sequence, data_limit, connection_id)

    def dtls12_record_protector(
        self, suite: int, key: Buffer, iv: Buffer, epoch: int, sequence: int = 0,
        data_limit: int | None = None, connection_id: Buffer | None = None,
    ) -> PyDtls12RecordProtector:
        return PyDtls12RecordProtector(suite, key, iv, epoch, sequence, data_limit, connection_id)

    def tls12_prf(
        self, hash_name: str, secret: Buffer, label: Buffer, seed: Buffer, length: int
    ) -> bytes:
        _hkdf.hash_len(hash_name)
        return _prf.tls12_prf(
            hash_name,
            _bytes(secret, "secret"),
            _bytes(label, "label"),
            _bytes(seed, "seed"),
            _index(length, "length"),
        )

    def hkdf_extract(self, hash_name: str, salt: Buffer, ikm: Buffer) -> bytes:
        _hkdf.hash_len(hash_name)
        return _hkdf.hkdf_extract(hash_name, _bytes(salt, "salt"), _bytes(ikm, "ikm"))

    def hkdf_expand(self, hash_name: str, prk: Buffer, info: Buffer, length: int) -> bytes:
        _hkdf.hash_len(hash_name)
        prk_b, info_b = _bytes(prk, "prk"), _bytes(info, "info")
        return _hkdf.hkdf_expand(hash_name, prk_b, info_b, _index(length, "length"))

    def hkdf_expand_label(
        self, hash_name: str, secret: Buffer, label: bytes, context: Buffer, length: int
    ) -> bytes:
        _hkdf.hash_len(hash_name)
        secret_b, label_b = _bytes(secret, "secret"), _bytes(label, "label")
        context_b = _bytes(context, "context")
        return _hkdf.hkdf_expand_label(
            hash_name, secret_b, label_b, context_b, _index(length, "length")
        )

    def derive_secret(
        self, hash_name: str, secret: Buffer, label: bytes, transcript_hash: Buffer
    ) -> bytes:
        _hkdf.hash_len(hash_name)
        secret_b, label_b = _bytes(secret, "secret"), _bytes(label, "label")
        return _hkdf.derive_secret(
            hash_name, secret_b, label_b, _bytes(transcript_hash, "transcript_hash")
        )

    def x25519_generate(self) -> PyX25519PrivateKey:
        return PyX25519PrivateKey(os.urandom(32))

    def x25519_from_bytes(self, private: Buffer) -> PyX25519PrivateKey:
        return PyX25519PrivateKey(private)

    def mlkem768_generate(self) -> PyMlKem768PrivateKey:
        from cryptography.hazmat.primitives.asymmetric import mlkem

        return PyMlKem768PrivateKey(mlkem.MLKEM768PrivateKey.generate())

    def mlkem768_from_seed(self, seed: Buffer) -> PyMlKem768PrivateKey:
        raw = _bytes(seed, "seed")
        if len(raw) != _MLKEM768_SEED_LEN:
            raise ValueError(f"ML-KEM-768 seed must be {_MLKEM768_SEED_LEN} bytes, got {len(raw)}")
        from cryptography.hazmat.primitives.asymmetric import mlkem

        return PyMlKem768PrivateKey(mlkem.MLKEM768PrivateKey.from_seed_bytes(raw))

    def mlkem768_encapsulate(self, public: Buffer) -> tuple[bytes, bytes]:
        raw = _bytes(public, "public key")
        if len(raw) != _MLKEM768_PUBLIC_LEN:
            raise ValueError(
                f"ML-KEM-768 public key must be {_MLKEM768_PUBLIC_LEN} bytes, got {len(raw)}"
            )
        from cryptography.hazmat.primitives.asymmetric import mlkem

        try:
            key = mlkem.MLKEM768PublicKey.from_public_bytes(raw)
        except ValueError:
            # Right length, so the only rejection left is the FIPS 203 modulus check.
            raise errors.IllegalParameter(
                "ML-KEM-768 encapsulation key fails the modulus check"
            ) from None
        shared, ciphertext = key.encapsulate()
        return ciphertext, shared


BACKEND = PythonBackend()
