"""HKDF (RFC 5869) and the TLS 1.3 HKDF-Expand-Label / Derive-Secret (RFC 8446 section 7.1).

Built on the standard library's ``hmac``/``hashlib``.  Argument checks (hash
name, lengths) live here so that both entry points behave identically.
"""

from __future__ import annotations

import hmac

__all__ = ["HASHES", "hash_len", "hkdf_extract", "hkdf_expand", "hkdf_expand_label", "derive_secret"]

HASHES: dict[str, int] = {"sha256": 32, "sha384": 48}


def _hash(hash_name: str) -> tuple[str, int]:
    try:
        return hash_name, HASHES[hash_name]
    except (KeyError, TypeError):
        raise ValueError(f"unsupported hash {hash_name!r}: expected 'sha256' or 'sha384'") from None


def hash_len(hash_name: str) -> int:
    """HashLen of ``hash_name`` ("sha256" or "sha384"); ValueError otherwise."""
    return _hash(hash_name)[1]


def hkdf_extract(hash_name: str, salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract(salt, IKM); an empty salt is HashLen zero bytes (HMAC pads it anyway)."""
    digest, size = _hash(hash_name)
    return hmac.new(bytes(salt) or bytes(size), bytes(ikm), digest).digest()


def hkdf_expand(hash_name: str, prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand(PRK, info, L); ValueError unless 0 <= L <= 255 * HashLen."""
    digest, size = _hash(hash_name)
    if not 0 <= length <= 255 * size:
        raise ValueError(f"HKDF-Expand length must be in 0..{255 * size}, got {length}")
    prk, info = bytes(prk), bytes(info)
    out = []
    t = b""
    for i in range(1, -(-length // size) + 1):
        t = hmac.new(prk, t + info + bytes((i,)), digest).digest()
        out.append(t)
    return b"".join(out)[:length]


def hkdf_label(label: bytes, context: bytes, length: int) -> bytes:
    """The HkdfLabel structure: uint16 length, opaque label<7..255> ("tls13 " + label), opaque context<0..255>."""
    full = b"tls13 " + bytes(label)
    if len(full) > 255:
        raise ValueError(f"HKDF label too long: {len(full)} bytes with the 'tls13 ' prefix (max 255)")
    context = bytes(context)
    if len(context) > 255:
        raise ValueError(f"HKDF context too long: {len(context)} bytes (max 255)")
    if not 0 <= length <= 0xFFFF:
        raise ValueError(f"HKDF-Expand-Label length must be in 0..65535, got {length}")
    return length.to_bytes(2, "big") + bytes((len(full),)) + full + bytes((len(context),)) + context


def hkdf_expand_label(hash_name: str, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 section 7.1)."""
    hash_len(hash_name)
    return hkdf_expand(hash_name, secret, hkdf_label(label, context, length), length)


def derive_secret(hash_name: str, secret: bytes, label: bytes, transcript_hash: bytes) -> bytes:
    """Derive-Secret(Secret, Label, Messages) with the transcript hash already computed."""
    return hkdf_expand_label(hash_name, secret, label, transcript_hash, hash_len(hash_name))
