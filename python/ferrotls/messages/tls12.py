"""TLS 1.2 handshake messages (RFC 5246 section 7.4, RFC 8422, RFC 4279/5489, RFC 5077).

The same codec vocabulary as :mod:`ferrotls.messages.handshake` (``write`` /
``read``, ``to_bytes`` / ``from_bytes``).  ClientHello, ServerHello,
CertificateVerify and Finished are the TLS 1.3 classes (same syntax);
Certificate, CertificateRequest and NewSessionTicket have TLS 1.2 forms here.
ServerKeyExchange and ClientKeyExchange depend on the negotiated suite's key
exchange, so they decode as raw bodies and the handshake parses them with
:meth:`ServerKeyExchange.parse` / :meth:`ClientKeyExchange.parse`.
:func:`decode_handshake12` is the decoder the TLS 1.2 states use.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from typing import Self, TypeAlias

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:  # typing_extensions is a dependency only before 3.12
    from typing_extensions import Buffer

from ..errors import IllegalParameter
from .codec import Reader, Writer
from .enums import HandshakeType, NamedGroup, SignatureScheme, coerce
from .handshake import (
    CertificateVerify,
    ClientHello,
    Finished,
    HandshakeMessage,
    UnknownHandshake,
    decode_server_hello,
)

__all__ = [
    "KeyExchange",
    "HelloRequest",
    "Certificate12",
    "ServerKeyExchange",
    "ServerECDHParams",
    "CertificateRequest12",
    "ServerHelloDone",
    "ClientKeyExchange",
    "NewSessionTicket12",
    "HelloVerifyRequest",
    "decode_handshake12",
    "AnyHandshake12",
    "CURVE_TYPE_NAMED",
]

CURVE_TYPE_NAMED = 3
"""ECCurveType named_curve (RFC 8422 section 5.4); the only one allowed."""


class KeyExchange(enum.Enum):
    """How a TLS 1.2 suite exchanges keys (what ServerKeyExchange and
    ClientKeyExchange carry)."""

    ECDHE = "ECDHE"
    PSK = "PSK"
    ECDHE_PSK = "ECDHE_PSK"


@dataclass(slots=True)
class HelloRequest(HandshakeMessage):
    """HelloRequest: empty; a server asks for renegotiation (ferrotls refuses)."""

    MSG_TYPE = HandshakeType.HELLO_REQUEST

    def write(self, w: Writer) -> None:
        pass

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls()


@dataclass(slots=True, kw_only=True)
class Certificate12(HandshakeMessage):
    """Certificate (RFC 5246 7.4.2): ASN.1Cert certificate_list<0..2^24-1>,
    each opaque<1..2^24-1>; no request context and no per-entry extensions."""

    MSG_TYPE = HandshakeType.CERTIFICATE

    certificate_list: list[bytes] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        with w.vec24():
            for der in self.certificate_list:
                w.opaque24(der)

    @classmethod
    def read(cls, r: Reader) -> Self:
        lst = r.vec24(what="certificate_list")
        out = []
        while not lst.at_end():
            out.append(lst.opaque24(1, what="ASN.1Cert"))
        return cls(certificate_list=out)


@dataclass(slots=True, kw_only=True)
class ServerECDHParams:
    """ServerECDHParams (RFC 8422 5.4): named curve and the server's public point."""

    group: int
    public: bytes

    def write(self, w: Writer) -> None:
        w.u8(CURVE_TYPE_NAMED)
        w.u16(self.group)
        w.opaque8(self.public)

    @classmethod
    def read(cls, r: Reader) -> ServerECDHParams:
        curve_type = r.u8("ECCurveType")
        if curve_type != CURVE_TYPE_NAMED:
            raise IllegalParameter(f"ECCurveType {curve_type}: only named_curve (3) is allowed")
        group = coerce(NamedGroup, r.u16("namedcurve"))
        return cls(group=group, public=r.opaque8(1, what="ECPoint"))


@dataclass(slots=True, kw_only=True)
class ServerKeyExchange(HandshakeMessage):
    """ServerKeyExchange, kept raw until the suite says how to read it.

    ECDHE (RFC 8422): ServerECDHParams, then a digitally-signed struct
    (SignatureAndHashAlgorithm, opaque signature<0..2^16-1>) over
    client_random + server_random + params.  PSK (RFC 4279): opaque
    psk_identity_hint<0..2^16-1>.  ECDHE_PSK (RFC 5489): the hint, then
    ServerECDHParams, unsigned.
    """

    MSG_TYPE = HandshakeType.SERVER_KEY_EXCHANGE

    body: bytes = b""

    def write(self, w: Writer) -> None:
        w.write(self.body)

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls(body=r.rest())

    @classmethod
    def make(
        cls, kx: KeyExchange, *, params: ServerECDHParams | None = None, hint: bytes | None = None,
        algorithm: int | None = None, signature: bytes | None = None,
    ) -> ServerKeyExchange:
        """Build the body for ``kx`` (the signature for ECDHE is computed by the caller
        over :meth:`signed_params`)."""
        w = Writer()
        if kx is not KeyExchange.ECDHE:
            w.opaque16(hint or b"")
        if kx is not KeyExchange.PSK:
            assert params is not None
            params.write(w)
        if kx is KeyExchange.ECDHE:
            assert algorithm is not None and signature is not None
            w.u16(algorithm)
            w.opaque16(signature)
        return cls(body=w.getvalue())

    def parse(self, kx: KeyExchange) -> tuple[bytes | None, ServerECDHParams | None, int | None, bytes, bytes]:
        """``(hint, params, algorithm, signature, signed_params)`` for ``kx``;
        ``signed_params`` is the encoded ServerECDHParams the signature covers."""
        r = Reader(self.body)
        hint = None
        if kx is not KeyExchange.ECDHE:
            hint = r.opaque16(what="psk_identity_hint")
        params = None
        signed = b""
        algorithm = None
        signature = b""
        if kx is not KeyExchange.PSK:
            start = r.position
            params = ServerECDHParams.read(r)
            signed = bytes(self.body[start : r.position])
        if kx is KeyExchange.ECDHE:
            algorithm = coerce(SignatureScheme, r.u16("SignatureAndHashAlgorithm"))
            signature = r.opaque16(what="signature")
        r.expect_end("ServerKeyExchange")
        return hint, params, algorithm, signature, signed


@dataclass(slots=True, kw_only=True)
class CertificateRequest12(HandshakeMessage):
    """CertificateRequest (RFC 5246 7.4.4): ClientCertificateType
    certificate_types<1..2^8-1>; SignatureAndHashAlgorithm
    supported_signature_algorithms<2..2^16-2>; DistinguishedName
    certificate_authorities<0..2^16-1>."""

    MSG_TYPE = HandshakeType.CERTIFICATE_REQUEST

    certificate_types: list[int] = field(default_factory=lambda: [1, 64])  # rsa_sign, ecdsa_sign
    signature_algorithms: list[int] = field(default_factory=list)
    certificate_authorities: list[bytes] = field(default_factory=list)

    def write(self, w: Writer) -> None:
        w.uint_list(1, 1, self.certificate_types)
        w.uint_list(2, 2, self.signature_algorithms)
        with w.vec16():
            for name in self.certificate_authorities:
                w.opaque16(name)

    @classmethod
    def read(cls, r: Reader) -> Self:
        types = r.uint_list(1, 1, 1, 0xFF, what="certificate_types")
        algorithms = [coerce(SignatureScheme, v) for v in r.uint_list(2, 2, 2, 0xFFFE, what="supported_signature_algorithms")]
        names_r = r.vec16(what="certificate_authorities")
        names = []
        while not names_r.at_end():
            names.append(names_r.opaque16(1, what="DistinguishedName"))
        return cls(certificate_types=types, signature_algorithms=algorithms, certificate_authorities=names)


@dataclass(slots=True)
class ServerHelloDone(HandshakeMessage):
    """ServerHelloDone: empty."""

    MSG_TYPE = HandshakeType.SERVER_HELLO_DONE

    def write(self, w: Writer) -> None:
        pass

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls()


@dataclass(slots=True, kw_only=True)
class ClientKeyExchange(HandshakeMessage):
    """ClientKeyExchange, kept raw until the suite says how to read it: ECDHE,
    opaque ECPoint<1..2^8-1>; PSK, opaque psk_identity<0..2^16-1>; ECDHE_PSK,
    the identity then the point."""

    MSG_TYPE = HandshakeType.CLIENT_KEY_EXCHANGE

    body: bytes = b""

    def write(self, w: Writer) -> None:
        w.write(self.body)

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls(body=r.rest())

    @classmethod
    def make(cls, kx: KeyExchange, *, public: bytes | None = None, identity: bytes | None = None) -> ClientKeyExchange:
        w = Writer()
        if kx is not KeyExchange.ECDHE:
            w.opaque16(identity or b"")
        if kx is not KeyExchange.PSK:
            assert public is not None
            w.opaque8(public)
        return cls(body=w.getvalue())

    def parse(self, kx: KeyExchange) -> tuple[bytes | None, bytes | None]:
        """``(psk_identity, ec_public)`` for ``kx``."""
        r = Reader(self.body)
        identity = r.opaque16(what="psk_identity") if kx is not KeyExchange.ECDHE else None
        public = r.opaque8(1, what="ECPoint") if kx is not KeyExchange.PSK else None
        r.expect_end("ClientKeyExchange")
        return identity, public


@dataclass(slots=True, kw_only=True)
class NewSessionTicket12(HandshakeMessage):
    """NewSessionTicket (RFC 5077 section 3.3): uint32 ticket_lifetime_hint;
    opaque ticket<0..2^16-1>."""

    MSG_TYPE = HandshakeType.NEW_SESSION_TICKET

    lifetime_hint: int = 0
    ticket: bytes = b""

    def write(self, w: Writer) -> None:
        w.u32(self.lifetime_hint)
        w.opaque16(self.ticket)

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls(lifetime_hint=r.u32("ticket_lifetime_hint"), ticket=r.opaque16(what="ticket"))


@dataclass(slots=True, kw_only=True)
class HelloVerifyRequest(HandshakeMessage):
    """HelloVerifyRequest (DTLS 1.2, RFC 6347 section 4.2.1): ProtocolVersion
    server_version; opaque cookie<0..2^8-1>.  A server sends it, statelessly, in
    answer to a ClientHello without a valid cookie; the client repeats its
    ClientHello with the cookie.  ``server_version`` is DTLS 1.0 (0xfeff) whatever
    version is negotiated later (section 4.2.1)."""

    MSG_TYPE = HandshakeType.HELLO_VERIFY_REQUEST

    server_version: int = 0xFEFF
    cookie: bytes = b""

    def write(self, w: Writer) -> None:
        w.u16(self.server_version)
        w.opaque8(self.cookie)

    @classmethod
    def read(cls, r: Reader) -> Self:
        return cls(server_version=r.u16("server_version"), cookie=r.opaque8(0, 255, what="cookie"))


AnyHandshake12: TypeAlias = (
    HelloRequest | ClientHello | Certificate12 | ServerKeyExchange | CertificateRequest12
    | ServerHelloDone | CertificateVerify | ClientKeyExchange | Finished | NewSessionTicket12
    | UnknownHandshake
)

_CLASSES12: dict[int, type[HandshakeMessage]] = {
    cls.MSG_TYPE: cls
    for cls in (
        HelloRequest, ClientHello, Certificate12, ServerKeyExchange, CertificateRequest12,
        ServerHelloDone, CertificateVerify, ClientKeyExchange, Finished, NewSessionTicket12,
    )
}


def decode_handshake12(msg_type: int, body: Buffer) -> AnyHandshake12 | HandshakeMessage:
    """:func:`ferrotls.messages.handshake.decode_handshake` for TLS 1.2 messages."""
    if msg_type == HandshakeType.SERVER_HELLO:
        return decode_server_hello(body)
    cls = _CLASSES12.get(msg_type)
    if cls is None:
        return UnknownHandshake(type=msg_type, body=bytes(body))
    return cls.from_bytes(body)

