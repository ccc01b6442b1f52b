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
]


class CipherSuite(enum.IntEnum):
    """TLS 1.3 cipher suites (RFC 8446 appendix B.4)."""

    TLS_AES_128_GCM_SHA256 = 0x1301
    TLS_AES_256_GCM_SHA384 = 0x1302
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303
    TLS_AES_128_CCM_SHA256 = 0x1304
    TLS_AES_128_CCM_8_SHA256 = 0x1305


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
