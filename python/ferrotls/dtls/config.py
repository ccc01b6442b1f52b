"""What a DTLS connection needs beyond its TLS config: the path MTU, the
retransmission timer and the limits of the reassembly buffers."""

from __future__ import annotations

from dataclasses import dataclass

from ..dtls_record import DEFAULT_MTU

__all__ = ["DTLSConfig", "DEFAULT_MTU"]


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
    """The connection ID we ask the peer to put in its records (RFC 9147 section 9):
    None: no connection_id extension."""

    def __post_init__(self) -> None:
        if not 128 <= self.mtu <= 65507:
            raise ValueError(f"mtu must be in 128..65507 bytes, got {self.mtu}")
        if not 0 < self.initial_timeout <= self.max_timeout:
            raise ValueError("initial_timeout must be positive and at most max_timeout")
        if self.max_retransmissions < 0:
            raise ValueError("max_retransmissions must be >= 0")
        if self.connection_id is not None and len(self.connection_id) > 255:
            raise ValueError("a connection ID has at most 255 bytes")
