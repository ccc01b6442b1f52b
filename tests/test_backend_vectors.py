"""Known-answer tests from RFCs on both backends (vectors: tests/vectors/, see README).

The ``test_transcription_*`` tests check the transcribed vectors themselves against
pyca/cryptography and the stdlib, so a typo in a vector is reported as such and not
blamed on a backend.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from ferrotls.errors import BadRecordMac, IllegalParameter
from utils import KEY_LEN, oracle_aead
from vectors import rfc_kat as K

# ---------------------------------------------------------------------------
# The vectors themselves (no backend involved)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", K.RFC5869_SHA256, ids=lambda c: c.name)
def test_transcription_rfc5869(case: K.HkdfCase) -> None:
    prk = hmac.new(case.salt or bytes(32), case.ikm, hashlib.sha256).digest()
    assert prk == case.prk
    assert len(case.okm) == case.length


@pytest.mark.parametrize("case", K.AEAD_KATS, ids=lambda c: c.name)
def test_transcription_aead(case: K.AeadCase) -> None:
    assert oracle_aead(case.suite, case.key).encrypt(case.nonce, case.plaintext, case.aad) == (
        case.ciphertext + case.tag
    )


def test_transcription_rfc7748() -> None:
    def x(k: bytes, u: bytes) -> bytes:
        return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(u))

    for scalar, u, out in K.RFC7748_X25519:
        assert x(scalar, u) == out
    assert x(K.RFC7748_ALICE_PRIVATE, K.RFC7748_BOB_PUBLIC) == K.RFC7748_SHARED


# ---------------------------------------------------------------------------
# HKDF (RFC 5869)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", K.RFC5869_SHA256, ids=lambda c: c.name)
def test_rfc5869_hkdf_sha256(backend: Any, case: K.HkdfCase) -> None:
    prk = backend.hkdf_extract("sha256", case.salt, case.ikm)
    assert prk == case.prk
    assert backend.hkdf_expand("sha256", prk, case.info, case.length) == case.okm


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_hkdf_accepts_buffers(backend: Any, kind: Any) -> None:
    case = K.RFC5869_SHA256[0]
    prk = backend.hkdf_extract("sha256", kind(case.salt), kind(case.ikm))
    assert prk == case.prk
    assert backend.hkdf_expand("sha256", kind(prk), kind(case.info), case.length) == case.okm


def test_hkdf_expand_zero_and_max_length(backend: Any) -> None:
    prk = K.RFC5869_SHA256[0].prk
    assert backend.hkdf_expand("sha256", prk, b"", 0) == b""
    full = backend.hkdf_expand("sha256", prk, b"x", 255 * 32)
    assert len(full) == 255 * 32
    assert full[:32] == hmac.new(prk, b"x\x01", hashlib.sha256).digest()


@pytest.mark.parametrize("hash_name,hash_len", [("sha256", 32), ("sha384", 48)])
def test_hkdf_expand_length_limits(backend: Any, hash_name: str, hash_len: int) -> None:
    prk = bytes(hash_len)
    assert len(backend.hkdf_expand(hash_name, prk, b"", 255 * hash_len)) == 255 * hash_len
    with pytest.raises(ValueError):
        backend.hkdf_expand(hash_name, prk, b"", 255 * hash_len + 1)
    with pytest.raises((ValueError, OverflowError)):
        backend.hkdf_expand(hash_name, prk, b"", -1)


def test_hkdf_extract_empty_salt_is_hashlen_zeros(backend: Any) -> None:
    for name, n in (("sha256", 32), ("sha384", 48)):
        assert backend.hkdf_extract(name, b"", b"ikm") == backend.hkdf_extract(
            name, bytes(n), b"ikm"
        )
        assert backend.hkdf_extract(name, b"", b"ikm") == hmac.new(bytes(n), b"ikm", name).digest()


@pytest.mark.parametrize("bad", ["sha1", "sha512", "SHA-256", ""])
def test_hkdf_unknown_hash(backend: Any, bad: str) -> None:
    with pytest.raises(ValueError):
        backend.hkdf_extract(bad, b"salt", b"ikm")
    with pytest.raises(ValueError):
        backend.hkdf_expand(bad, bytes(32), b"", 16)


def test_hkdf_expand_label_limits(backend: Any) -> None:
    secret = bytes(range(32))
    # "tls13 " + 249 bytes = 255: the longest label that fits
    assert len(backend.hkdf_expand_label("sha256", secret, b"a" * 249, b"", 16)) == 16
    with pytest.raises(ValueError):
        backend.hkdf_expand_label("sha256", secret, b"a" * 250, b"", 16)
    assert len(backend.hkdf_expand_label("sha256", secret, b"l", bytes(255), 16)) == 16
    with pytest.raises(ValueError):
        backend.hkdf_expand_label("sha256", secret, b"l", bytes(256), 16)
    with pytest.raises(ValueError):
        backend.hkdf_expand_label("sha256", secret, b"l", b"", 255 * 32 + 1)
    with pytest.raises((ValueError, OverflowError)):
        backend.hkdf_expand_label("sha256", secret, b"l", b"", 65536)


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
@pytest.mark.parametrize("length", [0, 1, 12, 16, 32, 48, 100])
def test_hkdf_expand_label_matches_oracle(backend: Any, hash_name: str, length: int) -> None:
    from utils import oracle_hkdf_expand_label

    secret = bytes(range(48))[: 32 if hash_name == "sha256" else 48]
    for label, ctx in ((b"key", b""), (b"c hs traffic", bytes(range(32))), (b"", b"\x00")):
        assert backend.hkdf_expand_label(hash_name, secret, label, ctx, length) == (
            oracle_hkdf_expand_label(hash_name, secret, label, ctx, length)
        )


def test_derive_secret_is_expand_label_hashlen(backend: Any) -> None:
    secret = bytes(range(48))
    th = hashlib.sha384(b"transcript").digest()
    assert backend.derive_secret("sha384", secret, b"derived", th) == backend.hkdf_expand_label(
        "sha384", secret, b"derived", th, 48
    )
    assert len(backend.derive_secret("sha256", secret[:32], b"x", bytes(32))) == 32


# ---------------------------------------------------------------------------
# X25519 (RFC 7748)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1])
def test_rfc7748_x25519_function(backend: Any, index: int) -> None:
    scalar, u, out = K.RFC7748_X25519[index]
    assert backend.x25519_from_bytes(scalar).exchange(u) == out


@pytest.mark.parametrize("iterations", [1, 1000])
def test_rfc7748_iterated(backend: Any, iterations: int) -> None:
    k = u = K.RFC7748_ITERATED_START
    for _ in range(iterations):
        k, u = backend.x25519_from_bytes(k).exchange(u), k
    assert k == K.RFC7748_ITERATED[iterations]


def test_rfc7748_diffie_hellman(backend: Any) -> None:
    alice = backend.x25519_from_bytes(K.RFC7748_ALICE_PRIVATE)
    bob = backend.x25519_from_bytes(K.RFC7748_BOB_PRIVATE)
    assert alice.public_bytes() == K.RFC7748_ALICE_PUBLIC
    assert bob.public_bytes() == K.RFC7748_BOB_PUBLIC
    assert alice.exchange(K.RFC7748_BOB_PUBLIC) == K.RFC7748_SHARED
    assert bob.exchange(K.RFC7748_ALICE_PUBLIC) == K.RFC7748_SHARED
    assert alice.exchange(bytearray(K.RFC7748_BOB_PUBLIC)) == K.RFC7748_SHARED
    assert alice.exchange(memoryview(K.RFC7748_BOB_PUBLIC)) == K.RFC7748_SHARED


def test_x25519_generate_roundtrip(backend: Any) -> None:
    a, b = backend.x25519_generate(), backend.x25519_generate()
    assert len(a.public_bytes()) == 32 and a.public_bytes() != b.public_bytes()
    assert a.exchange(b.public_bytes()) == b.exchange(a.public_bytes())
    # against the oracle
    peer = X25519PrivateKey.generate()
    assert a.exchange(peer.public_key().public_bytes_raw()) == peer.exchange(
        X25519PublicKey.from_public_bytes(a.public_bytes())
    )


@pytest.mark.parametrize("low_order", [bytes(32), b"\x01" + bytes(31)])
def test_x25519_all_zero_shared_secret(backend: Any, low_order: bytes) -> None:
    key = backend.x25519_from_bytes(K.RFC7748_ALICE_PRIVATE)
    with pytest.raises(IllegalParameter):
        key.exchange(low_order)


@pytest.mark.parametrize("n", [0, 31, 33])
def test_x25519_wrong_lengths(backend: Any, n: int) -> None:
    with pytest.raises(ValueError):
        backend.x25519_from_bytes(bytes(n))
    key = backend.x25519_from_bytes(K.RFC7748_ALICE_PRIVATE)
    with pytest.raises(ValueError):
        key.exchange(bytes([9]) + bytes(max(n - 1, 0)))


def test_x25519_repr_has_no_key_material(backend: Any) -> None:
    key = backend.x25519_from_bytes(K.RFC7748_ALICE_PRIVATE)
    for text in (repr(key), str(key)):
        assert K.RFC7748_ALICE_PRIVATE.hex() not in text.lower()
        assert repr(K.RFC7748_ALICE_PRIVATE)[2:-1] not in text


# ---------------------------------------------------------------------------
# AEAD (GCM spec, RFC 8439)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", K.AEAD_KATS, ids=lambda c: c.name)
def test_aead_known_answer(backend: Any, case: K.AeadCase) -> None:
    aead = backend.aead(case.suite, case.key)
    assert aead.suite == case.suite
    sealed = aead.seal(case.nonce, case.aad, case.plaintext)
    assert sealed == case.ciphertext + case.tag
    assert aead.open(case.nonce, case.aad, sealed) == case.plaintext
    # buffer types
    assert (
        aead.seal(bytearray(case.nonce), memoryview(case.aad), bytearray(case.plaintext)) == sealed
    )
    assert (
        aead.open(memoryview(case.nonce), bytearray(case.aad), memoryview(sealed)) == case.plaintext
    )


@pytest.mark.parametrize("case", K.AEAD_KATS, ids=lambda c: c.name)
def test_aead_known_answer_tamper(backend: Any, case: K.AeadCase) -> None:
    aead = backend.aead(case.suite, case.key)
    sealed = case.ciphertext + case.tag
    for i in sorted({0, len(sealed) // 2, len(sealed) - 1}):
        bad = bytearray(sealed)
        bad[i] ^= 0x01
        with pytest.raises(BadRecordMac) as info:
            aead.open(case.nonce, case.aad, bytes(bad))
        assert str(info.value) == "bad record MAC"
    with pytest.raises(BadRecordMac):
        aead.open(case.nonce, case.aad + b"\x00", sealed)
    with pytest.raises(BadRecordMac):
        aead.open(bytes(12) if case.nonce != bytes(12) else b"\x01" * 12, case.aad, sealed)


@pytest.mark.parametrize("suite", [0x1301, 0x1302, 0x1303])
def test_aead_short_ciphertext(backend: Any, suite: int) -> None:
    aead = backend.aead(suite, bytes(KEY_LEN[suite]))
    for n in (0, 1, 15):
        with pytest.raises(BadRecordMac):
            aead.open(bytes(12), b"", bytes(n))


@pytest.mark.parametrize("suite", [0x1301, 0x1302, 0x1303])
def test_aead_bad_arguments(backend: Any, suite: int) -> None:
    n = KEY_LEN[suite]
    for bad_len in (0, n - 1, n + 1, 24 if n != 24 else 16):
        with pytest.raises(ValueError):
            backend.aead(suite, bytes(bad_len))
    aead = backend.aead(suite, bytes(n))
    for bad_nonce in (bytes(0), bytes(8), bytes(11), bytes(13), bytes(16)):
        with pytest.raises(ValueError):
            aead.seal(bad_nonce, b"", b"x")
        with pytest.raises(ValueError):
            aead.open(bad_nonce, b"", bytes(17))


@pytest.mark.parametrize("suite", [0x1306, 0x0000, 0x1300, 0xFFFF])
def test_aead_unknown_suite(backend: Any, suite: int) -> None:
    with pytest.raises(ValueError):
        backend.aead(suite, bytes(16))
    with pytest.raises(ValueError):
        backend.aead(suite, bytes(32))


def test_aead_repr_has_no_key_material(backend: Any) -> None:
    key = bytes(range(0xA0, 0xC0))
    aead = backend.aead(0x1303, key)
    for text in (repr(aead), str(aead)):
        assert key.hex() not in text.lower()
        assert repr(key)[2:-1] not in text
