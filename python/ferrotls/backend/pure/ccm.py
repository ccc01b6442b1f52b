"""AES-CCM (NIST SP 800-38C, RFC 3610) with 12-byte nonces, as TLS 1.3 uses it.

TLS_AES_128_CCM_SHA256 uses a 16-byte tag and TLS_AES_128_CCM_8_SHA256 an
8-byte tag (RFC 8446 appendix B.4, RFC 6655).  With a 12-byte nonce the length
field is L = 15 - 12 = 3 bytes, so a message may hold at most 2**24 - 1 bytes.

NOT constant-time: AES is the pure-Python code of :mod:`.aes` (table lookups
indexed by secret bytes).  The native backend is the default for that reason.

CCM in two passes over the message:

* CBC-MAC over B0 || encoded AAD || message, each padded with zeros to whole
  16-byte blocks.  B0 = flags || nonce || message length, with
  flags = 64 * (AAD present) + 8 * ((tag_len - 2) / 2) + (L - 1).
  This pass is serial (each block's input is the previous output), so it runs
  one block at a time on :class:`.aes.BlockEncryptor`.
* Counter mode with blocks A_i = (L - 1) || nonce || i (i in 3 bytes): A_0
  encrypts the tag (the first ``tag_len`` bytes of the MAC), A_1, A_2, ...
  the message.  These blocks are independent, so they use the vectorised
  :func:`.aes.ctr_keystream`.
"""

from __future__ import annotations

import hmac

from . import aes

__all__ = ["AESCCM", "NONCE_LEN", "MAX_MESSAGE_LEN"]

NONCE_LEN = 12
_L = 15 - NONCE_LEN  # bytes of the message-length field (and of the counter)
MAX_MESSAGE_LEN = (1 << (8 * _L)) - 1
_TAG_LENS = (4, 6, 8, 10, 12, 14, 16)


def _encode_aad_length(n: int) -> bytes:
    """SP 800-38C A.2.2: how the AAD length is written before the AAD."""
    if n < 0xFF00:
        return n.to_bytes(2, "big")
    if n < 1 << 32:
        return b"\xff\xfe" + n.to_bytes(4, "big")
    return b"\xff\xff" + n.to_bytes(8, "big")


class AESCCM:
    """AES-CCM with a 16/24/32-byte key, 12-byte nonces (checked by the caller)
    and a ``tag_len``-byte tag (16 for TLS_AES_128_CCM_SHA256, 8 for CCM_8)."""

    __slots__ = ("_cipher", "_block", "_tag_len", "_flags")

    def __init__(self, key: bytes, tag_len: int = 16) -> None:
        if tag_len not in _TAG_LENS:
            raise ValueError(f"CCM tag length must be one of {_TAG_LENS}, got {tag_len}")
        self._cipher = aes.new_cipher(key)  # byte-sliced: counter mode
        self._block = aes.BlockEncryptor(key)  # one block at a time: CBC-MAC
        self._tag_len = tag_len
        self._flags = 8 * ((tag_len - 2) // 2) + (_L - 1)

    @property
    def tag_len(self) -> int:
        return self._tag_len

    def _mac(self, nonce: bytes, aad: bytes, message: bytes) -> int:
        """The CBC-MAC of B0 || AAD blocks || message blocks, as a 128-bit int."""
        flags = self._flags | (64 if aad else 0)
        b0 = bytes((flags,)) + nonce + len(message).to_bytes(_L, "big")
        data = b0
        if aad:
            a = _encode_aad_length(len(aad)) + aad
            data += a + bytes(-len(a) % 16)
        data += message + bytes(-len(message) % 16)
        encrypt = self._block.encrypt
        from_bytes = int.from_bytes
        y = 0
        for i in range(0, len(data), 16):
            y = encrypt(y ^ from_bytes(data[i : i + 16], "big"))
        return y

    def _keystream(self, nonce: bytes, length: int) -> tuple[bytes, bytes]:
        """S_0 (the tag mask) and ``length`` bytes of keystream S_1, S_2, ...

        A_i = (L - 1) || nonce || i.  ``ctr_keystream`` takes a 12-byte prefix and
        a 32-bit counter, so the prefix is (L - 1) || nonce[:11] and the counter
        nonce[11] || i; i < 2**20 here (messages < 2**24 bytes), so it never
        carries into nonce[11].
        """
        prefix = bytes((_L - 1,)) + nonce[:11]
        counter = nonce[11] << 24
        ks = aes.ctr_keystream(self._cipher, prefix, counter, 1 + (length + 15) // 16)
        return ks[:16], ks[16 : 16 + length]

    def seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        """Return ciphertext || tag; ValueError if the plaintext is 2**24 bytes or more."""
        n = len(plaintext)
        if n > MAX_MESSAGE_LEN:
            raise ValueError(f"CCM plaintext must be at most {MAX_MESSAGE_LEN} bytes, got {n}")
        mask, ks = self._keystream(nonce, n)
        tag = (self._mac(nonce, aad, plaintext) ^ int.from_bytes(mask, "big")).to_bytes(16, "big")
        if n:
            ct = (int.from_bytes(plaintext, "big") ^ int.from_bytes(ks, "big")).to_bytes(n, "big")
        else:
            ct = b""
        return ct + tag[: self._tag_len]

    def open(self, nonce: bytes, aad: bytes, data: bytes) -> bytes | None:
        """Return the plaintext, or None if the tag does not verify (or ``data``
        is shorter than the tag, or too long for CCM)."""
        t = self._tag_len
        if len(data) < t or len(data) - t > MAX_MESSAGE_LEN:
            return None
        ct, tag = data[:-t], data[-t:]
        n = len(ct)
        mask, ks = self._keystream(nonce, n)
        pt = (int.from_bytes(ct, "big") ^ int.from_bytes(ks, "big")).to_bytes(n, "big") if n else b""
        expected = (self._mac(nonce, aad, pt) ^ int.from_bytes(mask, "big")).to_bytes(16, "big")
        if not hmac.compare_digest(expected[:t], tag):
            return None
        return pt
