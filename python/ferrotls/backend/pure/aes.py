"""AES-128/256 (FIPS 197): key schedule, a vectorised CTR keystream, and a
one-block-at-a-time T-table encryptor for CBC-MAC (CCM).

NOT constant-time.  SubBytes is a table lookup indexed by secret bytes (done by
``bytes.translate``), which leaks through the cache.  The native backend is the
default for that reason; this module is the pure-Python fallback.

How it is fast enough in CPython
--------------------------------
Counter mode encrypts many independent blocks, so instead of running AES one
block at a time we run it on *all* blocks at once in a "byte-sliced" layout:
the state of ``n`` blocks is one ``bytes`` object of ``16 * n`` bytes made of
16 chunks of ``n`` bytes, chunk ``4 * row + col`` holding state byte
(row, col) of every block.  Then

* SubBytes (fused with the MixColumns multiplications by 1, 2, 3) is
  ``bytes.translate`` with a 256-byte table, one C call for all blocks;
* ShiftRows rotates the 4 chunks of each row, and MixColumns' row rotation
  rotates the whole buffer by whole rows: slicing and concatenation;
* the XORs are done on the buffers converted to Python ints.

One round is thus ~25 C-level calls on ``16 * n`` bytes, whatever ``n`` is.
"""

from __future__ import annotations

import struct

__all__ = ["SBOX", "expand_key", "encrypt_block", "ctr_keystream", "BlockEncryptor"]


def _xtime(a: int) -> int:
    """Multiply by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1."""
    a <<= 1
    return a ^ 0x11B if a & 0x100 else a


def _gf_mul(a: int, b: int) -> int:
    r = 0
    while b:
        if b & 1:
            r ^= a
        a = _xtime(a)
        b >>= 1
    return r


def _make_sbox() -> bytes:
    """The S-box: multiplicative inverse in GF(2^8) followed by the affine map."""
    inv = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            if _gf_mul(a, b) == 1:
                inv[a] = b
                break
    box = bytearray(256)
    for a in range(256):
        x = inv[a]
        s = x
        for shift in range(1, 5):
            s ^= ((x << shift) | (x >> (8 - shift))) & 0xFF
        box[a] = s ^ 0x63
    return bytes(box)


SBOX = _make_sbox()
_SBOX2 = bytes(_xtime(s) for s in SBOX)  # 2 * S(a)
_SBOX3 = bytes(_xtime(s) ^ s for s in SBOX)  # 3 * S(a)
_RCON = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)


def expand_key(key: bytes) -> list[bytes]:
    """The AES key schedule: a list of ``rounds + 1`` 16-byte round keys.

    ``key`` must be 16, 24 or 32 bytes (AES-128/192/256); the caller checks
    the length allowed by its cipher suite.
    """
    nk = len(key) // 4
    if len(key) not in (16, 24, 32):
        raise ValueError("AES key must be 16, 24 or 32 bytes")
    rounds = nk + 6
    words = [key[4 * i : 4 * i + 4] for i in range(nk)]
    for i in range(nk, 4 * (rounds + 1)):
        t = words[i - 1]
        if i % nk == 0:
            t = t[1:] + t[:1]  # RotWord
            t = t.translate(SBOX)  # SubWord
            t = bytes((t[0] ^ _RCON[i // nk - 1], t[1], t[2], t[3]))
        elif nk > 6 and i % nk == 4:
            t = t.translate(SBOX)
        w = words[i - nk]
        words.append(bytes(a ^ b for a, b in zip(w, t)))
    return [b"".join(words[4 * r : 4 * r + 4]) for r in range(rounds + 1)]


def _sliced_round_keys(round_keys: list[bytes], n: int) -> list[int]:
    """Each round key spread over ``n`` blocks in the byte-sliced layout, as an int."""
    out = []
    for rk in round_keys:
        # chunk 4 * row + col holds key byte (row, col) = rk[4 * col + row]
        chunks = [bytes((rk[4 * c + r],)) * n for r in range(4) for c in range(4)]
        out.append(int.from_bytes(b"".join(chunks), "big"))
    return out


class _Sliced:
    """Round keys of one AES key, with their byte-sliced forms cached per width."""

    __slots__ = ("round_keys", "_cache")

    def __init__(self, round_keys: list[bytes]) -> None:
        self.round_keys = round_keys
        self._cache: dict[int, list[int]] = {}

    def keys_for(self, n: int) -> list[int]:
        ks = self._cache.get(n)
        if ks is None:
            if len(self._cache) >= 8:
                self._cache.clear()
            ks = self._cache[n] = _sliced_round_keys(self.round_keys, n)
        return ks


def _encrypt_sliced(state: bytes, n: int, keys: list[int]) -> bytes:
    """Encrypt ``n`` blocks given in the byte-sliced layout (see module docstring)."""
    size = 16 * n
    row = 4 * n
    x = int.from_bytes(state, "big") ^ keys[0]
    for rk in keys[1:-1]:
        b = x.to_bytes(size, "big")
        # ShiftRows: row r rotated left by r columns (row r = b[r*row:(r+1)*row]).
        y = b"".join(
            (
                b[0:row],
                b[row + n : 2 * row], b[row : row + n],
                b[2 * row + 2 * n : 3 * row], b[2 * row : 2 * row + 2 * n],
                b[3 * row + 3 * n : size], b[3 * row : 3 * row + 3 * n],
            )
        )
        # MixColumns(SubBytes): out[r] = 2 S(y[r]) ^ 3 S(y[r+1]) ^ S(y[r+2]) ^ S(y[r+3]),
        # where y[r+k] (rows taken cyclically) is y rotated by k whole rows.
        s1 = y.translate(SBOX)
        x = (
            int.from_bytes(y.translate(_SBOX2), "big")
            ^ int.from_bytes(y[row:].translate(_SBOX3) + y[:row].translate(_SBOX3), "big")
            ^ int.from_bytes(s1[2 * row :] + s1[: 2 * row], "big")
            ^ int.from_bytes(s1[3 * row :] + s1[: 3 * row], "big")
            ^ rk
        )
    b = x.to_bytes(size, "big").translate(SBOX)
    y = b"".join(
        (
            b[0:row],
            b[row + n : 2 * row], b[row : row + n],
            b[2 * row + 2 * n : 3 * row], b[2 * row : 2 * row + 2 * n],
            b[3 * row + 3 * n : size], b[3 * row : 3 * row + 3 * n],
        )
    )
    return (int.from_bytes(y, "big") ^ keys[-1]).to_bytes(size, "big")


def _to_sliced(blocks: bytes, n: int) -> bytes:
    """Block-major (n blocks of 16 bytes) to byte-sliced layout."""
    return b"".join(blocks[4 * c + r :: 16] for r in range(4) for c in range(4))


def _from_sliced(state: bytes, n: int) -> bytes:
    """Byte-sliced layout back to ``n`` consecutive 16-byte blocks."""
    out = bytearray(16 * n)
    for r in range(4):
        for c in range(4):
            i = (4 * r + c) * n
            out[4 * c + r :: 16] = state[i : i + n]
    return bytes(out)


def encrypt_blocks(cipher: _Sliced, blocks: bytes) -> bytes:
    """ECB-encrypt whole 16-byte blocks (used for the GCM hash key and tests)."""
    n = len(blocks) // 16
    return _from_sliced(_encrypt_sliced(_to_sliced(blocks, n), n, cipher.keys_for(n)), n)


def encrypt_block(cipher: _Sliced, block: bytes) -> bytes:
    """Encrypt one 16-byte block."""
    return encrypt_blocks(cipher, block)


def new_cipher(key: bytes) -> _Sliced:
    """An expanded AES key ready for :func:`ctr_keystream`."""
    return _Sliced(expand_key(bytes(key)))


_MAX_BATCH = 1040  # blocks per vectorised call: a full TLS record plus the tag block


def ctr_keystream(cipher: _Sliced, prefix: bytes, counter: int, nblocks: int) -> bytes:
    """``nblocks`` blocks of AES-CTR keystream: E(prefix || ctr) for ctr = counter, ...

    ``prefix`` is 12 bytes; the 32-bit counter wraps modulo 2**32 (GCM inc32).
    """
    out = []
    while nblocks > 0:
        n = min(nblocks, _MAX_BATCH)
        ctrs = [(counter + i) & 0xFFFFFFFF for i in range(n)]
        cbytes = struct.pack(f">{n}I", *ctrs)
        # byte-sliced input: chunk 4*r + c is block byte 4*c + r
        chunks = []
        for r in range(4):
            for c in range(3):
                chunks.append(bytes((prefix[4 * c + r],)) * n)
            chunks.append(cbytes[r::4])
        state = _encrypt_sliced(b"".join(chunks), n, cipher.keys_for(n))
        out.append(_from_sliced(state, n))
        counter += n
        nblocks -= n
    return b"".join(out)


# ---------------------------------------------------------------------------
# One block at a time (T-tables), for chained modes such as CBC-MAC
# ---------------------------------------------------------------------------
#
# CBC-MAC (CCM) cannot batch blocks: each block's input depends on the previous
# output.  The byte-sliced code above costs ~25 C calls per round whatever the
# number of blocks, so for a single block the classic 32-bit "T-table" form is
# several times faster: each round is 16 table lookups and XORs on small ints.
# _TE0[a] is the MixColumns column of S(a) in row 0 (2S, S, S, 3S as a big-endian
# word); _TE1.._TE3 are its byte rotations for rows 1..3.  Same caveat as the
# rest of this module: lookups indexed by secret bytes, NOT constant-time.


def _ror8(w: int) -> int:
    return ((w >> 8) | (w << 24)) & 0xFFFFFFFF


_TE0 = tuple((_SBOX2[a] << 24) | (SBOX[a] << 16) | (SBOX[a] << 8) | _SBOX3[a] for a in range(256))
_TE1 = tuple(_ror8(w) for w in _TE0)
_TE2 = tuple(_ror8(w) for w in _TE1)
_TE3 = tuple(_ror8(w) for w in _TE2)


class BlockEncryptor:
    """AES encryption of one 16-byte block at a time, on 128-bit Python ints.

    ``encrypt(x)`` takes and returns the block as a big-endian int.
    """

    __slots__ = ("_rk", "_rounds")

    def __init__(self, key: bytes) -> None:
        round_keys = expand_key(bytes(key))
        self._rounds = len(round_keys) - 1
        self._rk = tuple(
            tuple(int.from_bytes(rk[4 * i : 4 * i + 4], "big") for i in range(4)) for rk in round_keys
        )

    def encrypt(self, x: int) -> int:
        te0, te1, te2, te3, sbox = _TE0, _TE1, _TE2, _TE3, SBOX
        rk = self._rk
        k0, k1, k2, k3 = rk[0]
        s0 = (x >> 96) ^ k0
        s1 = ((x >> 64) & 0xFFFFFFFF) ^ k1
        s2 = ((x >> 32) & 0xFFFFFFFF) ^ k2
        s3 = (x & 0xFFFFFFFF) ^ k3
        for k0, k1, k2, k3 in rk[1:-1]:
            s0, s1, s2, s3 = (
                te0[s0 >> 24] ^ te1[(s1 >> 16) & 255] ^ te2[(s2 >> 8) & 255] ^ te3[s3 & 255] ^ k0,
                te0[s1 >> 24] ^ te1[(s2 >> 16) & 255] ^ te2[(s3 >> 8) & 255] ^ te3[s0 & 255] ^ k1,
                te0[s2 >> 24] ^ te1[(s3 >> 16) & 255] ^ te2[(s0 >> 8) & 255] ^ te3[s1 & 255] ^ k2,
                te0[s3 >> 24] ^ te1[(s0 >> 16) & 255] ^ te2[(s1 >> 8) & 255] ^ te3[s2 & 255] ^ k3,
            )
        # Last round: SubBytes and ShiftRows, no MixColumns.
        k0, k1, k2, k3 = rk[-1]
        t0 = (sbox[s0 >> 24] << 24 | sbox[(s1 >> 16) & 255] << 16 | sbox[(s2 >> 8) & 255] << 8 | sbox[s3 & 255]) ^ k0
        t1 = (sbox[s1 >> 24] << 24 | sbox[(s2 >> 16) & 255] << 16 | sbox[(s3 >> 8) & 255] << 8 | sbox[s0 & 255]) ^ k1
        t2 = (sbox[s2 >> 24] << 24 | sbox[(s3 >> 16) & 255] << 16 | sbox[(s0 >> 8) & 255] << 8 | sbox[s1 & 255]) ^ k2
        t3 = (sbox[s3 >> 24] << 24 | sbox[(s0 >> 16) & 255] << 16 | sbox[(s1 >> 8) & 255] << 8 | sbox[s2 & 255]) ^ k3
        return (t0 << 96) | (t1 << 64) | (t2 << 32) | t3
