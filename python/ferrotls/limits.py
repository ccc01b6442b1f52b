"""Resource limits applied to what a peer sends (``ClientConfig.limits``, ``ServerConfig.limits``).

Each limit that is hit ends the connection with a ProtocolError and its alert
(docs/robustness.md has the table).  The defaults are generous for real peers
and small enough that no single connection can make us buffer or compute
without bound:

* The record deframer needs no knob: a record header bounds what it buffers
  (one incomplete record, at most 5 + 2**14 + 256 bytes; a header announcing a
  longer record fails at once with record_overflow, before its body arrives).
* The handshake reassembly buffer holds at most one incomplete message of at
  most ``max_handshake_size`` bytes (illegal_parameter beyond).

This module is a leaf (imports nothing from the package).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Per-connection limits on hostile or buggy peers."""

    max_handshake_size: int = 1 << 17
    """Largest handshake message body (bytes) we reassemble (illegal_parameter)."""
    max_certificate_chain_length: int = 16
    """Most CertificateEntries in a peer's Certificate message (certificate_unknown),
    checked before the chain is verified."""
    max_certificate_chain_size: int = 100 * 1024
    """Most certificate bytes (sum of cert_data) in a peer's Certificate message
    (illegal_parameter; OpenSSL's max_cert_list default), checked before verification."""
    max_extensions: int = 64
    """Most extensions in one received response (ServerHello, HelloRetryRequest,
    EncryptedExtensions) or one CertificateEntry (illegal_parameter).  Requests
    (ClientHello, CertificateRequest, NewSessionTicket) are not counted: their
    unknown extensions must be ignored (RFC 8446 section 4.2), and the work is
    bounded by ``max_handshake_size``."""
    max_empty_records: int = 32
    """Most consecutive records that carry nothing: zero-length application data,
    change_cipher_spec, user_canceled warnings (unexpected_message)."""
    max_key_updates: int = 32
    """Most KeyUpdates received without application data in between (unexpected_message)."""
    max_warning_alerts: int = 4
    """TLS 1.2: most consecutive warning alerts tolerated without a handshake message
    or application data in between; the next is unexpected_message (OpenSSL stops
    at its fifth too)."""
    max_renegotiation_requests: int = 3
    """TLS 1.2: most renegotiation requests (HelloRequest, ClientHello) refused with a
    no_renegotiation warning without application data in between; the next is a
    fatal handshake_failure."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Limits.{f.name} must be a positive int, got {value!r}")


DEFAULT_LIMITS = Limits()
