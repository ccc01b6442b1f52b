"""The demonstration behind ``make demo`` / ``python -m ferrotls demo``.

It measures record sealing, HKDF and X25519 on every available backend beside
pyca/cryptography (when installed) and prints a table with ratios.  When the
protocol core is present it also runs a live TLS connection (see
``run_demo``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial

from .backend import available_backends, load_backend
from .suites import CipherSuite

__all__ = ["run_demo", "measure_rate"]


def measure_rate(fn: Callable[[], object], target: float = 0.2) -> float:
    """Calls per second of ``fn``, calibrated to run about ``target`` seconds."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= target:
            return n / elapsed
        n = max(n * 2, int(n * target / max(elapsed, 1e-6)))


def _primitive_rows(quick: bool) -> list[tuple[str, str, float, str]]:
    target = 0.05 if quick else 0.25
    rows: list[tuple[str, str, float, str]] = []
    suites = (
        ("AES-128-GCM", CipherSuite.TLS_AES_128_GCM_SHA256, 16),
        ("AES-256-GCM", CipherSuite.TLS_AES_256_GCM_SHA384, 32),
        ("ChaCha20-Poly1305", CipherSuite.TLS_CHACHA20_POLY1305_SHA256, 32),
    )
    sizes = (64, 16384)
    try:
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

        have_cryptography = True
    except ImportError:  # pragma: no cover - cryptography is a dependency
        have_cryptography = False
    for label, suite, key_len in suites:
        key = os.urandom(key_len)
        for size in sizes:
            data = os.urandom(size)
            what = f"seal record {label} {size} B"
            for name in available_backends():
                backend = load_backend(name)
                if name == "python" and size > 64 and quick:
                    continue
                rp = backend.record_protector(suite, key, bytes(12))
                rate = measure_rate(partial(rp.seal_record, 23, data), target)
                rows.append((what, f"ferrotls-{name}", rate, "ops/s"))
            if have_cryptography:
                cipher = (ChaCha20Poly1305 if "ChaCha" in label else AESGCM)(key)
                nonce = bytes(12)
                rate = measure_rate(partial(cipher.encrypt, nonce, data, b"12345"), target)
                rows.append((what, "cryptography", rate, "ops/s"))
    peer = os.urandom(32)
    for name in available_backends():
        backend = load_backend(name)
        priv = backend.x25519_from_bytes(os.urandom(32))
        pub = backend.x25519_from_bytes(peer).public_bytes()
        rate = measure_rate(partial(priv.exchange, pub), target)
        rows.append(("X25519 exchange", f"ferrotls-{name}", rate, "ops/s"))
        secret = os.urandom(32)
        rate = measure_rate(
            partial(backend.hkdf_expand_label, "sha256", secret, b"key", b"", 16), target
        )
        rows.append(("HKDF-Expand-Label SHA-256", f"ferrotls-{name}", rate, "ops/s"))
    if have_cryptography:
        c_priv = X25519PrivateKey.from_private_bytes(os.urandom(32))
        c_pub = X25519PrivateKey.from_private_bytes(peer).public_key()
        rate = measure_rate(lambda: c_priv.exchange(c_pub), target)
        rows.append(("X25519 exchange", "cryptography", rate, "ops/s"))
    return rows


def print_primitive_table(quick: bool = False) -> None:
    rows = _primitive_rows(quick)
    reference: dict[str, float] = {}
    for what, impl, rate, _ in rows:
        if impl == "cryptography":
            reference[what] = rate
    print(f"{'measurement':34} {'implementation':18} {'ops/s':>14} {'MB/s':>10} {'vs cryptography':>16}")
    for what, impl, rate, _unit in rows:
        size = int(what.split()[-2]) if what.endswith(" B") else 0
        mbps = f"{rate * size / 1e6:10.1f}" if size else f"{'':10}"
        ref = reference.get(what)
        ratio = f"{rate / ref:15.2f}x" if ref else f"{'':16}"
        print(f"{what:34} {impl:18} {rate:14,.0f} {mbps} {ratio}")


def run_demo(quick: bool = False) -> int:
    """Run the demonstration; returns a process exit code."""
    print("ferrotls demo: backends available:", ", ".join(available_backends()))
    print()
    print("Primitive throughput (one thread, in process):")
    print_primitive_table(quick)
    return 0
