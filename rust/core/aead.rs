//! AES-128/256-GCM and ChaCha20-Poly1305 (ring) and AES-128-CCM with 16- or 8-byte
//! tags (RustCrypto `ccm` over `aes`), sealing and opening into caller slices.
//!
//! The key schedule is computed once in [`AeadKey::new`]; every seal/open reuses it.

use aes::Aes128;
use ccm::aead::generic_array::GenericArray;
use ccm::aead::{AeadInPlace, KeyInit};
use ccm::consts::{U12, U16, U8};
use ring::aead::{self as ra, Aad, LessSafeKey, Nonce, Tag, UnboundKey};

use super::{invalid, Error, Result};

pub const NONCE_LEN: usize = 12;
/// The longest tag of any suite (every suite but CCM_8 uses 16 bytes).
pub const MAX_TAG_LEN: usize = 16;

pub const TLS_AES_128_GCM_SHA256: u16 = 0x1301;
pub const TLS_AES_256_GCM_SHA384: u16 = 0x1302;
pub const TLS_CHACHA20_POLY1305_SHA256: u16 = 0x1303;
pub const TLS_AES_128_CCM_SHA256: u16 = 0x1304;
pub const TLS_AES_128_CCM_8_SHA256: u16 = 0x1305;

/// Longest CCM message with a 12-byte nonce: the length field has L = 15 - 12 = 3 bytes.
pub const CCM_MAX_MESSAGE_LEN: usize = (1 << 24) - 1;

/// The AEAD of a TLS 1.3 cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
    Aes128Ccm,
    Aes128Ccm8,
}

impl Algorithm {
    /// Rough CPU time to seal or open `len` bytes, in nanoseconds, as measured on
    /// the CI machine class (2-vCPU AMD EPYC, AVX2 + VAES; docs/threads.md):
    /// AES-GCM ~0.2 ns/byte, ChaCha20-Poly1305 ~0.55, AES-CCM ~1.4.  Used only to
    /// decide whether releasing the GIL for a call is worth the hand-off.
    pub fn cost_ns(self, len: usize) -> u64 {
        let per_kib: u64 = match self {
            Self::Aes128Gcm | Self::Aes256Gcm => 200,
            Self::ChaCha20Poly1305 => 550,
            Self::Aes128Ccm | Self::Aes128Ccm8 => 1400,
        };
        (len as u64).saturating_mul(per_kib) / 1024
    }

    /// The AEAD of cipher suite `suite`; ValueError text for others.
    pub fn from_suite(suite: i64) -> Result<Self> {
        match suite {
            s if s == i64::from(TLS_AES_128_GCM_SHA256) => Ok(Self::Aes128Gcm),
            s if s == i64::from(TLS_AES_256_GCM_SHA384) => Ok(Self::Aes256Gcm),
            s if s == i64::from(TLS_CHACHA20_POLY1305_SHA256) => Ok(Self::ChaCha20Poly1305),
            s if s == i64::from(TLS_AES_128_CCM_SHA256) => Ok(Self::Aes128Ccm),
            s if s == i64::from(TLS_AES_128_CCM_8_SHA256) => Ok(Self::Aes128Ccm8),
            s if (0..=0xffff).contains(&s) => invalid(format!("unsupported cipher suite 0x{s:04x}")),
            s => invalid(format!("unsupported cipher suite {s}")),
        }
    }

    pub fn suite(self) -> u16 {
        match self {
            Self::Aes128Gcm => TLS_AES_128_GCM_SHA256,
            Self::Aes256Gcm => TLS_AES_256_GCM_SHA384,
            Self::ChaCha20Poly1305 => TLS_CHACHA20_POLY1305_SHA256,
            Self::Aes128Ccm => TLS_AES_128_CCM_SHA256,
            Self::Aes128Ccm8 => TLS_AES_128_CCM_8_SHA256,
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm | Self::Aes128Ccm | Self::Aes128Ccm8 => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }

    /// Bytes of authentication tag after the ciphertext.
    pub fn tag_len(self) -> usize {
        match self {
            Self::Aes128Ccm8 => 8,
            _ => 16,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128Gcm => "AES-128-GCM",
            Self::Aes256Gcm => "AES-256-GCM",
            Self::ChaCha20Poly1305 => "ChaCha20-Poly1305",
            Self::Aes128Ccm => "AES-128-CCM",
            Self::Aes128Ccm8 => "AES-128-CCM-8",
        }
    }
}

type Ccm16 = ccm::Ccm<Aes128, U16, U12>;
type Ccm8 = ccm::Ccm<Aes128, U8, U12>;

/// The expanded key.  ring keeps its schedule opaque; the `aes` crate's round keys
/// are wiped on drop (its `zeroize` feature).
enum Inner {
    Ring(LessSafeKey),
    Ccm16(Ccm16),
    Ccm8(Ccm8),
}

/// A keyed AEAD.  We keep no copy of the raw key bytes.
pub struct AeadKey {
    alg: Algorithm,
    key: Inner,
}

impl core::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AeadKey").field("alg", &self.alg).finish_non_exhaustive()
    }
}

fn nonce_array(n: &[u8]) -> Result<[u8; NONCE_LEN]> {
    n.try_into()
        .or_else(|_| invalid(format!("nonce must be {NONCE_LEN} bytes, got {}", n.len())))
}

fn seal_failed<T>(_: T) -> Error {
    Error::Internal("AEAD seal failed")
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
        let ring_alg = match alg {
            Algorithm::Aes128Gcm => &ra::AES_128_GCM,
            Algorithm::Aes256Gcm => &ra::AES_256_GCM,
            Algorithm::ChaCha20Poly1305 => &ra::CHACHA20_POLY1305,
            Algorithm::Aes128Ccm => {
                let k = Ccm16::new_from_slice(key).map_err(|_| Error::Internal("AEAD key setup failed"))?;
                return Ok(Self { alg, key: Inner::Ccm16(k) });
            }
            Algorithm::Aes128Ccm8 => {
                let k = Ccm8::new_from_slice(key).map_err(|_| Error::Internal("AEAD key setup failed"))?;
                return Ok(Self { alg, key: Inner::Ccm8(k) });
            }
        };
        let unbound = UnboundKey::new(ring_alg, key).map_err(|_| Error::Internal("AEAD key setup failed"))?;
        Ok(Self { alg, key: Inner::Ring(LessSafeKey::new(unbound)) })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    #[inline]
    pub fn tag_len(&self) -> usize {
        self.alg.tag_len()
    }

    /// Encrypt `in_out` in place and write the tag to `tag_out`, which must be
    /// exactly `tag_len()` bytes.
    #[inline]
    pub fn seal_in_place(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], in_out: &mut [u8], tag_out: &mut [u8]) -> Result<()> {
        if tag_out.len() != self.tag_len() {
            return Err(Error::Internal("AEAD tag buffer of the wrong size"));
        }
        match &self.key {
            Inner::Ring(k) => {
                let tag = k
                    .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), in_out)
                    .map_err(seal_failed)?;
                tag_out.copy_from_slice(tag.as_ref());
            }
            Inner::Ccm16(k) => {
                check_ccm_len(in_out.len())?;
                let tag = k.encrypt_in_place_detached(GenericArray::from_slice(nonce), aad, in_out).map_err(seal_failed)?;
                tag_out.copy_from_slice(&tag);
            }
            Inner::Ccm8(k) => {
                check_ccm_len(in_out.len())?;
                let tag = k.encrypt_in_place_detached(GenericArray::from_slice(nonce), aad, in_out).map_err(seal_failed)?;
                tag_out.copy_from_slice(&tag);
            }
        }
        Ok(())
    }

    /// `out` (exactly `plaintext.len() + tag_len()` bytes) = ciphertext || tag.
    pub fn seal_to(&self, nonce_bytes: &[u8], aad: &[u8], plaintext: &[u8], out: &mut [u8]) -> Result<()> {
        let n = nonce_array(nonce_bytes)?;
        let t = self.tag_len();
        if out.len() != plaintext.len() + t {
            return invalid(format!("output must be {} bytes, got {}", plaintext.len() + t, out.len()));
        }
        let (body, tag_out) = out.split_at_mut(plaintext.len());
        body.copy_from_slice(plaintext);
        self.seal_in_place(&n, aad, body, tag_out)
    }

    /// `out` (exactly `ciphertext.len() - tag_len()` bytes) = plaintext, or BadRecordMac.
    /// On failure `out` is zeroed.
    pub fn open_to(&self, nonce_bytes: &[u8], aad: &[u8], ciphertext: &[u8], out: &mut [u8]) -> Result<()> {
        let n = nonce_array(nonce_bytes)?;
        let t = self.tag_len();
        if ciphertext.len() < t {
            return Err(Error::BadRecordMac);
        }
        let body_len = ciphertext.len() - t;
        if out.len() != body_len {
            return invalid(format!("output must be {body_len} bytes, got {}", out.len()));
        }
        out.copy_from_slice(&ciphertext[..body_len]);
        self.open_in_place(&n, aad, &ciphertext[body_len..], out)
    }

    /// Decrypt `in_out` in place given the nonce and the separate tag (which must
    /// be `tag_len()` bytes, else BadRecordMac).  On failure `in_out` is zeroed.
    #[inline]
    pub fn open_in_place(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], tag: &[u8], in_out: &mut [u8]) -> Result<()> {
        let ok = tag.len() == self.tag_len()
            && match &self.key {
                Inner::Ring(k) => {
                    let tag: [u8; MAX_TAG_LEN] = tag.try_into().map_err(|_| Error::BadRecordMac)?;
                    k.open_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), Tag::from(tag), in_out, 0..)
                        .is_ok()
                }
                // A message too long for CCM cannot have been sealed: reject it
                // before `ccm` decrypts it (it would leave the plaintext behind).
                Inner::Ccm16(k) => {
                    in_out.len() <= CCM_MAX_MESSAGE_LEN
                        && k.decrypt_in_place_detached(GenericArray::from_slice(nonce), aad, in_out, GenericArray::from_slice(tag))
                            .is_ok()
                }
                Inner::Ccm8(k) => {
                    in_out.len() <= CCM_MAX_MESSAGE_LEN
                        && k.decrypt_in_place_detached(GenericArray::from_slice(nonce), aad, in_out, GenericArray::from_slice(tag))
                            .is_ok()
                }
            };
        if ok {
            Ok(())
        } else {
            in_out.fill(0);
            Err(Error::BadRecordMac)
        }
    }
}

fn check_ccm_len(len: usize) -> Result<()> {
    if len > CCM_MAX_MESSAGE_LEN {
        return invalid(format!("CCM plaintext must be at most {CCM_MAX_MESSAGE_LEN} bytes, got {len}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hex;

    fn seal(alg: Algorithm, key: &[u8], nonce: &[u8], aad: &[u8], pt: &[u8]) -> Vec<u8> {
        let k = AeadKey::new(alg, key).unwrap();
        let mut out = vec![0u8; pt.len() + alg.tag_len()];
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
        assert!(matches!(Algorithm::from_suite(0x1306), Err(Error::Invalid(_))));
    }

    // Our own seals with pyca/cryptography 50.0.2 (OpenSSL) AESCCM, see ccm_known_answers.
    const CCM16_EXPECT: &str = "13848b9376c11b85329545fb4859e5b93bf690f471024c6ce543bd3e6b5c5b912fd981621ac9606f";
    const CCM8_EXPECT: &str = "13848b9376c11b85329545fb4859e5b93bf690f471024c6ce5f586713619fdc1";
    const CCM16_EMPTY: &str = "cc9b10e8593f83fb891535f9706e8492";

    #[test]
    fn nist_sp800_38c_example_3() {
        // NIST SP 800-38C appendix C.3: 128-bit key, 12-byte nonce, 20-byte AAD, 8-byte tag.
        let key = hex("404142434445464748494a4b4c4d4e4f");
        let nonce = hex("101112131415161718191a1b");
        let aad = hex("000102030405060708090a0b0c0d0e0f10111213");
        let pt = hex("202122232425262728292a2b2c2d2e2f3031323334353637");
        let expect = hex("e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5 484392fbc1b09951");
        assert_eq!(seal(Algorithm::Aes128Ccm8, &key, &nonce, &aad, &pt), expect);
    }

    #[test]
    fn ccm_known_answers() {
        // Computed with pyca/cryptography 50.0.2 (OpenSSL) AESCCM, key 00..0f,
        // nonce 10..1b, AAD 20..27, plaintext 30..47 (24 bytes); tag 16 and 8.
        let key = hex("000102030405060708090a0b0c0d0e0f");
        let nonce = hex("101112131415161718191a1b");
        let aad = hex("2021222324252627");
        let pt = hex("303132333435363738393a3b3c3d3e3f4041424344454647");
        assert_eq!(seal(Algorithm::Aes128Ccm, &key, &nonce, &aad, &pt), hex(CCM16_EXPECT));
        assert_eq!(seal(Algorithm::Aes128Ccm8, &key, &nonce, &aad, &pt), hex(CCM8_EXPECT));
        assert_eq!(seal(Algorithm::Aes128Ccm, &key, &nonce, b"", b""), hex(CCM16_EMPTY));
    }

    #[test]
    fn ccm8_tamper_and_lengths() {
        let k = AeadKey::new(Algorithm::Aes128Ccm8, &[1u8; 16]).unwrap();
        assert_eq!(k.tag_len(), 8);
        let mut ct = vec![0u8; 12];
        k.seal_to(&[0u8; 12], b"ad", b"abcd", &mut ct).unwrap();
        let mut back = [0u8; 4];
        k.open_to(&[0u8; 12], b"ad", &ct, &mut back).unwrap();
        assert_eq!(&back, b"abcd");
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 1;
            let mut out = [0xAAu8; 4];
            assert_eq!(k.open_to(&[0u8; 12], b"ad", &bad, &mut out), Err(Error::BadRecordMac));
            assert_eq!(out, [0u8; 4], "zeroed on failure");
        }
        assert_eq!(k.open_to(&[0u8; 12], b"ad", &ct[..7], &mut []), Err(Error::BadRecordMac));
        assert_eq!(k.open_to(&[0u8; 12], b"AD", &ct, &mut [0u8; 4]), Err(Error::BadRecordMac));
        // A 16-byte output is wrong for an 8-byte tag.
        assert!(matches!(k.seal_to(&[0u8; 12], b"", b"", &mut [0u8; 16]), Err(Error::Invalid(_))));
        assert!(k.seal_to(&[0u8; 12], b"", b"", &mut [0u8; 8]).is_ok());
    }
}
