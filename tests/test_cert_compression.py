"""Certificate compression (RFC 8879): offer/accept, CompressedCertificate both ways,
bounded decompression, and the alerts for bad compressed data."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import pytest
from ferrotls import certcompress
from ferrotls.config import ClientAuth
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.errors import BadCertificate, DecodeError, IllegalParameter, ProtocolError, UnexpectedMessage
from ferrotls.limits import Limits
from ferrotls.messages import CompressedCertificate, decode_handshake_message, encode_handshake
from helpers_tls import (
    CLIENT_SECRETS,
    SERVER_NAME,
    ConnectionPair,
    KeyLog,
    certified,
    client_config,
    edit_server_flight,
    read_alert,
    server_config,
    verifier,
)

SUITE = 0x1301
ALGORITHMS = [
    pytest.param(a, id=name, marks=pytest.mark.skipif(not certcompress.available(a), reason=f"{name} not installed"))
    for a, name in ((certcompress.ZLIB, "zlib"), (certcompress.BROTLI, "brotli"), (certcompress.ZSTD, "zstd"))
]


def handshake(backend: Any, client_kw: dict[str, Any], server_kw: dict[str, Any]) -> tuple[Any, Any, int]:
    pair = ConnectionPair(client_config(backend, **client_kw), server_config(backend, **server_kw))
    c, s = pair.handshake()
    return c, s, sum(map(len, pair.s2c))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_server_certificate_compressed(backend: Any, algorithm: int) -> None:
    c, s, compressed = handshake(
        backend, {"certificate_compression": (algorithm,)}, {"certificate_compression": (algorithm,)}
    )
    assert c.certificate_compression == algorithm and s.certificate_compression is None
    assert c.peer_certificates == certified("p256").chain_der
    _, _, plain = handshake(backend, {}, {})
    assert compressed < plain  # and the Finished verified over the CompressedCertificate


def test_server_picks_its_preferred_common_algorithm(backend: Any) -> None:
    if not certcompress.available(certcompress.BROTLI):
        pytest.skip("brotli not installed")
    c, _, _ = handshake(
        backend,
        {"certificate_compression": (certcompress.ZLIB, certcompress.BROTLI)},
        {"certificate_compression": (certcompress.BROTLI, certcompress.ZLIB)},
    )
    assert c.certificate_compression == certcompress.BROTLI


@pytest.mark.parametrize(
    "client_algs,server_algs",
    [((), (certcompress.ZLIB,)), ((certcompress.ZLIB,), ())],
    ids=["client-does-not-offer", "server-does-not-compress"],
)
def test_no_common_offer_gives_plain_certificate(backend: Any, client_algs: Any, server_algs: Any) -> None:
    c, _, _ = handshake(
        backend, {"certificate_compression": client_algs}, {"certificate_compression": server_algs}
    )
    assert c.certificate_compression is None


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_client_certificate_compressed(backend: Any, algorithm: int) -> None:
    c, s, _ = handshake(
        backend,
        {"certificate": certified("p256", "client.test"), "certificate_compression": (algorithm,)},
        {"client_auth": ClientAuth.REQUIRED, "client_verifier": verifier(), "certificate_compression": (algorithm,)},
    )
    assert s.certificate_compression == algorithm and c.certificate_compression == algorithm
    assert s.peer_certificates == certified("p256", "client.test").chain_der


def test_unavailable_algorithm_in_config_is_refused(backend: Any) -> None:
    with pytest.raises(ValueError, match="not available"):
        ClientConnection(client_config(backend, certificate_compression=(99,)), SERVER_NAME)


# --------------------------------------------------------------------------- bad data


def _flight(backend: Any, edit: Callable[[CompressedCertificate], bytes],
            client_algs: tuple[int, ...] = (certcompress.ZLIB,)) -> tuple[ClientConnection, bytes, KeyLog]:
    c_log, s_log = KeyLog(), KeyLog()
    pair = ConnectionPair(
        client_config(backend, cipher_suites=(SUITE,), key_log=c_log, certificate_compression=client_algs),
        server_config(backend, key_log=s_log, certificate_compression=(certcompress.ZLIB,)),
    )
    pair.server.receive_data(pair.client.data_to_send())

    def run(messages: list[bytes]) -> list[bytes]:
        cc = decode_handshake_message(messages[1])
        assert isinstance(cc, CompressedCertificate)
        return [messages[0], edit(cc), *messages[2:]]

    return pair.client, edit_server_flight(pair.server.data_to_send(), SUITE, s_log, run), c_log


def _expect(client: ClientConnection, flight: bytes, exc: type[ProtocolError], description: int, log: KeyLog) -> None:
    with pytest.raises(exc) as info:
        client.receive_data(flight)
    assert type(info.value) is exc
    assert read_alert(client.data_to_send(), SUITE, log, CLIENT_SECRETS).payload == bytes((2, description))


def _cc(algorithm: int, length: int, data: bytes) -> bytes:
    return encode_handshake(
        CompressedCertificate(algorithm=algorithm, uncompressed_length=length, compressed_certificate_message=data)
    )


def test_garbage_is_bad_certificate(backend: Any) -> None:
    client, flight, log = _flight(backend, lambda cc: _cc(1, cc.uncompressed_length, b"not zlib at all"))
    _expect(client, flight, BadCertificate, 42, log)


@pytest.mark.parametrize("delta", [-1, 1])
def test_wrong_uncompressed_length_is_bad_certificate(backend: Any, delta: int) -> None:
    client, flight, log = _flight(
        backend, lambda cc: _cc(1, cc.uncompressed_length + delta, cc.compressed_certificate_message)
    )
    _expect(client, flight, BadCertificate, 42, log)


def test_trailing_data_is_bad_certificate(backend: Any) -> None:
    client, flight, log = _flight(
        backend, lambda cc: _cc(1, cc.uncompressed_length, cc.compressed_certificate_message + b"\x00")
    )
    _expect(client, flight, BadCertificate, 42, log)


def test_length_above_limit_is_bad_certificate(backend: Any) -> None:
    bomb = zlib.compress(bytes(Limits().max_handshake_size + 1), 9)
    client, flight, log = _flight(backend, lambda cc: _cc(1, Limits().max_handshake_size + 1, bomb))
    _expect(client, flight, BadCertificate, 42, log)


def test_algorithm_not_offered_is_illegal_parameter(backend: Any) -> None:
    client, flight, log = _flight(
        backend, lambda cc: _cc(3, cc.uncompressed_length, cc.compressed_certificate_message)
    )
    _expect(client, flight, IllegalParameter, 47, log)


def test_malformed_inner_certificate_is_decode_error(backend: Any) -> None:
    body = b"\x00\x00\x00\x05abc"  # a Certificate body with a bad list length
    client, flight, log = _flight(backend, lambda cc: _cc(1, len(body), zlib.compress(body)))
    _expect(client, flight, DecodeError, 50, log)


def test_unsolicited_compressed_certificate_is_unexpected(backend: Any) -> None:
    """The server compresses although the client offered nothing (the flight is edited)."""
    c_log, s_log = KeyLog(), KeyLog()
    pair = ConnectionPair(
        client_config(backend, cipher_suites=(SUITE,), key_log=c_log),
        server_config(backend, key_log=s_log),
    )
    pair.server.receive_data(pair.client.data_to_send())

    def run(messages: list[bytes]) -> list[bytes]:
        body = messages[1][4:]
        return [messages[0], _cc(1, len(body), zlib.compress(body)), *messages[2:]]

    flight = edit_server_flight(pair.server.data_to_send(), SUITE, s_log, run)
    _expect(pair.client, flight, UnexpectedMessage, 10, c_log)


def test_client_certificate_plain_when_not_asked(backend: Any) -> None:
    """The client compresses only when the CertificateRequest offers an algorithm
    (tlslite-ng 0.8 compresses on its own: tests/interop/test_tlslite.py)."""
    pair = ConnectionPair(
        client_config(backend, certificate=certified("p256", "client.test"),
                      certificate_compression=(certcompress.ZLIB,)),
        server_config(backend, client_auth=ClientAuth.REQUIRED, client_verifier=verifier()),
    )
    _, s = pair.handshake()
    assert s.certificate_compression is None


# --------------------------------------------------------------------------- codecs


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_decompress_is_bounded(algorithm: int) -> None:
    big = bytes(1 << 20)
    packed = certcompress.compress(algorithm, big)
    assert certcompress.decompress(algorithm, packed, len(big), len(big)) == big
    with pytest.raises(BadCertificate):
        certcompress.decompress(algorithm, packed, 1000, 1 << 21)  # inflates past what it claims
    with pytest.raises(BadCertificate):
        certcompress.decompress(algorithm, packed, len(big), 1000)  # claims more than the bound
    with pytest.raises(BadCertificate):
        certcompress.decompress(algorithm, packed[: len(packed) // 2], len(big), len(big))


def test_compress_is_cached() -> None:
    body = b"certificate" * 100
    assert certcompress.compress(certcompress.ZLIB, body) is certcompress.compress(certcompress.ZLIB, body)
