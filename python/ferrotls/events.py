"""Events a connection produces (read them with ``next_event()``).

All events are frozen, slotted dataclasses.  ``NEED_DATA`` is returned when
no event is pending and more bytes from the peer are needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .stats import HandshakeStats

__all__ = [
    "Event",
    "NEED_DATA",
    "NeedData",
    "HandshakeComplete",
    "ApplicationData",
    "EarlyData",
    "KeyUpdated",
    "SessionTicket",
    "ConnectionClosed",
]


class NeedData:
    """Sentinel type: no event pending; feed more bytes with ``receive_data``."""

    _instance: NeedData | None = None

    def __new__(cls) -> NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData()


class Event:
    """Base class of connection events."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class HandshakeComplete(Event):
    """The handshake finished; the connection can carry application data.

    ``peer_certificates`` holds the peer's chain as DER bytes, leaf first
    (empty when the peer did not authenticate with a certificate).
    """

    version: str
    cipher_suite: int
    group: int | None
    alpn_protocol: str | None
    server_name: str | None
    peer_certificates: tuple[bytes, ...] = field(default=(), repr=False)
    signature_scheme: int | None = None
    resumed: bool = False
    """A ticket (or an external PSK) was used: no certificates were exchanged."""
    psk_identity: bytes | None = None
    """The external PSK identity used (None for tickets and certificate handshakes)."""
    early_data_accepted: bool = False
    early_data_rejected: int = 0
    """Client: bytes of 0-RTT data the server did not accept (resend them with send())."""
    stats: HandshakeStats | None = field(default=None, repr=False, compare=False)
    """Flights, bytes, ClientHello size and CPU time of the handshake (ferrotls.stats)."""
    certificate_compression: int | None = None
    """RFC 8879 algorithm of the peer's CompressedCertificate (None: not compressed)."""
    record_size_limit: int | None = None
    """The peer's RFC 8449 record_size_limit (None: it sent none)."""


@dataclass(frozen=True, slots=True)
class ApplicationData(Event):
    """Application data from the peer.

    Once the connection is established, the application-data records opened by one
    ``receive_data`` call are delivered as *one* event holding their contents
    concatenated (one event per run of records: a KeyUpdate or an alert between
    records ends a run).  Record boundaries are not preserved, as in any TLS
    byte stream, and a record with no content produces no event.
    """

    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"ApplicationData(<{len(self.data)} bytes>)"


@dataclass(frozen=True, slots=True)
class EarlyData(Event):
    """0-RTT application data received by a server before the handshake completed."""

    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"EarlyData(<{len(self.data)} bytes>)"


@dataclass(frozen=True, slots=True)
class KeyUpdated(Event):
    """The peer updated its sending keys; ``update_requested`` if it asked us to update too."""

    update_requested: bool


@dataclass(frozen=True, slots=True)
class SessionTicket(Event):
    """The server sent a NewSessionTicket.

    ``ticket`` is the NewSessionTicket message; ``session`` the ClientSession to pass
    as ``ClientConnection(..., session=...)`` (also stored in the config's
    session_cache, if any).
    """

    ticket: object
    session: object = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ConnectionClosed(Event):
    """The peer sent close_notify: it will send no more data."""
