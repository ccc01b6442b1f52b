"""The handshake state machine: states are types (rustls ``client/tls13.rs``).

A :class:`State` declares the handshake message types it accepts
(``EXPECTS``) and whether a dummy change_cipher_spec may arrive in it;
``handle(hs, message, raw)`` processes one message and returns the next state,
which owns only the data it needs: the transcript and the key schedule move
from state to state.  :class:`Handshake` is the driver the connection talks
to; it holds what lives for the whole handshake (the :class:`HandshakeIO`,
the config, the stats recorder) and answers the connection's questions
(``accepts_ccs()``, ``complete``, ``info``).  Adding a protocol version means a
new set of state types (see docs/architecture.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from .. import certcompress
from ..backend.interface import MAX_PLAINTEXT, RecordProtector
from ..errors import IllegalParameter, UnexpectedMessage, UsageError
from ..events import HandshakeComplete, KeyUpdated
from ..keyschedule import export_keying_material, next_traffic_secret, traffic_keys
from ..messages.enums import HandshakeType
from ..messages.handshake import ClientHello, KeyUpdate, decode_handshake, encode_handshake
from ..suites import SuiteInfo, Tls12SuiteInfo
from ..transcript import Transcript
from .datagram import TLS_TO_DTLS, VERSION_NAMES
from .io import DatagramIO, HandshakeIO

if TYPE_CHECKING:
    from ..config import ClientConfig, ServerConfig

__all__ = ["State", "Handshake", "Established", "Traffic", "Outcome"]


class _Transcript(Protocol):
    def add(self, message: bytes) -> None: ...


class State:
    """One state of a handshake; see the module docstring."""

    __slots__ = ()

    EXPECTS: ClassVar[frozenset[int]] = frozenset()
    """The handshake message types this state handles; any other is unexpected_message."""
    ACCEPTS_CCS: ClassVar[bool] = True
    """Whether a dummy change_cipher_spec may arrive (RFC 8446 section 5: after the
    first ClientHello, before the peer's Finished)."""

    def ignores(self, hs: Any, msg_type: int) -> bool:
        """Whether a message of ``msg_type`` that this state does not expect is
        dropped rather than unexpected_message (TLS 1.2: a HelloRequest while the
        client is negotiating, RFC 5246 section 7.4.1.1).  A dropped message must
        still decode, and enters no transcript."""
        return False

    def on_change_cipher_spec(self, hs: Any) -> State:
        """A plaintext change_cipher_spec arrived.  TLS 1.3 drops it where
        ``ACCEPTS_CCS`` (middlebox compatibility); TLS 1.2 states that expect one
        switch the read keys."""
        if not self.ACCEPTS_CCS:
            raise UnexpectedMessage(
                f"change_cipher_spec is not expected in state {type(self).__name__}"
            )
        return self

    def decode(self, msg_type: int, body: bytes) -> Any:
        """The message object for a handshake message of ``msg_type`` (TLS 1.2
        states decode with the TLS 1.2 codec)."""
        return decode_handshake(msg_type, body)

    def handle(self, hs: Any, message: Any, raw: bytes) -> State:
        """Process ``message`` (its encoding is ``raw``) and return the next state."""
        raise NotImplementedError(type(self).__name__)


class Outcome:
    """What the finished handshake reports (HandshakeComplete), gathered on the way."""

    __slots__ = (
        "suite", "group", "alpn", "server_name", "peer_certificates", "signature_scheme",
        "resumed", "psk_identity", "early_data_accepted", "early_data_rejected",
        "certificate_compression", "record_size_limit",
    )

    def __init__(self) -> None:
        self.suite: SuiteInfo | Tls12SuiteInfo | None = None
        self.group: int | None = None
        self.alpn: str | None = None
        self.server_name: str | None = None
        self.peer_certificates: tuple[bytes, ...] = ()
        self.signature_scheme: int | None = None
        self.resumed = False
        self.psk_identity: bytes | None = None
        self.early_data_accepted = False
        self.early_data_rejected = 0
        self.certificate_compression: int | None = None
        self.record_size_limit: int | None = None


class Handshake:
    """The driver of one side's handshake; subclassed by ClientHandshake and ServerHandshake."""

    is_client: ClassVar[bool]

    def __init__(
        self, io: HandshakeIO, config: ClientConfig | ServerConfig, datagram: DatagramIO | None = None
    ) -> None:
        self.io = io
        self.datagram = datagram
        """The DTLS connection (the same object as ``io``) when the states run
        DTLS (handshake/datagram.py), else None."""
        self.config = config
        self.backend = io.backend
        self.state: State
        self.info: HandshakeComplete | None = None
        self.outcome = Outcome()
        self.client_random = b""
        self.ccs_sent = False
        """The dummy change_cipher_spec went out (at most once per handshake)."""
        self.ignored_messages = 0
        """Handshake messages dropped by :meth:`State.ignores` (Limits.max_empty_records)."""
        limit = config.record_size_limit
        if limit is not None and not 64 <= limit <= MAX_PLAINTEXT + 1:
            raise ValueError(f"record_size_limit must be in 64..{MAX_PLAINTEXT + 1}, got {limit}")
        for algorithm in config.certificate_compression:
            if not certcompress.available(algorithm):
                raise ValueError(f"certificate compression algorithm {algorithm} is not available")

    # -- what the connection asks --------------------------------------------------

    @property
    def complete(self) -> bool:
        return self.info is not None

    @property
    def version(self) -> int | None:
        """The protocol version the hellos settled (0x0304 or 0x0303), None until
        then (a HelloRetryRequest does not settle it here)."""
        suite = self.outcome.suite
        if suite is None:
            return None
        return 0x0303 if isinstance(suite, Tls12SuiteInfo) else 0x0304

    def accepts_ccs(self) -> bool:
        """Whether a plaintext change_cipher_spec may arrive now."""
        return self.state.ACCEPTS_CCS

    def receive_change_cipher_spec(self) -> None:
        self.state = self.state.on_change_cipher_spec(self)

    @property
    def reading_early_data(self) -> bool:
        """Server: accepted 0-RTT data is being read (it goes to receive_early_data)."""
        return False

    def receive_early_data(self, data: bytes) -> None:
        raise UnexpectedMessage("0-RTT application data is not expected")

    def takes(self, msg_type: int) -> bool:
        """Whether the current state handles (or drops) a message of ``msg_type``;
        any other is unexpected_message."""
        state = self.state
        return msg_type in state.EXPECTS or state.ignores(self, msg_type)

    def handle_message(self, msg_type: int, body: bytes, raw: bytes) -> None:
        """Dispatch one complete handshake message to the current state."""
        state = self.state
        if msg_type not in state.EXPECTS:
            if state.ignores(self, msg_type):
                state.decode(msg_type, body)  # well-formed, or decode_error
                self.ignored_messages += 1
                limit = self.config.limits.max_empty_records
                if self.ignored_messages > limit:
                    raise UnexpectedMessage(f"more than {limit} ignored handshake messages")
                return
            try:
                name = HandshakeType(msg_type).name
            except ValueError:
                name = f"handshake message type {msg_type}"
            raise UnexpectedMessage(f"{name} is not expected in state {type(state).__name__}")
        if self.datagram is not None and msg_type == HandshakeType.CLIENT_HELLO:
            message: Any = ClientHello.from_dtls_bytes(body)
        else:
            message = state.decode(msg_type, body)
        self.state = state.handle(self, message, raw)

    def export(self, label: bytes, context: bytes | None, length: int) -> bytes:
        """TLS-Exporter (TLS 1.3: context None and b"" are the same; TLS 1.2, RFC
        5705: they differ)."""
        if not isinstance(self.state, Established):
            raise UsageError("keying material can be exported only after the handshake")
        return self.state.export(self, label, context, length)

    def send_key_update(self, request_peer_update: bool) -> None:
        if not isinstance(self.state, Established):
            raise UsageError("key updates need an established connection")
        self.state.send_key_update(self, request_peer_update)

    @property
    def resumption_master_secret(self) -> bytes:
        """After a TLS 1.3 handshake: the secret tickets derive their PSKs from."""
        state = self.state
        if not isinstance(state, Traffic):
            raise UsageError("this needs an established TLS 1.3 connection")
        return state.resumption_master_secret

    # -- what states use -------------------------------------------------------------

    def wire(self, version: int) -> int:
        """The code point of TLS ``version`` (0x0304, 0x0303) on this transport:
        itself over TLS, its DTLS counterpart (0xfefc, 0xfefd) over datagrams."""
        return version if self.datagram is None else TLS_TO_DTLS[version]

    def send(self, transcript: _Transcript | None, message: Any, legacy_version: int = 0x0303) -> bytes:
        """Encode ``message``, add it to ``transcript`` (if any) and queue it."""
        raw = encode_handshake(message)
        self.io.write_handshake(raw, legacy_version)
        if transcript is not None:  # (DTLS 1.2 hashes the message with its DTLS header)
            transcript.add(raw if self.datagram is None else self.datagram.transcript_form(raw))
        return raw

    def send_ccs_once(self) -> None:
        """The middlebox-compatibility change_cipher_spec, if configured and not sent yet."""
        if self.config.middlebox_compat and not self.ccs_sent and self.datagram is None:
            self.io.send_ccs()
            self.ccs_sent = True

    def protector(self, suite: SuiteInfo, secret: bytes, *, sending: bool) -> RecordProtector:
        """Record protection for ``secret``; sending keys carry the suite's usage
        limit, before which the connection updates them (RFC 8446 section 5.5)."""
        keys = traffic_keys(self.backend, suite, secret)
        return self.backend.record_protector(
            suite.suite, keys.key, keys.iv, 0, suite.max_records if sending else None
        )

    def set_read_secret(self, suite: SuiteInfo, secret: bytes) -> None:
        if self.datagram is not None:  # the connection numbers the DTLS epochs
            self.datagram.set_read_secret(suite, secret)
            return
        self.io.set_read_protector(self.protector(suite, secret, sending=False))

    def set_write_secret(self, suite: SuiteInfo, secret: bytes) -> None:
        if self.datagram is not None:
            self.datagram.set_write_secret(suite, secret)
            return
        self.io.set_write_protector(self.protector(suite, secret, sending=True))

    def key_log(self, label: str, secret: bytes) -> None:
        callback = self.config.key_log
        if callback is not None:
            callback(f"{label} {self.client_random.hex()} {secret.hex()}")

    def apply_peer_record_size_limit(self, limit: int) -> None:
        """RFC 8449: our protected records fit the peer's limit (content type included)."""
        self.outcome.record_size_limit = limit
        self.io.limit_outgoing_records(min(MAX_PLAINTEXT, limit - 1))

    def enforce_record_size_limit(self, own_limit: int) -> None:
        """Records from the peer larger than our advertised limit: record_overflow."""
        self.io.limit_incoming_records(min(MAX_PLAINTEXT, own_limit - 1))

    def finish(self, traffic: _E, version: str = "TLSv1.3") -> _E:
        """The handshake is complete: report it, let application data flow, return
        the traffic state."""
        out = self.outcome
        assert out.suite is not None
        if self.datagram is not None:
            version = VERSION_NAMES[version]
        self.info = HandshakeComplete(
            version=version,
            cipher_suite=int(out.suite.suite),
            group=out.group,
            alpn_protocol=out.alpn,
            server_name=out.server_name,
            peer_certificates=out.peer_certificates,
            signature_scheme=out.signature_scheme,
            resumed=out.resumed,
            psk_identity=out.psk_identity,
            early_data_accepted=out.early_data_accepted,
            early_data_rejected=out.early_data_rejected,
            stats=self.io.finish_stats(),
            certificate_compression=out.certificate_compression,
            record_size_limit=out.record_size_limit,
        )
        self.io.established(self.info)
        return traffic


class Established(State):
    """After the handshake, whatever the version: exporters and key updates."""

    __slots__ = ()

    ACCEPTS_CCS = False

    def export(self, hs: Handshake, label: bytes, context: bytes | None, length: int) -> bytes:
        raise NotImplementedError

    def send_key_update(self, hs: Handshake, request_peer_update: bool) -> None:
        raise NotImplementedError


_E = TypeVar("_E", bound=Established)


class Traffic(Established):
    """After a TLS 1.3 handshake: KeyUpdate both ways, exporters, and (client) tickets."""

    __slots__ = ("suite", "read_secret", "write_secret", "exporter_secret", "resumption_master_secret")

    EXPECTS = frozenset({HandshakeType.KEY_UPDATE})

    def __init__(
        self, suite: SuiteInfo, read_secret: bytes, write_secret: bytes, exporter_secret: bytes,
        resumption_master_secret: bytes,
    ) -> None:
        self.suite = suite
        self.read_secret = read_secret
        self.write_secret = write_secret
        self.exporter_secret = exporter_secret
        self.resumption_master_secret = resumption_master_secret

    def handle(self, hs: Any, message: Any, raw: bytes) -> State:
        return self.on_key_update(hs, message)

    def on_key_update(self, hs: Handshake, message: KeyUpdate) -> State:
        if message.request_update not in (0, 1):
            raise IllegalParameter(f"KeyUpdate request_update {message.request_update}")
        hs.io.note_key_update()
        self.read_secret = next_traffic_secret(hs.backend, self.suite, self.read_secret)
        hs.set_read_secret(self.suite, self.read_secret)
        requested = message.request_update == 1
        if requested and not hs.io.close_sent:
            self.send_key_update(hs, False)
        hs.io.emit(KeyUpdated(requested))
        return self

    def send_key_update(self, hs: Handshake, request_peer_update: bool) -> None:
        hs.send(None, KeyUpdate(request_update=1 if request_peer_update else 0))
        self.write_secret = next_traffic_secret(hs.backend, self.suite, self.write_secret)
        hs.set_write_secret(self.suite, self.write_secret)

    def export(self, hs: Handshake, label: bytes, context: bytes | None, length: int) -> bytes:
        return export_keying_material(hs.backend, self.suite, self.exporter_secret, label, context or b"", length)
