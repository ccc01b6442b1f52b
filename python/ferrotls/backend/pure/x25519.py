"""X25519 (RFC 7748) on Python integers.

NOT constant-time: the Montgomery ladder below branches on nothing secret, but
Python's big-integer arithmetic and ``pow`` take time that depends on the
values.  The native backend is the default for that reason.
"""

from __future__ import annotations

__all__ = ["clamp", "x25519", "x25519_base"]

_P = 2**255 - 19
_A24 = 121665


def clamp(k: bytes) -> int:
    """Decode a 32-byte scalar and clamp it (RFC 7748 section 5, decodeScalar25519)."""
    n = int.from_bytes(k, "little")
    n &= ~7
    n &= ~(1 << 255)
    n |= 1 << 254
    return n


def x25519(k: bytes, u: bytes) -> bytes:
    """X25519(k, u): the u-coordinate of k * (u, ...) as 32 little-endian bytes.

    ``u`` is decoded with its top bit masked (decodeUCoordinate); values >= p
    are reduced modulo p.
    """
    scalar = clamp(k)
    x1 = (int.from_bytes(u, "little") & ((1 << 255) - 1)) % _P
    p = _P
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    for t in range(254, -1, -1):
        bit = (scalar >> t) & 1
        if swap ^ bit:
            x2, x3 = x3, x2
            z2, z3 = z3, z2
        swap = bit
        a = x2 + z2
        aa = a * a % p
        b = x2 - z2
        bb = b * b % p
        e = aa - bb
        c = x3 + z3
        d = x3 - z3
        da = d * a % p
        cb = c * b % p
        s = da + cb
        x3 = s * s % p
        s = da - cb
        z3 = x1 * (s * s) % p
        x2 = aa * bb % p
        z2 = e * (aa + _A24 * e) % p
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, p - 2, p) % p).to_bytes(32, "little")


def x25519_base(k: bytes) -> bytes:
    """The public key for private key ``k``: X25519(k, 9)."""
    return x25519(k, (9).to_bytes(32, "little"))
