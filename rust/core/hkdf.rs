//! HKDF-Extract/Expand (RFC 5869) and HKDF-Expand-Label / Derive-Secret
//! (RFC 8446 section 7.1) over SHA-256 and SHA-384 (ring).

use ring::{hkdf, hmac};

use super::{invalid, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "sha256" => Ok(Self::Sha256),
            "sha384" => Ok(Self::Sha384),
            other => invalid(format!("unsupported hash {other:?}: expected 'sha256' or 'sha384'")),
        }
    }

    #[allow(clippy::len_without_is_empty)]
    pub fn len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
        }
    }

    pub(crate) fn hmac(self) -> hmac::Algorithm {
        match self {
            Self::Sha256 => hmac::HMAC_SHA256,
            Self::Sha384 => hmac::HMAC_SHA384,
        }
    }

    fn hkdf(self) -> hkdf::Algorithm {
        match self {
            Self::Sha256 => hkdf::HKDF_SHA256,
            Self::Sha384 => hkdf::HKDF_SHA384,
        }
    }

    /// Largest HKDF-Expand output.
    pub fn max_expand(self) -> usize {
        255 * self.len()
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// PRK = HMAC-Hash(salt, IKM) into `out` (HashLen bytes).  An empty salt equals
/// HashLen zero bytes, because HMAC pads its key with zeros.
pub fn extract(h: Hash, salt: &[u8], ikm: &[u8], out: &mut [u8]) -> Result<()> {
    if out.len() != h.len() {
        return invalid("extract output must be HashLen bytes");
    }
    let tag = hmac::sign(&hmac::Key::new(h.hmac(), salt), ikm);
    out.copy_from_slice(tag.as_ref());
    Ok(())
}

/// OKM = HKDF-Expand(PRK, info, out.len()), where info is the concatenation of `info`.
pub fn expand(h: Hash, prk: &[u8], info: &[&[u8]], out: &mut [u8]) -> Result<()> {
    if out.len() > h.max_expand() {
        return invalid(format!("HKDF-Expand length {} exceeds 255 * HashLen = {}", out.len(), h.max_expand()));
    }
    if out.is_empty() {
        return Ok(());
    }
    let prk = hkdf::Prk::new_less_safe(h.hkdf(), prk);
    prk.expand(info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .or_else(|_| invalid("HKDF-Expand failed"))
}

/// Check the lengths of HKDF-Expand-Label's arguments.
pub fn check_label(h: Hash, label: &[u8], context: &[u8], length: i64) -> Result<usize> {
    if label.len() + 6 > 255 {
        return invalid(format!("label too long: \"tls13 \" + label is {} bytes, at most 255", label.len() + 6));
    }
    if context.len() > 255 {
        return invalid(format!("context too long: {} bytes, at most 255", context.len()));
    }
    if !(0..=65535).contains(&length) || length as usize > h.max_expand() {
        return invalid(format!("length {length} not in 0..{}", h.max_expand().min(65535)));
    }
    Ok(length as usize)
}

/// HKDF-Expand-Label(secret, label, context, out.len()); `label` without "tls13 ".
pub fn expand_label(h: Hash, secret: &[u8], label: &[u8], context: &[u8], out: &mut [u8]) -> Result<()> {
    check_label(h, label, context, out.len() as i64)?;
    let length = (out.len() as u16).to_be_bytes();
    let label_len = [(label.len() + 6) as u8];
    let context_len = [context.len() as u8];
    expand(h, secret, &[&length, &label_len, b"tls13 ", label, &context_len, context], out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hex;

    #[test]
    fn rfc5869_case_1_and_3() {
        let ikm = [0x0bu8; 22];
        let mut prk = [0u8; 32];
        extract(Hash::Sha256, &hex("000102030405060708090a0b0c"), &ikm, &mut prk).unwrap();
        assert_eq!(prk.to_vec(), hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"));
        let mut okm = [0u8; 42];
        expand(Hash::Sha256, &prk, &[&hex("f0f1f2f3f4f5f6f7f8f9")], &mut okm).unwrap();
        assert_eq!(
            okm.to_vec(),
            hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        );
        extract(Hash::Sha256, b"", &ikm, &mut prk).unwrap();
        assert_eq!(prk.to_vec(), hex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"));
        expand(Hash::Sha256, &prk, &[], &mut okm).unwrap();
        assert_eq!(
            okm.to_vec(),
            hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
        );
    }

    #[test]
    fn rfc8448_early_and_derived_secret() {
        let mut early = [0u8; 32];
        extract(Hash::Sha256, b"", &[0u8; 32], &mut early).unwrap();
        assert_eq!(early.to_vec(), hex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"));
        let empty_hash = hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let mut derived = [0u8; 32];
        expand_label(Hash::Sha256, &early, b"derived", &empty_hash, &mut derived).unwrap();
        assert_eq!(derived.to_vec(), hex("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"));
    }

    #[test]
    fn limits() {
        assert!(Hash::from_name("sha1").is_err());
        let mut big = vec![0u8; 255 * 32 + 1];
        assert!(expand(Hash::Sha256, &[1; 32], &[], &mut big).is_err());
        assert!(expand(Hash::Sha256, &[1; 32], &[], &mut big[..255 * 32]).is_ok());
        assert!(expand(Hash::Sha256, &[1; 32], &[], &mut []).is_ok());
        assert!(check_label(Hash::Sha256, &[b'a'; 249], b"", 32).is_ok());
        assert!(check_label(Hash::Sha256, &[b'a'; 250], b"", 32).is_err());
        assert!(check_label(Hash::Sha256, b"x", &[0; 256], 32).is_err());
        assert!(check_label(Hash::Sha384, b"x", b"", 255 * 48 + 1).is_err());
        assert!(check_label(Hash::Sha384, b"x", b"", -1).is_err());
    }
}
