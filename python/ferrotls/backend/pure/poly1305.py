"""The Poly1305 one-time authenticator (RFC 8439 section 2.5).

NOT constant-time: Python's big-integer arithmetic takes time that depends on
the values.  The native backend is the default for that reason.

Poly1305 is evaluated directly on Python integers, which CPython multiplies in
C: for each 16-byte block ``acc = (acc + block + 2**128) * r mod (2**130 - 5)``.
"""

from __future__ import annotations

__all__ = ["poly1305_mac"]

_P = (1 << 130) - 5
_CLAMP = 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF


def poly1305_mac(key: bytes, msg: bytes) -> bytes:
    """The 16-byte tag of ``msg`` under the 32-byte one-time ``key`` (r || s)."""
    r = int.from_bytes(key[:16], "little") & _CLAMP
    s = int.from_bytes(key[16:32], "little")
    acc = 0
    from_bytes = int.from_bytes
    full = len(msg) - len(msg) % 16
    hibit = 1 << 128
    for i in range(0, full, 16):
        acc = (acc + from_bytes(msg[i : i + 16], "little") + hibit) * r % _P
    if full < len(msg):
        last = msg[full:]
        acc = (acc + from_bytes(last, "little") + (1 << (8 * len(last)))) * r % _P
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")
