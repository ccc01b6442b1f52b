"""Code points of the TLS 1.3 wire format (RFC 8446 and the IANA TLS registries).

All enums are ``IntEnum`` so that members compare equal to the plain ints that
decoders keep for unknown values.  Decoders call :func:`coerce` to turn a
wire value into a member when one exists and leave it a plain ``int``
otherwise: an unknown code point never fails decoding (STYLE principle 6);
only negotiation rejects it.

``AlertDescription`` is re-exported from :mod:`ferrotls.errors`;
``CipherSuite``, ``NamedGroup`` and ``SignatureScheme`` from :mod:`ferrotls.suites`.
"""

from __future__ import annotations

import enum
from typing import TypeVar

from ..errors import AlertDescription
from ..suites import CipherSuite, NamedGroup, SignatureScheme

__all__ = [
    "TLS10",
    "TLS11",
    "TLS12",
    "TLS13",
    "AlertDescription",
    "CertificateCompressionAlgorithm",
    "CertificateType",
    "CipherSuite",
    "ContentType",
    "ExtensionType",
    "HandshakeType",
    "KeyUpdateRequest",
    "NamedGroup",
    "ProtocolVersion",
    "PskKeyExchangeMode",
    "ServerNameType",
    "SignatureScheme",
    "coerce",
    "members_by_value",
]


class ContentType(enum.IntEnum):
    """TLSPlaintext.type (RFC 8446 section 5.1)."""

    INVALID = 0
    CHANGE_CIPHER_SPEC = 20
    ALERT = 21
    HANDSHAKE = 22
    APPLICATION_DATA = 23


class HandshakeType(enum.IntEnum):
    """Handshake.msg_type (RFC 8446 section 4, RFC 8879)."""

    HELLO_REQUEST = 0  # TLS 1.2 (RFC 5246)
    CLIENT_HELLO = 1
    SERVER_HELLO = 2
    HELLO_VERIFY_REQUEST = 3  # DTLS 1.2 (RFC 6347 section 4.2.1)
    NEW_SESSION_TICKET = 4
    END_OF_EARLY_DATA = 5
    ENCRYPTED_EXTENSIONS = 8
    CERTIFICATE = 11
    SERVER_KEY_EXCHANGE = 12  # TLS 1.2
    CERTIFICATE_REQUEST = 13
    SERVER_HELLO_DONE = 14  # TLS 1.2
    CERTIFICATE_VERIFY = 15
    CLIENT_KEY_EXCHANGE = 16  # TLS 1.2
    FINISHED = 20
    KEY_UPDATE = 24
    COMPRESSED_CERTIFICATE = 25
    MESSAGE_HASH = 254


class ExtensionType(enum.IntEnum):
    """Extension.extension_type (RFC 8446 section 4.2 and later registrations)."""

    SERVER_NAME = 0
    MAX_FRAGMENT_LENGTH = 1
    STATUS_REQUEST = 5
    SUPPORTED_GROUPS = 10
    EC_POINT_FORMATS = 11
    SIGNATURE_ALGORITHMS = 13
    USE_SRTP = 14
    HEARTBEAT = 15
    ALPN = 16
    SIGNED_CERTIFICATE_TIMESTAMP = 18
    CLIENT_CERTIFICATE_TYPE = 19
    SERVER_CERTIFICATE_TYPE = 20
    PADDING = 21
    ENCRYPT_THEN_MAC = 22
    EXTENDED_MASTER_SECRET = 23
    COMPRESS_CERTIFICATE = 27
    RECORD_SIZE_LIMIT = 28
    DELEGATED_CREDENTIAL = 34
    SESSION_TICKET = 35
    PRE_SHARED_KEY = 41
    EARLY_DATA = 42
    SUPPORTED_VERSIONS = 43
    COOKIE = 44
    PSK_KEY_EXCHANGE_MODES = 45
    CERTIFICATE_AUTHORITIES = 47
    OID_FILTERS = 48
    POST_HANDSHAKE_AUTH = 49
    SIGNATURE_ALGORITHMS_CERT = 50
    KEY_SHARE = 51
    CONNECTION_ID = 54
    QUIC_TRANSPORT_PARAMETERS = 57
    ENCRYPTED_CLIENT_HELLO = 0xFE0D
    RENEGOTIATION_INFO = 0xFF01

    APPLICATION_LAYER_PROTOCOL_NEGOTIATION = 16  # alias of ALPN


class ProtocolVersion(enum.IntEnum):
    """ProtocolVersion values (legacy_version, supported_versions)."""

    SSL30 = 0x0300
    TLS10 = 0x0301
    TLS11 = 0x0302
    TLS12 = 0x0303
    TLS13 = 0x0304


TLS10 = ProtocolVersion.TLS10
TLS11 = ProtocolVersion.TLS11
TLS12 = ProtocolVersion.TLS12
TLS13 = ProtocolVersion.TLS13


class PskKeyExchangeMode(enum.IntEnum):
    """psk_key_exchange_modes values (RFC 8446 section 4.2.9)."""

    PSK_KE = 0
    PSK_DHE_KE = 1


class KeyUpdateRequest(enum.IntEnum):
    """KeyUpdate.request_update (RFC 8446 section 4.6.3)."""

    UPDATE_NOT_REQUESTED = 0
    UPDATE_REQUESTED = 1


class CertificateCompressionAlgorithm(enum.IntEnum):
    """compress_certificate algorithms (RFC 8879 section 3)."""

    ZLIB = 1
    BROTLI = 2
    ZSTD = 3


class ServerNameType(enum.IntEnum):
    """ServerName.name_type (RFC 6066 section 3)."""

    HOST_NAME = 0


class CertificateType(enum.IntEnum):
    """Certificate types (RFC 7250, RFC 8446 section 4.4.2)."""

    X509 = 0
    RAW_PUBLIC_KEY = 2


_E = TypeVar("_E", bound=enum.IntEnum)


_BY_VALUE: dict[type[enum.IntEnum], dict[int, enum.IntEnum]] = {}


def members_by_value(enum_cls: type[_E]) -> dict[int, _E]:
    """``{value: member}`` of ``enum_cls`` (built once), for coercing many values."""
    table = _BY_VALUE.get(enum_cls)
    if table is None:
        table = _BY_VALUE[enum_cls] = {int(m): m for m in enum_cls}
    return table  # type: ignore[return-value]


def coerce(enum_cls: type[_E], value: int) -> _E | int:
    """Return the member of ``enum_cls`` for ``value``, or ``value`` itself if unknown."""
    table = _BY_VALUE.get(enum_cls)
    if table is None:
        table = members_by_value(enum_cls)
    return table.get(value, value)
