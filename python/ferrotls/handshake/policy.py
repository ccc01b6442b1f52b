"""Which extensions may appear in which message, and the peer limits on handshake content.

``ALLOWED`` is the RFC 8446 section 4.2 table (plus the TLS 1.3 rows of later
RFCs: 8449 record_size_limit, 8879 compress_certificate, 9345
delegated_credential, 9001 quic_transport_parameters).  The rules applied by
:func:`check_extensions` (RFC 8446 section 4.2):

* more than ``Limits.max_extensions`` extensions in a response or CertificateEntry:
  illegal_parameter (our limit; requests are bounded by their size only, since
  their unknown extensions must be ignored however many there are);
* an extension we recognise that is not specified for the message: illegal_parameter;
* in a response (ServerHello, HelloRetryRequest, EncryptedExtensions, Certificate)
  an extension that was not requested: unsupported_extension (the cookie in a
  HelloRetryRequest is the one exception; the caller adds it to ``requested``);
* in a request (ClientHello, CertificateRequest, NewSessionTicket) an unknown
  extension is ignored.

Duplicates never get here: the codec rejects them (illegal_parameter).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ..errors import CertificateUnknown, IllegalParameter, UnsupportedExtension
from ..limits import Limits
from ..messages.enums import ExtensionType as E
from ..messages.extensions import Context, Extension
from ..messages.handshake import Certificate

__all__ = ["ALLOWED", "check_certificate", "check_extensions"]

CH, SH, HRR, EE, CT, CR, NST = (
    Context.CH, Context.SH, Context.HRR, Context.EE, Context.CT, Context.CR, Context.NST
)

ALLOWED: dict[int, frozenset[Context]] = {
    E.SERVER_NAME: frozenset({CH, EE}),
    E.MAX_FRAGMENT_LENGTH: frozenset({CH, EE}),
    E.STATUS_REQUEST: frozenset({CH, CR, CT}),
    E.SUPPORTED_GROUPS: frozenset({CH, EE}),
    E.SIGNATURE_ALGORITHMS: frozenset({CH, CR}),
    E.USE_SRTP: frozenset({CH, EE}),
    E.HEARTBEAT: frozenset({CH, EE}),
    E.ALPN: frozenset({CH, EE}),
    E.SIGNED_CERTIFICATE_TIMESTAMP: frozenset({CH, CR, CT}),
    E.CLIENT_CERTIFICATE_TYPE: frozenset({CH, EE}),
    E.SERVER_CERTIFICATE_TYPE: frozenset({CH, EE}),
    E.PADDING: frozenset({CH}),
    E.KEY_SHARE: frozenset({CH, SH, HRR}),
    E.PRE_SHARED_KEY: frozenset({CH, SH}),
    E.PSK_KEY_EXCHANGE_MODES: frozenset({CH}),
    E.EARLY_DATA: frozenset({CH, EE, NST}),
    E.COOKIE: frozenset({CH, HRR}),
    E.SUPPORTED_VERSIONS: frozenset({CH, SH, HRR}),
    E.CERTIFICATE_AUTHORITIES: frozenset({CH, CR}),
    E.OID_FILTERS: frozenset({CR}),
    E.POST_HANDSHAKE_AUTH: frozenset({CH}),
    E.SIGNATURE_ALGORITHMS_CERT: frozenset({CH, CR}),
    E.RECORD_SIZE_LIMIT: frozenset({CH, EE}),  # RFC 8449
    E.COMPRESS_CERTIFICATE: frozenset({CH, CR}),  # RFC 8879
    E.DELEGATED_CREDENTIAL: frozenset({CH, CR, CT}),  # RFC 9345
    E.QUIC_TRANSPORT_PARAMETERS: frozenset({CH, EE}),  # RFC 9001
    E.CONNECTION_ID: frozenset({CH, SH}),  # RFC 9146, RFC 9147 section 9 (DTLS)
    # TLS 1.2 only: allowed in a ClientHello that also offers TLS 1.2, never in a
    # TLS 1.3 response (the TLS 1.2 states check ServerHellos with ALLOWED_TLS12).
    E.EXTENDED_MASTER_SECRET: frozenset({CH}),
    E.RENEGOTIATION_INFO: frozenset({CH}),
    E.EC_POINT_FORMATS: frozenset({CH}),
    E.SESSION_TICKET: frozenset({CH}),
}
"""ExtensionType -> the TLS 1.3 messages it may appear in.  Types not listed here
(GREASE, unknown ones) count as unknown."""


def check_extensions(
    extensions: Sequence[Extension],
    ctx: Context,
    limits: Limits,
    requested: Collection[int] | None = None,
) -> None:
    """Apply the rules of the module docstring to one received extension block.

    ``requested`` is None for request messages (CH, CR, NST) and the extension
    types we sent (that the peer may answer) for responses.
    """
    if requested is not None and len(extensions) > limits.max_extensions:
        raise IllegalParameter(
            f"{ctx.value} with {len(extensions)} extensions exceeds the limit of "
            f"{limits.max_extensions}"
        )
    for e in extensions:
        ext_type = e.ext_type
        allowed = ALLOWED.get(ext_type)
        if allowed is not None and ctx not in allowed:
            raise IllegalParameter(f"extension {ext_type} is not allowed in {ctx.value}")
        if requested is not None and ext_type not in requested:
            raise UnsupportedExtension(f"{ctx.value} has extension {ext_type} that was not requested")


def check_certificate(cert: Certificate, limits: Limits, requested: Collection[int]) -> None:
    """Limits and extension rules for a peer's Certificate, before the chain is verified.

    ``requested``: the extension types of our ClientHello (server chains) or of our
    CertificateRequest (client chains) -- RFC 8446 section 4.4.2.
    """
    entries = cert.certificate_list
    if len(entries) > limits.max_certificate_chain_length:
        raise CertificateUnknown(
            f"certificate chain of {len(entries)} entries exceeds the limit of "
            f"{limits.max_certificate_chain_length}"
        )
    size = sum(len(entry.cert_data) for entry in entries)
    if size > limits.max_certificate_chain_size:
        raise IllegalParameter(
            f"certificate chain of {size} bytes exceeds the limit of "
            f"{limits.max_certificate_chain_size}"
        )
    for entry in entries:
        check_extensions(entry.extensions, Context.CT, limits, requested)

