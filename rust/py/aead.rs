//! `Aead`: a keyed AEAD of one TLS 1.3 cipher suite (seal, open, seal_into, open_into).

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::buf::{ByteBuf, ByteBufMut};
use super::maybe_detach;
use crate::core::aead::{AeadKey, Algorithm, NONCE_LEN};
use crate::core::Error;

#[pyclass(frozen, module = "ferrotls._native")]
pub struct Aead {
    key: AeadKey,
}

fn check_nonce(nonce: &[u8]) -> PyResult<()> {
    if nonce.len() != NONCE_LEN {
        return Err(Error::Invalid(format!("nonce must be {NONCE_LEN} bytes, got {}", nonce.len())).into());
    }
    Ok(())
}

#[pymethods]
impl Aead {
    #[new]
    fn new(suite: i64, key: ByteBuf<'_>) -> PyResult<Self> {
        Ok(Self { key: AeadKey::new(Algorithm::from_suite(suite)?, key.as_slice())? })
    }

    #[getter]
    fn suite(&self) -> u16 {
        self.key.algorithm().suite()
    }

    /// Return ciphertext || tag.
    fn seal<'py>(
        &self,
        py: Python<'py>,
        nonce: ByteBuf<'_>,
        aad: ByteBuf<'_>,
        plaintext: ByteBuf<'_>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (n, a, p) = (nonce.as_slice(), aad.as_slice(), plaintext.as_slice());
        check_nonce(n)?;
        PyBytes::new_with(py, p.len() + self.key.tag_len(), |out| {
            Ok(maybe_detach(py, self.key.algorithm().cost_ns(p.len()), || self.key.seal_to(n, a, p, out))?)
        })
    }

    /// Return the plaintext, or raise BadRecordMac.
    fn open<'py>(
        &self,
        py: Python<'py>,
        nonce: ByteBuf<'_>,
        aad: ByteBuf<'_>,
        ciphertext: ByteBuf<'_>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (n, a, c) = (nonce.as_slice(), aad.as_slice(), ciphertext.as_slice());
        check_nonce(n)?;
        let tag_len = self.key.tag_len();
        if c.len() < tag_len {
            return Err(Error::BadRecordMac.into());
        }
        PyBytes::new_with(py, c.len() - tag_len, |out| {
            Ok(maybe_detach(py, self.key.algorithm().cost_ns(c.len()), || self.key.open_to(n, a, c, out))?)
        })
    }

    /// Write ciphertext || tag into `out`; return the number of bytes written.
    fn seal_into(
        &self,
        py: Python<'_>,
        mut out: ByteBufMut,
        nonce: ByteBuf<'_>,
        aad: ByteBuf<'_>,
        plaintext: ByteBuf<'_>,
    ) -> PyResult<usize> {
        out.check_disjoint(&plaintext, "plaintext")?;
        out.check_disjoint(&aad, "aad")?;
        out.check_disjoint(&nonce, "nonce")?;
        let (n, a, p) = (nonce.as_slice(), aad.as_slice(), plaintext.as_slice());
        check_nonce(n)?;
        let need = p.len() + self.key.tag_len();
        let dst = out.as_mut_slice();
        if dst.len() < need {
            return Err(Error::Invalid(format!("out is too small: need {need} bytes, got {}", dst.len())).into());
        }
        let dst = &mut dst[..need];
        maybe_detach(py, self.key.algorithm().cost_ns(p.len()), || self.key.seal_to(n, a, p, dst))?;
        Ok(need)
    }

    /// Write the plaintext into `out`; return its length, or raise BadRecordMac
    /// (then `out` holds zeros where the plaintext would have been).
    fn open_into(
        &self,
        py: Python<'_>,
        mut out: ByteBufMut,
        nonce: ByteBuf<'_>,
        aad: ByteBuf<'_>,
        ciphertext: ByteBuf<'_>,
    ) -> PyResult<usize> {
        out.check_disjoint(&ciphertext, "ciphertext")?;
        out.check_disjoint(&aad, "aad")?;
        out.check_disjoint(&nonce, "nonce")?;
        let (n, a, c) = (nonce.as_slice(), aad.as_slice(), ciphertext.as_slice());
        check_nonce(n)?;
        let tag_len = self.key.tag_len();
        if c.len() < tag_len {
            return Err(Error::BadRecordMac.into());
        }
        let need = c.len() - tag_len;
        let dst = out.as_mut_slice();
        if dst.len() < need {
            return Err(Error::Invalid(format!("out is too small: need {need} bytes, got {}", dst.len())).into());
        }
        let dst = &mut dst[..need];
        maybe_detach(py, self.key.algorithm().cost_ns(c.len()), || self.key.open_to(n, a, c, dst))?;
        Ok(need)
    }

    fn __repr__(&self) -> String {
        format!("<ferrotls._native.Aead {}>", self.key.algorithm().name())
    }
}
