"""Tables of the cryptographic parameters ferrotls negotiates.

Data, not branches: every property of a cipher suite, group or signature scheme
is looked up here.  This module is a leaf.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "CipherSuite",
    "NamedGroup",
    "SignatureScheme",
    "SuiteInfo",
    "SUITES",
    "suite_info",
    "HASH_LEN",
    "Tls12CipherSuite",
    "Tls12SuiteInfo",
    "TLS12_SUITES",
    "tls12_suite_info",
]


class CipherSuite(enum.IntEnum):
    """TLS 1.3 cipher suites (RFC 8446 appendix B.4)."""

    TLS_AES_128_GCM_SHA256 = 0x1301
    TLS_AES_256_GCM_SHA384 = 0x1302
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303
    TLS_AES_128_CCM_SHA256 = 0x1304
    TLS_AES_128_CCM_8_SHA256 = 0x1305


class Tls12CipherSuite(enum.IntEnum):
    """The TLS 1.2 cipher suites ferrotls implements: AEAD only (no CBC, RC4 or 3DES),
    ECDHE or PSK key exchange (no static RSA, no FFDHE)."""

    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02B  # RFC 5289
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xC02F  # RFC 5289
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02C  # RFC 5289
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xC030  # RFC 5289
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA9  # RFC 7905
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA8  # RFC 7905
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM = 0xC0AC  # RFC 7251
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 = 0xC0AE  # RFC 7251
    TLS_PSK_WITH_AES_128_CCM_8 = 0xC0A8  # RFC 6655
    TLS_PSK_WITH_AES_128_GCM_SHA256 = 0x00A8  # RFC 5487
    TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAC  # RFC 7905
    TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 = 0xD001  # RFC 8442


class NamedGroup(enum.IntEnum):
    """Key-exchange groups (RFC 8446 section 4.2.7, draft-ietf-tls-ecdhe-mlkem)."""

    SECP256R1 = 0x0017
    SECP384R1 = 0x0018
    SECP521R1 = 0x0019
    X25519 = 0x001D
    X448 = 0x001E
    X25519MLKEM768 = 0x11EC


class SignatureScheme(enum.IntEnum):
    """Signature schemes (RFC 8446 section 4.2.3)."""

    RSA_PKCS1_SHA256 = 0x0401
    RSA_PKCS1_SHA384 = 0x0501
    RSA_PKCS1_SHA512 = 0x0601
    ECDSA_SECP256R1_SHA256 = 0x0403
    ECDSA_SECP384R1_SHA384 = 0x0503
    ECDSA_SECP521R1_SHA512 = 0x0603
    RSA_PSS_RSAE_SHA256 = 0x0804
    RSA_PSS_RSAE_SHA384 = 0x0805
    RSA_PSS_RSAE_SHA512 = 0x0806
    ED25519 = 0x0807
    ED448 = 0x0808
    RSA_PSS_PSS_SHA256 = 0x0809
    RSA_PSS_PSS_SHA384 = 0x080A
    RSA_PSS_PSS_SHA512 = 0x080B
    RSA_PKCS1_SHA1 = 0x0201
    ECDSA_SHA1 = 0x0203


HASH_LEN: dict[str, int] = {"sha256": 32, "sha384": 48}


@dataclass(frozen=True, slots=True)
class SuiteInfo:
    """What a cipher suite means: its AEAD key length, tag length and hash."""

    suite: CipherSuite
    hash_name: str
    key_len: int
    iv_len: int
    tag_len: int
    max_records: int = 1 << 64
    """Records one key may protect before a KeyUpdate (RFC 8446 section 5.5; RFC 9147
    section 4.5.3 and appendix B for CCM); the connection updates its sending keys
    before reaching it.  2**64 (the sequence space) where the AEAD's limit is larger."""

    @property
    def hash_len(self) -> int:
        return HASH_LEN[self.hash_name]


_GCM_LIMIT = 23_726_566  # 2**24.5 full-size records (RFC 8446 section 5.5)
_CCM_LIMIT = 11_863_283  # 2**23.5 (RFC 9147 section 4.5.3, appendix B)

SUITES: dict[int, SuiteInfo] = {
    s.suite: s
    for s in (
        SuiteInfo(CipherSuite.TLS_AES_128_GCM_SHA256, "sha256", 16, 12, 16, _GCM_LIMIT),
        SuiteInfo(CipherSuite.TLS_AES_256_GCM_SHA384, "sha384", 32, 12, 16, _GCM_LIMIT),
        # ChaCha20-Poly1305's limit exceeds 2**64 records; stop short of the end of
        # the sequence space so a KeyUpdate and close_notify always have numbers left.
        SuiteInfo(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, "sha256", 32, 12, 16, (1 << 64) - (1 << 16)),
        # RFC 8446 B.4 / RFC 6655: AES-CCM, 16- and 8-byte tags.  Implemented but
        # off by default (config.DEFAULT_CIPHER_SUITES); the IoT profile uses them.
        SuiteInfo(CipherSuite.TLS_AES_128_CCM_SHA256, "sha256", 16, 12, 16, _CCM_LIMIT),
        SuiteInfo(CipherSuite.TLS_AES_128_CCM_8_SHA256, "sha256", 16, 12, 8, _CCM_LIMIT),
    )
}


def suite_info(suite: int) -> SuiteInfo:
    """Return the parameters of ``suite``; ValueError if ferrotls does not implement it."""
    try:
        return SUITES[suite]
    except KeyError:
        raise ValueError(f"unsupported cipher suite 0x{suite:04x}") from None


@dataclass(frozen=True, slots=True)
class Tls12SuiteInfo:
    """What a TLS 1.2 cipher suite means (RFC 5246 section 6.2.3.3 and the suite's RFC).

    The record format follows from ``fixed_iv_len`` and ``record_iv_len``:
    AES-GCM (RFC 5288) and AES-CCM (RFC 6655) take a 4-byte salt from the key
    block and carry an 8-byte explicit nonce in each record (ferrotls sends its
    sequence number there); ChaCha20-Poly1305 (RFC 7905) takes a 12-byte IV and
    carries none (nonce = IV XOR sequence number).
    """

    suite: Tls12CipherSuite
    aead: str
    """The AEAD (``tls13_equivalent`` is the TLS 1.3 suite with the same one):
    ``"AES-128-GCM"``, ``"AES-256-GCM"``,
    ``"ChaCha20-Poly1305"``, ``"AES-128-CCM"`` or ``"AES-128-CCM-8"``."""
    hash_name: str
    """The PRF's hash (RFC 5246 section 5), also the Finished/transcript hash."""
    key_len: int
    fixed_iv_len: int
    """IV bytes from the key block: 4 (salt) or 12."""
    record_iv_len: int
    """Explicit nonce bytes per record: 8 or 0."""
    tag_len: int
    kx: str
    """Key exchange: ``"ECDHE"``, ``"PSK"`` or ``"ECDHE_PSK"``."""
    auth: str
    """Server authentication: ``"ECDSA"``, ``"RSA"`` or ``"PSK"``."""
    openssl_name: str
    """The name ``openssl ciphers`` and ``ssl.SSLSocket.cipher()`` use."""
    max_records: int = 1 << 64
    """Records one key may protect (the AEAD's usage limit, as for TLS 1.3); TLS 1.2
    has no KeyUpdate, so a connection reaching it must close."""

    @property
    def hash_len(self) -> int:
        return HASH_LEN[self.hash_name]

    @property
    def explicit_nonce(self) -> bool:
        return self.record_iv_len != 0

    @property
    def tls13_equivalent(self) -> CipherSuite:
        """The TLS 1.3 suite with the same AEAD (for ``Backend.aead``)."""
        return _AEAD_SUITE[self.aead]


_AEAD_SUITE = {
    "AES-128-GCM": CipherSuite.TLS_AES_128_GCM_SHA256,
    "AES-256-GCM": CipherSuite.TLS_AES_256_GCM_SHA384,
    "ChaCha20-Poly1305": CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    "AES-128-CCM": CipherSuite.TLS_AES_128_CCM_SHA256,
    "AES-128-CCM-8": CipherSuite.TLS_AES_128_CCM_8_SHA256,
}

# (aead, key_len, fixed_iv_len, record_iv_len, tag_len, max_records)
_GCM128 = ("AES-128-GCM", 16, 4, 8, 16, _GCM_LIMIT)
_GCM256 = ("AES-256-GCM", 32, 4, 8, 16, _GCM_LIMIT)
_CHACHA = ("ChaCha20-Poly1305", 32, 12, 0, 16, (1 << 64) - (1 << 16))
_CCM = ("AES-128-CCM", 16, 4, 8, 16, _CCM_LIMIT)
_CCM8 = ("AES-128-CCM-8", 16, 4, 8, 8, _CCM_LIMIT)


def _tls12(
    suite: Tls12CipherSuite,
    aead: tuple[str, int, int, int, int, int],
    hash_name: str,
    kx: str,
    auth: str,
    openssl_name: str,
) -> Tls12SuiteInfo:
    name, key_len, fixed_iv_len, record_iv_len, tag_len, max_records = aead
    return Tls12SuiteInfo(
        suite, name, hash_name, key_len, fixed_iv_len, record_iv_len, tag_len, kx, auth,
        openssl_name, max_records,
    )


_S = Tls12CipherSuite
_ECDHE, _PSK, _ECDHE_PSK = "ECDHE", "PSK", "ECDHE_PSK"
TLS12_SUITES: dict[int, Tls12SuiteInfo] = {
    s.suite: s
    for s in (
        _tls12(_S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, _GCM128, "sha256", _ECDHE, "ECDSA",
               "ECDHE-ECDSA-AES128-GCM-SHA256"),
        _tls12(_S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, _GCM128, "sha256", _ECDHE, "RSA",
               "ECDHE-RSA-AES128-GCM-SHA256"),
        _tls12(_S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, _GCM256, "sha384", _ECDHE, "ECDSA",
               "ECDHE-ECDSA-AES256-GCM-SHA384"),
        _tls12(_S.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, _GCM256, "sha384", _ECDHE, "RSA",
               "ECDHE-RSA-AES256-GCM-SHA384"),
        _tls12(_S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, _CHACHA, "sha256", _ECDHE, "ECDSA",
               "ECDHE-ECDSA-CHACHA20-POLY1305"),
        _tls12(_S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, _CHACHA, "sha256", _ECDHE, "RSA",
               "ECDHE-RSA-CHACHA20-POLY1305"),
        # RFC 7251 and RFC 6655: the CCM suites use the RFC 5246 PRF, SHA-256.
        _tls12(_S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM, _CCM, "sha256", _ECDHE, "ECDSA",
               "ECDHE-ECDSA-AES128-CCM"),
        _tls12(_S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, _CCM8, "sha256", _ECDHE, "ECDSA",
               "ECDHE-ECDSA-AES128-CCM8"),
        _tls12(_S.TLS_PSK_WITH_AES_128_CCM_8, _CCM8, "sha256", _PSK, "PSK",
               "PSK-AES128-CCM8"),
        _tls12(_S.TLS_PSK_WITH_AES_128_GCM_SHA256, _GCM128, "sha256", _PSK, "PSK",
               "PSK-AES128-GCM-SHA256"),
        _tls12(_S.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256, _CHACHA, "sha256", _ECDHE_PSK, "PSK",
               "ECDHE-PSK-CHACHA20-POLY1305"),
        # OpenSSL does not implement 0xD001 (RFC 8442); the name follows its pattern.
        _tls12(_S.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, _GCM128, "sha256", _ECDHE_PSK, "PSK",
               "ECDHE-PSK-AES128-GCM-SHA256"),
    )
}
"""TLS 1.2 suites by code point.  PSK and CCM suites are for the IoT profile."""
del _S, _ECDHE, _PSK, _ECDHE_PSK


def tls12_suite_info(suite: int) -> Tls12SuiteInfo:
    """The parameters of TLS 1.2 ``suite``; ValueError if ferrotls does not implement it."""
    try:
        return TLS12_SUITES[suite]
    except KeyError:
        raise ValueError(f"unsupported TLS 1.2 cipher suite 0x{suite:04x}") from None
