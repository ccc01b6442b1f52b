//! The TLS 1.2 PRF (RFC 5246 section 5) over SHA-256 and SHA-384 (ring HMAC):
//!
//! ```text
//! PRF(secret, label, seed) = P_<hash>(secret, label || seed)
//! P_hash(secret, seed) = HMAC(secret, A(1) || seed) || HMAC(secret, A(2) || seed) || ...
//! A(0) = seed, A(i) = HMAC(secret, A(i-1))
//! ```

use ring::hmac;
use zeroize::Zeroizing;

use super::hkdf::Hash;
use super::{invalid, Result};

/// Longest output [`prf`] produces (a caller bound, not one of the PRF: a key
/// block is at most 2 * (32 + 12) bytes, and an exporter's length is a u16).
pub const MAX_PRF_LEN: usize = 65535;

/// Check a requested PRF output length.
pub fn check_len(length: i64) -> Result<usize> {
    match usize::try_from(length) {
        Ok(n) if n <= MAX_PRF_LEN => Ok(n),
        _ => invalid(format!("PRF length must be in 0..{MAX_PRF_LEN}, got {length}")),
    }
}

/// `out` = PRF(secret, label, seed) truncated to `out.len()` (at most [`MAX_PRF_LEN`]).
/// `label` and `seed` are hashed as they are, without being joined in a buffer.
pub fn prf(h: Hash, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) -> Result<()> {
    check_len(out.len() as i64)?;
    let key = hmac::Key::new(h.hmac(), secret);
    let n = h.len();
    // A(i), kept in a wiped buffer: it is as secret as the output.
    let mut a = Zeroizing::new([0u8; 48]);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(label);
    ctx.update(seed);
    a[..n].copy_from_slice(ctx.sign().as_ref());
    let mut blocks = out.chunks_mut(n).peekable();
    while let Some(block) = blocks.next() {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(&a[..n]);
        ctx.update(label);
        ctx.update(seed);
        let t = ctx.sign();
        block.copy_from_slice(&t.as_ref()[..block.len()]);
        if blocks.peek().is_some() {
            let next = hmac::sign(&key, &a[..n]);
            a[..n].copy_from_slice(next.as_ref());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hex;

    // The TLS 1.2 PRF test vectors posted to the IETF TLS list,
    // https://www.ietf.org/mail-archive/web/tls/current/msg03416.html (also in
    // GnuTLS's tests and many other stacks); rechecked in tests/test_tls12_prf.py
    // with `openssl kdf TLS1-PRF`.  See tests/vectors/README.md.
    const SECRET_256: &str = "9bbe436ba940f017b17652849a71db35";
    const SEED_256: &str = "a0ba9f936cda311827a6f796ffd5198c";
    const OUT_256: &str = "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af
        0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66";
    const SECRET_384: &str = "b80b733d6ceefcdc71566ea48e5567df";
    const SEED_384: &str = "cd665cf6a8447dd6ff8b27555edb7465";
    const OUT_384: &str = "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0
        e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd
        4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f";

    fn run(h: Hash, secret: &str, seed: &str, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        prf(h, &hex(secret), b"test label", &hex(seed), &mut out).unwrap();
        out
    }

    #[test]
    fn published_vectors() {
        assert_eq!(run(Hash::Sha256, SECRET_256, SEED_256, 100), hex(OUT_256));
        assert_eq!(run(Hash::Sha384, SECRET_384, SEED_384, 148), hex(OUT_384));
    }

    #[test]
    fn prefixes_and_lengths() {
        // Any length is a prefix of a longer output (block boundaries included).
        let long = run(Hash::Sha256, SECRET_256, SEED_256, 100);
        for n in [0, 1, 31, 32, 33, 64, 99] {
            assert_eq!(run(Hash::Sha256, SECRET_256, SEED_256, n), long[..n]);
        }
        let long = run(Hash::Sha384, SECRET_384, SEED_384, 148);
        for n in [47, 48, 49, 96, 97] {
            assert_eq!(run(Hash::Sha384, SECRET_384, SEED_384, n), long[..n]);
        }
        // label || seed is what is hashed: moving bytes between them changes nothing.
        let mut a = [0u8; 40];
        let mut b = [0u8; 40];
        prf(Hash::Sha256, b"k", b"ab", b"cd", &mut a).unwrap();
        prf(Hash::Sha256, b"k", b"a", b"bcd", &mut b).unwrap();
        assert_eq!(a, b);
        assert!(check_len(-1).is_err());
        assert!(check_len(MAX_PRF_LEN as i64 + 1).is_err());
        assert_eq!(check_len(MAX_PRF_LEN as i64), Ok(MAX_PRF_LEN));
        assert!(prf(Hash::Sha256, b"k", b"", b"", &mut vec![0u8; MAX_PRF_LEN + 1]).is_err());
    }
}
