"""What the client and server handshakes share.

A handshake is a small state machine: ``state`` names the current state and
``TABLE`` maps each state to the handshake message types allowed in it and the
method that handles them (a table, as in h11's ``_state.py``).  Any other
message type raises UnexpectedMessage.  Handlers decode with the
``messages`` codec, update the transcript and the key schedule, and install
keys in the connection's record layer.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .. import certcompress
from ..backend.interface import MAX_PLAINTEXT
from ..errors import IllegalParameter, UnexpectedMessage, UsageError
from ..events import HandshakeComplete, KeyUpdated
from ..keyschedule import (
    MasterSecrets,
    export_keying_material,
    finished_verify_data,
    next_traffic_secret,
    traffic_keys,
)
from ..messages.enums import HandshakeType
from ..messages.handshake import (
    Certificate,
    CompressedCertificate,
    KeyUpdate,
    decode_handshake,
    encode_handshake,
)
from ..record import ContentType
from ..stats import PQ_GROUPS, StatsRecorder
from ..suites import SuiteInfo
from ..transcript import Transcript

if TYPE_CHECKING:
    from ..config import ClientConfig, ServerConfig
    from ..connection import Connection

__all__ = ["HandshakeBase", "require", "version_name"]

_VERSION_NAMES = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}


def version_name(version: int) -> str:
    """"TLS 1.2" for 0x0303; hex for versions without a name."""
    return _VERSION_NAMES.get(version, f"version 0x{version:04x}")

Handler = Callable[[Any, Any, bytes], None]


class HandshakeBase:
    """State, transcript and secrets of one side of a handshake."""

    TABLE: ClassVar[dict[str, tuple[frozenset[int], str]]] = {}
    is_client: ClassVar[bool]

    def __init__(self, conn: Connection, config: ClientConfig | ServerConfig) -> None:
        self.conn = conn
        self.config = config
        self.backend = conn.backend
        self.transcript = Transcript()
        self.suite: SuiteInfo | None = None
        self.state = "start"
        self.complete = False
        self.info: HandshakeComplete | None = None
        self.hello_exchanged = False
        self.peer_finished = False
        self.client_random = b""
        self.group: int | None = None
        self.alpn: str | None = None
        self.server_name: str | None = None
        self.peer_certificates: tuple[bytes, ...] = ()
        self.signature_scheme: int | None = None
        self._read_secret = b""
        self._write_secret = b""
        self._exporter_secret = b""
        self.resumption_master_secret = b""
        self._key_update_pending = False
        # PSK / resumption / 0-RTT outcome (reported in HandshakeComplete)
        self.resumed = False
        self.psk_identity: bytes | None = None
        self.early_data_accepted = False
        self.early_data_rejected = 0
        self.early_read = False
        """Server: 0-RTT data is being read (connection delivers it to receive_early_data)."""
        limit = config.record_size_limit
        if limit is not None and not 64 <= limit <= MAX_PLAINTEXT + 1:
            raise ValueError(f"record_size_limit must be in 64..{MAX_PLAINTEXT + 1}, got {limit}")
        for algorithm in config.certificate_compression:
            if not certcompress.available(algorithm):
                raise ValueError(f"certificate compression algorithm {algorithm} is not available")
        self.peer_record_size_limit: int | None = None
        self.own_record_size_limit: int | None = None
        """Our record_size_limit once the peer negotiated it (then enforced)."""
        self.peer_certificate_compression: int | None = None
        self.stats = StatsRecorder(self.is_client, config.cpu_clock)

    # -- message dispatch ------------------------------------------------------

    def handle_message(self, msg_type: int, body: bytes, raw: bytes) -> None:
        entry = self.TABLE.get(self.state)
        if entry is None or msg_type not in entry[0]:
            try:
                name = HandshakeType(msg_type).name
            except ValueError:
                name = f"handshake message type {msg_type}"
            raise UnexpectedMessage(f"{name} is not expected in state {self.state}")
        message = decode_handshake(msg_type, body)
        getattr(self, entry[1])(message, raw)

    # -- output ----------------------------------------------------------------

    def send_message(self, message: Any, *, legacy_version: int = 0x0303) -> bytes:
        """Encode, add to the transcript and queue one handshake message."""
        raw = encode_handshake(message)
        self.transcript.add(raw)
        self.conn._records.write(ContentType.HANDSHAKE, raw, legacy_version)
        return raw

    # -- keys --------------------------------------------------------------------

    def _protector(self, secret: bytes, data_limit: int | None = None) -> Any:
        assert self.suite is not None
        keys = traffic_keys(self.backend, self.suite, secret)
        return self.backend.record_protector(self.suite.suite, keys.key, keys.iv, 0, data_limit)

    def set_read_secret(self, secret: bytes) -> None:
        if len(self.conn._handshake_buffer):
            raise UnexpectedMessage("a handshake message spans a key change")
        self._read_secret = secret
        self.conn._records.read_protector = self._protector(secret)

    def set_write_secret(self, secret: bytes) -> None:
        self._write_secret = secret
        assert self.suite is not None
        # the connection sends a KeyUpdate before the AEAD's usage limit (RFC 8446 5.5)
        self.conn._records.write_protector = self._protector(secret, self.suite.max_records)

    def protector_for(self, suite: SuiteInfo, secret: bytes) -> Any:
        """A RecordProtector for ``secret`` under ``suite`` (0-RTT keys before the suite is final)."""
        keys = traffic_keys(self.backend, suite, secret)
        return self.backend.record_protector(suite.suite, keys.key, keys.iv)

    def receive_early_data(self, data: bytes) -> None:
        raise UnexpectedMessage("0-RTT application data is not expected")

    # -- record_size_limit (RFC 8449) ----------------------------------------------

    def apply_peer_record_size_limit(self, limit: int) -> None:
        """Our protected records from now on fit the peer's limit (content type included)."""
        self.peer_record_size_limit = limit
        records = self.conn._records
        records.max_fragment = min(MAX_PLAINTEXT, limit - 1)
        if records.padding >= records.max_fragment:
            records.padding = records.max_fragment - 1

    def enforce_record_size_limit(self) -> None:
        """Records from the peer larger than our advertised limit: record_overflow."""
        if self.own_record_size_limit is not None:
            self.conn._records.peer_max_plaintext = min(MAX_PLAINTEXT, self.own_record_size_limit - 1)

    # -- certificate compression (RFC 8879) ----------------------------------------

    def send_certificate(self, cert: Certificate, peer_algorithms: list[int] | None) -> None:
        """Send ``cert``, compressed with our most preferred algorithm the peer offered
        (plain when none is common or compression would not make it smaller)."""
        if peer_algorithms:
            for algorithm in self.config.certificate_compression:
                if algorithm in peer_algorithms:
                    body = encode_handshake(cert)[4:]
                    packed = certcompress.compress(algorithm, body)
                    if len(packed) + 5 < len(body):
                        self.send_message(CompressedCertificate(
                            algorithm=algorithm, uncompressed_length=len(body),
                            compressed_certificate_message=packed,
                        ))
                        return
                    break
        self.send_message(cert)

    def decompress_certificate(self, message: CompressedCertificate, offered: bool) -> Certificate:
        """The Certificate inside a CompressedCertificate we asked for (``offered``);
        inflating at most Limits.max_handshake_size bytes.  The transcript keeps the
        CompressedCertificate as received."""
        if not offered:
            raise UnexpectedMessage("COMPRESSED_CERTIFICATE without compress_certificate offered")
        if message.algorithm not in self.config.certificate_compression:
            raise IllegalParameter(f"certificate compressed with algorithm {message.algorithm} we did not offer")
        body = certcompress.decompress(
            message.algorithm, message.compressed_certificate_message,
            message.uncompressed_length, self.config.limits.max_handshake_size,
        )
        self.peer_certificate_compression = int(message.algorithm)
        cert = decode_handshake(HandshakeType.CERTIFICATE, body)
        assert isinstance(cert, Certificate)
        return cert

    # -- accounting ------------------------------------------------------------------

    def note_client_hello(self, hello: Any, raw: bytes) -> None:
        """ClientHello size on the wire and its key shares (HandshakeStats)."""
        from ..messages import extensions as ext

        stats = self.stats
        if stats.client_hello_size:
            return  # only the first ClientHello
        records = -(-len(raw) // MAX_PLAINTEXT)
        stats.client_hello_size = len(raw) + 5 * records
        shares = ext.get_extension(hello.extensions, ext.KeyShareClientHello)
        if shares is not None:
            stats.key_shares = sum(len(s.key_exchange) for s in shares.client_shares)
            stats.pq = any(s.group in PQ_GROUPS for s in shares.client_shares)

    def key_log(self, label: str, secret: bytes) -> None:
        callback = self.config.key_log
        if callback is not None:
            callback(f"{label} {self.client_random.hex()} {secret.hex()}")

    def finished_data(self, base_key: bytes, transcript_hash: bytes) -> bytes:
        assert self.suite is not None
        return finished_verify_data(self.backend, self.suite, base_key, transcript_hash)

    def check_finished(self, verify_data: bytes, base_key: bytes, transcript_hash: bytes) -> None:
        from ..errors import DecodeError, DecryptError

        expected = self.finished_data(base_key, transcript_hash)
        if len(verify_data) != len(expected):  # cannot be parsed: not a verify failure
            raise DecodeError(
                f"Finished of {len(verify_data)} bytes, expected {len(expected)}"
            )
        if not hmac.compare_digest(expected, verify_data):
            raise DecryptError("the peer's Finished does not verify")

    def application_secrets(self, master: MasterSecrets, server_finished_hash: bytes) -> tuple[bytes, bytes]:
        c_ap = master.client_application_traffic_secret(server_finished_hash)
        s_ap = master.server_application_traffic_secret(server_finished_hash)
        self._exporter_secret = master.exporter_master_secret(server_finished_hash)
        self.key_log("CLIENT_TRAFFIC_SECRET_0", c_ap)
        self.key_log("SERVER_TRAFFIC_SECRET_0", s_ap)
        self.key_log("EXPORTER_SECRET", self._exporter_secret)
        return c_ap, s_ap

    def export(self, label: bytes, context: bytes, length: int) -> bytes:
        if not self._exporter_secret or self.suite is None:
            raise UsageError("keying material can be exported only after the handshake")
        return export_keying_material(
            self.backend, self.suite, self._exporter_secret, label, context, length
        )

    # -- completion and post-handshake ----------------------------------------------

    def finish(self) -> None:
        assert self.suite is not None
        self.complete = True
        self.state = "traffic"
        self.info = HandshakeComplete(
            version="TLSv1.3",
            cipher_suite=int(self.suite.suite),
            group=self.group,
            alpn_protocol=self.alpn,
            server_name=self.server_name,
            peer_certificates=self.peer_certificates,
            signature_scheme=self.signature_scheme,
            resumed=self.resumed,
            psk_identity=self.psk_identity,
            early_data_accepted=self.early_data_accepted,
            early_data_rejected=self.early_data_rejected,
            stats=self.conn._finish_stats(),
            certificate_compression=self.peer_certificate_compression,
            record_size_limit=self.peer_record_size_limit,
        )
        self.conn._app_read = True
        self.conn._app_write = True
        self.conn._established()
        self.conn._events.append(self.info)

    def release_handshake_state(self) -> None:
        """Drop what only the handshake needed, once it is over, so idle connections
        stay small.  Kept: the suite, the current traffic secrets (KeyUpdate), the
        exporter and resumption secrets, ``info`` and the peer's DER chain."""
        self.transcript = Transcript()  # the running hash (an OpenSSL context) goes
        self.stats = _SPENT_STATS  # conn._stats is None already; info.stats holds the figures

    def handle_key_update(self, message: KeyUpdate, raw: bytes) -> None:
        assert self.suite is not None
        if message.request_update not in (0, 1):
            raise IllegalParameter(f"KeyUpdate request_update {message.request_update}")
        conn = self.conn
        conn.key_updates_received += 1
        if conn.key_updates_received > self.config.limits.max_key_updates:
            raise UnexpectedMessage(
                f"more than {self.config.limits.max_key_updates} KeyUpdates without application data"
            )
        self.set_read_secret(next_traffic_secret(self.backend, self.suite, self._read_secret))
        requested = message.request_update == 1
        if requested and not self.conn._close_sent:
            self.send_key_update(False)
        self.conn._events.append(KeyUpdated(requested))

    def send_key_update(self, request_peer_update: bool) -> None:
        assert self.suite is not None
        if not self.complete:
            raise UsageError("key updates need an established connection")
        raw = encode_handshake(KeyUpdate(request_update=1 if request_peer_update else 0))
        self.conn._records.write(ContentType.HANDSHAKE, raw)
        self.set_write_secret(next_traffic_secret(self.backend, self.suite, self._write_secret))


_SPENT_STATS = StatsRecorder(True, lambda: 0.0)
"""Stands in for a finished handshake's recorder (nothing records after completion)."""


def require(condition: bool, error: type[Exception], message: str) -> None:
    """Raise ``error(message)`` unless ``condition``."""
    if not condition:
        raise error(message)

