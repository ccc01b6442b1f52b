"""What a DTLS connection needs beyond its TLS config: the path MTU, the
retransmission timer and the limits of the reassembly buffers."""

from __future__ import annotations

from dataclasses import dataclass

from ..dtls_record import DEFAULT_MTU, DTLS_1_2, DTLS_1_3

__all__ = ["DTLSConfig", "DEFAULT_MTU", "DTLS_1_2", "DTLS_1_3"]


@dataclass(frozen=True, slots=True)
class DTLSConfig:
    """The datagram side of a DTLS connection (the TLS side is a
    ClientConfig / ServerConfig)."""

    mtu: int = DEFAULT_MTU
    """Bytes of UDP payload per datagram sent (records never span two; handshake
    messages are fragmented to fit)."""
    initial_timeout: float = 1.0
    """Seconds before the first retransmission of a flight (RFC 9147 section 5.8.2)."""
    max_timeout: float = 60.0
    """The retransmission timer doubles after each retransmission up to this."""
    max_retransmissions: int = 10
    """Retransmissions of one flight before the handshake fails with
    :class:`ferrotls.errors.HandshakeTimeout` (1 + 2 + ... + 60 s: about 3 minutes
    with the defaults)."""
    ack_delay_fraction: float = 0.25
    """An ACK for a flight that arrives with a gap waits this fraction of the
    initial timeout, for the rest to arrive (RFC 9147 section 7.1)."""
    max_pending_messages: int = 16
    """Handshake messages kept ahead of the next expected one (later ones are dropped)."""
    max_buffered_handshake: int = 1 << 17
    """Bytes of incomplete handshake messages kept at once."""
    max_stashed_records: int = 32
    """Records kept for an epoch whose keys are not installed yet."""
    connection_id: bytes | None = None
    """The connection ID we ask the peer to put in its records (RFC 9147 section 9,
    RFC 9146 for DTLS 1.2): None: no connection_id extension."""
    versions: tuple[int, ...] = (DTLS_1_3,)
    """The DTLS versions this side speaks: ``DTLS_1_3`` (0xfefc, RFC 9147) and/or
    ``DTLS_1_2`` (0xfefd, RFC 6347).  With both, a client offers both and a server
    answers with the highest the client offers (a DTLS 1.3 server that settles for
    1.2 marks its random as RFC 8446 section 4.1.3 says, and a DTLS 1.3 client
    checks it).  DTLS 1.2 runs the TLS 1.2 suites of the TLS config
    (``tls12_cipher_suites``) and its extended_master_secret rule; the config's
    own ``minimum_version`` / ``maximum_version`` are replaced by these."""
    max_failed_decryptions: int | None = None
    """Records that fail authentication under one read key before the connection
    closes (RFC 9147 section 4.5.3); None: the AEAD's integrity limit
    (:data:`ferrotls.dtls.limits.INTEGRITY_LIMITS`)."""

    def __post_init__(self) -> None:
        if not 128 <= self.mtu <= 65507:
            raise ValueError(f"mtu must be in 128..65507 bytes, got {self.mtu}")
        if not 0 < self.initial_timeout <= self.max_timeout:
            raise ValueError("initial_timeout must be positive and at most max_timeout")
        if self.max_retransmissions < 0:
            raise ValueError("max_retransmissions must be >= 0")
        if self.connection_id is not None and len(self.connection_id) > 255:
            raise ValueError("a connection ID has at most 255 bytes")
        if not self.versions or any(v not in (DTLS_1_2, DTLS_1_3) for v in self.versions):
            raise ValueError("versions must name DTLS_1_3 (0xfefc) and/or DTLS_1_2 (0xfefd)")
        if self.max_failed_decryptions is not None and self.max_failed_decryptions < 1:
            raise ValueError("max_failed_decryptions must be at least 1")
