"""TLS 1.3 handshake messages (RFC 8446 section 4) as dataclasses.

Every message class has the codec vocabulary of
:mod:`ferrotls.messages.extensions`:

* ``write(w)`` / ``read(r)`` -- the body on a :class:`Writer` / :class:`Reader`,
  without the handshake header (``read`` leaves the end check to its caller);
* ``to_bytes()`` / ``from_bytes(body)`` -- the whole body as ``bytes``
  (``from_bytes`` rejects trailing bytes);
* ``msg_type`` -- its HandshakeType.

The module functions deal with the 4-byte handshake header (uint8 msg_type,
uint24 length): :func:`encode_handshake` returns the framed message;
:func:`decode_handshake` maps ``(msg_type, body)`` -- the header already split
off -- to a message object, and :func:`decode_handshake_message` decodes one
framed message.  An unknown type becomes :class:`UnknownHandshake` (the state
machine rejects it).
A ServerHello whose random is :data:`HRR_RANDOM` decodes as
:class:`HelloRetryRequest` (``is_hrr`` is True), whose extensions are decoded in
the HRR context.

Legacy fields are kept exactly as received so that
``decode_handshake(t, b).to_bytes() == b``:
the transcript hash can be computed from the re-encoded message.  Decoding
raises only DecodeError, or IllegalParameter where RFC 8446 names that alert
(KeyUpdate.request_update not 0/1, pre_shared_key not last in ClientHello,
duplicate extensions).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Self, TypeAlias, TypeVar

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:  # typing_extensions is a dependency only before 3.12
    from typing_extensions import Buffer

from ..errors import DecodeError, IllegalParameter
from .codec import Reader, Writer
from .enums import (
    CertificateCompressionAlgorithm,
    CipherSuite,
    ExtensionType,
    HandshakeType,
    KeyUpdateRequest,
    SignatureScheme,
    coerce,
)
from .extensions import (
    Context,
    Extension,
    PreSharedKeyClientHello,
    decode_extensions,
    encode_extensions,
    find_extension,
    get_extension,
)

__all__ = [
    "HANDSHAKE_CLASSES",
    "HRR_RANDOM",
    "AnyHandshake",
    "Certificate",
    "CertificateEntry",
    "CertificateRequest",
    "CertificateVerify",
    "ClientHello",
    "CompressedCertificate",
    "EncryptedExtensions",
    "EndOfEarlyData",
    "Finished",
    "HandshakeMessage",
    "HelloRetryRequest",
    "KeyUpdate",
    "MessageHash",
    "NewSessionTicket",
    "ServerHello",
    "UnknownHandshake",
    "decode_handshake",
    "decode_handshake_message",
    "decode_server_hello",
    "encode_handshake",
]

HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
"""ServerHello.random that marks a HelloRetryRequest: SHA-256("HelloRetryRequest")."""

_X = TypeVar("_X", bound=Extension)


class HandshakeMessage:
    """Base of every handshake message body."""

    __slots__ = ()

    MSG_TYPE: ClassVar[int]

    @property
    def msg_type(self) -> int:
        """The HandshakeType code point."""
        return self.MSG_TYPE

    def write(self, w: Writer) -> None:
        """Write the message body (without the handshake header)."""
        raise NotImplementedError

    @classmethod
    def read(cls, r: Reader) -> Self:
        """Read the message body from ``r`` (callers check the end)."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """The encoded body (without the handshake header); see :func:`encode_handshake`."""
        w = Writer()
        self.write(w)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, body: Buffer) -> Self:
        """Decode a whole body (without the header); trailing bytes raise DecodeError."""
        r = Reader(body)
        msg = cls.read(r)
        r.expect_end(cls.__name__)
        return msg


class _HasExtensions:
    """Lookup helpers for messages that carry an ``extensions`` list."""

    __slots__ = ()
    extensions: list[Extension]

    def find(self, ext_type: int) -> Extension | None:
        """The extension of ``ext_type`` (decoded or raw), or None."""
        return find_extension(self.extensions, ext_type)

    def get(self, cls: type[_X]) -> _X | None:
        """The extension decoded as ``cls``, or None."""
        return get_extension(self.extensions, cls)

    def has(self, ext_type: int) -> bool:
        """True if an extension of ``ext_type`` is present."""
        return find_extension(self.extensions, ext_type) is not None


def _read_random(r: Reader) -> bytes:
    return r.bytes(32, "random")


# ---------------------------------------------------------------------------
# ClientHello


@dataclass(slots=True, kw_only=True)
class ClientHello(_HasExtensions, HandshakeMessage):
    """ClientHello (RFC 8446 section 4.1.2).

    ``extensions_absent`` records a pre-TLS-1.2-style ClientHello that has no
    extensions block at all (so it re-encodes exactly); negotiation rejects it
    with protocol_version.  The pre_shared_key extension, if any, must be last
    (IllegalParameter otherwise).

    ``legacy_cookie`` is DTLS's field after legacy_session_id (RFC 6347 section
    4.2.1, RFC 9147 section 5.3): None for TLS (no such field), bytes for DTLS,
    whose ClientHello is read with :meth:`from_dtls_bytes`.
    """

    MSG_TYPE = HandshakeType.CLIENT_HELLO

    legacy_version: int = 0x0303
    random: bytes
    legacy_session_id: bytes = b""
    cipher_suites: list[int]
    legacy_compression_methods: bytes = b"\x00"
    extensions: list[Extension] = field(default_factory=list)
    extensions_absent: bool = False
    legacy_cookie: bytes | None = None

    def write(self, w: Writer) -> None:
        w.u16(self.legacy_version)
        if len(self.random) != 32:
            raise ValueError("ClientHello.random must be 32 bytes")
        w.write(self.random)
        w.opaque8(self.legacy_session_id)
        if self.legacy_cookie is not None:
            w.opaque8(self.legacy_cookie)
        w.uint_list(2, 2, self.cipher_suites)
        w.opaque8(self.legacy_compression_methods)
        if self.extensions_absent and not self.extensions:
            return
        encode_extensions(w, self.extensions)

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls._read(r, dtls=False)

    @classmethod
    def from_dtls_bytes(cls, body: Buffer) -> Self:
        """Decode a whole DTLS ClientHello body (with legacy_cookie)."""
        r = Reader(body)
        msg = cls._read(r, dtls=True)
        r.expect_end(cls.__name__)
        return msg

    @classmethod
    def _read(cls, r: Reader, dtls: bool) -> Self:
        legacy_version = r.u16("legacy_version")
        random = _read_random(r)
        session_id = r.opaque8(0, 32, what="legacy_session_id")
        cookie = r.opaque8(0, 255, what="legacy_cookie") if dtls else None
        suites = r.uint_list(2, 2, 2, 0xFFFE, what="cipher_suites")
        compression = r.opaque8(1, what="legacy_compression_methods")
        if r.at_end():
            extensions: list[Extension] = []
            absent = True
        else:
            # no minimum: a TLS 1.2 ClientHello may carry one extension or none (a TLS
            # 1.3 one needs supported_versions, which the handshake checks)
            extensions = decode_extensions(r, Context.CH, dtls=dtls)
            absent = False
            for ext in extensions[:-1]:
                if ext.ext_type == ExtensionType.PRE_SHARED_KEY:
                    raise IllegalParameter("pre_shared_key is not the last ClientHello extension")
        return cls(
            legacy_version=legacy_version,
            random=random,
            legacy_session_id=session_id,
            cipher_suites=[coerce(CipherSuite, s) for s in suites],
            legacy_compression_methods=compression,
            extensions=extensions,
            extensions_absent=absent,
            legacy_cookie=cookie,
        )

    # -- PSK binders (RFC 8446 section 4.2.11.2) -----------------------------

    def psk_offer(self) -> PreSharedKeyClientHello | None:
        """The pre_shared_key offer if it is the last extension, else None."""
        if self.extensions and isinstance(self.extensions[-1], PreSharedKeyClientHello):
            return self.extensions[-1]
        return None

    def _require_psk(self) -> PreSharedKeyClientHello:
        offer = self.psk_offer()
        if offer is None:
            raise ValueError("ClientHello has no pre_shared_key as its last extension")
        return offer

    def binders_length(self) -> int:
        """Bytes at the end of the encoded ClientHello taken by the binders vector.

        This includes the binders' 2-byte length; ``encoded[:-binders_length()]``
        is the truncated ClientHello over which binders are computed.
        """
        return self._require_psk().binders_length()

    def encode_truncated(self) -> bytes:
        """Truncate(ClientHello): the *framed* message (4-byte header with the full
        length) up to and including PreSharedKeyExtension.identities.

        Binders must already have their final lengths (placeholders of the
        hash length); the result does not depend on their values.
        """
        framed = encode_handshake(self)
        return framed[: len(framed) - self.binders_length()]

    def set_binders(self, binders: Sequence[bytes]) -> None:
        """Replace the binder values; count and lengths must match the placeholders."""
        offer = self._require_psk()
        if [len(b) for b in binders] != [len(b) for b in offer.binders]:
            raise ValueError("binders must keep the count and lengths of the placeholders")
        offer.binders = [bytes(b) for b in binders]


# ---------------------------------------------------------------------------
# ServerHello / HelloRetryRequest


def _read_server_hello_tail(r: Reader, ctx: Context) -> tuple[bytes, int, int, list[Extension]]:
    session_id = r.opaque8(0, 32, what="legacy_session_id_echo")
    suite = coerce(CipherSuite, r.u16("cipher_suite"))
    compression = r.u8("legacy_compression_method")
    # TLS 1.2 syntax (RFC 5246 section 7.4.1.3): the extensions block may be absent
    # or short.  A TLS 1.3 ServerHello needs supported_versions, which the handshake
    # checks (protocol_version / illegal_parameter), so no length rule here.
    extensions = [] if r.at_end() else decode_extensions(r, ctx)
    return session_id, suite, compression, extensions


@dataclass(slots=True, kw_only=True)
class ServerHello(_HasExtensions, HandshakeMessage):
    """ServerHello (RFC 8446 section 4.1.3), extensions decoded in the SH context.

    ``decode_handshake`` returns a :class:`HelloRetryRequest` instead when the
    random is HRR_RANDOM; ``ServerHello.from_bytes`` directly never does,
    but ``is_hrr`` still tells.
    """

    MSG_TYPE = HandshakeType.SERVER_HELLO

    legacy_version: int = 0x0303
    random: bytes
    legacy_session_id_echo: bytes = b""
    cipher_suite: int
    legacy_compression_method: int = 0
    extensions: list[Extension] = field(default_factory=list)

    @property
    def is_hrr(self) -> bool:
        """True if ``random`` is the HelloRetryRequest marker."""
        return self.random == HRR_RANDOM

    def write(self, w: Writer) -> None:
        w.u16(self.legacy_version)
        if len(self.random) != 32:
            raise ValueError("ServerHello.random must be 32 bytes")
        w.write(self.random)
        w.opaque8(self.legacy_session_id_echo)
        w.u16(self.cipher_suite)
        w.u8(self.legacy_compression_method)
        encode_extensions(w, self.extensions)

    @classmethod
    def read(cls, r: Reader) -> Self:
        legacy_version = r.u16("legacy_version")
        random = _read_random(r)
        session_id, suite, compression, extensions = _read_server_hello_tail(r, Context.SH)
        return cls(
            legacy_version=legacy_version,
            random=random,
            legacy_session_id_echo=session_id,
            cipher_suite=suite,
            legacy_compression_method=compression,
            extensions=extensions,
        )


@dataclass(slots=True, kw_only=True)
class HelloRetryRequest(_HasExtensions, HandshakeMessage):
    """HelloRetryRequest: a ServerHello with random = HRR_RANDOM (RFC 8446 section 4.1.4).

    Its extensions are decoded in the HRR context (key_share = selected_group).
    """

    MSG_TYPE = HandshakeType.SERVER_HELLO
    random: ClassVar[bytes] = HRR_RANDOM

    legacy_version: int = 0x0303
    legacy_session_id_echo: bytes = b""
    cipher_suite: int
    legacy_compression_method: int = 0
    extensions: list[Extension] = field(default_factory=list)

    @property
    def is_hrr(self) -> bool:
        """Always True."""
        return True

    def write(self, w: Writer) -> None:
        w.u16(self.legacy_version)
        w.write(HRR_RANDOM)
        w.opaque8(self.legacy_session_id_echo)
        w.u16(self.cipher_suite)
        w.u8(self.legacy_compression_method)
        encode_extensions(w, self.extensions)

    @classmethod
    def read(cls, r: Reader) -> Self:
        legacy_version = r.u16("legacy_version")
        if _read_random(r) != HRR_RANDOM:
            raise DecodeError("HelloRetryRequest without the HelloRetryRequest random")
        session_id, suite, compression, extensions = _read_server_hello_tail(r, Context.HRR)
        return cls(
            legacy_version=legacy_version,
            legacy_session_id_echo=session_id,
            cipher_suite=suite,
            legacy_compression_method=compression,
            extensions=extensions,
        )


def decode_server_hello(body: Buffer) -> ServerHello | HelloRetryRequest:
    """Decode a server_hello body as ServerHello or, by its random, HelloRetryRequest."""
    view = memoryview(body).cast("B")
    if view[2:34] == HRR_RANDOM:
        return HelloRetryRequest.from_bytes(view)
    return ServerHello.from_bytes(view)


# ---------------------------------------------------------------------------
# Encrypted flight


@dataclass(slots=True, kw_only=True)
class EncryptedExtensions(_HasExtensions, HandshakeMessage):
    """EncryptedExtensions: Extension extensions<0..2^16-1> (EE context)."""

    MSG_TYPE = HandshakeType.ENCRYPTED_EXTENSIONS

    extensions: list[Extension] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        encode_extensions(w, self.extensions)

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls(extensions=decode_extensions(r, Context.EE))


@dataclass(slots=True, kw_only=True)
class CertificateRequest(_HasExtensions, HandshakeMessage):
    """CertificateRequest: opaque certificate_request_context<0..2^8-1>;
    Extension extensions<2..2^16-1> (CR context)."""

    MSG_TYPE = HandshakeType.CERTIFICATE_REQUEST

    certificate_request_context: bytes = b""
    extensions: list[Extension] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        w.opaque8(self.certificate_request_context)
        encode_extensions(w, self.extensions)

    @classmethod
    def read(cls, r: Reader) -> Self:
        context = r.opaque8(what="certificate_request_context")
        return cls(
            certificate_request_context=context,
            extensions=decode_extensions(r, Context.CR, 2),
        )


@dataclass(slots=True, kw_only=True)
class CertificateEntry(_HasExtensions):
    """CertificateEntry: opaque cert_data<1..2^24-1>; Extension extensions<0..2^16-1>.

    ``cert_data`` is a DER certificate (or a SubjectPublicKeyInfo for raw public
    keys -- the wire format is the same).
    """

    cert_data: bytes
    extensions: list[Extension] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        """Write the entry."""
        w.opaque24(self.cert_data)
        encode_extensions(w, self.extensions)

    @classmethod
    def read(cls, r: Reader) -> CertificateEntry:
        """Read one entry."""
        data = r.opaque24(1, what="cert_data")
        return cls(cert_data=data, extensions=decode_extensions(r, Context.CT))


@dataclass(slots=True, kw_only=True)
class Certificate(HandshakeMessage):
    """Certificate: opaque certificate_request_context<0..2^8-1>;
    CertificateEntry certificate_list<0..2^24-1>."""

    MSG_TYPE = HandshakeType.CERTIFICATE

    certificate_request_context: bytes = b""
    certificate_list: list[CertificateEntry] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        w.opaque8(self.certificate_request_context)
        with w.vec24():
            for entry in self.certificate_list:
                entry.write(w)

    @classmethod
    def read(cls, r: Reader) -> Self:
        context = r.opaque8(what="certificate_request_context")
        lst = r.vec24(what="certificate_list")
        entries = []
        while not lst.at_end():
            entries.append(CertificateEntry.read(lst))
        return cls(certificate_request_context=context, certificate_list=entries)


@dataclass(slots=True, kw_only=True)
class CertificateVerify(HandshakeMessage):
    """CertificateVerify: SignatureScheme algorithm; opaque signature<0..2^16-1>."""

    MSG_TYPE = HandshakeType.CERTIFICATE_VERIFY

    algorithm: int
    signature: bytes

    def write(self, w: Writer) -> None:
        w.u16(self.algorithm)
        w.opaque16(self.signature)

    @classmethod
    def read(cls, r: Reader) -> Self:
        algorithm = coerce(SignatureScheme, r.u16("algorithm"))
        return cls(algorithm=algorithm, signature=r.opaque16(what="signature"))


@dataclass(slots=True, kw_only=True)
class Finished(HandshakeMessage):
    """Finished: verify_data is the whole body (its length is checked by the handshake)."""

    MSG_TYPE = HandshakeType.FINISHED

    verify_data: bytes

    def write(self, w: Writer) -> None:
        w.write(self.verify_data)

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls(verify_data=r.rest())


# ---------------------------------------------------------------------------
# Post-handshake and other messages


@dataclass(slots=True, kw_only=True)
class NewSessionTicket(_HasExtensions, HandshakeMessage):
    """NewSessionTicket (RFC 8446 section 4.6.1).

    uint32 ticket_lifetime; uint32 ticket_age_add; opaque ticket_nonce<0..255>;
    opaque ticket<1..2^16-1>; Extension extensions<0..2^16-2> (NST context).
    """

    MSG_TYPE = HandshakeType.NEW_SESSION_TICKET

    ticket_lifetime: int
    ticket_age_add: int
    ticket_nonce: bytes
    ticket: bytes
    extensions: list[Extension] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        w.u32(self.ticket_lifetime)
        w.u32(self.ticket_age_add)
        w.opaque8(self.ticket_nonce)
        w.opaque16(self.ticket)
        encode_extensions(w, self.extensions)

    @classmethod
    def read(cls, r: Reader) -> Self:
        lifetime = r.u32("ticket_lifetime")
        age_add = r.u32("ticket_age_add")
        nonce = r.opaque8(what="ticket_nonce")
        ticket = r.opaque16(1, what="ticket")
        extensions = decode_extensions(r, Context.NST, 0, 0xFFFE)
        return cls(
            ticket_lifetime=lifetime,
            ticket_age_add=age_add,
            ticket_nonce=nonce,
            ticket=ticket,
            extensions=extensions,
        )


@dataclass(slots=True, kw_only=True)
class EndOfEarlyData(HandshakeMessage):
    """EndOfEarlyData: empty body."""

    MSG_TYPE = HandshakeType.END_OF_EARLY_DATA

    def write(self, w: Writer) -> None:
        pass

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls()


@dataclass(slots=True, kw_only=True)
class KeyUpdate(HandshakeMessage):
    """KeyUpdate: KeyUpdateRequest request_update.

    RFC 8446 section 4.6.3: any value other than 0 or 1 is illegal_parameter.
    """

    MSG_TYPE = HandshakeType.KEY_UPDATE

    request_update: int = KeyUpdateRequest.UPDATE_NOT_REQUESTED

    def write(self, w: Writer) -> None:
        w.u8(self.request_update)

    @classmethod
    def read(cls, r: Reader) -> Self:
        value = r.u8("request_update")
        if value not in (0, 1):
            raise IllegalParameter(f"KeyUpdate.request_update {value} is not 0 or 1")
        return cls(request_update=KeyUpdateRequest(value))


@dataclass(slots=True, kw_only=True)
class MessageHash(HandshakeMessage):
    """message_hash (RFC 8446 section 4.4.1): Hash(ClientHello1) replacing CH1 after HRR."""

    MSG_TYPE = HandshakeType.MESSAGE_HASH

    hash: bytes

    def write(self, w: Writer) -> None:
        w.write(self.hash)

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls(hash=r.rest())


@dataclass(slots=True, kw_only=True)
class CompressedCertificate(HandshakeMessage):
    """CompressedCertificate (RFC 8879): algorithm; uint24 uncompressed_length;
    opaque compressed_certificate_message<1..2^24-1>."""

    MSG_TYPE = HandshakeType.COMPRESSED_CERTIFICATE

    algorithm: int
    uncompressed_length: int
    compressed_certificate_message: bytes

    def write(self, w: Writer) -> None:
        w.u16(self.algorithm)
        w.u24(self.uncompressed_length)
        w.opaque24(self.compressed_certificate_message)

    @classmethod
    def read(cls, r: Reader) -> Self:
        algorithm = coerce(CertificateCompressionAlgorithm, r.u16("algorithm"))
        length = r.u24("uncompressed_length")
        data = r.opaque24(1, what="compressed_certificate_message")
        return cls(
            algorithm=algorithm, uncompressed_length=length, compressed_certificate_message=data
        )


@dataclass(slots=True, kw_only=True)
class UnknownHandshake(HandshakeMessage):
    """A handshake message of a type this codec does not know, kept raw."""

    type: int
    body: bytes = b""

    @property
    def msg_type(self) -> int:
        return self.type

    def write(self, w: Writer) -> None:
        w.write(self.body)

    @classmethod
    def read(cls, r: Reader) -> Self:
        raise TypeError("UnknownHandshake is built by decode_handshake, not read")


AnyHandshake: TypeAlias = (
    ClientHello
    | ServerHello
    | HelloRetryRequest
    | EncryptedExtensions
    | CertificateRequest
    | Certificate
    | CertificateVerify
    | Finished
    | NewSessionTicket
    | EndOfEarlyData
    | KeyUpdate
    | MessageHash
    | CompressedCertificate
    | UnknownHandshake
)
"""Every type :func:`decode_handshake` can return."""

HANDSHAKE_CLASSES: dict[int, type[HandshakeMessage]] = {
    cls.MSG_TYPE: cls
    for cls in (
        ClientHello,
        ServerHello,  # HelloRetryRequest is chosen by its random
        EncryptedExtensions,
        CertificateRequest,
        Certificate,
        CertificateVerify,
        Finished,
        NewSessionTicket,
        EndOfEarlyData,
        KeyUpdate,
        MessageHash,
        CompressedCertificate,
    )
}
"""HandshakeType -> message class (server_hello maps to ServerHello; see decode_handshake)."""


def encode_handshake(msg: HandshakeMessage) -> bytes:
    """``msg`` with its 4-byte handshake header: uint8 msg_type, uint24 length, body.

    :meth:`HandshakeMessage.to_bytes` is the body alone.
    """
    w = Writer()
    w.u8(msg.msg_type)
    with w.vec24():
        msg.write(w)
    return w.getvalue()


def decode_handshake(msg_type: int, body: Buffer) -> AnyHandshake:
    """Decode the body of a handshake message whose 4-byte header has been read.

    ``msg_type`` comes from that header and picks the class (a server_hello
    becomes ServerHello or HelloRetryRequest by its random); ``body`` is the
    whole body, and a known type that leaves bytes over raises DecodeError.
    Unknown types yield :class:`UnknownHandshake`; the state machine decides
    whether a message is acceptable.  :func:`decode_handshake_message` takes
    the framed message.
    """
    if msg_type == HandshakeType.SERVER_HELLO:
        return decode_server_hello(body)
    cls = HANDSHAKE_CLASSES.get(msg_type)
    if cls is None:
        return UnknownHandshake(type=msg_type, body=bytes(body))
    return cls.from_bytes(body)  # type: ignore[return-value]


def decode_handshake_message(data: Buffer) -> AnyHandshake:
    """Decode one complete framed handshake message (header + body, nothing after)."""
    r = Reader(data)
    msg_type = r.u8("msg_type")
    body = r.vec24(what="handshake message")
    r.expect_end("handshake message")
    return decode_handshake(msg_type, body.rest())
