"""ChaCha20 and the ChaCha20-Poly1305 AEAD (RFC 8439).

NOT constant-time in the strict sense (Python big-integer operations), and not
hardened against any side channel.  The native backend is the default for that
reason.

How it is fast enough in CPython
--------------------------------
The 64-byte blocks of a message are independent, so all of them are computed
at once, SWAR-style: each of the 16 state words is one big Python int holding
that word for every block, one block per 64-bit lane (32 bits of value and 32
bits of headroom).  Then ``(a + b) & M`` is 32-bit addition in every lane (the
carry lands in the headroom and is masked off) and ``((x << r) | (x >> (32 -
r))) & M`` is a rotation in every lane (bits that cross into a neighbour lane
land in its headroom and are masked off).  A quarter round is ~28 big-int
operations whatever the number of blocks.
"""

from __future__ import annotations

import hmac

from .poly1305 import poly1305_mac

__all__ = ["chacha20_keystream", "chacha20_xor", "ChaCha20Poly1305"]

_CONSTANTS = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)  # "expand 32-byte k"
_MAX_LANES = 272  # blocks per vectorised batch: a full TLS record plus the Poly1305 key block


def _lane_masks(n: int) -> tuple[int, int, int]:
    """(ones, ramp, m32) for ``n`` lanes: 1 in each lane, j in lane j, 2**32-1 in each lane."""
    ones = int.from_bytes(b"\x01\x00\x00\x00\x00\x00\x00\x00" * n, "little")
    ramp = int.from_bytes(b"".join(j.to_bytes(8, "little") for j in range(n)), "little")
    return ones, ramp, ones * 0xFFFFFFFF


_MASKS: dict[int, tuple[int, int, int]] = {}


def _masks(n: int) -> tuple[int, int, int]:
    m = _MASKS.get(n)
    if m is None:
        if len(_MASKS) > 16:
            _MASKS.clear()
        m = _MASKS[n] = _lane_masks(n)
    return m


def _blocks(key_words: tuple[int, ...], nonce_words: tuple[int, ...], counter: int, n: int) -> bytes:
    """``n`` consecutive 64-byte keystream blocks starting at block ``counter``."""
    ones, ramp, m = _masks(n)
    init = [w * ones for w in _CONSTANTS]
    init += [w * ones for w in key_words]
    if counter + n - 1 <= 0xFFFFFFFF:
        init.append(counter * ones + ramp)
    else:  # the 32-bit block counter wraps
        init.append(((counter * ones + ramp) & m))
    init += [w * ones for w in nonce_words]

    x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15 = init
    for _ in range(10):
        # column rounds
        x0, x4, x8, x12 = _qr(x0, x4, x8, x12, m)
        x1, x5, x9, x13 = _qr(x1, x5, x9, x13, m)
        x2, x6, x10, x14 = _qr(x2, x6, x10, x14, m)
        x3, x7, x11, x15 = _qr(x3, x7, x11, x15, m)
        # diagonal rounds
        x0, x5, x10, x15 = _qr(x0, x5, x10, x15, m)
        x1, x6, x11, x12 = _qr(x1, x6, x11, x12, m)
        x2, x7, x8, x13 = _qr(x2, x7, x8, x13, m)
        x3, x4, x9, x14 = _qr(x3, x4, x9, x14, m)
    words = (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15)

    # Feed-forward, then interleave: lane j of words (2k, 2k+1) is bytes 8k..8k+7
    # of block j, and a little-endian 64-bit view of the output places them.
    out = bytearray(64 * n)
    view = memoryview(out).cast("Q")
    for k in range(8):
        lo = (words[2 * k] + init[2 * k]) & m
        hi = (words[2 * k + 1] + init[2 * k + 1]) & m
        view[k::8] = memoryview((lo | (hi << 32)).to_bytes(8 * n, "little")).cast("Q")
    view.release()
    return bytes(out)


def _qr(a: int, b: int, c: int, d: int, m: int) -> tuple[int, int, int, int]:
    """The ChaCha quarter round on every lane at once."""
    a = (a + b) & m
    d ^= a
    d = ((d << 16) | (d >> 16)) & m
    c = (c + d) & m
    b ^= c
    b = ((b << 12) | (b >> 20)) & m
    a = (a + b) & m
    d ^= a
    d = ((d << 8) | (d >> 24)) & m
    c = (c + d) & m
    b ^= c
    b = ((b << 7) | (b >> 25)) & m
    return a, b, c, d


def _words(data: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(data[i : i + 4], "little") for i in range(0, len(data), 4))


def chacha20_keystream(key: bytes, nonce: bytes, counter: int, length: int) -> bytes:
    """``length`` bytes of ChaCha20 keystream (32-byte key, 12-byte nonce, 32-bit counter)."""
    kw, nw = _words(key), _words(nonce)
    nblocks = (length + 63) // 64
    out = []
    while nblocks > 0:
        n = min(nblocks, _MAX_LANES)
        out.append(_blocks(kw, nw, counter & 0xFFFFFFFF, n))
        counter += n
        nblocks -= n
    return b"".join(out)[:length]


def chacha20_xor(key: bytes, nonce: bytes, counter: int, data: bytes) -> bytes:
    """Encrypt or decrypt ``data`` with ChaCha20 starting at block ``counter``."""
    n = len(data)
    if not n:
        return b""
    ks = chacha20_keystream(key, nonce, counter, n)
    return (int.from_bytes(data, "little") ^ int.from_bytes(ks, "little")).to_bytes(n, "little")


def _mac_data(aad: bytes, ct: bytes) -> bytes:
    return b"".join(
        (
            aad, bytes(-len(aad) % 16),
            ct, bytes(-len(ct) % 16),
            len(aad).to_bytes(8, "little"), len(ct).to_bytes(8, "little"),
        )
    )


class ChaCha20Poly1305:
    """The RFC 8439 AEAD with a 32-byte key and 12-byte nonces (lengths checked by the caller)."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = bytes(key)

    def _stream(self, nonce: bytes, length: int) -> tuple[bytes, bytes]:
        """The Poly1305 key (block 0) and ``length`` bytes of keystream from block 1."""
        ks = chacha20_keystream(self._key, nonce, 0, 64 + length)
        return ks[:32], ks[64:]

    def seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        """Return ciphertext || tag."""
        n = len(plaintext)
        otk, ks = self._stream(nonce, n)
        ct = (
            (int.from_bytes(plaintext, "little") ^ int.from_bytes(ks, "little")).to_bytes(n, "little")
            if n
            else b""
        )
        return ct + poly1305_mac(otk, _mac_data(aad, ct))

    def open(self, nonce: bytes, aad: bytes, data: bytes) -> bytes | None:
        """Return the plaintext, or None if the tag does not verify (or data < 16 bytes)."""
        if len(data) < 16:
            return None
        ct, tag = data[:-16], data[-16:]
        n = len(ct)
        otk, ks = self._stream(nonce, n)
        if not hmac.compare_digest(poly1305_mac(otk, _mac_data(aad, ct)), tag):
            return None
        if not n:
            return b""
        return (int.from_bytes(ct, "little") ^ int.from_bytes(ks, "little")).to_bytes(n, "little")
