"""Differential tests: native, python and pyca/cryptography (a third, independent
oracle) must agree byte for byte, and native/python must raise the same exception
types for the same bad input.

Needs both backends: skips when the native extension is not built, unless
FERROTLS_REQUIRE_NATIVE=1.  Example counts follow the hypothesis profile, scaled
down because every example runs the pure-Python backend (utils.hypothesis_settings).
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from ferrotls.errors import TLSError
from hypothesis import example, given
from hypothesis import strategies as st
from utils import ALL_SUITES, KEY_LEN, hypothesis_settings, oracle_aead

MAX = 1 << 14
SETTINGS = hypothesis_settings("native", "python")
SETTINGS_CHEAP = hypothesis_settings("native", "python", fraction=2.0)

suites = st.sampled_from(ALL_SUITES)


@st.composite
def keyed(draw: Any) -> tuple[int, bytes]:
    suite = draw(suites)
    return suite, draw(st.binary(min_size=KEY_LEN[suite], max_size=KEY_LEN[suite]))


# Lengths: mostly small, with the record boundaries and > 16 KiB represented.
lengths = st.one_of(
    st.integers(0, 300),
    st.sampled_from([MAX - 1, MAX, MAX + 1, MAX + 17]),
    st.integers(300, MAX + 100),
)


@st.composite
def payloads(draw: Any) -> bytes:
    n = draw(lengths)
    if n > 512:  # large: cheap generation (random seed-expanded pattern)
        seed = draw(st.binary(min_size=1, max_size=16))
        return bytes(seed * (n // len(seed) + 1))[:n]
    return bytes(draw(st.binary(min_size=n, max_size=n)))


def outcome(fn: Any, *args: Any, **kw: Any) -> tuple[str, Any]:
    """('ok', result) or ('err', exception type), for comparing behaviour."""
    try:
        return "ok", fn(*args, **kw)
    except (TLSError, ValueError, TypeError, OverflowError) as exc:
        return "err", type(exc)


# ---------------------------------------------------------------------------
# AEAD
# ---------------------------------------------------------------------------


@SETTINGS
@given(
    kk=keyed(),
    nonce=st.binary(min_size=12, max_size=12),
    aad=st.binary(max_size=64),
    data=payloads(),
)
@example(kk=(0x1301, bytes(16)), nonce=bytes(12), aad=b"", data=b"")
@example(
    kk=(0x1303, bytes(32)), nonce=b"\xff" * 12, aad=b"\x17\x03\x03\x40\x11", data=bytes(MAX + 1)
)
def test_aead_three_way(
    both_backends: Any, kk: tuple[int, bytes], nonce: bytes, aad: bytes, data: bytes
) -> None:
    native, python = both_backends
    suite, key = kk
    expected = oracle_aead(suite, key).encrypt(nonce, data, aad)
    assert native.aead(suite, key).seal(nonce, aad, data) == expected
    assert python.aead(suite, key).seal(nonce, aad, data) == expected
    assert native.aead(suite, key).open(nonce, aad, expected) == data
    assert python.aead(suite, key).open(nonce, aad, expected) == data


@SETTINGS_CHEAP
@given(
    kk=keyed(),
    nonce=st.binary(min_size=12, max_size=12),
    aad=st.binary(max_size=32),
    data=st.binary(max_size=200),
    flip=st.integers(0, 10_000),
    bit=st.integers(0, 7),
    cut=st.integers(0, 20),
)
def test_aead_tamper_same_exception(
    both_backends: Any,
    kk: tuple[int, bytes],
    nonce: bytes,
    aad: bytes,
    data: bytes,
    flip: int,
    bit: int,
    cut: int,
) -> None:
    native, python = both_backends
    suite, key = kk
    sealed = bytearray(oracle_aead(suite, key).encrypt(nonce, data, aad))
    sealed[flip % len(sealed)] ^= 1 << bit
    truncated = bytes(sealed[: max(0, len(sealed) - cut)])
    for bad in (bytes(sealed), truncated):
        n = outcome(native.aead(suite, key).open, nonce, aad, bad)
        p = outcome(python.aead(suite, key).open, nonce, aad, bad)
        assert n == p
        if bad == bytes(sealed):
            assert n[0] == "err"


@SETTINGS_CHEAP
@given(
    suite=st.sampled_from([*ALL_SUITES, 0x1306, 0]),
    key_len=st.integers(0, 40),
    nonce_len=st.integers(0, 20),
)
def test_aead_argument_errors_match(
    both_backends: Any, suite: int, key_len: int, nonce_len: int
) -> None:
    native, python = both_backends
    n = outcome(native.aead, suite, bytes(key_len))
    p = outcome(python.aead, suite, bytes(key_len))
    assert n[0] == p[0]
    if n[0] == "err":
        assert n[1] is p[1] is ValueError
        return
    sn = outcome(n[1].seal, bytes(nonce_len), b"", b"x")
    sp = outcome(p[1].seal, bytes(nonce_len), b"", b"x")
    assert sn == sp


# ---------------------------------------------------------------------------
# Record protection
# ---------------------------------------------------------------------------


@st.composite
def seal_args(draw: Any) -> dict[str, Any]:
    max_fragment = draw(st.one_of(st.just(MAX), st.integers(1, MAX)))
    padding = draw(st.one_of(st.just(0), st.integers(0, max_fragment - 1)))
    data = draw(payloads())
    # keep the record count (and pure-Python time) bounded
    step = max_fragment - padding
    if len(data) // step > 64:
        data = data[: step * 64]
    return {
        "content_type": draw(st.sampled_from([23, 22, 21, 1, 255])),
        "data": data,
        "padding": padding,
        "max_fragment": max_fragment,
    }


@SETTINGS
@given(
    kk=keyed(),
    iv=st.binary(min_size=12, max_size=12),
    seq=st.one_of(st.integers(0, 3), st.integers(0, 2**64 - 70)),
    calls=st.lists(seal_args(), min_size=1, max_size=3),
)
@example(
    kk=(0x1301, bytes(16)),
    iv=bytes(12),
    seq=0,
    calls=[
        {"content_type": 23, "data": bytes(MAX), "padding": 0, "max_fragment": MAX},
        {"content_type": 23, "data": b"\x01" * (MAX + 1), "padding": 0, "max_fragment": MAX},
        {"content_type": 22, "data": b"\x02" * 300, "padding": 17, "max_fragment": 100},
    ],
)
@example(
    kk=(0x1303, b"\x07" * 32),
    iv=b"\xff" * 12,
    seq=2**64 - 5,
    calls=[{"content_type": 21, "data": b"", "padding": MAX - 1, "max_fragment": MAX}],
)
def test_record_streams_cross_backend(
    both_backends: Any, kk: tuple[int, bytes], iv: bytes, seq: int, calls: list[dict[str, Any]]
) -> None:
    native, python = both_backends
    suite, key = kk
    wn = native.record_protector(suite, key, iv, sequence=seq)
    wp = python.record_protector(suite, key, iv, sequence=seq)
    stream = b""
    expected_items: list[tuple[int, bytes]] = []
    for call in calls:
        a = wn.seal_record(
            call["content_type"], call["data"], call["padding"], call["max_fragment"]
        )
        b = wp.seal_record(
            call["content_type"], call["data"], call["padding"], call["max_fragment"]
        )
        assert a == b
        assert len(a) == wn.sealed_size(len(call["data"]), call["padding"], call["max_fragment"])
        assert len(a) == wp.sealed_size(len(call["data"]), call["padding"], call["max_fragment"])
        stream += a
        step = call["max_fragment"] - call["padding"]
        d = call["data"]
        expected_items += [
            (call["content_type"], d[i : i + step]) for i in range(0, len(d), step)
        ] or [(call["content_type"], b"")]
    assert wn.sequence == wp.sequence == seq + len(expected_items)

    # sealed by native, opened by python and vice versa (same bytes, so both ways)
    for reader_backend in (python, native):
        reader = reader_backend.record_protector(suite, key, iv, sequence=seq)
        items: list[tuple[int, bytes]] = []
        data = stream
        while data:
            got, consumed = reader.open_records(data)
            assert consumed > 0
            items += got
            data = data[consumed:]
        assert items == expected_items
        assert reader.sequence == seq + len(expected_items)


@SETTINGS_CHEAP
@given(
    kk=keyed(),
    iv=st.binary(min_size=12, max_size=12),
    n_good=st.integers(0, 3),
    data=st.binary(max_size=100),
    mutation=st.sampled_from(
        ["flip", "truncate", "length", "outer", "overflow", "short", "garbage"]
    ),
    pos=st.integers(0, 10_000),
    max_plaintext=st.one_of(st.just(MAX), st.integers(1, 120)),
)
def test_record_open_errors_match(
    both_backends: Any,
    kk: tuple[int, bytes],
    iv: bytes,
    n_good: int,
    data: bytes,
    mutation: str,
    pos: int,
    max_plaintext: int,
) -> None:
    native, python = both_backends
    suite, key = kk
    w = python.record_protector(suite, key, iv)
    good = b"".join(w.seal_record(23, data[:10]) for _ in range(n_good))
    last = bytearray(w.seal_record(23, data))
    if mutation == "flip":
        last[pos % len(last)] ^= 0x01
    elif mutation == "truncate":
        last = last[: pos % len(last)]
    elif mutation == "length":
        last[3:5] = (pos % 0x4200).to_bytes(2, "big")
    elif mutation == "outer":
        last[0] = pos % 256
    elif mutation == "overflow":
        last[3:5] = (MAX + 257 + pos % 1000).to_bytes(2, "big")
    elif mutation == "short":
        last = bytearray(b"\x17\x03\x03" + (pos % 16).to_bytes(2, "big") + bytes(pos % 16))
    else:
        last = bytearray(b"\x17\x03\x03\x00\x20" + bytes(32))
    stream = good + bytes(last)

    def run(backend: Any) -> list[Any]:
        r = backend.record_protector(suite, key, iv)
        trace: list[Any] = []
        rest = stream
        for _ in range(n_good + 3):
            res = outcome(r.open_records, rest, max_plaintext)
            trace.append(res)
            if res[0] == "err" or res[1][1] == 0:
                break
            rest = rest[res[1][1] :]
        trace.append(r.sequence)
        return trace

    assert run(native) == run(python)


# ---------------------------------------------------------------------------
# HKDF and X25519
# ---------------------------------------------------------------------------


@SETTINGS_CHEAP
@given(
    hash_name=st.sampled_from(["sha256", "sha384"]),
    salt=st.binary(max_size=80),
    ikm=st.binary(max_size=80),
    info=st.binary(max_size=80),
    length=st.one_of(st.integers(0, 100), st.integers(0, 255 * 48 + 10)),
    label=st.binary(max_size=20),
    context=st.binary(max_size=64),
)
def test_hkdf_identical(
    both_backends: Any,
    hash_name: str,
    salt: bytes,
    ikm: bytes,
    info: bytes,
    length: int,
    label: bytes,
    context: bytes,
) -> None:
    native, python = both_backends
    prk_n = native.hkdf_extract(hash_name, salt, ikm)
    assert prk_n == python.hkdf_extract(hash_name, salt, ikm)
    assert outcome(native.hkdf_expand, hash_name, prk_n, info, length) == outcome(
        python.hkdf_expand, hash_name, prk_n, info, length
    )
    assert outcome(native.hkdf_expand_label, hash_name, prk_n, label, context, length) == outcome(
        python.hkdf_expand_label, hash_name, prk_n, label, context, length
    )
    assert native.derive_secret(hash_name, prk_n, label, context) == python.derive_secret(
        hash_name, prk_n, label, context
    )
    if length <= 255 * (32 if hash_name == "sha256" else 48):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

        algo = hashes.SHA256() if hash_name == "sha256" else hashes.SHA384()
        assert native.hkdf_expand(hash_name, prk_n, info, length) == HKDFExpand(
            algo, length, info
        ).derive(prk_n)


@SETTINGS_CHEAP
@given(
    private=st.binary(min_size=32, max_size=32), peer_private=st.binary(min_size=32, max_size=32)
)
def test_x25519_identical(both_backends: Any, private: bytes, peer_private: bytes) -> None:
    native, python = both_backends
    kn, kp = native.x25519_from_bytes(private), python.x25519_from_bytes(private)
    oracle = X25519PrivateKey.from_private_bytes(private)
    assert kn.public_bytes() == kp.public_bytes() == oracle.public_key().public_bytes_raw()
    peer = X25519PrivateKey.from_private_bytes(peer_private).public_key().public_bytes_raw()
    shared = oracle.exchange(X25519PublicKey.from_public_bytes(peer))
    assert kn.exchange(peer) == kp.exchange(peer) == shared


@SETTINGS_CHEAP
@given(private=st.binary(min_size=32, max_size=32), public=st.binary(min_size=0, max_size=34))
def test_x25519_arbitrary_public_same_outcome(
    both_backends: Any, private: bytes, public: bytes
) -> None:
    native, python = both_backends
    n = outcome(native.x25519_from_bytes(private).exchange, public)
    p = outcome(python.x25519_from_bytes(private).exchange, public)
    assert n == p


def test_mlkem_cross_backend(both_backends: Any) -> None:
    native, python = both_backends
    seed = bytes(range(64))
    kn, kp = native.mlkem768_from_seed(seed), python.mlkem768_from_seed(seed)
    assert kn.public_bytes() == kp.public_bytes()
    c, k = native.mlkem768_encapsulate(kp.public_bytes())
    assert kp.decapsulate(c) == kn.decapsulate(c) == k
    c2, k2 = python.mlkem768_encapsulate(kn.public_bytes())
    assert kn.decapsulate(c2) == k2


def test_backend_names(both_backends: Any) -> None:
    native, python = both_backends
    assert (native.name, python.name) == ("native", "python")


@pytest.mark.parametrize("suite", ALL_SUITES)
def test_repr_no_key_either_backend(both_backends: Any, suite: int) -> None:
    key = bytes(range(7, 7 + KEY_LEN[suite]))
    for b in both_backends:
        text = repr(b.record_protector(suite, key, bytes(12))) + repr(b.aead(suite, key))
        assert key.hex() not in text.lower()
