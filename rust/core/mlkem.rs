//! ML-KEM-768 (FIPS 203).  aws-lc-rs does generate, encapsulate and decapsulate;
//! RustCrypto `ml-kem` expands a 64-byte seed d || z (ML-KEM.KeyGen_internal),
//! which aws-lc-rs does not expose, and provides the deterministic encapsulation
//! used only by tests (Wycheproof encaps vectors).

use aws_lc_rs::kem::{Ciphertext, DecapsulationKey, EncapsulationKey, ML_KEM_768};
use ml_kem::EncapsulateDeterministic as _;
use ml_kem::{EncodedSizeUser, KemCore, MlKem768, B32};
use zeroize::Zeroize;

use super::{invalid, Error, Result};

pub const PUBLIC_LEN: usize = 1184;
pub const CIPHERTEXT_LEN: usize = 1088;
pub const SECRET_LEN: usize = 32;
pub const SEED_LEN: usize = 64;
const Q: u16 = 3329;
const MODULUS: &str = "ML-KEM-768 public key fails the modulus check";

pub struct MlKem768Key {
    dk: DecapsulationKey,
    // aws-lc cannot recompute the encapsulation key of a decapsulation key loaded
    // from raw bytes, so the public key is kept beside it.
    public: Box<[u8; PUBLIC_LEN]>,
}

impl core::fmt::Debug for MlKem768Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MlKem768Key { .. }")
    }
}

fn internal<E>(what: &'static str) -> impl FnOnce(E) -> Error {
    move |_| Error::Internal(what)
}

/// FIPS 203 section 7.2 modulus check: every 12-bit coefficient of the encoded
/// vector t (the first 1152 bytes) is < q.  Also the length check.
pub fn check_public(public: &[u8]) -> Result<()> {
    if public.len() != PUBLIC_LEN {
        return invalid(format!("ML-KEM-768 public key must be {PUBLIC_LEN} bytes, got {}", public.len()));
    }
    let mut bad = 0u16;
    for c in public[..PUBLIC_LEN - 32].chunks_exact(3) {
        let (b0, b1, b2) = (u16::from(c[0]), u16::from(c[1]), u16::from(c[2]));
        let d1 = b0 | ((b1 & 0x0f) << 8);
        let d2 = (b1 >> 4) | (b2 << 4);
        // Branch-free: bit 15 set iff d >= q (d < 4096, so d - q wraps when below q).
        bad |= ((d1.wrapping_sub(Q) >> 15) ^ 1) | ((d2.wrapping_sub(Q) >> 15) ^ 1);
    }
    if bad != 0 {
        return Err(Error::IllegalParameter(MODULUS));
    }
    Ok(())
}

impl MlKem768Key {
    pub fn generate() -> Result<Self> {
        let dk = DecapsulationKey::generate(&ML_KEM_768).map_err(internal("ML-KEM key generation failed"))?;
        let ek = dk.encapsulation_key().map_err(internal("ML-KEM public key failed"))?;
        let bytes = ek.key_bytes().map_err(internal("ML-KEM public key failed"))?;
        let public: [u8; PUBLIC_LEN] = bytes.as_ref().try_into().map_err(internal("ML-KEM public key length"))?;
        Ok(Self { dk, public: Box::new(public) })
    }

    /// ML-KEM.KeyGen_internal(d, z) for the 64-byte seed d || z.
    pub fn from_seed(seed: &[u8]) -> Result<Self> {
        if seed.len() != SEED_LEN {
            return invalid(format!("ML-KEM seed must be {SEED_LEN} bytes (d || z), got {}", seed.len()));
        }
        let mut d = B32::default();
        let mut z = B32::default();
        d.copy_from_slice(&seed[..32]);
        z.copy_from_slice(&seed[32..]);
        let (dk, ek) = MlKem768::generate_deterministic(&d, &z);
        let public: [u8; PUBLIC_LEN] = ek.as_bytes().as_slice().try_into().map_err(internal("ML-KEM public key length"))?;
        let mut expanded = dk.as_bytes();
        let res = DecapsulationKey::new(&ML_KEM_768, expanded.as_slice());
        expanded.as_mut_slice().zeroize();
        d.as_mut_slice().zeroize();
        z.as_mut_slice().zeroize();
        Ok(Self { dk: res.map_err(internal("ML-KEM expanded key rejected"))?, public: Box::new(public) })
    }

    pub fn public_bytes(&self) -> &[u8; PUBLIC_LEN] {
        &self.public
    }

    /// The shared secret (implicit rejection: a bad ciphertext gives a pseudo-random one).
    pub fn decapsulate(&self, ciphertext: &[u8], out: &mut [u8]) -> Result<()> {
        if ciphertext.len() != CIPHERTEXT_LEN {
            return invalid(format!("ML-KEM-768 ciphertext must be {CIPHERTEXT_LEN} bytes, got {}", ciphertext.len()));
        }
        let ss = self.dk.decapsulate(Ciphertext::from(ciphertext)).map_err(internal("ML-KEM decapsulation failed"))?;
        if out.len() != SECRET_LEN {
            return Err(Error::Internal("ML-KEM secret length"));
        }
        out.copy_from_slice(ss.as_ref());
        Ok(())
    }
}

/// Encapsulate to `public`: (ciphertext, shared secret) into the two outputs.
pub fn encapsulate(public: &[u8], ct_out: &mut [u8], ss_out: &mut [u8]) -> Result<()> {
    check_public(public)?;
    let ek = EncapsulationKey::new(&ML_KEM_768, public).map_err(|_| Error::IllegalParameter(MODULUS))?;
    let (ct, ss) = ek.encapsulate().map_err(internal("ML-KEM encapsulation failed"))?;
    if ct_out.len() != CIPHERTEXT_LEN || ss_out.len() != SECRET_LEN {
        return Err(Error::Internal("ML-KEM output length"));
    }
    ct_out.copy_from_slice(ct.as_ref());
    ss_out.copy_from_slice(ss.as_ref());
    Ok(())
}

/// Deterministic encapsulation with message `m` (32 bytes).  Test use only.
pub fn encapsulate_deterministic(public: &[u8], m: &[u8], ct_out: &mut [u8], ss_out: &mut [u8]) -> Result<()> {
    check_public(public)?;
    if m.len() != 32 {
        return invalid(format!("m must be 32 bytes, got {}", m.len()));
    }
    type Ek = <MlKem768 as KemCore>::EncapsulationKey;
    let enc = ml_kem::Encoded::<Ek>::try_from(public).map_err(internal("ML-KEM public key length"))?;
    let ek = Ek::from_bytes(&enc);
    let mut mm = B32::default();
    mm.copy_from_slice(m);
    let (ct, ss) = ek.encapsulate_deterministic(&mm).map_err(internal("ML-KEM encapsulation failed"))?;
    if ct_out.len() != CIPHERTEXT_LEN || ss_out.len() != SECRET_LEN {
        return Err(Error::Internal("ML-KEM output length"));
    }
    ct_out.copy_from_slice(ct.as_slice());
    ss_out.copy_from_slice(ss.as_slice());
    Ok(())
}

/// ml-kem's own decapsulation, for cross-checking aws-lc in tests.
#[cfg(test)]
fn decapsulate_rustcrypto(seed: &[u8], ct: &[u8]) -> Vec<u8> {
    use ml_kem::kem::Decapsulate as _;
    let mut d = B32::default();
    let mut z = B32::default();
    d.copy_from_slice(&seed[..32]);
    z.copy_from_slice(&seed[32..]);
    let (dk, _) = MlKem768::generate_deterministic(&d, &z);
    let c = ml_kem::Ciphertext::<MlKem768>::try_from(ct).unwrap();
    dk.decapsulate(&c).unwrap().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hex;

    #[test]
    fn seeded_keygen_matches_openssl() {
        // seed = 00 01 .. 3f; SHA-256 of the public key as computed by
        // pyca/cryptography 50 (OpenSSL) MLKEM768PrivateKey.from_seed_bytes.
        let seed: Vec<u8> = (0u8..64).collect();
        let k = MlKem768Key::from_seed(&seed).unwrap();
        let public = k.public_bytes().to_vec();
        assert_eq!(public[..16].to_vec(), hex("298aa10d423c8dda069d02bc59e6cdf0"));
        let digest = ring::digest::digest(&ring::digest::SHA256, &public);
        assert_eq!(
            digest.as_ref().to_vec(),
            hex("0b7934c83125c788995e2ba6bd761e33046b3e40571be53e023309a29f398cc9")
        );
    }

    #[test]
    fn aws_lc_and_rustcrypto_agree() {
        let seed: Vec<u8> = (100u8..164).collect();
        let k = MlKem768Key::from_seed(&seed).unwrap();
        let mut public = k.public_bytes().to_vec();
        let (mut ct, mut ss, mut ss2) = (vec![0u8; CIPHERTEXT_LEN], [0u8; 32], [0u8; 32]);
        encapsulate_deterministic(&public, &[7u8; 32], &mut ct, &mut ss).unwrap();
        k.decapsulate(&ct, &mut ss2).unwrap();
        assert_eq!(ss, ss2);
        encapsulate(&public, &mut ct, &mut ss).unwrap();
        k.decapsulate(&ct, &mut ss2).unwrap();
        assert_eq!(ss, ss2);
        assert_eq!(decapsulate_rustcrypto(&seed, &ct), ss2.to_vec());
        // Implicit rejection: a modified ciphertext gives a different secret, no error,
        // and both implementations agree on it.
        ct[0] ^= 1;
        k.decapsulate(&ct, &mut ss2).unwrap();
        assert_ne!(ss, ss2);
        assert_eq!(decapsulate_rustcrypto(&seed, &ct), ss2.to_vec());
        let g = MlKem768Key::generate().unwrap();
        public = g.public_bytes().to_vec();
        encapsulate(&public, &mut ct, &mut ss).unwrap();
        g.decapsulate(&ct, &mut ss2).unwrap();
        assert_eq!(ss, ss2);
    }

    #[test]
    fn modulus_check_and_lengths() {
        let k = MlKem768Key::from_seed(&[3u8; 64]).unwrap();
        let public = k.public_bytes().to_vec();
        assert!(check_public(&public).is_ok());
        let (mut ct, mut ss) = (vec![0u8; CIPHERTEXT_LEN], [0u8; 32]);
        // Coefficient 0 = 0xfff >= q.
        let mut bad = public.clone();
        bad[0] = 0xff;
        bad[1] |= 0x0f;
        assert_eq!(encapsulate(&bad, &mut ct, &mut ss), Err(Error::IllegalParameter(MODULUS)));
        // Coefficient 1 = exactly q (0xd01): low nibble in byte 1's top half, rest in byte 2.
        let mut bad = public.clone();
        bad[1] = (bad[1] & 0x0f) | 0x10;
        bad[2] = 0xd0;
        assert_eq!(check_public(&bad), Err(Error::IllegalParameter(MODULUS)));
        // q - 1 is fine.
        let mut ok = public.clone();
        ok[1] &= 0x0f;
        ok[2] = 0xd0;
        assert!(check_public(&ok).is_ok());
        assert!(matches!(check_public(&public[..1183]), Err(Error::Invalid(_))));
        assert!(matches!(k.decapsulate(&ct[..1087], &mut ss), Err(Error::Invalid(_))));
        assert!(matches!(MlKem768Key::from_seed(&[0u8; 63]), Err(Error::Invalid(_))));
    }
}
