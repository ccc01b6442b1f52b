"""Integrity limits of DTLS record protection (RFC 9147 section 4.5.3).

An attacker who can send datagrams can try forgeries; each record that fails
authentication under a key is a guess, and an AEAD gives a bound on how many
guesses keep its integrity.  A DTLS endpoint counts the records that fail to
authenticate under each read key and, at the limit, stops using the key: DTLS
1.3 asks the peer for new keys (a KeyUpdate with update_requested) once half of
it is spent, and closes the connection at the limit; DTLS 1.2, which cannot
rekey, closes.  (TLS never needs this: one failure is fatal there.)

The limits are RFC 9147's: 2**36 for AES-GCM and ChaCha20-Poly1305 (section
4.5.3), 2**23.5 for AES-CCM and 2**7 for AES-CCM with 8-byte tags (appendix B).
DTLS 1.2 records use the same AEADs and get the same limits.
"""

from __future__ import annotations

from ..suites import SUITES, TLS12_SUITES, CipherSuite

__all__ = ["INTEGRITY_LIMITS", "integrity_limit"]

INTEGRITY_LIMITS: dict[str, int] = {
    "AES-128-GCM": 1 << 36,
    "AES-256-GCM": 1 << 36,
    "ChaCha20-Poly1305": 1 << 36,
    "AES-128-CCM": 11_863_283,  # 2**23.5
    "AES-128-CCM-8": 1 << 7,
}
"""Records failing authentication one key tolerates, by AEAD."""

_TLS13_AEAD = {
    CipherSuite.TLS_AES_128_GCM_SHA256: "AES-128-GCM",
    CipherSuite.TLS_AES_256_GCM_SHA384: "AES-256-GCM",
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256: "ChaCha20-Poly1305",
    CipherSuite.TLS_AES_128_CCM_SHA256: "AES-128-CCM",
    CipherSuite.TLS_AES_128_CCM_8_SHA256: "AES-128-CCM-8",
}


def integrity_limit(suite: int) -> int:
    """The integrity limit of a TLS 1.3 or TLS 1.2 cipher suite's AEAD (ValueError: unknown)."""
    if suite in SUITES:
        return INTEGRITY_LIMITS[_TLS13_AEAD[CipherSuite(suite)]]
    if suite in TLS12_SUITES:
        return INTEGRITY_LIMITS[TLS12_SUITES[suite].aead]
    raise ValueError(f"unknown cipher suite 0x{suite:04x}")
