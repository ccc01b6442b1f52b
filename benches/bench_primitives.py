"""HKDF-Expand-Label and X25519 exchange: native, python, and pyca/cryptography."""

from __future__ import annotations

from typing import Any

from conftest import load, run
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

SECRET = bytes(range(32))
PRIVATE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
PEER = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
SHARED = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")


def test_hkdf_expand_label(benchmark: Any, impl: str) -> None:
    benchmark.group = "hkdf_expand_label-sha256-16"
    benchmark.extra_info.update(impl=impl, bytes=16, op="hkdf_expand_label")
    if impl == "cryptography":
        # the HkdfLabel for ("key", "", 16), built once: the comparator is HKDF-Expand itself
        info = (16).to_bytes(2, "big") + bytes([9]) + b"tls13 key" + b"\x00"
        out = benchmark(lambda: HKDFExpand(hashes.SHA256(), 16, info).derive(SECRET))
    else:
        b = load(impl)
        out = run(
            benchmark,
            impl,
            lambda: b.hkdf_expand_label("sha256", SECRET, b"key", b"", 16),
            python_rounds=200,
        )
    assert len(out) == 16


def test_x25519_exchange(benchmark: Any, impl: str) -> None:
    benchmark.group = "x25519-exchange"
    benchmark.extra_info.update(impl=impl, op="x25519_exchange")
    if impl == "cryptography":
        key = X25519PrivateKey.from_private_bytes(PRIVATE)
        peer = X25519PublicKey.from_public_bytes(PEER)
        out = benchmark(lambda: key.exchange(peer))
    else:
        key = load(impl).x25519_from_bytes(PRIVATE)
        out = run(benchmark, impl, lambda: key.exchange(PEER), python_rounds=20)
    assert out == SHARED
