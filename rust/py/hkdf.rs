//! HKDF functions (RFC 5869, RFC 8446 section 7.1) for "sha256" and "sha384".

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::buf::ByteBuf;
use crate::core::hkdf::{self, Hash};
use crate::core::Error;

/// HKDF-Extract; an empty salt means HashLen zero bytes.
#[pyfunction]
pub fn hkdf_extract<'py>(py: Python<'py>, hash_name: &str, salt: ByteBuf<'_>, ikm: ByteBuf<'_>) -> PyResult<Bound<'py, PyBytes>> {
    let h = Hash::from_name(hash_name)?;
    PyBytes::new_with(py, h.len(), |out| Ok(hkdf::extract(h, salt.as_slice(), ikm.as_slice(), out)?))
}

/// HKDF-Expand; ValueError unless 0 <= length <= 255 * HashLen.
#[pyfunction]
pub fn hkdf_expand<'py>(
    py: Python<'py>,
    hash_name: &str,
    prk: ByteBuf<'_>,
    info: ByteBuf<'_>,
    length: i64,
) -> PyResult<Bound<'py, PyBytes>> {
    let h = Hash::from_name(hash_name)?;
    let length = usize::try_from(length)
        .ok()
        .filter(|&l| l <= h.max_expand())
        .ok_or_else(|| Error::Invalid(format!("length {length} not in 0..{}", h.max_expand())))?;
    PyBytes::new_with(py, length, |out| Ok(hkdf::expand(h, prk.as_slice(), &[info.as_slice()], out)?))
}

/// HKDF-Expand-Label; `label` without the "tls13 " prefix.
#[pyfunction]
pub fn hkdf_expand_label<'py>(
    py: Python<'py>,
    hash_name: &str,
    secret: ByteBuf<'_>,
    label: ByteBuf<'_>,
    context: ByteBuf<'_>,
    length: i64,
) -> PyResult<Bound<'py, PyBytes>> {
    let h = Hash::from_name(hash_name)?;
    let (l, c) = (label.as_slice(), context.as_slice());
    let length = hkdf::check_label(h, l, c, length)?;
    PyBytes::new_with(py, length, |out| Ok(hkdf::expand_label(h, secret.as_slice(), l, c, out)?))
}

/// Derive-Secret(secret, label, transcript_hash) = HKDF-Expand-Label(..., HashLen).
#[pyfunction]
pub fn derive_secret<'py>(
    py: Python<'py>,
    hash_name: &str,
    secret: ByteBuf<'_>,
    label: ByteBuf<'_>,
    transcript_hash: ByteBuf<'_>,
) -> PyResult<Bound<'py, PyBytes>> {
    let h = Hash::from_name(hash_name)?;
    let (l, c) = (label.as_slice(), transcript_hash.as_slice());
    hkdf::check_label(h, l, c, h.len() as i64)?;
    PyBytes::new_with(py, h.len(), |out| Ok(hkdf::expand_label(h, secret.as_slice(), l, c, out)?))
}
