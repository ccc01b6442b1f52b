"""The TLS 1.3 wire format: codec primitives, code points, extensions, handshake messages.

No cryptography and no state: this package turns bytes into dataclasses and
back, byte for byte.  Decoding raises only :class:`ferrotls.errors.DecodeError`
(malformed bytes) or :class:`ferrotls.errors.IllegalParameter` (where RFC 8446
names that alert).  Unknown code points survive decoding as plain ints.
"""

from __future__ import annotations

from . import codec, enums, extensions, handshake
from .codec import Reader, Writer
from .enums import (
    AlertDescription,
    CertificateCompressionAlgorithm,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    KeyUpdateRequest,
    NamedGroup,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
)
from .extensions import (
    Context,
    Extension,
    UnknownExtension,
    decode_extensions,
    encode_extensions,
    find_extension,
    get_extension,
)
from .handshake import (
    HRR_RANDOM,
    AnyHandshake,
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    CompressedCertificate,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished,
    HandshakeMessage,
    HelloRetryRequest,
    KeyUpdate,
    MessageHash,
    NewSessionTicket,
    ServerHello,
    UnknownHandshake,
    decode_handshake,
    decode_handshake_message,
    decode_server_hello,
    encode_handshake,
)

__all__ = [
    "HRR_RANDOM",
    "AlertDescription",
    "AnyHandshake",
    "Certificate",
    "CertificateCompressionAlgorithm",
    "CertificateEntry",
    "CertificateRequest",
    "CertificateVerify",
    "CipherSuite",
    "ClientHello",
    "CompressedCertificate",
    "ContentType",
    "Context",
    "EncryptedExtensions",
    "EndOfEarlyData",
    "Extension",
    "ExtensionType",
    "Finished",
    "HandshakeMessage",
    "HandshakeType",
    "HelloRetryRequest",
    "KeyUpdate",
    "KeyUpdateRequest",
    "MessageHash",
    "NamedGroup",
    "NewSessionTicket",
    "ProtocolVersion",
    "PskKeyExchangeMode",
    "Reader",
    "ServerHello",
    "SignatureScheme",
    "UnknownExtension",
    "UnknownHandshake",
    "Writer",
    "codec",
    "decode_extensions",
    "decode_handshake",
    "decode_handshake_message",
    "decode_server_hello",
    "encode_extensions",
    "encode_handshake",
    "enums",
    "extensions",
    "find_extension",
    "get_extension",
    "handshake",
]
