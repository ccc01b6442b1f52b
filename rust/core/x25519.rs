//! X25519 (RFC 7748) via aws-lc-rs: keys from 32 raw bytes or the OS CSPRNG.
//! aws-lc frees (and cleanses) the private key when the `PrivateKey` drops.

use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey, X25519};

use super::{invalid, Error, Result};

pub const KEY_LEN: usize = 32;
const ZERO_SECRET: &str = "X25519 shared secret is all zeros (low-order peer key)";

pub struct X25519Key {
    key: PrivateKey,
}

impl core::fmt::Debug for X25519Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("X25519Key { .. }")
    }
}

impl X25519Key {
    pub fn generate() -> Result<Self> {
        let key = PrivateKey::generate(&X25519).map_err(|_| Error::Internal("X25519 key generation failed"))?;
        Ok(Self { key })
    }

    /// A key from 32 private bytes (clamping happens inside X25519).
    pub fn from_bytes(private: &[u8]) -> Result<Self> {
        if private.len() != KEY_LEN {
            return invalid(format!("X25519 private key must be {KEY_LEN} bytes, got {}", private.len()));
        }
        let key = PrivateKey::from_private_key(&X25519, private)
            .map_err(|_| Error::Internal("X25519 private key rejected"))?;
        Ok(Self { key })
    }

    pub fn public_bytes(&self) -> Result<[u8; KEY_LEN]> {
        let public = self.key.compute_public_key().map_err(|_| Error::Internal("X25519 public key failed"))?;
        public.as_ref().try_into().map_err(|_| Error::Internal("X25519 public key length"))
    }

    /// The shared secret into `out`.  IllegalParameter if it is all zeros
    /// (low-order peer point, RFC 8446 section 7.4.2).
    pub fn exchange(&self, peer: &[u8], out: &mut [u8; KEY_LEN]) -> Result<()> {
        if peer.len() != KEY_LEN {
            return invalid(format!("X25519 peer public key must be {KEY_LEN} bytes, got {}", peer.len()));
        }
        // aws-lc itself refuses an all-zero result, which is the only way agree()
        // fails for a 32-byte input.
        agreement::agree(&self.key, UnparsedPublicKey::new(&X25519, peer), Error::IllegalParameter(ZERO_SECRET), |secret| {
            if secret.len() != KEY_LEN {
                return Err(Error::Internal("X25519 secret length"));
            }
            out.copy_from_slice(secret);
            Ok(())
        })?;
        if out.iter().fold(0u8, |acc, b| acc | b) == 0 {
            return Err(Error::IllegalParameter(ZERO_SECRET));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hex;

    #[test]
    fn rfc7748_5_2_vector_1() {
        let k = X25519Key::from_bytes(&hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")).unwrap();
        let mut out = [0u8; 32];
        k.exchange(&hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"), &mut out).unwrap();
        assert_eq!(out.to_vec(), hex("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"));
    }

    #[test]
    fn rfc7748_6_1() {
        let a = X25519Key::from_bytes(&hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")).unwrap();
        let b = X25519Key::from_bytes(&hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")).unwrap();
        assert_eq!(
            a.public_bytes().unwrap().to_vec(),
            hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        assert_eq!(
            b.public_bytes().unwrap().to_vec(),
            hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        );
        let (mut s1, mut s2) = ([0u8; 32], [0u8; 32]);
        a.exchange(&b.public_bytes().unwrap(), &mut s1).unwrap();
        b.exchange(&a.public_bytes().unwrap(), &mut s2).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(s1.to_vec(), hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"));
    }

    #[test]
    fn low_order_and_lengths() {
        let k = X25519Key::generate().unwrap();
        let mut out = [0u8; 32];
        assert_eq!(k.exchange(&[0u8; 32], &mut out), Err(Error::IllegalParameter(ZERO_SECRET)));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(k.exchange(&one, &mut out), Err(Error::IllegalParameter(ZERO_SECRET)));
        assert!(matches!(k.exchange(&[9u8; 31], &mut out), Err(Error::Invalid(_))));
        assert!(matches!(X25519Key::from_bytes(&[1u8; 33]), Err(Error::Invalid(_))));
    }
}
