//! AES-128/256-GCM and ChaCha20-Poly1305 (ring), sealing and opening into caller slices.
//!
//! The key schedule is computed once in [`AeadKey::new`]; every seal/open reuses it.

use ring::aead::{self as ra, Aad, LessSafeKey, Nonce, Tag, UnboundKey};

use super::{invalid, Error, Result};

pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;

pub const TLS_AES_128_GCM_SHA256: u16 = 0x1301;
pub const TLS_AES_256_GCM_SHA384: u16 = 0x1302;
pub const TLS_CHACHA20_POLY1305_SHA256: u16 = 0x1303;

/// The AEAD of a TLS 1.3 cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl Algorithm {
    /// The AEAD of cipher suite `suite`; ValueError text for others.
    pub fn from_suite(suite: i64) -> Result<Self> {
        match suite {
            s if s == i64::from(TLS_AES_128_GCM_SHA256) => Ok(Self::Aes128Gcm),
            s if s == i64::from(TLS_AES_256_GCM_SHA384) => Ok(Self::Aes256Gcm),
            s if s == i64::from(TLS_CHACHA20_POLY1305_SHA256) => Ok(Self::ChaCha20Poly1305),
            s if (0..=0xffff).contains(&s) => invalid(format!("unsupported cipher suite 0x{s:04x}")),
            s => invalid(format!("unsupported cipher suite {s}")),
        }
    }

    pub fn suite(self) -> u16 {
        match self {
            Self::Aes128Gcm => TLS_AES_128_GCM_SHA256,
            Self::Aes256Gcm => TLS_AES_256_GCM_SHA384,
            Self::ChaCha20Poly1305 => TLS_CHACHA20_POLY1305_SHA256,
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128Gcm => "AES-128-GCM",
            Self::Aes256Gcm => "AES-256-GCM",
            Self::ChaCha20Poly1305 => "ChaCha20-Poly1305",
        }
    }

    fn ring(self) -> &'static ra::Algorithm {
        match self {
            Self::Aes128Gcm => &ra::AES_128_GCM,
            Self::Aes256Gcm => &ra::AES_256_GCM,
            Self::ChaCha20Poly1305 => &ra::CHACHA20_POLY1305,
        }
    }
}

/// A keyed AEAD.  The expanded key lives inside ring's `LessSafeKey`; we keep no
/// copy of the raw key bytes.
pub struct AeadKey {
    alg: Algorithm,
    key: LessSafeKey,
}

impl core::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AeadKey").field("alg", &self.alg).finish_non_exhaustive()
    }
}

fn nonce(n: &[u8]) -> Result<Nonce> {
    Nonce::try_assume_unique_for_key(n)
        .or_else(|_| invalid(format!("nonce must be {NONCE_LEN} bytes, got {}", n.len())))
}

impl AeadKey {
    pub fn new(alg: Algorithm, key: &[u8]) -> Result<Self> {
        if key.len() != alg.key_len() {
            return invalid(format!(
                "{} key must be {} bytes, got {}",
                alg.name(),
                alg.key_len(),
                key.len()
            ));
        }
        let unbound = UnboundKey::new(alg.ring(), key).map_err(|_| Error::Internal("AEAD key setup failed"))?;
        Ok(Self { alg, key: LessSafeKey::new(unbound) })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Encrypt `in_out` in place and return the tag.
    #[inline]
    pub fn seal_in_place(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        let tag = self
            .key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), in_out)
            .map_err(|_| Error::Internal("AEAD seal failed"))?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// `out` (exactly `plaintext.len() + 16` bytes) = ciphertext || tag.
    pub fn seal_to(&self, nonce_bytes: &[u8], aad: &[u8], plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        let n = nonce(nonce_bytes)?;
        if out.len() != plaintext.len() + TAG_LEN {
            return invalid(format!("output must be {} bytes, got {}", plaintext.len() + TAG_LEN, out.len()));
        }
        let (body, tag_out) = out.split_at_mut(plaintext.len());
        body.copy_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(n, Aad::from(aad), body)
            .map_err(|_| Error::Internal("AEAD seal failed"))?;
        tag_out.copy_from_slice(tag.as_ref());
        Ok(())
    }

    /// `out` (exactly `ciphertext.len() - 16` bytes) = plaintext, or BadRecordMac.
    /// On failure `out` is zeroed.
    pub fn open_to(&self, nonce_bytes: &[u8], aad: &[u8], ciphertext: &[u8], out: &mut [u8]) -> Result<()> {
        let n = nonce(nonce_bytes)?;
        if ciphertext.len() < TAG_LEN {
            return Err(Error::BadRecordMac);
        }
        let body_len = ciphertext.len() - TAG_LEN;
        if out.len() != body_len {
            return invalid(format!("output must be {body_len} bytes, got {}", out.len()));
        }
        out.copy_from_slice(&ciphertext[..body_len]);
        self.open_in_place_tag(n, aad, &ciphertext[body_len..], out)
    }

    /// Decrypt `in_out` in place given the nonce and the separate tag.
    #[inline]
    pub fn open_in_place(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], tag: &[u8], in_out: &mut [u8]) -> Result<()> {
        self.open_in_place_tag(Nonce::assume_unique_for_key(*nonce), aad, tag, in_out)
    }

    fn open_in_place_tag(&self, n: Nonce, aad: &[u8], tag: &[u8], in_out: &mut [u8]) -> Result<()> {
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| Error::BadRecordMac)?;
        match self.key.open_in_place_separate_tag(n, Aad::from(aad), Tag::from(tag), in_out, 0..) {
            Ok(_) => Ok(()),
            Err(_) => {
                in_out.fill(0);
                Err(Error::BadRecordMac)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hex;

    fn seal(alg: Algorithm, key: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> Vec<u8> {
        let k = AeadKey::new(alg, key).unwrap();
        let mut out = vec![0u8; pt.len() + TAG_LEN];
        k.seal_to(nonce, aad, pt, &mut out).unwrap();
        let mut back = vec![0u8; pt.len()];
        k.open_to(nonce, aad, &out, &mut back).unwrap();
        assert_eq!(back, pt);
        out
    }

    #[test]
    fn rfc8439_2_8_2() {
        let key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        let nonce = hex("070000004041424344454647");
        let aad = hex("50515253c0c1c2c3c4c5c6c7");
        let pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let expect = hex(
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b
             1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
             3ff4def08e4b7a9de576d26586cec64b6116 1ae10b594f09e26a7e902ecbd0600691",
        );
        assert_eq!(seal(Algorithm::ChaCha20Poly1305, &key, &nonce, &aad, pt), expect);
    }

    #[test]
    fn nist_gcm_test_cases_1_2_14() {
        // McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 1, 2 and 14.
        let z = [0u8; 32];
        assert_eq!(seal(Algorithm::Aes128Gcm, &z[..16], &z[..12], b"", b""), hex("58e2fccefa7e3061367f1d57a4e7455a"));
        assert_eq!(
            seal(Algorithm::Aes128Gcm, &z[..16], &z[..12], b"", &z[..16]),
            hex("0388dace60b6a392f328c2b971b2fe78 ab6e47d42cec13bdf53a67b21257bddf")
        );
        assert_eq!(
            seal(Algorithm::Aes256Gcm, &z, &z[..12], b"", &z[..16]),
            hex("cea7403d4d606b6e074ec5d3baf39d18 d0d1c8a799996bf0265b98b5d48ab919")
        );
    }

    #[test]
    fn tamper_and_lengths() {
        let k = AeadKey::new(Algorithm::Aes128Gcm, &[1u8; 16]).unwrap();
        let mut ct = vec![0u8; 20];
        k.seal_to(&[0u8; 12], b"ad", b"abcd", &mut ct).unwrap();
        ct[0] ^= 1;
        let mut out = vec![0u8; 4];
        assert_eq!(k.open_to(&[0u8; 12], b"ad", &ct, &mut out), Err(Error::BadRecordMac));
        assert_eq!(out, [0u8; 4]);
        assert_eq!(k.open_to(&[0u8; 12], b"ad", &ct[..15], &mut []), Err(Error::BadRecordMac));
        assert!(matches!(k.seal_to(&[0u8; 11], b"", b"", &mut [0u8; 16]), Err(Error::Invalid(_))));
        assert!(matches!(AeadKey::new(Algorithm::Aes256Gcm, &[0u8; 16]), Err(Error::Invalid(_))));
        assert!(matches!(Algorithm::from_suite(0x1304), Err(Error::Invalid(_))));
    }
}
