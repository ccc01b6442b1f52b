"""What the TLS 1.2 client and server states share (RFC 5246, with RFC 7627 and 5746).

* :class:`Transcript12` keeps the raw handshake messages: TLS 1.2 signs them
  whole (CertificateVerify) and hashes them with the PRF's hash;
* :class:`Session12` holds the negotiated suite, the randoms and, once known,
  the master secret, and installs each direction's record protection;
* :class:`ExpectChangeCipherSpec` and :class:`ExpectFinished12` are the end of
  every TLS 1.2 handshake, full or abbreviated;
* :class:`Traffic12` is the established state: no KeyUpdate, RFC 5705
  exporters, and renegotiation refused (HelloRequest, ClientHello).
"""

from __future__ import annotations

import hashlib
import hmac
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

from ..backend.interface import MAX_PLAINTEXT
from ..errors import (
    AlertDescription,
    DecodeError,
    DecryptError,
    HandshakeFailure,
    InsecureProtocolWarning,
    UsageError,
)
from ..keyschedule12 import (
    export_keying_material,
    extended_master_secret,
    key_block,
    keylog_line,
    master_secret,
    verify_data,
)
from ..messages.enums import HandshakeType
from ..messages.handshake import Finished
from ..messages.tls12 import decode_handshake12
from ..suites import Tls12SuiteInfo
from .machine import Established, Handshake, State

__all__ = [
    "TLS12",
    "Transcript12",
    "Session12",
    "ExpectChangeCipherSpec",
    "ExpectFinished12",
    "Traffic12",
    "ClientTraffic12",
    "ServerTraffic12",
    "State12",
    "DOWNGRADE_TLS12",
    "peer_record_size_limit",
    "own_record_size_limit",
]

TLS12 = 0x0303
DOWNGRADE_TLS12 = b"DOWNGRD\x01"
"""The last 8 bytes of ServerHello.random of a TLS 1.3-capable server that
negotiates TLS 1.2 (RFC 8446 section 4.1.3)."""
_HS = HandshakeType


class Transcript12:
    """The raw handshake messages of a TLS 1.2 handshake, in order."""

    __slots__ = ("_raw",)

    def __init__(self, *messages: bytes) -> None:
        self._raw = bytearray()
        for m in messages:
            self._raw += m

    def add(self, message: bytes) -> None:
        self._raw += message

    def digest(self, hash_name: str) -> bytes:
        return hashlib.new(hash_name, self._raw).digest()

    @property
    def messages(self) -> bytes:
        """Everything so far (what a TLS 1.2 CertificateVerify signs)."""
        return bytes(self._raw)


class State12(State):
    """A TLS 1.2 state: decodes with the TLS 1.2 codec, no CCS unless it says so."""

    __slots__ = ()

    ACCEPTS_CCS = False
    IGNORES_HELLO_REQUEST: ClassVar[bool] = False
    """Client states reading the server's hello flight (Certificate ..
    ServerHelloDone) drop a HelloRequest: the client is negotiating (RFC 5246
    section 7.4.1.1).  Where the rest is fixed ([NewSessionTicket]
    ChangeCipherSpec Finished) it stays unexpected_message."""

    def decode(self, msg_type: int, body: bytes) -> Any:
        return decode_handshake12(msg_type, body)

    def ignores(self, hs: Any, msg_type: int) -> bool:
        return msg_type == _HS.HELLO_REQUEST and hs.is_client and self.IGNORES_HELLO_REQUEST


class Session12:
    """The negotiated parameters of one TLS 1.2 handshake and its key material."""

    __slots__ = (
        "suite", "client_random", "server_random", "ems", "master", "session_id",
    )

    def __init__(self, suite: Tls12SuiteInfo, client_random: bytes, server_random: bytes, ems: bool,
                 session_id: bytes = b"") -> None:
        self.suite = suite
        self.client_random = client_random
        self.server_random = server_random
        self.ems = ems
        self.master = b""
        self.session_id = session_id

    def __repr__(self) -> str:
        return f"Session12({self.suite.openssl_name}, ems={self.ems}, <redacted>)"

    def derive_master(self, hs: Handshake, pre_master: bytes, transcript: Transcript12) -> None:
        """The master secret: RFC 7627's over the session hash (the transcript up to
        and including ClientKeyExchange), or the classic one when EMS is off."""
        if self.ems:
            self.master = extended_master_secret(
                hs.backend, self.suite, pre_master, transcript.digest(self.suite.hash_name)
            )
        else:
            self.master = master_secret(hs.backend, self.suite, pre_master, self.client_random, self.server_random)
        self.log(hs)

    def log(self, hs: Handshake) -> None:
        callback = hs.config.key_log
        if callback is not None:
            callback(keylog_line(self.client_random, self.master))

    def protector(self, hs: Handshake, *, client_writes: bool, sending: bool) -> Any:
        block = key_block(hs.backend, self.suite, self.master, self.client_random, self.server_random)
        key, iv = block.write_keys(client_writes)
        if hs.datagram is not None:  # DTLS 1.2: the connection builds the epoch's protection
            hs.datagram.set_tls12_keys(self.suite, key, iv, sending)
            return None
        limit = self.suite.max_records if sending else None
        return hs.backend.record_protector_tls12(self.suite.suite, key, iv, 0, limit)

    def install_write(self, hs: Handshake) -> None:
        protector = self.protector(hs, client_writes=hs.is_client, sending=True)
        if hs.datagram is None:
            hs.io.set_write_protector(protector)

    def install_read(self, hs: Handshake) -> None:
        protector = self.protector(hs, client_writes=not hs.is_client, sending=False)
        if hs.datagram is None:
            hs.io.set_read_protector(protector)

    def finished(self, hs: Handshake, transcript: Transcript12, from_client: bool) -> bytes:
        return verify_data(hs.backend, self.suite, self.master, transcript.digest(self.suite.hash_name), from_client)


def require_ems(hs: Handshake, peer_sent_it: bool) -> bool:
    """RFC 7627: the peer must do extended_master_secret unless the config allows
    otherwise (then a warning).  Returns whether EMS is in use."""
    if peer_sent_it:
        return True
    if hs.config.require_extended_master_secret:
        raise HandshakeFailure("the peer does not support extended_master_secret (RFC 7627), which is required")
    warnings.warn(
        "TLS 1.2 without extended_master_secret (RFC 7627): the session is open to the "
        "triple-handshake attack; require_extended_master_secret=False allowed it",
        InsecureProtocolWarning,
        stacklevel=2,
    )
    return False


def peer_record_size_limit(hs: Handshake, limit: int) -> None:
    """RFC 8449 in TLS 1.2: our records fit the peer's limit.  In TLS 1.2 the limit
    counts the plaintext alone (there is no inner content type, unlike TLS 1.3)
    and can be 2**14 at most; a larger value (TLS 1.3 allows 2**14 + 1) means 2**14."""
    limit = min(limit, MAX_PLAINTEXT)
    hs.outcome.record_size_limit = limit
    hs.io.limit_outgoing_records(limit)


def own_record_size_limit(hs: Handshake, limit: int) -> int:
    """RFC 8449 in TLS 1.2: enforce our limit on the peer's records (plaintexts of
    ``limit`` bytes are allowed; larger ones are record_overflow); returns the value
    to announce, 2**14 at most."""
    limit = min(limit, MAX_PLAINTEXT)
    hs.io.limit_incoming_records(limit)
    return limit


def send_ccs_and_finished(hs: Handshake, session: Session12, transcript: Transcript12) -> None:
    """ChangeCipherSpec, then our Finished under the new keys."""
    hs.io.send_ccs()
    session.install_write(hs)
    hs.send(transcript, Finished(verify_data=session.finished(hs, transcript, hs.is_client)))


class ExpectChangeCipherSpec(State12):
    """The peer's ChangeCipherSpec switches its records to the new keys."""

    __slots__ = ("session", "transcript", "after")

    ACCEPTS_CCS = True

    def __init__(self, session: Session12, transcript: Transcript12,
                 after: Callable[[Any, Session12, Transcript12], State]) -> None:
        self.session = session
        self.transcript = transcript
        self.after = after
        """Builds the state after the peer's Finished (given the session and transcript)."""

    def on_change_cipher_spec(self, hs: Any) -> State:
        self.session.install_read(hs)
        return ExpectFinished12(self.session, self.transcript, self.after)


class ExpectFinished12(State12):
    __slots__ = ("session", "transcript", "after")

    EXPECTS = frozenset({_HS.FINISHED})

    def __init__(self, session: Session12, transcript: Transcript12,
                 after: Callable[[Any, Session12, Transcript12], State]) -> None:
        self.session = session
        self.transcript = transcript
        self.after = after

    def handle(self, hs: Handshake, fin: Finished, raw: bytes) -> State:
        expected = self.session.finished(hs, self.transcript, not hs.is_client)
        if len(fin.verify_data) != len(expected):
            raise DecodeError(f"Finished of {len(fin.verify_data)} bytes, expected {len(expected)}")
        if not hmac.compare_digest(expected, fin.verify_data):
            raise DecryptError("the peer's Finished does not verify")
        self.transcript.add(raw)
        return self.after(hs, self.session, self.transcript)


class Traffic12(Established):
    """After a TLS 1.2 handshake: exporters; no KeyUpdate; renegotiation refused.
    ``EXPECTS`` is the renegotiation request each side may receive (subclasses)."""

    __slots__ = ("session",)

    ACCEPTS_CCS = False
    EXPECTS: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, session: Session12) -> None:
        self.session = session

    def decode(self, msg_type: int, body: bytes) -> Any:
        return decode_handshake12(msg_type, body)

    def handle(self, hs: Handshake, message: Any, raw: bytes) -> State:
        """A HelloRequest (to a client) or a ClientHello (to a server): a request to
        renegotiate, which ferrotls never does (RFC 5746 section 4.5 allows refusing)."""
        if hs.config.fatal_on_renegotiation:
            raise HandshakeFailure("the peer asked to renegotiate; ferrotls does not renegotiate")
        hs.io.send_warning_alert(AlertDescription.NO_RENEGOTIATION)
        return self

    def export(self, hs: Handshake, label: bytes, context: bytes | None, length: int) -> bytes:
        s = self.session
        try:
            return export_keying_material(
                hs.backend, s.suite, s.master, s.client_random, s.server_random, label, context, length
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    def send_key_update(self, hs: Handshake, request_peer_update: bool) -> None:
        raise UsageError(
            "TLS 1.2 has no KeyUpdate: the keys of this connection cannot be updated; "
            "close it and connect again"
        )



class ClientTraffic12(Traffic12):
    __slots__ = ()

    EXPECTS = frozenset({_HS.HELLO_REQUEST})


class ServerTraffic12(Traffic12):
    __slots__ = ()

    EXPECTS = frozenset({_HS.CLIENT_HELLO})
