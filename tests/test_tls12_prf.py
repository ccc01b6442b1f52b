"""The TLS 1.2 PRF (``Backend.tls12_prf``) and ``ferrotls.keyschedule12``.

Oracles, none of them ferrotls code:

* the published P_SHA256 / P_SHA384 vectors (secret, seed, label "test label"),
  posted to the IETF TLS list, https://www.ietf.org/mail-archive/web/tls/current/msg03416.html,
  and carried by GnuTLS's ``tests/tls12-prf.c`` among others (tests/vectors/README.md);
* the OpenSSL CLI's TLS1-PRF KDF (``openssl kdf ... TLS1-PRF``), for other
  secrets, lengths and seeds, and for the RFC 7627 / RFC 5705 / RFC 5246
  derivations rebuilt from their labels and seeds;
* tlslite-ng's ``mathtls.calc_key``, which composes the master secret, the
  extended master secret, the key expansion and Finished itself.

The derivations over real OpenSSL sessions (EMS from a PSK handshake, the
exporter against ``s_client -keymatexport``, verify_data of captured Finished
messages) are in tests/interop/test_tls12_records.py.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from typing import Any

import pytest
from ferrotls import keyschedule12 as ks
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite
from hypothesis import given
from hypothesis import strategies as st
from utils import hypothesis_settings

S = Tls12CipherSuite
SHA256_SUITE = TLS12_SUITES[S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
SHA384_SUITE = TLS12_SUITES[S.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]

# The IETF TLS list vectors (see the module docstring).
VECTORS = [
    (
        "sha256",
        "9bbe436ba940f017b17652849a71db35",
        "a0ba9f936cda311827a6f796ffd5198c",
        (
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
            "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
            "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
            "87347b66"
        ),
    ),
    (
        "sha384",
        "b80b733d6ceefcdc71566ea48e5567df",
        "cd665cf6a8447dd6ff8b27555edb7465",
        (
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
            "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
            "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
            "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
            "91c8f3a26854308d5eaa3be85e0990703d73e56f"
        ),
    ),
]


@pytest.mark.parametrize(("hash_name", "secret", "seed", "output"), VECTORS)
def test_published_vectors(backend: Any, hash_name: str, secret: str, seed: str, output: str) -> None:
    out = bytes.fromhex(output)
    got = backend.tls12_prf(hash_name, bytes.fromhex(secret), b"test label", bytes.fromhex(seed), len(out))
    assert got == out
    # every shorter output is a prefix (block boundaries included)
    for n in (0, 1, 31, 32, 33, 47, 48, 49, 64, 96, 97):
        assert backend.tls12_prf(hash_name, bytes.fromhex(secret), b"test label", bytes.fromhex(seed), n) == out[:n]
    # any buffer type
    assert backend.tls12_prf(
        hash_name, bytearray.fromhex(secret), memoryview(b"test label"), bytearray.fromhex(seed), 16
    ) == out[:16]


def test_arguments(backend: Any) -> None:
    for bad in ("sha1", "SHA256", "md5"):
        with pytest.raises(ValueError):
            backend.tls12_prf(bad, b"k", b"l", b"s", 10)
    for length in (-1, 65536):
        with pytest.raises(ValueError):
            backend.tls12_prf("sha256", b"k", b"l", b"s", length)
    assert len(backend.tls12_prf("sha384", b"k", b"l", b"s", 65535)) == 65535
    with pytest.raises(TypeError):
        backend.tls12_prf("sha256", "text", b"l", b"s", 10)
    assert backend.tls12_prf("sha256", b"", b"", b"", 0) == b""


# --------------------------------------------------------------------------- OpenSSL's TLS1-PRF

_OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(_OPENSSL is None, reason="the openssl CLI is not on PATH")


def openssl_prf(hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """``openssl kdf TLS1-PRF`` (label and seed are passed as two seed parts, which
    OpenSSL concatenates)."""
    assert _OPENSSL is not None
    args = [_OPENSSL, "kdf", "-binary", "-keylen", str(length), "-kdfopt", f"digest:{hash_name.upper()}"]
    args += ["-kdfopt", f"hexsecret:{secret.hex()}"]
    for part in (label, seed):
        if part:
            args += ["-kdfopt", f"hexseed:{part.hex()}"]
    args.append("TLS1-PRF")
    return subprocess.run(args, check=True, capture_output=True, timeout=30).stdout


@needs_openssl
@pytest.mark.parametrize(
    ("hash_name", "secret", "label", "seed", "length"),
    [
        ("sha256", bytes(range(48)), b"master secret", bytes(range(64)), 48),
        ("sha384", bytes(range(48)), b"key expansion", bytes(range(100, 164)), 200),
        ("sha256", b"\xff" * 200, b"a much longer label than usual " * 3, b"s", 1000),
        ("sha384", b"k", b"EXPORTER-test", bytes(300), 1),
        ("sha256", bytes(range(1, 33)), b"client finished", hashlib.sha256(b"m").digest(), 12),
    ],
)
def test_openssl_agrees(backend: Any, hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> None:
    assert backend.tls12_prf(hash_name, secret, label, seed, length) == openssl_prf(
        hash_name, secret, label, seed, length
    )


@needs_openssl
def test_vectors_transcribed() -> None:
    """The vectors above, recomputed by OpenSSL: a typo shows up as a transcription failure."""
    for hash_name, secret, seed, output in VECTORS:
        out = bytes.fromhex(output)
        assert openssl_prf(hash_name, bytes.fromhex(secret), b"test label", bytes.fromhex(seed), len(out)) == out


@hypothesis_settings("native", "python")
@given(
    hash_name=st.sampled_from(["sha256", "sha384"]),
    secret=st.binary(max_size=200),
    label=st.binary(max_size=40),
    seed=st.binary(max_size=100),
    length=st.integers(0, 400),
)
def test_differential_and_tlslite(
    both_backends: tuple[Any, Any], hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int
) -> None:
    from tlslite.mathtls import PRF_1_2, PRF_1_2_SHA384  # type: ignore[import-untyped]

    native, python = both_backends
    got = native.tls12_prf(hash_name, secret, label, seed, length)
    assert got == python.tls12_prf(hash_name, secret, label, seed, length)
    oracle = PRF_1_2 if hash_name == "sha256" else PRF_1_2_SHA384
    assert got == bytes(oracle(bytearray(secret), label, bytearray(seed), length))


# --------------------------------------------------------------------------- keyschedule12

CLIENT_RANDOM = bytes(range(32))
SERVER_RANDOM = bytes(range(0x80, 0xA0))
PMS = bytes(range(1, 33))  # an X25519 shared secret's size


class _Hashes:
    """Stands in for tlslite's HandshakeHashes: ``digest(name)`` of fixed messages."""

    def __init__(self, messages: bytes) -> None:
        self.messages = messages

    def digest(self, name: str) -> bytearray:
        return bytearray(hashlib.new(name, self.messages).digest())


def _tlslite_key(secret: bytes, suite: int, label: bytes, **kw: Any) -> bytes:
    from tlslite.mathtls import calc_key

    return bytes(calc_key((3, 3), bytearray(secret), suite, label, **kw))


@pytest.mark.parametrize("suite", [S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, S.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                                   S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8])
def test_key_schedule_against_tlslite(backend: Any, suite: int) -> None:
    info = TLS12_SUITES[suite]
    messages = b"ClientHello..ClientKeyExchange stand-in"
    session_hash = hashlib.new(info.hash_name, messages).digest()
    ems = ks.extended_master_secret(backend, info, PMS, session_hash)
    assert ems == _tlslite_key(
        PMS, suite, b"extended master secret", handshake_hashes=_Hashes(messages), output_length=48
    )
    assert len(ems) == 48
    classic = ks.master_secret(backend, info, PMS, CLIENT_RANDOM, SERVER_RANDOM)
    assert classic == _tlslite_key(
        PMS, suite, b"master secret", client_random=bytearray(CLIENT_RANDOM),
        server_random=bytearray(SERVER_RANDOM), output_length=48,
    )
    assert classic != ems
    kb = ks.key_block(backend, info, ems, CLIENT_RANDOM, SERVER_RANDOM)
    n = 2 * (info.key_len + info.fixed_iv_len)
    block = _tlslite_key(
        ems, suite, b"key expansion", client_random=bytearray(CLIENT_RANDOM),
        server_random=bytearray(SERVER_RANDOM), output_length=n,
    )
    k, i = info.key_len, info.fixed_iv_len
    assert (kb.client_write_key, kb.server_write_key) == (block[:k], block[k : 2 * k])
    assert (kb.client_write_iv, kb.server_write_iv) == (block[2 * k : 2 * k + i], block[2 * k + i :])
    assert kb.write_keys(True) == (kb.client_write_key, kb.client_write_iv)
    assert kb.write_keys(False) == (kb.server_write_key, kb.server_write_iv)
    assert "redacted" in repr(kb) and kb.client_write_key.hex() not in repr(kb)
    for from_client, label in ((True, b"client finished"), (False, b"server finished")):
        vd = ks.verify_data(backend, info, ems, session_hash, from_client)
        assert len(vd) == 12
        assert vd == _tlslite_key(ems, suite, label, handshake_hashes=_Hashes(messages), output_length=12)
    # the key block feeds the protectors directly
    w = backend.record_protector_tls12(suite, *kb.write_keys(True))
    r = backend.record_protector_tls12(suite, kb.client_write_key, kb.client_write_iv)
    assert r.open_records(w.seal_record(22, b"Finished"))[0] == [(22, b"Finished")]


@needs_openssl
@pytest.mark.parametrize("info", [SHA256_SUITE, SHA384_SUITE], ids=["sha256", "sha384"])
def test_derivations_against_openssl(backend: Any, info: Any) -> None:
    h = info.hash_name
    session_hash = hashlib.new(h, b"transcript").digest()
    assert ks.extended_master_secret(backend, info, PMS, session_hash) == openssl_prf(
        h, PMS, b"extended master secret", session_hash, 48
    )
    master = ks.master_secret(backend, info, PMS, CLIENT_RANDOM, SERVER_RANDOM)
    assert master == openssl_prf(h, PMS, b"master secret", CLIENT_RANDOM + SERVER_RANDOM, 48)
    # RFC 5705: without a context, with an empty one, with a long one
    exp = ks.export_keying_material(backend, info, master, CLIENT_RANDOM, SERVER_RANDOM, b"EXPORTER-x", None, 40)
    assert exp == openssl_prf(h, master, b"EXPORTER-x", CLIENT_RANDOM + SERVER_RANDOM, 40)
    empty = ks.export_keying_material(backend, info, master, CLIENT_RANDOM, SERVER_RANDOM, b"EXPORTER-x", b"", 40)
    assert empty == openssl_prf(h, master, b"EXPORTER-x", CLIENT_RANDOM + SERVER_RANDOM + b"\x00\x00", 40)
    assert empty != exp
    ctx = bytes(range(256)) * 2
    with_ctx = ks.export_keying_material(backend, info, master, CLIENT_RANDOM, SERVER_RANDOM, b"EXPORTER-x", ctx, 7)
    assert with_ctx == openssl_prf(h, master, b"EXPORTER-x", CLIENT_RANDOM + SERVER_RANDOM + b"\x02\x00" + ctx, 7)


def test_psk_pre_master_secret() -> None:
    # RFC 4279 section 2: N zero bytes for a plain PSK; RFC 5489: the ECDHE secret
    assert ks.psk_pre_master_secret(b"\x01\x02\x03") == b"\x00\x03\x00\x00\x00\x00\x03\x01\x02\x03"
    assert ks.psk_pre_master_secret(b"\xaa", b"\xbb\xcc") == b"\x00\x02\xbb\xcc\x00\x01\xaa"
    with pytest.raises(ValueError):
        ks.psk_pre_master_secret(b"")
    with pytest.raises(ValueError):
        ks.psk_pre_master_secret(bytes(65536))


def test_argument_checks(backend: Any) -> None:
    info = SHA256_SUITE
    master = bytes(48)
    with pytest.raises(ValueError):
        ks.extended_master_secret(backend, info, PMS, bytes(48))  # a SHA-384 sized hash
    with pytest.raises(ValueError):
        ks.master_secret(backend, info, PMS, bytes(31), SERVER_RANDOM)
    with pytest.raises(ValueError):
        ks.key_block(backend, info, bytes(47), CLIENT_RANDOM, SERVER_RANDOM)
    with pytest.raises(ValueError):
        ks.verify_data(backend, info, master, bytes(31), True)
    for label in ks.RESERVED_EXPORTER_LABELS:
        with pytest.raises(ValueError):
            ks.export_keying_material(backend, info, master, CLIENT_RANDOM, SERVER_RANDOM, label, None, 10)
    with pytest.raises(ValueError):
        ks.export_keying_material(backend, info, master, CLIENT_RANDOM, SERVER_RANDOM, b"x", bytes(65536), 10)
    with pytest.raises(ValueError):
        ks.export_keying_material(backend, info, master, CLIENT_RANDOM, SERVER_RANDOM, b"x", None, 65536)
    line = ks.keylog_line(CLIENT_RANDOM, master)
    assert line == f"CLIENT_RANDOM {CLIENT_RANDOM.hex()} {master.hex()}"


def test_backends_agree_on_key_schedule(both_backends: tuple[Any, Any]) -> None:
    native, python = both_backends
    for info in TLS12_SUITES.values():
        results = []
        for b in (native, python):
            ems = ks.extended_master_secret(b, info, PMS, hashlib.new(info.hash_name, b"t").digest())
            kb = ks.key_block(b, info, ems, CLIENT_RANDOM, SERVER_RANDOM)
            results.append((ems, kb))
        assert results[0] == results[1]
        assert len(results[0][1].client_write_iv) == info.fixed_iv_len
