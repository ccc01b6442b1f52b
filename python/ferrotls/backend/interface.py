"""The one interface both crypto backends implement.

``native`` (Rust, ``ferrotls._native``) and ``python`` (pure Python, stdlib only)
must give byte-identical results and raise the same exception types for the
same inputs; ``tests/test_differential.py`` proves it.

Conventions shared by every implementation:

* Byte inputs accept any C-contiguous buffer (bytes, bytearray, memoryview).
* Argument errors (wrong key length, unknown suite, bad sizes) raise
  ``ValueError``/``TypeError`` with a message saying what was wrong.
* Peer-caused failures raise :mod:`ferrotls.errors` classes: ``BadRecordMac``
  (any deprotection failure, always the message ``"bad record MAC"``),
  ``RecordOverflow``, ``UnexpectedMessage`` (inner plaintext all zeros),
  ``IllegalParameter`` (X25519 all-zero shared secret),
  ``SequenceNumberExhausted``.
* No repr or str of a key-holding object shows key material.

Cipher suites are identified by their TLS code points (``suites.CipherSuite``,
``suites.Tls12CipherSuite``); hashes by the names ``"sha256"`` and ``"sha384"``.

TLS 1.2 record protection (``Backend.record_protector_tls12``) gives an object
with the same methods and return shapes as the TLS 1.3 :class:`RecordProtector`,
so the record layer drives either through one interface.  What differs is the
record format (RFC 5246 section 6.2.3.3):

* the outer content type is the real one (20..23), there is no inner type and no
  padding: ``seal_record`` raises ValueError for ``padding != 0`` or a content
  type outside 20..23;
* AES-GCM (RFC 5288) and AES-CCM (RFC 6655, RFC 7251) records carry an 8-byte
  explicit nonce before the ciphertext: sealing writes the sequence number there
  (RFC 5288 and RFC 6655 section 3 allow it), and the nonce is the 4-byte ``iv``
  (salt) followed by it; opening takes the peer's explicit nonce from the record,
  whatever unique value the peer chose (OpenSSL 3.0 sends a counter from a random
  start, rustls a key-block value XOR the sequence number).  ChaCha20-Poly1305
  (RFC 7905) has none: the nonce is the 12-byte ``iv`` XOR the sequence number;
* the additional data is seq_num (8) || type (1) || version (2) || plaintext
  length (2), with the type and version of the record's header (0x0303 when
  sealing), so an altered header fails to authenticate;
* ``open_records`` opens records of every outer type 20..23 (everything after
  ChangeCipherSpec is protected, alerts and handshake too), each item being
  ``(content_type, plaintext)``, and stops before a record of another type;
  ``open_records_into`` / ``open_application_data`` open outer-type-23 records
  with the same stop rules as TLS 1.3 (an empty application-data record stops
  the batch with STOP_RECORD, unconsumed); the room a record needs is
  TLSCiphertext.length minus explicit nonce and tag;
* RecordOverflow: TLSCiphertext.length > 2**14 + 2048 (checked as soon as the
  header is there), or plaintext > ``max_plaintext`` (after authentication);
  BadRecordMac: a record shorter than explicit nonce + tag, or any
  authentication failure.  There is no UnexpectedMessage (no inner plaintext).

DTLS record protection (``Backend.dtls13_record_protector``,
``Backend.dtls12_record_protector``) gives a :class:`DatagramProtector`: one
epoch and one direction each, sealing one record per call and opening every
record of one epoch in a datagram per call.  Records that fail to open are
dropped and counted, never raised (RFC 9147 section 4.5.2); the replay window
(128 records, RFC 9147 section 4.5.1 / RFC 6347 section 4.1.2.6) lives in the
read protector, and a record is marked in it only after it authenticated.
"""

from __future__ import annotations

import sys
from typing import Protocol, runtime_checkable

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:  # typing_extensions is a dependency only before 3.12
    from typing_extensions import Buffer

__all__ = [
    "Buffer",
    "Aead",
    "RecordProtector",
    "DatagramProtector",
    "X25519PrivateKey",
    "MlKem768PrivateKey",
    "Backend",
    "MAX_PLAINTEXT",
    "MAX_CIPHERTEXT",
    "MAX_CIPHERTEXT_TLS12",
    "DTLS_SEQUENCE_LIMIT",
    "DTLS_REPLAY_WINDOW",
    "RECORD_HEADER_LEN",
    "CONTENT_TYPE_APPLICATION_DATA",
    "STOP_END",
    "STOP_OUT_FULL",
    "STOP_RECORD",
]

MAX_PLAINTEXT = 1 << 14
"""Largest TLSInnerPlaintext content + padding (RFC 8446 section 5.1/5.4)."""

MAX_CIPHERTEXT = (1 << 14) + 256
"""Largest TLSCiphertext.length a receiver accepts (RFC 8446 section 5.2)."""

MAX_CIPHERTEXT_TLS12 = (1 << 14) + 2048
"""Largest TLSCiphertext.length a TLS 1.2 receiver accepts (RFC 5246 section 6.2.3)."""

DTLS_SEQUENCE_LIMIT = 1 << 48
"""DTLS record sequence numbers are 48-bit: 0 .. 2**48 - 1."""

DTLS_REPLAY_WINDOW = 128
"""Sequence numbers below the highest one received that the replay window still tracks."""

RECORD_HEADER_LEN = 5
CONTENT_TYPE_APPLICATION_DATA = 23

# Why ``RecordProtector.open_records_into`` stopped (its third result).
STOP_END = 0
"""No complete record is left: the data is used up or ends in an incomplete record."""
STOP_OUT_FULL = 1
"""The next record's body (TLSCiphertext.length - tag length) does not fit in what is left of ``out``."""
STOP_RECORD = 2
"""The next record is for ``open_records`` or the caller's plaintext path (see the method)."""


@runtime_checkable
class Aead(Protocol):
    """An AEAD keyed for one cipher suite.  Nonces are 12 bytes; tags are the
    suite's ``suites.SuiteInfo.tag_len``: 16 bytes, or 8 for TLS_AES_128_CCM_8_SHA256.

    ``seal`` raises ValueError for a plaintext the AEAD cannot take (AES-CCM
    with a 12-byte nonce: 2**24 bytes or more); ``open`` raises BadRecordMac
    for any ciphertext that cannot authenticate, including one shorter than a tag.
    """

    @property
    def suite(self) -> int: ...

    def seal(self, nonce: Buffer, aad: Buffer, plaintext: Buffer) -> bytes:
        """Return ciphertext || tag."""
        ...

    def open(self, nonce: Buffer, aad: Buffer, ciphertext: Buffer) -> bytes:
        """Return the plaintext, or raise BadRecordMac (no partial plaintext)."""
        ...


@runtime_checkable
class RecordProtector(Protocol):
    """One direction of TLS 1.3 record protection (RFC 8446 section 5).

    Holds the suite, write/read key and IV, and the 64-bit sequence number.
    The per-record nonce is ``iv XOR seq`` (seq left-padded to 12 bytes) and the
    additional data is the 5-byte record header.  The sequence number advances
    by one per record sealed or successfully opened.

    A protector is used in one direction only (seal *or* open).
    """

    @property
    def suite(self) -> int: ...

    @property
    def sequence(self) -> int:
        """The sequence number the next record will use."""
        ...

    @property
    def data_limit(self) -> int:
        """Sequence numbers application data may use are below this (see ``record_protector``)."""
        ...

    def sealed_size(self, length: int, padding: int = 0, max_fragment: int = MAX_PLAINTEXT) -> int:
        """Bytes that ``seal_record`` produces for ``length`` bytes of content."""
        ...

    def seal_record(
        self,
        content_type: int,
        data: Buffer,
        padding: int = 0,
        max_fragment: int = MAX_PLAINTEXT,
    ) -> bytes:
        """Protect ``data`` as one or more complete TLSCiphertext records.

        ``data`` is cut into fragments of at most ``max_fragment - padding``
        bytes (``max_fragment`` <= 2**14 bounds content + padding of each
        record).  Each record's TLSInnerPlaintext is fragment || content_type ||
        ``padding`` zero bytes.  Empty ``data`` gives one record with empty
        content.  Returns the concatenated records, headers included
        (outer type 23, legacy version 0x0303).

        ValueError: content_type not in 1..255, padding < 0,
        max_fragment not in 1..2**14, or padding >= max_fragment.
        SequenceNumberExhausted: a record would need sequence number 2**64.
        """
        ...

    def seal_record_into(
        self,
        out: Buffer,
        content_type: int,
        data: Buffer,
        padding: int = 0,
        max_fragment: int = MAX_PLAINTEXT,
    ) -> int:
        """As ``seal_record`` but write into the writable buffer ``out``.

        Returns the number of bytes written; ValueError if ``out`` is smaller
        than ``sealed_size(len(data), padding, max_fragment)``.
        """
        ...

    def open_records(
        self, data: Buffer, max_plaintext: int = MAX_PLAINTEXT
    ) -> tuple[list[tuple[int, bytes]], int]:
        """Open the complete records at the start of ``data``.

        Returns ``(items, consumed)``: ``items`` is a list of
        ``(inner_content_type, content)`` and ``consumed`` the number of bytes of
        ``data`` those records occupied.  Processing stops

        * before an incomplete record (it stays for the next call),
        * before a record whose outer type is not application_data (23), which
          the caller handles itself (e.g. a plaintext change_cipher_spec),
        * after a record whose inner content type is not application_data
          (a handshake message such as KeyUpdate may change the keys), and
        * at a record that fails: if records were already opened in this call,
          they are returned and the failing record is left unconsumed; the
          error is raised when it is at the start of ``data``.

        Errors: RecordOverflow (TLSCiphertext.length > 2**14 + 256, or content +
        padding > ``max_plaintext``), BadRecordMac (authentication failure or a
        ciphertext shorter than the suite's tag; a record of exactly the tag's
        length that authenticates has no content type: UnexpectedMessage), UnexpectedMessage (the inner
        plaintext is all zero bytes), SequenceNumberExhausted.
        """
        ...

    def open_records_into(
        self, data: Buffer, out: Buffer, max_plaintext: int = MAX_PLAINTEXT
    ) -> tuple[int, int, int]:
        """Open the application-data records at the start of ``data`` into ``out``.

        The bulk receive path: one call, no per-record objects.  Returns
        ``(consumed, written, stop)``: the records opened occupied
        ``data[:consumed]``, and ``out[:written]`` holds their contents
        concatenated (content types and padding removed; an empty record adds
        nothing).  ``out`` is a writable C-contiguous buffer that must not
        overlap ``data`` (ValueError in the native backend).  Bytes of ``out``
        past ``written`` are unspecified (the native backend zeroes those it
        touched); nothing before ``written`` is read.

        Records are opened in order while each one is complete, has outer type
        application_data (23) and its body (``TLSCiphertext.length`` minus the
        suite's tag length, 16 or 8 for CCM_8: the room decryption needs) fits
        in ``len(out) - written``.  ``stop`` says
        why the call ended:

        * ``STOP_END`` (0): no complete record is left (``consumed == len(data)``
          or the rest is an incomplete record, kept for the next call);
        * ``STOP_OUT_FULL`` (1): the next record does not fit in ``out``;
        * ``STOP_RECORD`` (2): the next record must go through ``open_records``
          or the caller's plaintext path: its outer type is not 23 (e.g. a
          plaintext alert or change_cipher_spec), or its *inner* type is not 23
          (handshake such as KeyUpdate, or alert), or it is an *empty*
          application-data record (no content, so that the caller counts each
          one against ``Limits.max_empty_records``); such a record is decrypted
          but not consumed, and its sequence number is given back, so
          ``open_records`` opens it again; or it failed after earlier records
          of this call were opened (``open_records`` then raises the error).

        The sequence number advances by one per record consumed.  Errors are
        those of ``open_records``, raised only for the *first* record (nothing
        consumed, sequence unchanged): RecordOverflow (header length
        > 2**14 + 256, checked as soon as the header is there, or content +
        padding > ``max_plaintext``), BadRecordMac, UnexpectedMessage (all-zero
        inner plaintext), SequenceNumberExhausted.  The checks per record run
        in the order: outer type, header length, completeness, room in
        ``out``, sequence number, authentication, ``max_plaintext``, zeros,
        inner type, emptiness.
        """
        ...

    def open_application_data(
        self, data: Buffer, max_plaintext: int = MAX_PLAINTEXT, head: Buffer | None = None
    ) -> tuple[bytes | None, int, int]:
        """The established receive path: ``open_records_into`` into a new ``bytes``.

        Opens the application-data records at the start of ``data`` exactly as
        :meth:`open_records_into` does with an ``out`` large enough for all of
        them (so ``stop`` is never ``STOP_OUT_FULL``), and returns
        ``(plaintext, consumed, stop)``: their contents concatenated as ``bytes``
        (None when none was opened: an opened record carries at least one byte), the bytes of
        records opened, and the stop code.  The errors are those of
        :meth:`open_records_into`.  The native backend decrypts straight into
        the returned object (no intermediate buffer, no copy).

        ``head``, when given and not empty, is the start of one record received
        earlier that is incomplete by itself (a reader's buffered partial
        record): the input is ``head + data``, but only that one record is
        assembled, and ``consumed`` counts bytes of ``data``: when it is > 0 the
        first record was opened and all of ``head`` is used as well; when it is 0
        nothing was.  ValueError if ``head`` holds a whole record.
        """
        ...


@runtime_checkable
class DatagramProtector(Protocol):
    """One epoch and one direction of DTLS record protection.

    **DTLS 1.3** (RFC 9147 section 4): records carry the unified header
    ``0b001CSLEE`` -- C: a connection ID follows (``connection_id``, set when it
    is non-empty), S: the sequence number has 16 bits (else 8), L: a 16-bit length
    follows (else the record runs to the end of the datagram), EE: the low two
    bits of the epoch.  The body is the TLS 1.3 one: DTLSInnerPlaintext (content
    || type || zeros) under nonce = ``iv`` XOR the 48-bit sequence number, with
    the header *before* record number encryption as additional data.  Record
    number encryption (section 4.2.3) then XORs the header's sequence number with
    the first bytes of AES-ECB(``sn_key``, ciphertext[0..16]) for the AES suites or
    of ChaCha20(``sn_key``, counter = ciphertext[0..4] little-endian, nonce =
    ciphertext[4..16]) for ChaCha20-Poly1305.  Sealing pads an inner plaintext
    whose ciphertext would be shorter than 16 bytes (CCM_8: content + padding
    < 7 bytes) with zeros; opening drops a record with a shorter ciphertext as
    unauthentic.  The full sequence number is rebuilt from its low bits as the
    value closest to ``next_expected`` (section 4.2.2; QUIC's rule of RFC 9000
    appendix A.3: within half the 8- or 16-bit space, a tie going up).

    **DTLS 1.2** (RFC 6347 section 4.1): the header is type (1) || version
    (0xfefd) || epoch (2) || sequence_number (6) || length (2), and the body is the
    TLS 1.2 AEAD one with epoch || sequence_number as the 64-bit number: the
    explicit nonce of AES-GCM/CCM (sealing writes it; opening takes the peer's),
    ``iv`` XOR it for ChaCha20-Poly1305 (RFC 7905), and the additional data
    epoch || sequence_number || type || version || plaintext length.  With a
    non-empty ``connection_id`` (RFC 9146) the records are of type tls12_cid (25)
    with the CID after the sequence number, the body is a DTLSInnerPlaintext
    (padding allowed), and the additional data is 8 x 0xff || 25 || cid_length ||
    25 || version || epoch || sequence_number || cid || inner plaintext length.  A
    protector with a CID drops records without one and vice versa (RFC 9146
    section 6).  DTLS 1.2 has no record number encryption: ``record_number_mask``
    raises ValueError, as do ``length_field=False`` and ``sequence_bits != 16``.

    The sending sequence number starts at ``sequence`` and may reach 2**48 - 1
    (SequenceNumberExhausted after it); ``data_limit`` works as in
    :meth:`Backend.record_protector` (KeyLimitReached for application data).
    """

    @property
    def suite(self) -> int: ...

    @property
    def epoch(self) -> int: ...

    @property
    def sequence(self) -> int:
        """The sequence number the next sealed record will use."""
        ...

    @property
    def data_limit(self) -> int: ...

    @property
    def connection_id(self) -> bytes:
        """The CID written into sealed records, or required in opened ones (b"": none)."""
        ...

    @property
    def next_expected(self) -> int:
        """One more than the highest sequence number opened so far (0: none yet)."""
        ...

    def sealed_size(
        self, length: int, padding: int = 0, length_field: bool = True, sequence_bits: int = 16
    ) -> int:
        """Bytes ``seal_record`` writes for ``length`` bytes of content."""
        ...

    def seal_record(
        self,
        content_type: int,
        data: Buffer,
        padding: int = 0,
        length_field: bool = True,
        sequence_bits: int = 16,
    ) -> bytes:
        """Protect ``data`` as exactly one record, header included.

        DTLS never splits a write: ValueError when content + padding > 2**14.
        ``length_field=False`` (DTLS 1.3) leaves the length out, for the last record
        of a datagram; ``sequence_bits=8`` (DTLS 1.3) writes the short form.
        ValueError also for a content type or padding the format refuses (1..255
        with an inner plaintext; 20..23 and no padding for DTLS 1.2 without a CID).
        KeyLimitReached, SequenceNumberExhausted: as for TLS, nothing sealed.
        """
        ...

    def open_datagram(
        self, data: Buffer, max_plaintext: int = MAX_PLAINTEXT
    ) -> tuple[list[tuple[int, int, int, bytes]], int, tuple[int, int, int]]:
        """Open the records of this protector's epoch at the start of ``data`` (a datagram).

        Returns ``(items, consumed, (invalid, unauthentic, replayed))``: ``items`` is
        one ``(epoch, sequence_number, content_type, content)`` per record that
        authenticated (the 48-bit number, the inner type for DTLS 1.3 and CID
        records), ``consumed`` the bytes of ``data`` processed, opened or dropped,
        and the three counts the records dropped:

        * invalid: a header that cannot be framed (a length past the end of the
          datagram, a C bit that disagrees with ``connection_id``, a truncated
          DTLS 1.2 header: the rest of the datagram is dropped as one record),
          another connection ID, a version other than 0xfefd or a type other than
          20..23 / 25 (DTLS 1.2), a length over 2**14 + 256 (DTLS 1.3) or
          2**14 + 2048 (DTLS 1.2), content + padding over ``max_plaintext``, an
          inner plaintext with no content type;
        * unauthentic: authentication failed, or the ciphertext is too short
          (shorter than the tag, or than 16 bytes in DTLS 1.3);
        * replayed: the sequence number was accepted before, or is 128 or more
          below the highest accepted.

        Nothing is raised for the peer's data.  Processing stops before a record
        this protector does not own -- DTLS 1.3: a first byte not of the form
        0b001xxxxx (a plaintext record, 20..26) or other epoch bits; DTLS 1.2:
        another epoch -- which the caller hands to the right protector or to its
        plaintext path.  The checks per record run in the order: framing,
        connection ID, version and type, length, record number (DTLS 1.3), replay
        window, authentication, ``max_plaintext``, inner content type.
        """
        ...

    def record_number_mask(self, sample: Buffer) -> bytes:
        """The first two bytes of the DTLS 1.3 record number mask of the 16-byte
        ciphertext ``sample``; ValueError for DTLS 1.2 or another sample length."""
        ...


@runtime_checkable
class X25519PrivateKey(Protocol):
    """An X25519 private key (RFC 7748)."""

    def public_bytes(self) -> bytes:
        """The 32-byte public key."""
        ...

    def exchange(self, peer_public: Buffer) -> bytes:
        """The 32-byte shared secret.

        ValueError if ``peer_public`` is not 32 bytes; IllegalParameter if the
        result is all zeros (a low-order point; RFC 8446 section 7.4.2).
        """
        ...


@runtime_checkable
class MlKem768PrivateKey(Protocol):
    """An ML-KEM-768 decapsulation key (FIPS 203)."""

    def public_bytes(self) -> bytes:
        """The 1184-byte encapsulation key."""
        ...

    def decapsulate(self, ciphertext: Buffer) -> bytes:
        """The 32-byte shared secret (implicit rejection: a bad ciphertext gives a
        pseudo-random secret, no error).  ValueError if not 1088 bytes."""
        ...


@runtime_checkable
class Backend(Protocol):
    """A crypto backend: one object per implementation (see ``get_backend``)."""

    @property
    def name(self) -> str:
        """``"native"`` or ``"python"``."""
        ...

    @property
    def constant_time(self) -> bool:
        """Whether the primitives run in time independent of secrets.  A connection
        on a backend without it emits :class:`ferrotls.InsecureBackendWarning`."""
        ...

    def features(self) -> dict[str, str]:
        """Build facts for ``python -m ferrotls info`` (crate versions, CPU paths)."""
        ...

    def aead(self, suite: int, key: Buffer) -> Aead:
        """An AEAD for ``suite`` (ValueError: unknown suite or wrong key length)."""
        ...

    def record_protector(
        self, suite: int, key: Buffer, iv: Buffer, sequence: int = 0, data_limit: int | None = None
    ) -> RecordProtector:
        """A record protector; ``sequence`` (default 0) is for tests and resumption of state.

        ``data_limit`` (default 2**64): sealing application data that would use a
        sequence number >= it raises KeyLimitReached and seals nothing; other
        content types may use numbers up to 2**64 - 1 (the KeyUpdate and the
        close_notify of a key at its limit).
        """
        ...

    def record_protector_tls12(
        self, suite: int, key: Buffer, iv: Buffer, sequence: int = 0, data_limit: int | None = None
    ) -> RecordProtector:
        """A TLS 1.2 AEAD record protector for ``suites.TLS12_SUITES`` code point ``suite``.

        ``iv`` is the suite's ``fixed_iv_len`` bytes from the key block: the 4-byte
        salt of AES-GCM/CCM, or the 12-byte IV of ChaCha20-Poly1305.  The methods
        are those of :class:`RecordProtector` with the TLS 1.2 record format (see
        the module docstring); ``sequence`` and ``data_limit`` as in
        ``record_protector``.  ValueError: unknown suite, wrong key or IV length.
        """
        ...

    def dtls13_record_protector(
        self,
        suite: int,
        key: Buffer,
        iv: Buffer,
        sn_key: Buffer,
        epoch: int,
        sequence: int = 0,
        data_limit: int | None = None,
        connection_id: Buffer | None = None,
    ) -> DatagramProtector:
        """A DTLS 1.3 protector for TLS 1.3 suite ``suite`` and epoch ``epoch`` (0..2**64 - 1).

        ``key`` and ``iv`` as for TLS 1.3; ``sn_key`` is the record number key,
        HKDF-Expand-Label(secret, "sn", "", key_length) with the "dtls13" label
        prefix (``dtls_record.dtls13_record_keys`` derives all three).  ``sequence``
        is the first sequence number sealed (0..2**48 - 1); ``connection_id`` the
        CID to write (a write protector: the peer's CID) or to require (a read
        protector: ours).  ValueError: unknown suite, wrong key, IV or sn_key
        length, a CID over 255 bytes.
        """
        ...

    def dtls12_record_protector(
        self,
        suite: int,
        key: Buffer,
        iv: Buffer,
        epoch: int,
        sequence: int = 0,
        data_limit: int | None = None,
        connection_id: Buffer | None = None,
    ) -> DatagramProtector:
        """A DTLS 1.2 protector for ``suites.TLS12_SUITES`` code point ``suite`` and
        epoch ``epoch`` (0..65535); ``iv`` as for ``record_protector_tls12``.  A
        non-empty ``connection_id`` selects the RFC 9146 tls12_cid format."""
        ...

    def tls12_prf(
        self, hash_name: str, secret: Buffer, label: Buffer, seed: Buffer, length: int
    ) -> bytes:
        """The TLS 1.2 PRF (RFC 5246 section 5): P_<hash>(secret, label || seed)[:length].

        ``hash_name`` is "sha256" or "sha384"; ValueError for another, or unless
        0 <= length <= 65535.
        """
        ...

    def hkdf_extract(self, hash_name: str, salt: Buffer, ikm: Buffer) -> bytes:
        """HKDF-Extract (RFC 5869); an empty salt means HashLen zero bytes."""
        ...

    def hkdf_expand(self, hash_name: str, prk: Buffer, info: Buffer, length: int) -> bytes:
        """HKDF-Expand; ValueError unless 0 <= length <= 255 * HashLen."""
        ...

    def hkdf_expand_label(
        self, hash_name: str, secret: Buffer, label: bytes, context: Buffer, length: int
    ) -> bytes:
        """HKDF-Expand-Label (RFC 8446 section 7.1); ``label`` without the "tls13 " prefix.

        ValueError if the full label exceeds 255 bytes, the context 255 bytes,
        or length is not in 0..65535 (and <= 255 * HashLen).
        """
        ...

    def derive_secret(
        self, hash_name: str, secret: Buffer, label: bytes, transcript_hash: Buffer
    ) -> bytes:
        """Derive-Secret = HKDF-Expand-Label(secret, label, transcript_hash, HashLen)."""
        ...

    def x25519_generate(self) -> X25519PrivateKey:
        """A fresh key from the operating system's CSPRNG."""
        ...

    def x25519_from_bytes(self, private: Buffer) -> X25519PrivateKey:
        """A key from 32 private bytes (clamped as RFC 7748 says); ValueError on wrong length."""
        ...

    def mlkem768_generate(self) -> MlKem768PrivateKey:
        """A fresh ML-KEM-768 key pair."""
        ...

    def mlkem768_from_seed(self, seed: Buffer) -> MlKem768PrivateKey:
        """The key pair of the 64-byte seed d || z (FIPS 203 ML-KEM.KeyGen_internal)."""
        ...

    def mlkem768_encapsulate(self, public: Buffer) -> tuple[bytes, bytes]:
        """Encapsulate to a 1184-byte key: returns (ciphertext 1088 B, shared secret 32 B).

        ValueError if ``public`` is not 1184 bytes; IllegalParameter if it fails
        the FIPS 203 modulus check (a coefficient >= q).
        """
        ...
