"""The ferrotls exception hierarchy.

Every exception ferrotls raises on purpose subclasses :class:`TLSError`.

* :class:`ProtocolError` -- the peer broke the protocol (or sent bytes we cannot
  accept).  Each subclass is named after the TLS alert it causes and carries that
  alert in the class attribute ``description``; the connection sends the alert
  and moves to its ERROR state.
* :class:`AlertReceived` -- the peer sent us a fatal alert.
* :class:`UsageError` -- the caller misused the API (no alert is sent).

They are also the ``ssl`` module's errors, so code written for ``ssl`` catches
them unchanged: :class:`TLSError` subclasses :class:`ssl.SSLError` (and so
:class:`OSError`), with ``errno``, ``strerror``, ``reason`` and ``library``
filled in the way ``ssl`` fills them; certificate failures are
:class:`ssl.SSLCertVerificationError` (``verify_code``, ``verify_message``); a
close without close_notify is :class:`ssl.SSLEOFError`; the non-blocking
"try again" errors are :class:`ssl.SSLWantReadError` /
:class:`ssl.SSLWantWriteError`.  The alert stays available as ``description``.

This module is a leaf: it imports nothing from the rest of the package, so the
native extension can import its classes (``import_exception!``).
"""

from __future__ import annotations

import enum
import ssl

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
    "HandshakeTimeout",
    "UnsupportedFeature",
    "SequenceNumberExhausted",
    "KeyLimitReached",
    "TruncationError",
    "InsecureBackendWarning",
    "InsecureProtocolWarning",
    "CertificateVerifyFailed",
    "WantReadError",
    "WantWriteError",
    "ZeroReturnError",
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


class TLSError(ssl.SSLError):
    """Base class of every error ferrotls raises deliberately.

    An :class:`ssl.SSLError` (so an :class:`OSError`): ``except ssl.SSLError``
    catches it.  Made with one message, as ``TLSError("what went wrong")``, it
    carries ``args == (errno, message)`` like ``ssl``'s errors: ``errno`` is the
    ``ssl.SSL_ERROR_*`` code (``SSL_ERROR_SSL`` unless a subclass says
    otherwise), ``strerror`` the message, ``library`` ``"SSL"`` and ``reason``
    OpenSSL's upper-case name for the failure (``"CERTIFICATE_VERIFY_FAILED"``,
    ``"UNEXPECTED_EOF_WHILE_READING"``, ``"TLSV1_ALERT_UNKNOWN_CA"`` ...).
    """

    ssl_errno: int = int(ssl.SSL_ERROR_SSL)
    """The ``ssl.SSL_ERROR_*`` value put in ``errno``."""
    # typeshed says str; ssl itself leaves them None where OpenSSL gives no name
    reason: str | None = None  # type: ignore[assignment]
    library: str | None = "SSL"  # type: ignore[assignment]

    def __init__(self, *args: object) -> None:
        if len(args) <= 1:
            message = args[0] if args else ""
            super().__init__(self.ssl_errno, message if isinstance(message, str) else str(message))
        else:
            super().__init__(*args)


class ProtocolError(TLSError):
    """The peer violated the protocol; ``description`` is the alert we send.

    ``reason`` defaults to the alert's name in upper case (``"DECODE_ERROR"``).
    """

    description: AlertDescription = AlertDescription.INTERNAL_ERROR

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.reason is None and "description" in cls.__dict__:
            cls.reason = AlertDescription(cls.description).name


class CertificateVerifyFailed(TLSError, ssl.SSLCertVerificationError):
    """The peer's certificate chain was rejected: :class:`ssl.SSLCertVerificationError`.

    ``verify_code`` and ``verify_message`` hold the OpenSSL ``X509_V_ERR_*``
    number and text closest to what went wrong (hostname mismatch 62, expired 10,
    unknown issuer 20 ...), as ``ssl`` reports them; the subclasses (UnknownCA,
    CertificateExpired, BadCertificate ...) are ProtocolErrors and still name the
    alert that was sent.
    """

    reason = "CERTIFICATE_VERIFY_FAILED"
    verify_code: int = 1
    verify_message: str = "unspecified certificate verification error"


class UnexpectedMessage(ProtocolError):
    """A message or record arrived that is not allowed here (unexpected_message)."""

    description = AlertDescription.UNEXPECTED_MESSAGE


class BadRecordMac(ProtocolError):
    """A record could not be deprotected (bad_record_mac).

    The message is always the same, whatever the cause, so that the error is no
    oracle (RFC 8446 section 5.2).
    """

    description = AlertDescription.BAD_RECORD_MAC
    reason = "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"


class RecordOverflow(ProtocolError):
    """A record or its plaintext is longer than the protocol allows (record_overflow)."""

    description = AlertDescription.RECORD_OVERFLOW


class HandshakeFailure(ProtocolError):
    """No acceptable set of security parameters could be negotiated (handshake_failure)."""

    description = AlertDescription.HANDSHAKE_FAILURE


class BadCertificate(ProtocolError, CertificateVerifyFailed):
    """A certificate was corrupt or its signature did not verify (bad_certificate)."""

    description = AlertDescription.BAD_CERTIFICATE
    verify_code = 7
    verify_message = 'certificate signature failure'


class UnsupportedCertificate(ProtocolError, CertificateVerifyFailed):
    """A certificate of an unsupported type was offered (unsupported_certificate)."""

    description = AlertDescription.UNSUPPORTED_CERTIFICATE
    verify_code = 26
    verify_message = 'unsupported certificate purpose'


class CertificateRevoked(ProtocolError, CertificateVerifyFailed):
    """A certificate was revoked by its signer (certificate_revoked)."""

    description = AlertDescription.CERTIFICATE_REVOKED
    verify_code = 23
    verify_message = 'certificate revoked'


class CertificateExpired(ProtocolError, CertificateVerifyFailed):
    """A certificate has expired or is not yet valid (certificate_expired)."""

    description = AlertDescription.CERTIFICATE_EXPIRED
    verify_code = 10
    verify_message = 'certificate has expired'


class CertificateUnknown(ProtocolError, CertificateVerifyFailed):
    """A certificate is unacceptable for another reason (certificate_unknown)."""

    description = AlertDescription.CERTIFICATE_UNKNOWN
    verify_code = 1
    verify_message = 'unspecified certificate verification error'


class IllegalParameter(ProtocolError):
    """A field was out of range or inconsistent with other fields (illegal_parameter)."""

    description = AlertDescription.ILLEGAL_PARAMETER


class UnknownCA(ProtocolError, CertificateVerifyFailed):
    """The certificate chain does not lead to a trusted anchor (unknown_ca)."""

    description = AlertDescription.UNKNOWN_CA
    verify_code = 20
    verify_message = 'unable to get local issuer certificate'


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
    reason = "UNSUPPORTED_PROTOCOL"


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
    reason = "PEER_DID_NOT_RETURN_A_CERTIFICATE"


class NoApplicationProtocol(ProtocolError):
    """No ALPN protocol in common (no_application_protocol)."""

    description = AlertDescription.NO_APPLICATION_PROTOCOL


#: Alerts OpenSSL names SSLV3_ALERT_* (the SSL 3.0 ones) or TLSV13_ALERT_*; the rest are TLSV1_ALERT_*.
_OPENSSL_ALERT_PREFIX: dict[int, str] = {
    **dict.fromkeys((10, 20, 40, 42, 43, 44, 45, 46, 47), "SSLV3_ALERT_"),
    **dict.fromkeys((109, 116), "TLSV13_ALERT_"),
}
_OPENSSL_ALERT_NAME: dict[int, str] = {
    AlertDescription.USER_CANCELED: "USER_CANCELLED",
    AlertDescription.PROTOCOL_VERSION: "PROTOCOL_VERSION",
}


def _alert_reason(description: int) -> str:
    """OpenSSL's reason for a received alert: 48 -> "TLSV1_ALERT_UNKNOWN_CA"."""
    try:
        name = _OPENSSL_ALERT_NAME.get(description) or AlertDescription(description).name
    except ValueError:
        return f"TLSV1_ALERT_{description}"
    return _OPENSSL_ALERT_PREFIX.get(description, "TLSV1_ALERT_") + name


class AlertReceived(TLSError):
    """The peer sent a fatal alert (or an unexpected close).

    ``description`` is the alert; ``reason`` is OpenSSL's name for it
    (``"TLSV1_ALERT_UNKNOWN_CA"``), as ``ssl`` reports a received alert.
    """

    def __init__(self, description: int, message: str | None = None) -> None:
        try:
            self.description: AlertDescription | int = AlertDescription(description)
            name = self.description.name.lower()
        except ValueError:
            self.description = description
            name = f"unknown alert {description}"
        super().__init__(message or f"peer sent fatal alert: {name} ({description})")
        self.reason = _alert_reason(int(description))

    def __reduce__(self) -> tuple[type[AlertReceived], tuple[int, str]]:
        return type(self), (int(self.description), str(self.strerror))


class UsageError(TLSError):
    """The API was used wrongly (e.g. sending before the handshake); no alert is sent."""


class HandshakeTimeout(TLSError):
    """DTLS: a flight went unanswered through every retransmission (the peer is
    gone, or the path loses everything); no alert is sent."""

    reason = "HANDSHAKE_TIMEOUT"


class UnsupportedFeature(UsageError, NotImplementedError):
    """A part of the ``ssl`` API that ferrotls does not implement (the message names it).

    Also a :class:`NotImplementedError`, which is what ``ssl`` raises for a
    feature its OpenSSL lacks.
    """

    reason = "UNSUPPORTED"


class SequenceNumberExhausted(TLSError):
    """A record sequence number would wrap (2**64 records with one key).

    RFC 8446 section 5.3: the connection must rekey (KeyUpdate) or close.
    """


class KeyLimitReached(TLSError):
    """Sealing application data would take the sending key past its usage limit
    (RFC 8446 section 5.5); nothing was sealed.  The connection answers it by
    sending a KeyUpdate and sealing under the new key, so applications never see it.
    """


class TruncationError(TLSError, ssl.SSLEOFError):
    """The transport closed without a close_notify alert: data may be truncated.

    :class:`ssl.SSLEOFError`, errno ``SSL_ERROR_EOF``, as ``ssl`` reports it.
    """

    ssl_errno = int(ssl.SSL_ERROR_EOF)
    reason = "UNEXPECTED_EOF_WHILE_READING"


class WantReadError(TLSError, ssl.SSLWantReadError, BlockingIOError):
    """Non-blocking I/O: more bytes from the peer are needed (:class:`ssl.SSLWantReadError`).

    Also a :class:`BlockingIOError`, so code written for plain non-blocking
    sockets works too.  Wait until the socket is readable (or feed the incoming
    BIO) and call again.
    """

    ssl_errno = int(ssl.SSL_ERROR_WANT_READ)
    library = None  # type: ignore[assignment]


class WantWriteError(TLSError, ssl.SSLWantWriteError, BlockingIOError):
    """Non-blocking I/O: the socket will not take more bytes now (:class:`ssl.SSLWantWriteError`).

    Wait until it is writable and call again with the same data.
    """

    ssl_errno = int(ssl.SSL_ERROR_WANT_WRITE)
    library = None  # type: ignore[assignment]


class ZeroReturnError(TLSError, ssl.SSLZeroReturnError):
    """The TLS connection is closed: both sides have sent close_notify (:class:`ssl.SSLZeroReturnError`)."""

    ssl_errno = int(ssl.SSL_ERROR_ZERO_RETURN)
    library = None  # type: ignore[assignment]


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
