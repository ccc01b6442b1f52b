"""The ferrotls exception hierarchy.

Every exception ferrotls raises on purpose subclasses :class:`TLSError`.

* :class:`ProtocolError` -- the peer broke the protocol (or sent bytes we cannot
  accept).  Each subclass is named after the TLS alert it causes and carries that
  alert in the class attribute ``description``; the connection sends the alert
  and moves to its ERROR state.
* :class:`AlertReceived` -- the peer sent us a fatal alert.
* :class:`UsageError` -- the caller misused the API (no alert is sent).

This module is a leaf: it imports nothing from the rest of the package, so the
native extension can import its classes (``import_exception!``).
"""

from __future__ import annotations

import enum

__all__ = [
    "AlertDescription",
    "TLSError",
    "ProtocolError",
    "UnexpectedMessage",
    "BadRecordMac",
    "RecordOverflow",
    "HandshakeFailure",
    "BadCertificate",
    "UnsupportedCertificate",
    "CertificateRevoked",
    "CertificateExpired",
    "CertificateUnknown",
    "IllegalParameter",
    "UnknownCA",
    "AccessDenied",
    "DecodeError",
    "DecryptError",
    "ProtocolVersionError",
    "InsufficientSecurity",
    "InternalError",
    "InappropriateFallback",
    "MissingExtension",
    "UnsupportedExtension",
    "UnrecognizedName",
    "UnknownPSKIdentity",
    "CertificateRequired",
    "NoApplicationProtocol",
    "AlertReceived",
    "UsageError",
    "SequenceNumberExhausted",
    "KeyLimitReached",
    "TruncationError",
    "InsecureBackendWarning",
    "InsecureProtocolWarning",
    "error_for_alert",
]


class AlertDescription(enum.IntEnum):
    """TLS alert descriptions (RFC 8446 section 6 and later registrations)."""

    CLOSE_NOTIFY = 0
    UNEXPECTED_MESSAGE = 10
    BAD_RECORD_MAC = 20
    RECORD_OVERFLOW = 22
    HANDSHAKE_FAILURE = 40
    BAD_CERTIFICATE = 42
    UNSUPPORTED_CERTIFICATE = 43
    CERTIFICATE_REVOKED = 44
    CERTIFICATE_EXPIRED = 45
    CERTIFICATE_UNKNOWN = 46
    ILLEGAL_PARAMETER = 47
    UNKNOWN_CA = 48
    ACCESS_DENIED = 49
    DECODE_ERROR = 50
    DECRYPT_ERROR = 51
    PROTOCOL_VERSION = 70
    INSUFFICIENT_SECURITY = 71
    INTERNAL_ERROR = 80
    INAPPROPRIATE_FALLBACK = 86
    USER_CANCELED = 90
    NO_RENEGOTIATION = 100
    MISSING_EXTENSION = 109
    UNSUPPORTED_EXTENSION = 110
    UNRECOGNIZED_NAME = 112
    BAD_CERTIFICATE_STATUS_RESPONSE = 113
    UNKNOWN_PSK_IDENTITY = 115
    CERTIFICATE_REQUIRED = 116
    NO_APPLICATION_PROTOCOL = 120


class TLSError(Exception):
    """Base class of every error ferrotls raises deliberately."""


class ProtocolError(TLSError):
    """The peer violated the protocol; ``description`` is the alert we send."""

    description: AlertDescription = AlertDescription.INTERNAL_ERROR


class UnexpectedMessage(ProtocolError):
    """A message or record arrived that is not allowed here (unexpected_message)."""

    description = AlertDescription.UNEXPECTED_MESSAGE


class BadRecordMac(ProtocolError):
    """A record could not be deprotected (bad_record_mac).

    The message is always the same, whatever the cause, so that the error is no
    oracle (RFC 8446 section 5.2).
    """

    description = AlertDescription.BAD_RECORD_MAC


class RecordOverflow(ProtocolError):
    """A record or its plaintext is longer than the protocol allows (record_overflow)."""

    description = AlertDescription.RECORD_OVERFLOW


class HandshakeFailure(ProtocolError):
    """No acceptable set of security parameters could be negotiated (handshake_failure)."""

    description = AlertDescription.HANDSHAKE_FAILURE


class BadCertificate(ProtocolError):
    """A certificate was corrupt or its signature did not verify (bad_certificate)."""

    description = AlertDescription.BAD_CERTIFICATE


class UnsupportedCertificate(ProtocolError):
    """A certificate of an unsupported type was offered (unsupported_certificate)."""

    description = AlertDescription.UNSUPPORTED_CERTIFICATE


class CertificateRevoked(ProtocolError):
    """A certificate was revoked by its signer (certificate_revoked)."""

    description = AlertDescription.CERTIFICATE_REVOKED


class CertificateExpired(ProtocolError):
    """A certificate has expired or is not yet valid (certificate_expired)."""

    description = AlertDescription.CERTIFICATE_EXPIRED


class CertificateUnknown(ProtocolError):
    """A certificate is unacceptable for another reason (certificate_unknown)."""

    description = AlertDescription.CERTIFICATE_UNKNOWN


class IllegalParameter(ProtocolError):
    """A field was out of range or inconsistent with other fields (illegal_parameter)."""

    description = AlertDescription.ILLEGAL_PARAMETER


class UnknownCA(ProtocolError):
    """The certificate chain does not lead to a trusted anchor (unknown_ca)."""

    description = AlertDescription.UNKNOWN_CA


class AccessDenied(ProtocolError):
    """The peer's identity was valid but access is not granted (access_denied)."""

    description = AlertDescription.ACCESS_DENIED


class DecodeError(ProtocolError):
    """A message could not be decoded: bad length, truncated field (decode_error)."""

    description = AlertDescription.DECODE_ERROR


class DecryptError(ProtocolError):
    """A handshake cryptographic check failed: signature, Finished, binder (decrypt_error)."""

    description = AlertDescription.DECRYPT_ERROR


class ProtocolVersionError(ProtocolError):
    """The peer does not speak TLS 1.3 (protocol_version)."""

    description = AlertDescription.PROTOCOL_VERSION


class InsufficientSecurity(ProtocolError):
    """The peer's parameters are weaker than we require (insufficient_security)."""

    description = AlertDescription.INSUFFICIENT_SECURITY


class InternalError(ProtocolError):
    """An error on our side that has nothing to do with the peer (internal_error)."""

    description = AlertDescription.INTERNAL_ERROR


class InappropriateFallback(ProtocolError):
    """A downgrade was detected (inappropriate_fallback)."""

    description = AlertDescription.INAPPROPRIATE_FALLBACK


class MissingExtension(ProtocolError):
    """A mandatory extension is missing (missing_extension)."""

    description = AlertDescription.MISSING_EXTENSION


class UnsupportedExtension(ProtocolError):
    """An extension appeared where it is not allowed or was not offered (unsupported_extension)."""

    description = AlertDescription.UNSUPPORTED_EXTENSION


class UnrecognizedName(ProtocolError):
    """The server has no certificate for the requested name (unrecognized_name)."""

    description = AlertDescription.UNRECOGNIZED_NAME


class UnknownPSKIdentity(ProtocolError):
    """No key is known for the offered PSK identity (unknown_psk_identity)."""

    description = AlertDescription.UNKNOWN_PSK_IDENTITY


class CertificateRequired(ProtocolError):
    """The server requires a client certificate and got none (certificate_required)."""

    description = AlertDescription.CERTIFICATE_REQUIRED


class NoApplicationProtocol(ProtocolError):
    """No ALPN protocol in common (no_application_protocol)."""

    description = AlertDescription.NO_APPLICATION_PROTOCOL


class AlertReceived(TLSError):
    """The peer sent a fatal alert (or an unexpected close)."""

    def __init__(self, description: int, message: str | None = None) -> None:
        try:
            self.description: AlertDescription | int = AlertDescription(description)
            name = self.description.name.lower()
        except ValueError:
            self.description = description
            name = f"unknown alert {description}"
        super().__init__(message or f"peer sent fatal alert: {name} ({description})")


class UsageError(TLSError):
    """The API was used wrongly (e.g. sending before the handshake); no alert is sent."""


class SequenceNumberExhausted(TLSError):
    """A record sequence number would wrap (2**64 records with one key).

    RFC 8446 section 5.3: the connection must rekey (KeyUpdate) or close.
    """


class KeyLimitReached(TLSError):
    """Sealing application data would take the sending key past its usage limit
    (RFC 8446 section 5.5); nothing was sealed.  The connection answers it by
    sending a KeyUpdate and sealing under the new key, so applications never see it.
    """


class TruncationError(TLSError):
    """The transport closed without a close_notify alert: data may be truncated."""


_BY_ALERT: dict[int, type[ProtocolError]] = {}
for _cls in list(globals().values()):
    if (
        isinstance(_cls, type)
        and issubclass(_cls, ProtocolError)
        and _cls is not ProtocolError
    ):
        _BY_ALERT.setdefault(int(_cls.description), _cls)


def error_for_alert(description: int) -> type[ProtocolError]:
    """Return the ProtocolError subclass that sends ``description``."""
    return _BY_ALERT.get(int(description), ProtocolError)


class InsecureBackendWarning(UserWarning):
    """The pure-Python backend protects a connection: its AES, GHASH, ChaCha20 and
    X25519 run in time that depends on secrets (not constant-time).

    Emitted when a connection is created on that backend, whether it was chosen
    (``FERROTLS_BACKEND=python``, ``backend="python"``) or fallen back to because
    the native module is not built.  Filter it like any warning, e.g.
    ``warnings.filterwarnings("ignore", category=ferrotls.InsecureBackendWarning)``.
    """


class InsecureProtocolWarning(UserWarning):
    """A TLS 1.2 handshake completed without a protection ferrotls asks for by
    default (extended_master_secret, RFC 7627), because the config allowed it."""
