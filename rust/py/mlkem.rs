//! ML-KEM-768: `MlKem768PrivateKey` (generate, from_seed, public_bytes,
//! decapsulate) and `mlkem768_encapsulate`; plus the test-only
//! `mlkem768_encapsulate_deterministic` (not part of the backend interface).

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::buf::ByteBuf;
use crate::core::mlkem::{self, MlKem768Key, CIPHERTEXT_LEN, SECRET_LEN};

#[pyclass(frozen, module = "ferrotls._native")]
pub struct MlKem768PrivateKey {
    key: MlKem768Key,
}

#[pymethods]
impl MlKem768PrivateKey {
    #[staticmethod]
    fn generate(py: Python<'_>) -> PyResult<Self> {
        Ok(Self { key: py.detach(MlKem768Key::generate)? })
    }

    /// The key pair of the 64-byte seed d || z (FIPS 203 ML-KEM.KeyGen_internal).
    #[staticmethod]
    fn from_seed(py: Python<'_>, seed: ByteBuf<'_>) -> PyResult<Self> {
        let s = seed.as_slice();
        Ok(Self { key: py.detach(|| MlKem768Key::from_seed(s))? })
    }

    fn public_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.key.public_bytes())
    }

    /// The 32-byte shared secret (implicit rejection); ValueError unless 1088 bytes.
    fn decapsulate<'py>(&self, py: Python<'py>, ciphertext: ByteBuf<'_>) -> PyResult<Bound<'py, PyBytes>> {
        let c = ciphertext.as_slice();
        PyBytes::new_with(py, SECRET_LEN, |out| Ok(py.detach(|| self.key.decapsulate(c, out))?))
    }

    fn __repr__(&self) -> &'static str {
        "<ferrotls._native.MlKem768PrivateKey>"
    }
}

type Pair<'py> = (Bound<'py, PyBytes>, Bound<'py, PyBytes>);

fn encaps_with<'py>(
    py: Python<'py>,
    f: impl FnOnce(&mut [u8], &mut [u8]) -> crate::core::Result<()> + Send,
) -> PyResult<Pair<'py>> {
    let mut ct = [0u8; CIPHERTEXT_LEN];
    let mut ss = zeroize::Zeroizing::new([0u8; SECRET_LEN]);
    py.detach(|| f(&mut ct, &mut ss[..]))?;
    Ok((PyBytes::new(py, &ct), PyBytes::new(py, &ss[..])))
}

/// Encapsulate to a 1184-byte key: (ciphertext, shared secret).
#[pyfunction]
pub fn mlkem768_encapsulate<'py>(py: Python<'py>, public: ByteBuf<'_>) -> PyResult<Pair<'py>> {
    let p = public.as_slice();
    encaps_with(py, |ct, ss| mlkem::encapsulate(p, ct, ss))
}

/// Deterministic encapsulation with the 32-byte message `m`.  For test vectors only.
#[pyfunction]
pub fn mlkem768_encapsulate_deterministic<'py>(
    py: Python<'py>,
    public: ByteBuf<'_>,
    m: ByteBuf<'_>,
) -> PyResult<Pair<'py>> {
    let (p, m) = (public.as_slice(), m.as_slice());
    encaps_with(py, |ct, ss| mlkem::encapsulate_deterministic(p, m, ct, ss))
}
