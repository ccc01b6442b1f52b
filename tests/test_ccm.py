"""TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256 on both backends.

Everything suite-generic (record framing, padding, stop rules, sequence numbers,
handshakes, differential runs) already covers the CCM suites through
``utils.ALL_SUITES``; Wycheproof is in test_wycheproof.py.  This file holds what is
specific to CCM: a NIST known answer, a three-way differential against
pyca/cryptography's ``AESCCM(tag_length=8/16)``, the 8-byte tag at the record
layer, CCM's message-length limit, and the suites being off by default but on in
the IoT profile.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from ferrotls.backend.interface import STOP_END, STOP_OUT_FULL
from ferrotls.config import DEFAULT_CIPHER_SUITES, ClientConfig, ServerConfig
from ferrotls.errors import BadRecordMac, UnexpectedMessage
from ferrotls.profiles import IOT_CIPHER_SUITES
from ferrotls.suites import SUITES, CipherSuite
from hypothesis import example, given
from hypothesis import strategies as st
from utils import (
    SUITE_AES_128_CCM,
    SUITE_AES_128_CCM_8,
    TAG_LEN,
    hypothesis_settings,
    oracle_seal_record,
    record_header,
    record_nonce,
)

CCM = SUITE_AES_128_CCM
CCM_8 = SUITE_AES_128_CCM_8
KEY = bytes(range(0x40, 0x50))
IV = bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaab")

# NIST SP 800-38C appendix C, example 3: 128-bit key, 96-bit nonce, 160-bit AAD,
# 192-bit payload, 64-bit tag -- exactly TLS_AES_128_CCM_8_SHA256's parameters.
SP800_38C_EX3 = {
    "key": bytes.fromhex("404142434445464748494a4b4c4d4e4f"),
    "nonce": bytes.fromhex("101112131415161718191a1b"),
    "aad": bytes.fromhex("000102030405060708090a0b0c0d0e0f10111213"),
    "plaintext": bytes.fromhex("202122232425262728292a2b2c2d2e2f3031323334353637"),
    "sealed": bytes.fromhex(
        "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5" "484392fbc1b09951"
    ),
}


def test_transcription_sp800_38c_example_3() -> None:
    v = SP800_38C_EX3
    assert AESCCM(v["key"], tag_length=8).encrypt(v["nonce"], v["plaintext"], v["aad"]) == v["sealed"]


def test_sp800_38c_example_3(backend: Any) -> None:
    v = SP800_38C_EX3
    aead = backend.aead(CCM_8, v["key"])
    assert aead.suite == CCM_8
    assert aead.seal(v["nonce"], v["aad"], v["plaintext"]) == v["sealed"]
    assert aead.open(v["nonce"], v["aad"], v["sealed"]) == v["plaintext"]
    # The 16-byte-tag suite shares the ciphertext; only the tag is longer.
    long = backend.aead(CCM, v["key"]).seal(v["nonce"], v["aad"], v["plaintext"])
    assert long[:24] == v["sealed"][:24] and len(long) == 24 + 16


def test_suite_table() -> None:
    assert SUITES[CCM].tag_len == 16 and SUITES[CCM_8].tag_len == 8
    for s in (CCM, CCM_8):
        assert (SUITES[s].key_len, SUITES[s].iv_len, SUITES[s].hash_name) == (16, 12, "sha256")


# ---------------------------------------------------------------------------
# Native vs python vs pyca/cryptography
# ---------------------------------------------------------------------------


@hypothesis_settings("native", "python")
@given(
    suite=st.sampled_from([CCM, CCM_8]),
    key=st.binary(min_size=16, max_size=16),
    nonce=st.binary(min_size=12, max_size=12),
    aad=st.one_of(st.binary(max_size=40), st.binary(min_size=0xFEF0, max_size=0xFF10)),
    data=st.one_of(st.binary(max_size=300), st.sampled_from([bytes(1 << 14), b"\xab" * 16401])),
)
@example(suite=CCM_8, key=bytes(16), nonce=bytes(12), aad=b"", data=b"")
@example(suite=CCM, key=bytes(16), nonce=b"\xff" * 12, aad=b"\x17\x03\x03\x40\x11", data=bytes(17))
def test_three_way(
    both_backends: Any, suite: int, key: bytes, nonce: bytes, aad: bytes, data: bytes
) -> None:
    """Both backends equal AESCCM, including AAD lengths around the 0xFF00 encoding switch."""
    native, python = both_backends
    expected = AESCCM(key, tag_length=TAG_LEN[suite]).encrypt(nonce, data, aad)
    for b in (native, python):
        aead = b.aead(suite, key)
        assert aead.seal(nonce, aad, data) == expected
        assert aead.open(nonce, aad, expected) == data


@hypothesis_settings("native", "python", fraction=2.0)
@given(
    suite=st.sampled_from([CCM, CCM_8]),
    data=st.binary(max_size=100),
    flip=st.integers(0, 10_000),
    bit=st.integers(0, 7),
    cut=st.integers(0, 20),
)
def test_tamper_same_exception(
    both_backends: Any, suite: int, data: bytes, flip: int, bit: int, cut: int
) -> None:
    native, python = both_backends
    sealed = bytearray(AESCCM(KEY, tag_length=TAG_LEN[suite]).encrypt(IV, data, b"ad"))
    sealed[flip % len(sealed)] ^= 1 << bit
    for bad in (bytes(sealed), bytes(sealed[: max(0, len(sealed) - cut)])):
        for b in (native, python):
            with pytest.raises(BadRecordMac, match="^bad record MAC$"):
                b.aead(suite, KEY).open(IV, b"ad", bad)


def test_short_ciphertext_and_length_limit(backend: Any) -> None:
    for suite in (CCM, CCM_8):
        aead = backend.aead(suite, KEY)
        for n in (0, 1, TAG_LEN[suite] - 1):
            with pytest.raises(BadRecordMac):
                aead.open(IV, b"", bytes(n))
        # exactly a tag: an empty message, authenticated
        assert aead.open(IV, b"", aead.seal(IV, b"", b"")) == b""
    # a 12-byte nonce leaves a 3-byte length field: at most 2**24 - 1 bytes
    with pytest.raises(ValueError):
        backend.aead(CCM_8, KEY).seal(IV, b"", bytes(1 << 24))


# ---------------------------------------------------------------------------
# The record layer with 8-byte tags
# ---------------------------------------------------------------------------


def _pair(backend: Any, suite: int = CCM_8) -> tuple[Any, Any]:
    return backend.record_protector(suite, KEY, IV), backend.record_protector(suite, KEY, IV)


@pytest.mark.parametrize("suite", [CCM, CCM_8])
def test_record_bytes_match_oracle(backend: Any, suite: int) -> None:
    w, r = _pair(backend, suite)
    out = w.seal_record(23, b"hello", padding=3)
    assert out == oracle_seal_record(suite, KEY, IV, 0, 23, b"hello", 3)
    assert len(out) == 5 + 5 + 1 + 3 + TAG_LEN[suite]
    assert w.sealed_size(5, 3) == len(out)
    assert r.open_records(out) == ([(23, b"hello")], len(out))


def test_ccm8_every_byte_tampered(backend: Any) -> None:
    w, _ = _pair(backend)
    rec = w.seal_record(23, b"attack at dawn")
    assert len(rec) == 5 + 15 + 8
    for i in range(len(rec)):
        if i in (0, 3, 4):  # outer type / length: not a record to open, or incomplete
            continue
        bad = bytearray(rec)
        bad[i] ^= 0x01
        _, r = _pair(backend)
        with pytest.raises(BadRecordMac, match="^bad record MAC$"):
            r.open_records(bytes(bad))
        with pytest.raises(BadRecordMac):
            r.open_records_into(bytes(bad), bytearray(100))
        assert r.sequence == 0


def test_ccm8_length_boundaries(backend: Any) -> None:
    """< 8 bytes: BadRecordMac before any decryption; exactly 8 and authentic: the
    inner plaintext is empty, so it has no content type (UnexpectedMessage)."""
    _, r = _pair(backend)
    for n in (0, 1, 7, 8):
        with pytest.raises(BadRecordMac):
            r.open_records(record_header(n) + bytes(n))
    hdr = record_header(8)
    tag_only = hdr + AESCCM(KEY, tag_length=8).encrypt(record_nonce(IV, 0), b"", hdr)
    with pytest.raises(UnexpectedMessage):
        r.open_records(tag_only)
    with pytest.raises(UnexpectedMessage):
        r.open_records_into(tag_only, bytearray(10))
    assert r.sequence == 0


def test_ccm8_open_into_room(backend: Any) -> None:
    """STOP_OUT_FULL is judged on length - 8 bytes for CCM_8."""
    w, r = _pair(backend)
    wire = w.seal_record(23, b"x" * 100) + w.seal_record(23, b"y" * 100)
    body = 100 + 1 + 0  # content + type; TLSCiphertext.length - 8
    consumed, written, stop = r.open_records_into(wire, bytearray(100 + body - 1))
    assert (consumed, written, stop) == (len(wire) // 2, 100, STOP_OUT_FULL)
    out = bytearray(body)
    assert r.open_records_into(wire[consumed:], out) == (len(wire) // 2, 100, STOP_END)
    assert bytes(out[:100]) == b"y" * 100


def test_ccm_and_ccm8_do_not_open_each_other(backend: Any) -> None:
    w, _ = _pair(backend, CCM)
    _, r8 = _pair(backend, CCM_8)
    with pytest.raises(BadRecordMac):
        r8.open_records(w.seal_record(23, b"data"))


# ---------------------------------------------------------------------------
# Configuration: off by default, on in the IoT profile
# ---------------------------------------------------------------------------


def test_off_by_default_on_in_iot_profile() -> None:
    for s in (CipherSuite.TLS_AES_128_CCM_SHA256, CipherSuite.TLS_AES_128_CCM_8_SHA256):
        assert s not in DEFAULT_CIPHER_SUITES
        assert s not in ClientConfig().cipher_suites
        assert s in IOT_CIPHER_SUITES
    assert IOT_CIPHER_SUITES[:2] == (CCM_8, CCM)
    assert ServerConfig.__dataclass_fields__["cipher_suites"].default == DEFAULT_CIPHER_SUITES
