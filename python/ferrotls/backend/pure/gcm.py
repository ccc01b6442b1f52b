"""AES-GCM (NIST SP 800-38D) with 12-byte nonces and 16-byte tags.

NOT constant-time: GHASH uses tables indexed by secret-dependent bytes and AES
uses ``bytes.translate`` S-box lookups.  The native backend is the default for
that reason.

GHASH uses Shoup's method: for the hash key H we precompute tables
``table[k][b] = (digit b placed at position k) * H`` in GF(2^128), so multiplying
a block by H is a few lookups and XORs on Python ints.  Keys start with 4-bit
digits (32 tables of 16, cheap to build for short-lived handshake keys) and
switch to 8-bit digits (16 tables of 256) once they carry bulk data.
Blocks are integers in big-endian order, in which GCM's bit-reflected
convention makes "multiply by x" a right shift.
"""

from __future__ import annotations

import hmac

from . import aes

__all__ = ["AESGCM", "ghash_tables", "ghash"]

_R = 0xE1 << 120  # x^128 = x^7 + x^2 + x + 1, bit-reflected


def _basis(h: int) -> list[int]:
    """basis[j] = (1 << j) * H; bit 127 is the polynomial 1, bit 127 - i is x^i."""
    basis = [0] * 128
    v = h
    for i in range(128):
        basis[127 - i] = v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return basis


def _tables(basis: list[int], bits: int) -> list[list[int]]:
    """Shoup tables with ``bits``-bit indices: one table per ``bits``-bit digit."""
    size = 1 << bits
    tables = []
    for k in range(128 // bits):  # digit k of the block (k = 0 is the most significant)
        shift = bits * (128 // bits - 1 - k)
        t = [0] * size
        for b in range(1, size):
            low = b & -b
            t[b] = t[b ^ low] ^ basis[shift + low.bit_length() - 1]
        tables.append(t)
    return tables


def ghash_tables(h: int) -> list[list[int]]:
    """8-bit Shoup tables for hash key ``h`` (a 128-bit int, big-endian block)."""
    return _tables(_basis(h), 8)


def ghash(tables: list[list[int]], data: bytes, y: int = 0) -> int:
    """Fold ``data`` (a multiple of 16 bytes) into ``y`` with 8-bit tables."""
    (t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15) = tables
    from_bytes = int.from_bytes
    for i in range(0, len(data), 16):
        (b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15) = (
            y ^ from_bytes(data[i : i + 16], "big")
        ).to_bytes(16, "big")
        y = (
            t0[b0] ^ t1[b1] ^ t2[b2] ^ t3[b3] ^ t4[b4] ^ t5[b5] ^ t6[b6] ^ t7[b7]
            ^ t8[b8] ^ t9[b9] ^ t10[b10] ^ t11[b11] ^ t12[b12] ^ t13[b13] ^ t14[b14] ^ t15[b15]
        )
    return y


def _ghash4(tables: list[list[int]], data: bytes, y: int = 0) -> int:
    """Fold ``data`` into ``y`` with 4-bit tables (32 lookups a block, cheap to build)."""
    from_bytes = int.from_bytes
    pairs = [(tables[2 * k], tables[2 * k + 1]) for k in range(16)]
    for i in range(0, len(data), 16):
        block = (y ^ from_bytes(data[i : i + 16], "big")).to_bytes(16, "big")
        y = 0
        for (hi, lo), b in zip(pairs, block):
            y ^= hi[b >> 4] ^ lo[b & 15]
    return y


class _Ghash:
    """GHASH keyed by H, with tables sized to the work done.

    A key that only protects a few handshake records gets 4-bit tables (about
    8x cheaper to build); once it has hashed ``UPGRADE_BLOCKS`` blocks it builds
    the 8-bit tables that bulk data wants.
    """

    UPGRADE_BLOCKS = 512
    __slots__ = ("_basis", "_small", "_large", "_blocks")

    def __init__(self, h: int) -> None:
        self._basis = _basis(h)
        self._small = _tables(self._basis, 4)
        self._large: list[list[int]] | None = None
        self._blocks = 0

    def __call__(self, data: bytes, y: int = 0) -> int:
        if self._large is not None:
            return ghash(self._large, data, y)
        self._blocks += len(data) >> 4
        if self._blocks > self.UPGRADE_BLOCKS:
            self._large = _tables(self._basis, 8)
            return ghash(self._large, data, y)
        return _ghash4(self._small, data, y)


def _pad16(n: int) -> bytes:
    return bytes(-n % 16)


class AESGCM:
    """AES-GCM with a 16/24/32-byte key; nonces must be 12 bytes (checked by the caller)."""

    __slots__ = ("_cipher", "_ghash")

    def __init__(self, key: bytes) -> None:
        self._cipher = aes.new_cipher(key)
        h = int.from_bytes(aes.encrypt_block(self._cipher, bytes(16)), "big")
        self._ghash = _Ghash(h)

    def _tag(self, aad: bytes, ct: bytes, mask: bytes) -> bytes:
        lengths = (8 * len(aad)).to_bytes(8, "big") + (8 * len(ct)).to_bytes(8, "big")
        y = self._ghash(aad + _pad16(len(aad)) if aad else b"")
        y = self._ghash(ct + _pad16(len(ct)) + lengths, y)
        return (y ^ int.from_bytes(mask, "big")).to_bytes(16, "big")

    def _keystream(self, nonce: bytes, length: int) -> tuple[bytes, bytes]:
        """E(J0) (the tag mask) and ``length`` bytes of keystream from counter 2."""
        ks = aes.ctr_keystream(self._cipher, nonce, 1, 1 + (length + 15) // 16)
        return ks[:16], ks[16 : 16 + length]

    def seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        """Return ciphertext || tag."""
        n = len(plaintext)
        mask, ks = self._keystream(nonce, n)
        if n:
            ct = (int.from_bytes(plaintext, "big") ^ int.from_bytes(ks, "big")).to_bytes(n, "big")
        else:
            ct = b""
        return ct + self._tag(aad, ct, mask)

    def open(self, nonce: bytes, aad: bytes, data: bytes) -> bytes | None:
        """Return the plaintext, or None if the tag does not verify (or data < 16 bytes)."""
        if len(data) < 16:
            return None
        ct, tag = data[:-16], data[-16:]
        n = len(ct)
        mask, ks = self._keystream(nonce, n)
        if not hmac.compare_digest(self._tag(aad, ct, mask), tag):
            return None
        if not n:
            return b""
        return (int.from_bytes(ct, "big") ^ int.from_bytes(ks, "big")).to_bytes(n, "big")
