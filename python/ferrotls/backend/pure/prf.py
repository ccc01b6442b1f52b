"""The TLS 1.2 PRF (RFC 5246 section 5) on the standard library's ``hmac``.

``PRF(secret, label, seed) = P_<hash>(secret, label + seed)``, where
``P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...``
with ``A(0) = seed`` and ``A(i) = HMAC(secret, A(i-1))``.
"""

from __future__ import annotations

import hmac

from .hkdf import hash_len

__all__ = ["MAX_PRF_LEN", "p_hash", "tls12_prf"]

MAX_PRF_LEN = 65535
"""Longest output ``tls12_prf`` gives (the same bound as the native backend)."""


def p_hash(hash_name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    """P_hash(secret, seed) truncated to ``length`` bytes."""
    size = hash_len(hash_name)
    key = hmac.new(secret, digestmod=hash_name)
    out = []
    a = seed
    for _ in range(-(-length // size)):
        h = key.copy()
        h.update(a)
        a = h.digest()
        h = key.copy()
        h.update(a + seed)
        out.append(h.digest())
    return b"".join(out)[:length]


def tls12_prf(hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """PRF(secret, label, seed)[:length]; ValueError unless 0 <= length <= 65535."""
    hash_len(hash_name)
    if not 0 <= length <= MAX_PRF_LEN:
        raise ValueError(f"PRF length must be in 0..{MAX_PRF_LEN}, got {length}")
    return p_hash(hash_name, bytes(secret), bytes(label) + bytes(seed), length)
