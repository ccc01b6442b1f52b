"""What the client and server handshakes share, written once.

* PSK binders (RFC 8446 section 4.2.11.2): the client computes them, the
  server recomputes and compares them;
* the peer's Certificate (decompression, limits, chain verification) and its
  CertificateVerify;
* our Certificate (compressed when the peer offered an algorithm we have);
* Finished verify_data and its check;
* the application traffic secrets and the ClientHello accounting.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from .. import certcompress
from ..backend.interface import MAX_PLAINTEXT, Backend
from ..errors import DecodeError, DecryptError, IllegalParameter, UnexpectedMessage
from ..keyschedule import EarlySecrets, MasterSecrets, finished_verify_data
from ..messages import extensions as ext
from ..messages.enums import HandshakeType
from ..messages.handshake import (
    Certificate,
    CertificateVerify,
    ClientHello,
    CompressedCertificate,
    decode_handshake,
    encode_handshake,
)
from ..sign import certificate_verify_message, verify
from ..stats import PQ_GROUPS, StatsRecorder
from ..suites import SuiteInfo
from ..transcript import Transcript
from .policy import check_certificate

if TYPE_CHECKING:
    from ..config import ClientConfig, ServerConfig
    from .machine import Handshake

__all__ = [
    "psk_binder",
    "receive_certificate",
    "check_certificate_verify",
    "send_certificate",
    "finished_data",
    "check_finished",
    "application_secrets",
    "note_client_hello",
    "version_name",
    "utc",
]

_VERSION_NAMES = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}


def version_name(version: int) -> str:
    """"TLS 1.2" for 0x0303; hex for versions without a name."""
    return _VERSION_NAMES.get(version, f"version 0x{version:04x}")


def utc(clock: Callable[[], float]) -> datetime.datetime:
    """The config clock's time as an aware datetime (for certificate validity)."""
    return datetime.datetime.fromtimestamp(clock(), datetime.timezone.utc)


# --------------------------------------------------------------------------- PSK binders


def psk_binder(
    backend: Backend, suite: SuiteInfo, key: bytes, label: bytes, truncated_hello: bytes,
    transcript: Transcript | None,
) -> bytes:
    """The binder of one PSK over Truncate(ClientHello): hashed alone, or after the
    HelloRetryRequest's transcript (``transcript``) for a second ClientHello."""
    if transcript is not None:
        binder_hash = transcript.digest_with(truncated_hello)
    else:
        binder_hash = hashlib.new(suite.hash_name, truncated_hello).digest()
    early = EarlySecrets(backend, suite, key)
    return early.binder(early.binder_key(label=label), binder_hash)


# --------------------------------------------------------------------------- certificates


def decompress_certificate(
    config: ClientConfig | ServerConfig, message: CompressedCertificate, offered: bool
) -> Certificate:
    """The Certificate inside a CompressedCertificate we asked for (``offered``);
    inflating at most Limits.max_handshake_size bytes.  The transcript keeps the
    CompressedCertificate as received."""
    if not offered:
        raise UnexpectedMessage("COMPRESSED_CERTIFICATE without compress_certificate offered")
    if message.algorithm not in config.certificate_compression:
        raise IllegalParameter(f"certificate compressed with algorithm {message.algorithm} we did not offer")
    body = certcompress.decompress(
        message.algorithm, message.compressed_certificate_message,
        message.uncompressed_length, config.limits.max_handshake_size,
    )
    cert = decode_handshake(HandshakeType.CERTIFICATE, body)
    assert isinstance(cert, Certificate)
    return cert


def receive_certificate(
    hs: Handshake,
    message: Certificate | CompressedCertificate,
    *,
    compression_offered: bool,
    requested: Collection[int],
    context: bytes,
) -> Certificate:
    """The peer's Certificate, decompressed and checked against the limits and the
    extension rules (RFC 8446 section 4.4.2), before its chain is verified.
    ``context``: the certificate_request_context it must carry."""
    if isinstance(message, CompressedCertificate):
        cert = decompress_certificate(hs.config, message, compression_offered)
        hs.outcome.certificate_compression = int(message.algorithm)
    else:
        cert = message
    if cert.certificate_request_context != context:
        side = "server" if hs.is_client else "client"
        raise IllegalParameter(f"{side} Certificate with the wrong certificate_request_context")
    check_certificate(cert, hs.config.limits, requested)
    return cert


def check_certificate_verify(
    leaf: Any, cv: CertificateVerify, transcript: Transcript, *, server: bool, offered: Sequence[int]
) -> None:
    """The peer's CertificateVerify signs the transcript with its leaf's key."""
    content = certificate_verify_message(transcript.digest(), server=server)
    verify(leaf, cv.algorithm, cv.signature, content, offered=offered)


def send_certificate(
    hs: Handshake, transcript: Transcript, cert: Certificate, peer_algorithms: list[int] | None
) -> None:
    """Send ``cert``, compressed with our most preferred algorithm the peer offered
    (plain when none is common).  Compressed even when that saves nothing (a small
    RSA chain may not shrink): the peer asked for it, and peers such as tlsfuzzer
    expect the CompressedCertificate whenever an algorithm was negotiated."""
    if peer_algorithms:
        for algorithm in hs.config.certificate_compression:
            if algorithm in peer_algorithms:
                body = encode_handshake(cert)[4:]
                hs.send(transcript, CompressedCertificate(
                    algorithm=algorithm, uncompressed_length=len(body),
                    compressed_certificate_message=certcompress.compress(algorithm, body),
                ))
                return
    hs.send(transcript, cert)


# --------------------------------------------------------------------------- Finished


def finished_data(backend: Backend, suite: SuiteInfo, base_key: bytes, transcript: Transcript) -> bytes:
    return finished_verify_data(backend, suite, base_key, transcript.digest())


def check_finished(
    backend: Backend, suite: SuiteInfo, verify_data: bytes, base_key: bytes, transcript: Transcript
) -> None:
    """The peer's Finished: decode_error when it has the wrong length (it cannot be
    parsed), decrypt_error when it does not verify (RFC 8446 section 4.4.4)."""
    expected = finished_data(backend, suite, base_key, transcript)
    if len(verify_data) != len(expected):
        raise DecodeError(f"Finished of {len(verify_data)} bytes, expected {len(expected)}")
    if not hmac.compare_digest(expected, verify_data):
        raise DecryptError("the peer's Finished does not verify")


def application_secrets(
    hs: Handshake, master: MasterSecrets, server_finished_hash: bytes
) -> tuple[bytes, bytes, bytes]:
    """(client, server) application traffic secrets and the exporter secret, logged."""
    c_ap = master.client_application_traffic_secret(server_finished_hash)
    s_ap = master.server_application_traffic_secret(server_finished_hash)
    exporter = master.exporter_master_secret(server_finished_hash)
    hs.key_log("CLIENT_TRAFFIC_SECRET_0", c_ap)
    hs.key_log("SERVER_TRAFFIC_SECRET_0", s_ap)
    hs.key_log("EXPORTER_SECRET", exporter)
    return c_ap, s_ap, exporter


# --------------------------------------------------------------------------- accounting


def note_client_hello(stats: StatsRecorder, hello: ClientHello, raw: bytes) -> None:
    """ClientHello size on the wire and its key shares (HandshakeStats); the first only."""
    if stats.client_hello_size:
        return
    records = -(-len(raw) // MAX_PLAINTEXT)
    stats.client_hello_size = len(raw) + 5 * records
    shares = ext.get_extension(hello.extensions, ext.KeyShareClientHello)
    if shares is not None:
        stats.key_shares = sum(len(s.key_exchange) for s in shares.client_shares)
        stats.pq = any(s.group in PQ_GROUPS for s in shares.client_shares)
