"""TLS extensions: one dataclass per extension body, a registry, and block codecs.

An extension block is decoded into a ``list[Extension]`` that keeps the wire
order.  Each element is the dataclass registered for ``(extension_type,
context)`` -- the same type decodes differently in a ClientHello, a ServerHello
or a HelloRetryRequest (RFC 8446 section 4.2) -- or, for a type that is unknown
(GREASE) or not defined in that context, an :class:`UnknownExtension` holding
the raw body.  Every known body has exactly one encoding, so
``encode_extensions(decode_extensions(b)) == b`` byte for byte.

Codec vocabulary (the same as :mod:`ferrotls.messages.handshake`):

* ``write(w)`` / ``read(r, ctx)`` -- the extension_data on a :class:`Writer` /
  :class:`Reader`, without the type and length (``read`` leaves the end check
  to its caller);
* ``to_bytes()`` / ``from_bytes(data, ctx)`` -- the whole extension_data as
  ``bytes`` (``from_bytes`` rejects trailing bytes);
* :func:`encode_extensions` / :func:`decode_extensions` -- a whole extensions
  block, each entry with its type and length.

Whether an extension is *allowed* in a message is not decided here: the
handshake state machine rejects misplaced extensions (unsupported_extension /
illegal_parameter).  Decoding raises only :class:`~ferrotls.errors.DecodeError`
for malformed bytes and :class:`~ferrotls.errors.IllegalParameter` where RFC 8446
names that alert (duplicate extension type, duplicate key-share group, PSK
binder count mismatch, record_size_limit below 64).
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Self, TypeVar

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:  # typing_extensions is a dependency only before 3.12
    from typing_extensions import Buffer

from ..errors import DecodeError, IllegalParameter
from .codec import Reader, Writer
from .enums import (
    CertificateCompressionAlgorithm,
    ExtensionType,
    NamedGroup,
    ProtocolVersion,
    PskKeyExchangeMode,
    ServerNameType,
    SignatureScheme,
    coerce,
    members_by_value,
)

__all__ = [
    "ALPN",
    "REGISTRY",
    "CertificateAuthorities",
    "CompressCertificate",
    "Context",
    "ConnectionId",
    "Cookie",
    "ECPointFormats",
    "EarlyData",
    "ExtendedMasterSecret",
    "Extension",
    "KeyShareClientHello",
    "KeyShareEntry",
    "KeyShareHelloRetryRequest",
    "KeyShareServerHello",
    "OidFilter",
    "OidFilters",
    "Padding",
    "PostHandshakeAuth",
    "PreSharedKeyClientHello",
    "PreSharedKeyServerHello",
    "PskIdentity",
    "PskKeyExchangeModes",
    "RecordSizeLimit",
    "RenegotiationInfo",
    "ServerName",
    "ServerNameEntry",
    "SessionTicket",
    "SignatureAlgorithms",
    "SignatureAlgorithmsCert",
    "StatusRequest",
    "SupportedGroups",
    "SupportedVersionsClientHello",
    "SupportedVersionsServerHello",
    "TicketEarlyDataInfo",
    "UnknownExtension",
    "MalformedExtension",
    "TLS12_ONLY",
    "malformed_extension",
    "decode_extensions",
    "encode_extensions",
    "find_extension",
    "get_extension",
]


class Context(enum.Enum):
    """The message an extension block belongs to (RFC 8446 section 4.2 table)."""

    CH = "ClientHello"
    SH = "ServerHello"
    HRR = "HelloRetryRequest"
    EE = "EncryptedExtensions"
    CT = "Certificate"
    CR = "CertificateRequest"
    NST = "NewSessionTicket"


_ALL = frozenset(Context)


class Extension:
    """Base of every extension body.

    Subclasses set ``TYPE`` (the ExtensionType) and ``CONTEXTS`` (the messages in
    which this body class is used for decoding) and implement ``write(w)``
    (body only, without type and length) and ``read(r, ctx)``; ``to_bytes`` and
    ``from_bytes`` are built on them.
    """

    __slots__ = ()

    TYPE: ClassVar[int]
    CONTEXTS: ClassVar[frozenset[Context]] = frozenset()

    @property
    def ext_type(self) -> int:
        """The extension_type code point."""
        return self.TYPE

    def write(self, w: Writer) -> None:
        """Write the extension_data (without type and length)."""
        raise NotImplementedError

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        """Read the extension_data from ``r`` (the caller checks the end)."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """The encoded extension_data (without type and length)."""
        w = Writer()
        self.write(w)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: Buffer, ctx: Context) -> Self:
        """Decode a whole extension_data for message ``ctx``; trailing bytes raise DecodeError."""
        r = Reader(data)
        ext = cls.read(r, ctx)
        r.expect_end(f"{cls.__name__} extension")
        return ext


@dataclass(slots=True)
class UnknownExtension(Extension):
    """An extension kept as raw bytes: unknown/GREASE type or unsupported context."""

    type: int
    data: bytes = b""

    @property
    def ext_type(self) -> int:
        return self.type

    def write(self, w: Writer) -> None:
        w.write(self.data)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        raise TypeError("UnknownExtension is built by decode_extensions, not read")


@dataclass(slots=True)
class MalformedExtension(UnknownExtension):
    """A TLS 1.2-only extension (TLS12_ONLY) in a ClientHello whose body does not
    decode, kept raw with the reason.  It means nothing if TLS 1.3 is negotiated,
    so it is ignored then (as OpenSSL does); a TLS 1.2 server raises
    ``DecodeError(error)`` (decode_error)."""

    error: str = ""


# ---------------------------------------------------------------------------
# Small helpers for bodies


@dataclass(slots=True)
class _Empty(Extension):
    """An extension whose body is empty."""

    def write(self, w: Writer) -> None:
        pass

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls()


@dataclass(slots=True)
class _U16List(Extension):
    """A body that is one vector of uint16 code points."""

    PREFIX: ClassVar[int] = 2
    MIN: ClassVar[int] = 2
    MAX: ClassVar[int] = 0xFFFF
    ENUM: ClassVar[type[enum.IntEnum] | None] = None
    FIELD: ClassVar[str]
    """Name of the subclass's one field, the list of code points."""

    def write(self, w: Writer) -> None:
        w.uint_list(self.PREFIX, 2, getattr(self, self.FIELD))

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        values = r.uint_list(cls.PREFIX, 2, cls.MIN, cls.MAX, what=cls.__name__)
        if cls.ENUM is not None:
            members = members_by_value(cls.ENUM)
            values = [members.get(v, v) for v in values]
        return cls(values)  # type: ignore[call-arg]


# ---------------------------------------------------------------------------
# RFC 6066 / 8446 bodies


@dataclass(slots=True)
class ServerNameEntry:
    """One ServerName: name_type and name (HostName for name_type 0)."""

    name_type: int
    name: bytes


@dataclass(slots=True)
class ServerName(Extension):
    """server_name (RFC 6066 section 3).

    ``names is None`` is the empty body a server sends to acknowledge SNI
    (in EncryptedExtensions); a ClientHello requires a non-empty list.
    """

    TYPE = ExtensionType.SERVER_NAME
    CONTEXTS = frozenset({Context.CH, Context.SH, Context.EE})

    names: list[ServerNameEntry] | None = None

    @classmethod
    def for_host(cls, host: str) -> ServerName:
        """A ClientHello server_name with one host_name (ASCII/A-label)."""
        return cls([ServerNameEntry(ServerNameType.HOST_NAME, host.encode("ascii"))])

    @property
    def host_name(self) -> bytes | None:
        """The first host_name, or None."""
        for entry in self.names or ():
            if entry.name_type == ServerNameType.HOST_NAME:
                return entry.name
        return None

    def write(self, w: Writer) -> None:
        if self.names is None:
            return
        with w.vec16():
            for entry in self.names:
                w.u8(entry.name_type)
                w.opaque16(entry.name)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        if r.at_end() and ctx is not Context.CH:
            return cls(None)
        lst = r.vec16(1, what="server_name_list")
        names = []
        while not lst.at_end():
            name_type = coerce(ServerNameType, lst.u8("name_type"))
            minimum = 1 if name_type == ServerNameType.HOST_NAME else 0
            names.append(ServerNameEntry(name_type, lst.opaque16(minimum, what="HostName")))
        return cls(names)


@dataclass(slots=True)
class StatusRequest(Extension):
    """status_request (RFC 6066 section 8 / RFC 8446 section 4.4.2.1), body kept raw."""

    TYPE = ExtensionType.STATUS_REQUEST
    CONTEXTS = frozenset({Context.CH, Context.CR, Context.CT})

    data: bytes = b""

    def write(self, w: Writer) -> None:
        w.write(self.data)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(r.rest())


@dataclass(slots=True)
class SupportedGroups(_U16List):
    """supported_groups: NamedGroup named_group_list<2..2^16-1>."""

    TYPE = ExtensionType.SUPPORTED_GROUPS
    CONTEXTS = frozenset({Context.CH, Context.EE})
    ENUM = NamedGroup

    FIELD = "groups"
    groups: list[int] = field(default_factory=list)


@dataclass(slots=True)
class SignatureAlgorithms(_U16List):
    """signature_algorithms: SignatureScheme supported_signature_algorithms<2..2^16-2>."""

    TYPE = ExtensionType.SIGNATURE_ALGORITHMS
    CONTEXTS = frozenset({Context.CH, Context.CR})
    MAX = 0xFFFE
    ENUM = SignatureScheme

    FIELD = "schemes"
    schemes: list[int] = field(default_factory=list)


@dataclass(slots=True)
class SignatureAlgorithmsCert(SignatureAlgorithms):
    """signature_algorithms_cert: same body as signature_algorithms."""

    TYPE = ExtensionType.SIGNATURE_ALGORITHMS_CERT


@dataclass(slots=True)
class ALPN(Extension):
    """application_layer_protocol_negotiation (RFC 7301).

    ProtocolName protocol_name_list<2..2^16-1>, ProtocolName = opaque<1..2^8-1>.
    In EncryptedExtensions the list must hold exactly one name; that is checked
    by negotiation, not here.
    """

    TYPE = ExtensionType.ALPN
    CONTEXTS = frozenset({Context.CH, Context.SH, Context.EE})  # SH: TLS 1.2 (RFC 7301)

    protocols: list[bytes] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        with w.vec16():
            for name in self.protocols:
                w.opaque8(name)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        lst = r.vec16(2, what="protocol_name_list")
        names = []
        while not lst.at_end():
            names.append(lst.opaque8(1, what="ProtocolName"))
        return cls(names)


@dataclass(slots=True)
class Padding(Extension):
    """padding (RFC 7685): ``length`` zero bytes; non-zero content is a DecodeError."""

    TYPE = ExtensionType.PADDING
    CONTEXTS = frozenset({Context.CH})

    length: int = 0

    def write(self, w: Writer) -> None:
        w.write(bytes(self.length))

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        data = r.rest()
        if data.count(0) != len(data):
            raise DecodeError("padding extension contains non-zero bytes")
        return cls(len(data))


@dataclass(slots=True)
class CompressCertificate(_U16List):
    """compress_certificate (RFC 8879): CertificateCompressionAlgorithm algorithms<2..2^8-2>."""

    TYPE = ExtensionType.COMPRESS_CERTIFICATE
    CONTEXTS = frozenset({Context.CH, Context.CR})
    PREFIX = 1
    MAX = 0xFE
    ENUM = CertificateCompressionAlgorithm

    FIELD = "algorithms"
    algorithms: list[int] = field(default_factory=list)


@dataclass(slots=True)
class RecordSizeLimit(Extension):
    """record_size_limit (RFC 8449): uint16 RecordSizeLimit; below 64 is illegal_parameter."""

    TYPE = ExtensionType.RECORD_SIZE_LIMIT
    CONTEXTS = frozenset({Context.CH, Context.SH, Context.EE})  # SH: TLS 1.2 (RFC 8449)

    limit: int = 0x4001

    def write(self, w: Writer) -> None:
        w.u16(self.limit)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        limit = r.u16("RecordSizeLimit")
        if limit < 64:
            raise IllegalParameter(f"record_size_limit {limit} is below 64 (RFC 8449)")
        return cls(limit)


@dataclass(slots=True)
class ConnectionId(Extension):
    """connection_id (RFC 9146 section 3, RFC 9147 section 9): opaque cid<0..2^8-1>,
    the CID the sender wants in the records sent to it (empty: none, but it will
    send the peer's).  In ClientHello and ServerHello."""

    TYPE = ExtensionType.CONNECTION_ID
    CONTEXTS = frozenset({Context.CH, Context.SH})

    cid: bytes = b""

    def write(self, w: Writer) -> None:
        w.opaque8(self.cid)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(r.opaque8(what="connection_id"))


@dataclass(slots=True)
class PskIdentity:
    """PskIdentity: opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age."""

    identity: bytes
    obfuscated_ticket_age: int


@dataclass(slots=True)
class PreSharedKeyClientHello(Extension):
    """pre_shared_key in ClientHello: OfferedPsks (RFC 8446 section 4.2.11).

    PskIdentity identities<7..2^16-1>; PskBinderEntry binders<33..2^16-1>,
    PskBinderEntry = opaque<32..255>.  A binder count that differs from the
    identity count raises IllegalParameter.
    """

    TYPE = ExtensionType.PRE_SHARED_KEY
    CONTEXTS = frozenset({Context.CH})

    identities: list[PskIdentity] = field(default_factory=list)
    binders: list[bytes] = field(default_factory=list)

    def binders_length(self) -> int:
        """Encoded size of the binders vector, including its 2-byte length."""
        return 2 + sum(1 + len(b) for b in self.binders)

    def write(self, w: Writer) -> None:
        with w.vec16():
            for ident in self.identities:
                w.opaque16(ident.identity)
                w.u32(ident.obfuscated_ticket_age)
        with w.vec16():
            for binder in self.binders:
                w.opaque8(binder)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        lst = r.vec16(7, what="identities")
        identities = []
        while not lst.at_end():
            ident = lst.opaque16(1, what="PskIdentity.identity")
            identities.append(PskIdentity(ident, lst.u32("obfuscated_ticket_age")))
        blist = r.vec16(33, what="binders")
        binders = []
        while not blist.at_end():
            binders.append(blist.opaque8(32, what="PskBinderEntry"))
        if len(binders) != len(identities):
            raise IllegalParameter(
                f"pre_shared_key has {len(identities)} identities but {len(binders)} binders"
            )
        return cls(identities, binders)


@dataclass(slots=True)
class PreSharedKeyServerHello(Extension):
    """pre_shared_key in ServerHello: uint16 selected_identity."""

    TYPE = ExtensionType.PRE_SHARED_KEY
    CONTEXTS = frozenset({Context.SH})

    selected_identity: int = 0

    def write(self, w: Writer) -> None:
        w.u16(self.selected_identity)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(r.u16("selected_identity"))


@dataclass(slots=True)
class EarlyData(_Empty):
    """early_data in ClientHello / EncryptedExtensions: empty body."""

    TYPE = ExtensionType.EARLY_DATA
    CONTEXTS = frozenset({Context.CH, Context.EE})


@dataclass(slots=True)
class TicketEarlyDataInfo(Extension):
    """early_data in NewSessionTicket: uint32 max_early_data_size."""

    TYPE = ExtensionType.EARLY_DATA
    CONTEXTS = frozenset({Context.NST})

    max_early_data_size: int = 0

    def write(self, w: Writer) -> None:
        w.u32(self.max_early_data_size)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(r.u32("max_early_data_size"))


@dataclass(slots=True)
class SupportedVersionsClientHello(_U16List):
    """supported_versions in ClientHello: ProtocolVersion versions<2..254> (u8 length)."""

    TYPE = ExtensionType.SUPPORTED_VERSIONS
    CONTEXTS = frozenset({Context.CH})
    PREFIX = 1
    MAX = 254
    ENUM = ProtocolVersion

    FIELD = "versions"
    versions: list[int] = field(default_factory=list)


@dataclass(slots=True)
class SupportedVersionsServerHello(Extension):
    """supported_versions in ServerHello / HelloRetryRequest: one selected_version."""

    TYPE = ExtensionType.SUPPORTED_VERSIONS
    CONTEXTS = frozenset({Context.SH, Context.HRR})

    selected_version: int = ProtocolVersion.TLS13

    def write(self, w: Writer) -> None:
        w.u16(self.selected_version)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(coerce(ProtocolVersion, r.u16("selected_version")))


@dataclass(slots=True)
class Cookie(Extension):
    """cookie (RFC 8446 section 4.2.2): opaque cookie<1..2^16-1>."""

    TYPE = ExtensionType.COOKIE
    CONTEXTS = frozenset({Context.CH, Context.HRR})

    cookie: bytes = b""

    def write(self, w: Writer) -> None:
        w.opaque16(self.cookie)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(r.opaque16(1, what="cookie"))


@dataclass(slots=True)
class PskKeyExchangeModes(Extension):
    """psk_key_exchange_modes: PskKeyExchangeMode ke_modes<1..255>."""

    TYPE = ExtensionType.PSK_KEY_EXCHANGE_MODES
    CONTEXTS = frozenset({Context.CH})

    modes: list[int] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        w.uint_list(1, 1, self.modes)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        modes = r.uint_list(1, 1, 1, what="ke_modes")
        return cls([coerce(PskKeyExchangeMode, m) for m in modes])


@dataclass(slots=True)
class CertificateAuthorities(Extension):
    """certificate_authorities: DistinguishedName authorities<3..2^16-1>.

    Each DistinguishedName (opaque<1..2^16-1>) is kept as raw DER.
    """

    TYPE = ExtensionType.CERTIFICATE_AUTHORITIES
    CONTEXTS = frozenset({Context.CH, Context.CR})

    authorities: list[bytes] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        with w.vec16():
            for dn in self.authorities:
                w.opaque16(dn)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        lst = r.vec16(3, what="authorities")
        names = []
        while not lst.at_end():
            names.append(lst.opaque16(1, what="DistinguishedName"))
        return cls(names)


@dataclass(slots=True)
class OidFilter:
    """OIDFilter: opaque certificate_extension_oid<1..2^8-1>; opaque values<0..2^16-1>."""

    oid: bytes
    values: bytes


@dataclass(slots=True)
class OidFilters(Extension):
    """oid_filters (CertificateRequest): OIDFilter filters<0..2^16-1>."""

    TYPE = ExtensionType.OID_FILTERS
    CONTEXTS = frozenset({Context.CR})

    filters: list[OidFilter] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        with w.vec16():
            for f in self.filters:
                w.opaque8(f.oid)
                w.opaque16(f.values)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        lst = r.vec16(what="filters")
        filters = []
        while not lst.at_end():
            oid = lst.opaque8(1, what="certificate_extension_oid")
            filters.append(OidFilter(oid, lst.opaque16(what="certificate_extension_values")))
        return cls(filters)


@dataclass(slots=True)
class PostHandshakeAuth(_Empty):
    """post_handshake_auth: empty body (ClientHello)."""

    TYPE = ExtensionType.POST_HANDSHAKE_AUTH
    CONTEXTS = frozenset({Context.CH})


@dataclass(slots=True)
class KeyShareEntry:
    """KeyShareEntry: NamedGroup group; opaque key_exchange<1..2^16-1>."""

    group: int
    key_exchange: bytes

    def write(self, w: Writer) -> None:
        """Write group and key_exchange."""
        w.u16(self.group)
        w.opaque16(self.key_exchange)

    @classmethod
    def read(cls, r: Reader) -> KeyShareEntry:
        """Read one KeyShareEntry."""
        group = coerce(NamedGroup, r.u16("NamedGroup"))
        # <1..2^16-1> on the wire, but an empty share is an invalid public value of
        # its group (illegal_parameter from kx's length check, RFC 8446 4.2.8), not a
        # syntax error; a share for a group we do not implement is ignored either way
        return cls(group, r.opaque16(0, what="key_exchange"))


@dataclass(slots=True)
class KeyShareClientHello(Extension):
    """key_share in ClientHello: KeyShareEntry client_shares<0..2^16-1>.

    Two entries for the same group raise IllegalParameter (RFC 8446 section 4.2.8).
    """

    TYPE = ExtensionType.KEY_SHARE
    CONTEXTS = frozenset({Context.CH})

    client_shares: list[KeyShareEntry] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        with w.vec16():
            for entry in self.client_shares:
                entry.write(w)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        lst = r.vec16(what="client_shares")
        shares: list[KeyShareEntry] = []
        seen: set[int] = set()
        while not lst.at_end():
            entry = KeyShareEntry.read(lst)
            if entry.group in seen:
                raise IllegalParameter(f"two key shares for group 0x{entry.group:04x}")
            seen.add(entry.group)
            shares.append(entry)
        return cls(shares)


@dataclass(slots=True)
class KeyShareServerHello(Extension):
    """key_share in ServerHello: one KeyShareEntry server_share."""

    TYPE = ExtensionType.KEY_SHARE
    CONTEXTS = frozenset({Context.SH})

    server_share: KeyShareEntry = field(default_factory=lambda: KeyShareEntry(0, b""))

    def write(self, w: Writer) -> None:
        self.server_share.write(w)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(KeyShareEntry.read(r))


@dataclass(slots=True)
class KeyShareHelloRetryRequest(Extension):
    """key_share in HelloRetryRequest: NamedGroup selected_group."""

    TYPE = ExtensionType.KEY_SHARE
    CONTEXTS = frozenset({Context.HRR})

    selected_group: int = 0

    def write(self, w: Writer) -> None:
        w.u16(self.selected_group)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(coerce(NamedGroup, r.u16("selected_group")))


# ---------------------------------------------------------------------------
# TLS 1.2 bodies (RFC 7627, 5746, 8422, 5077): decoded in ClientHello and
# ServerHello; policy.ALLOWED lists them for ClientHellos only, so a TLS 1.3
# ServerHello carrying one is illegal_parameter.  (server_name, ALPN and
# record_size_limit decode in a ServerHello too: a TLS 1.2 server answers them
# there; policy.ALLOWED keeps them out of a TLS 1.3 one.)

_TLS12_CONTEXTS = frozenset({Context.CH, Context.SH})
TLS12_ONLY: frozenset[int] = frozenset({
    ExtensionType.EXTENDED_MASTER_SECRET,
    ExtensionType.RENEGOTIATION_INFO,
    ExtensionType.EC_POINT_FORMATS,
    ExtensionType.SESSION_TICKET,
})
"""ClientHello extensions that mean something in TLS 1.2 only: a body that does not
decode is kept as a MalformedExtension, an error only if TLS 1.2 is negotiated."""


@dataclass(slots=True)
class ExtendedMasterSecret(_Empty):
    """extended_master_secret (RFC 7627): empty in both hellos."""

    TYPE = ExtensionType.EXTENDED_MASTER_SECRET
    CONTEXTS = _TLS12_CONTEXTS


@dataclass(slots=True)
class RenegotiationInfo(Extension):
    """renegotiation_info (RFC 5746): opaque renegotiated_connection<0..255>,
    empty on an initial handshake (ferrotls never renegotiates)."""

    TYPE = ExtensionType.RENEGOTIATION_INFO
    CONTEXTS = _TLS12_CONTEXTS

    renegotiated_connection: bytes = b""

    def write(self, w: Writer) -> None:
        w.opaque8(self.renegotiated_connection)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(r.opaque8(what="renegotiated_connection"))


@dataclass(slots=True)
class ECPointFormats(Extension):
    """ec_point_formats (RFC 8422 section 5.1.2): uint8 list; 0 = uncompressed,
    the only format ferrotls sends or accepts."""

    TYPE = ExtensionType.EC_POINT_FORMATS
    CONTEXTS = _TLS12_CONTEXTS

    formats: list[int] = field(default_factory=lambda: [0])

    def write(self, w: Writer) -> None:
        w.uint_list(1, 1, self.formats)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(r.uint_list(1, 1, 1, 0xFF, what="ec_point_formats"))


@dataclass(slots=True)
class SessionTicket(Extension):
    """SessionTicket (RFC 5077): the ticket offered in a ClientHello (empty to ask
    for one); empty in a ServerHello (a NewSessionTicket will follow)."""

    TYPE = ExtensionType.SESSION_TICKET
    CONTEXTS = _TLS12_CONTEXTS

    ticket: bytes = b""

    def write(self, w: Writer) -> None:
        w.write(self.ticket)

    @classmethod
    def read(cls, r: Reader, ctx: Context) -> Self:
        return cls(r.rest())


# ---------------------------------------------------------------------------
# Registry and block codecs

_KNOWN: tuple[type[Extension], ...] = (
    ServerName,
    StatusRequest,
    SupportedGroups,
    SignatureAlgorithms,
    SignatureAlgorithmsCert,
    ALPN,
    Padding,
    CompressCertificate,
    RecordSizeLimit,
    PreSharedKeyClientHello,
    PreSharedKeyServerHello,
    EarlyData,
    TicketEarlyDataInfo,
    SupportedVersionsClientHello,
    SupportedVersionsServerHello,
    Cookie,
    PskKeyExchangeModes,
    CertificateAuthorities,
    OidFilters,
    PostHandshakeAuth,
    KeyShareClientHello,
    KeyShareServerHello,
    KeyShareHelloRetryRequest,
    ExtendedMasterSecret,
    RenegotiationInfo,
    ECPointFormats,
    SessionTicket,
    ConnectionId,
)

REGISTRY: dict[int, dict[Context, type[Extension]]] = {}
"""ExtensionType -> {Context -> body class}; absent pairs decode as UnknownExtension."""

for _cls in _KNOWN:
    for _ctx in _cls.CONTEXTS:
        _slot = REGISTRY.setdefault(ExtensionType(_cls.TYPE), {})
        assert _ctx not in _slot, (_cls, _ctx)
        _slot[_ctx] = _cls
del _cls, _ctx, _slot

_BY_CONTEXT: dict[Context, dict[int, type[Extension]]] = {
    ctx: {t: by_ctx[ctx] for t, by_ctx in REGISTRY.items() if ctx in by_ctx} for ctx in Context
}
"""REGISTRY turned around: Context -> {ExtensionType -> body class}, for decoding."""


def decode_extensions(
    r: Reader, ctx: Context, min_len: int = 0, max_len: int = 0xFFFF, *, dtls: bool = False
) -> list[Extension]:
    """Read ``Extension extensions<min_len..max_len>`` from ``r`` for message ``ctx``.

    Keeps wire order.  A repeated extension type raises IllegalParameter.  In a TLS
    (not ``dtls``) ClientHello, connection_id (RFC 9146, DTLS only) stays raw.
    """
    block = r.vec16(min_len, max_len, what=f"{ctx.value} extensions")
    out: list[Extension] = []
    seen: set[int] = set()
    classes = _BY_CONTEXT[ctx]
    while not block.at_end():
        ext_type = block.u16("extension_type")
        try:
            body = block.vec16(what="extension_data")
        except DecodeError as e:
            raise DecodeError(f"{e} (extension type {ext_type})") from None
        if ext_type in seen:
            raise IllegalParameter(f"duplicate extension {ext_type} in {ctx.value}")
        seen.add(ext_type)
        cls = classes.get(ext_type)
        if cls is None or (ext_type == ExtensionType.CONNECTION_ID and not dtls and ctx is Context.CH):
            out.append(UnknownExtension(coerce(ExtensionType, ext_type), body.rest()))
            continue
        if ext_type in TLS12_ONLY and ctx is Context.CH:
            data = body.rest()
            try:
                body = Reader(data)
                ext = cls.read(body, ctx)
                body.expect_end(cls.__name__)
                out.append(ext)
            except DecodeError as exc:
                out.append(MalformedExtension(coerce(ExtensionType, ext_type), data, str(exc)))
            continue
        out.append(cls.read(body, ctx))
        body.expect_end(cls.__name__)
    return out


def malformed_extension(extensions: Sequence[Extension]) -> MalformedExtension | None:
    """The first TLS 1.2-only ClientHello extension that did not decode, if any."""
    for e in extensions:
        if type(e) is MalformedExtension:
            return e
    return None


def encode_extensions(w: Writer, extensions: Iterable[Extension]) -> None:
    """Write ``Extension extensions<..2^16-1>`` (2-byte block length) in list order."""
    with w.vec16():
        for ext in extensions:
            w.u16(ext.ext_type)
            with w.vec16():
                ext.write(w)


_X = TypeVar("_X", bound=Extension)


def find_extension(extensions: Sequence[Extension], ext_type: int) -> Extension | None:
    """The extension of type ``ext_type`` (known body or UnknownExtension), or None."""
    for ext in extensions:
        if ext.ext_type == ext_type:
            return ext
    return None


def get_extension(extensions: Sequence[Extension], cls: type[_X]) -> _X | None:
    """The extension decoded as ``cls``, or None (also None if present but raw)."""
    for ext in extensions:
        if type(ext) is cls:
            return ext
    return None
