"""The pure-Python crypto backend (``FERROTLS_BACKEND=python``).

Implements :class:`ferrotls.backend.interface.Backend` with the primitives of
:mod:`ferrotls.backend.pure` (standard library only) and TLS 1.3 record
protection (RFC 8446 section 5) and TLS 1.2 AEAD record protection (RFC 5246
section 6.2.3.3) written out in Python.

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
from .pure import hkdf as _hkdf
from .pure import prf as _prf
from .pure.ccm import AESCCM
from .pure.chacha20 import ChaCha20Poly1305
from .pure.gcm import AESGCM
from .pure.x25519 import x25519, x25519_base

__all__ = [
    "BACKEND",
    "PythonBackend",
    "PyAead",
    "PyRecordProtector",
    "PyTls12RecordProtector",
    "PyX25519PrivateKey",
]

_BAD_RECORD_MAC = "bad record MAC"
_SEQ_LIMIT = 1 << 64
_HEADER_PREFIX = bytes((CONTENT_TYPE_APPLICATION_DATA, 3, 3))
_TLS12_FIRST_TYPE = 20  # change_cipher_spec; TLS 1.2 protects types 20..23
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
