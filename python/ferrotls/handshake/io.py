"""What a handshake may do to its connection: the narrow interface between them.

A handshake sees only a :class:`HandshakeIO` (in the spirit of rustls's
``Context`` / ``CommonState``): it writes handshake messages and a dummy
change_cipher_spec, installs record protection for each direction, tunes the
record sizes, emits events, reads the stats recorder, and marks the connection
established.  It never imports ``connection.py`` and never touches a
connection's attributes; the connection implements this protocol with a small
adapter (``connection._ConnectionIO``), and tests can drive a handshake with a
fake (``tests/test_handshake_io.py``).
"""

from __future__ import annotations

from typing import Protocol

from ..backend.interface import Backend, RecordProtector
from ..events import Event, HandshakeComplete
from ..messages.extensions import Extension
from ..messages.handshake import ClientHello, ServerHello
from ..stats import HandshakeStats, StatsRecorder
from ..suites import SuiteInfo, Tls12SuiteInfo

__all__ = ["HandshakeIO", "DatagramIO"]


class HandshakeIO(Protocol):
    """The connection as a handshake sees it."""

    @property
    def backend(self) -> Backend:
        """The crypto backend of the connection."""
        ...

    @property
    def stats(self) -> StatsRecorder:
        """Counts the handshake's bytes and CPU time."""
        ...

    @property
    def close_sent(self) -> bool:
        """Whether the application closed its side (no KeyUpdate answer then)."""
        ...

    def write_handshake(self, raw: bytes, legacy_version: int = 0x0303) -> None:
        """Queue one encoded handshake message (coalesced with its neighbours)."""
        ...

    def write_application_data(self, data: bytes | bytearray | memoryview) -> None:
        """Queue 0-RTT data under the current write protection."""
        ...

    def send_ccs(self) -> None:
        """Queue the middlebox-compatibility change_cipher_spec (RFC 8446 appendix D.4)."""
        ...

    def set_read_protector(self, protector: RecordProtector | None) -> None:
        """Open records from now on with ``protector``; UnexpectedMessage if a
        handshake message is still incomplete (it would span a key change)."""
        ...

    def set_write_protector(self, protector: RecordProtector | None) -> None:
        """Seal records from now on with ``protector`` (queued messages go out first)."""
        ...

    def limit_outgoing_records(self, max_fragment: int) -> None:
        """The peer's record_size_limit: our records carry at most ``max_fragment`` bytes."""
        ...

    def limit_incoming_records(self, max_plaintext: int) -> None:
        """Our record_size_limit: larger records from the peer are record_overflow."""
        ...

    def skip_early_data(self, budget: int) -> None:
        """Drop up to ``budget`` bytes of 0-RTT records we cannot read (0: stop skipping)."""
        ...

    def note_key_update(self) -> None:
        """Count a KeyUpdate received; UnexpectedMessage past Limits.max_key_updates
        without application data in between."""
        ...

    def use_tls12_records(self) -> None:
        """TLS 1.2 was negotiated: the record layer uses the TLS 1.2 record format."""
        ...

    def send_warning_alert(self, description: int) -> None:
        """Send a warning-level alert (TLS 1.2's no_renegotiation)."""
        ...

    def emit(self, event: Event) -> None:
        """Queue an event for the application."""
        ...

    def finish_stats(self) -> HandshakeStats | None:
        """Freeze the handshake's figures (called once, when it completes)."""
        ...

    def established(self, info: HandshakeComplete) -> None:
        """The handshake completed: application data may flow both ways; emits ``info``."""
        ...


class DatagramIO(HandshakeIO, Protocol):
    """A DTLS connection as its handshake sees it: :class:`HandshakeIO` plus keys
    given as secrets, since the connection numbers the epochs, derives the record
    number keys and chooses the connection IDs (RFC 9147 sections 4 and 9).

    A handshake driver given one (``datagram=``) runs DTLS: see
    :mod:`ferrotls.handshake.datagram` for what changes in the states.
    """

    def set_read_secret(self, suite: SuiteInfo, secret: bytes) -> None:
        """Open records of the next read epoch, derived from ``secret``."""
        ...

    def set_write_secret(self, suite: SuiteInfo, secret: bytes) -> None:
        """Seal records from now on under the next write epoch (a KeyUpdate's new
        keys wait until the peer acknowledges the KeyUpdate: RFC 9147 section 8)."""
        ...

    def client_hello_extensions(self) -> list[Extension]:
        """Client: the datagram extensions of our ClientHello (connection_id)."""
        ...

    def server_hello_received(self, hello: ServerHello) -> None:
        """Client: the ServerHello's datagram extensions (the server's connection ID)."""
        ...

    def server_hello_extensions(self, client_hello: ClientHello) -> list[Extension]:
        """Server: the datagram extensions of our ServerHello, in answer to the
        client's (connection_id: the CID we want)."""
        ...

    def set_tls12_keys(self, suite: Tls12SuiteInfo, key: bytes, iv: bytes, sending: bool) -> None:
        """DTLS 1.2: one direction's key and IV from the key block, for epoch 1 (the
        ChangeCipherSpec's; ``sending``: ours)."""
        ...

    def transcript_form(self, raw: bytes, sent: bool = True) -> bytes:
        """``raw`` (a message with its TLS header) as the transcript holds it: itself
        in DTLS 1.3; in DTLS 1.2 (RFC 6347 section 4.2.6) with the 12-byte DTLS
        header of a message sent in one fragment, whose message_seq is the one of
        the message just written (``sent``) or of the one being handled."""
        ...
