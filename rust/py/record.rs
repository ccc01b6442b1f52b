//! `RecordProtector`: one direction of TLS 1.3 record protection.  Frozen; the
//! sequence number lives in atomics inside `core::record::RecordKey`, so sharing
//! one object between threads never raises "already borrowed" nor reuses a nonce.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyList, PyTuple};

use super::buf::{ByteBuf, ByteBufMut};
use super::maybe_detach;
use crate::core::aead::Algorithm;
use crate::core::record::{RecordKey, SealParams, MAX_PLAINTEXT};
use crate::core::Error;

const MAX_PLAINTEXT_I64: i64 = MAX_PLAINTEXT as i64;

#[pyclass(frozen, module = "ferrotls._native")]
pub struct RecordProtector {
    key: RecordKey,
}

fn sequence_arg(sequence: &Bound<'_, PyAny>) -> PyResult<u128> {
    if !sequence.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err("sequence must be an int"));
    }
    match sequence.extract::<u128>() {
        Ok(v) if v < 1u128 << 64 => Ok(v),
        _ => Err(PyValueError::new_err("sequence must be in 0..2**64 - 1")),
    }
}

#[pymethods]
impl RecordProtector {
    #[new]
    #[pyo3(signature = (suite, key, iv, sequence = None))]
    fn new(suite: i64, key: ByteBuf<'_>, iv: ByteBuf<'_>, sequence: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let seq = match sequence {
            Some(s) => sequence_arg(s)?,
            None => 0,
        };
        Ok(Self { key: RecordKey::new(Algorithm::from_suite(suite)?, key.as_slice(), iv.as_slice(), seq)? })
    }

    #[getter]
    fn suite(&self) -> u16 {
        self.key.algorithm().suite()
    }

    /// The sequence number the next record will use.
    #[getter]
    fn sequence(&self) -> u128 {
        self.key.sequence()
    }

    #[pyo3(signature = (length, padding = 0, max_fragment = 16384))]
    fn sealed_size(&self, length: i64, padding: i64, max_fragment: i64) -> PyResult<usize> {
        let params = SealParams::new(23, padding, max_fragment)?;
        let length = usize::try_from(length).map_err(|_| Error::Invalid(format!("length must be >= 0, got {length}")))?;
        Ok(self.key.sealed_size(&params, length)?)
    }

    /// Protect `data` as one or more complete TLSCiphertext records.
    #[pyo3(signature = (content_type, data, padding = 0, max_fragment = 16384))]
    fn seal_record<'py>(
        &self,
        py: Python<'py>,
        content_type: i64,
        data: ByteBuf<'_>,
        padding: i64,
        max_fragment: i64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let params = SealParams::new(content_type, padding, max_fragment)?;
        let d = data.as_slice();
        let size = self.key.sealed_size(&params, d.len())?;
        PyBytes::new_with(py, size, |out| {
            maybe_detach(py, d.len(), || self.key.seal_records(&params, d, out))?;
            Ok(())
        })
    }

    /// As `seal_record`, writing into the writable buffer `out`; returns the bytes written.
    #[pyo3(signature = (out, content_type, data, padding = 0, max_fragment = 16384))]
    fn seal_record_into(
        &self,
        py: Python<'_>,
        mut out: ByteBufMut,
        content_type: i64,
        data: ByteBuf<'_>,
        padding: i64,
        max_fragment: i64,
    ) -> PyResult<usize> {
        let params = SealParams::new(content_type, padding, max_fragment)?;
        out.check_disjoint(&data, "data")?;
        let d = data.as_slice();
        let dst = out.as_mut_slice();
        Ok(maybe_detach(py, d.len(), || self.key.seal_records(&params, d, dst))?)
    }

    /// Open the complete records at the start of `data`: `(items, consumed)`.
    #[pyo3(signature = (data, max_plaintext = 16384))]
    fn open_records<'py>(
        &self,
        py: Python<'py>,
        data: ByteBuf<'_>,
        max_plaintext: i64,
    ) -> PyResult<(Bound<'py, PyList>, usize)> {
        if !(1..=MAX_PLAINTEXT_I64).contains(&max_plaintext) {
            return Err(PyValueError::new_err(format!("max_plaintext must be in 1..{MAX_PLAINTEXT}, got {max_plaintext}")));
        }
        let d = data.as_slice();
        let mut scratch = Vec::new();
        let opened = maybe_detach(py, d.len(), || {
            scratch.reserve(d.len());
            self.key.open_records(d, max_plaintext as usize, &mut scratch)
        });
        if opened.items.is_empty() {
            if let Some(e) = opened.error {
                return Err(e.into());
            }
        }
        let list = PyList::empty(py);
        for &(content_type, start, end) in &opened.items {
            let item = PyTuple::new(py, [content_type.into_pyobject(py)?.into_any(), PyBytes::new(py, &scratch[start..end]).into_any()])?;
            list.append(item)?;
        }
        Ok((list, opened.consumed))
    }

    /// Open the application-data records at the start of `data` straight into
    /// the writable buffer `out`: `(consumed, written, stop)` (see interface.py).
    #[pyo3(signature = (data, out, max_plaintext = 16384))]
    fn open_records_into(
        &self,
        py: Python<'_>,
        data: ByteBuf<'_>,
        mut out: ByteBufMut,
        max_plaintext: i64,
    ) -> PyResult<(usize, usize, u8)> {
        if !(1..=MAX_PLAINTEXT_I64).contains(&max_plaintext) {
            return Err(PyValueError::new_err(format!("max_plaintext must be in 1..{MAX_PLAINTEXT}, got {max_plaintext}")));
        }
        out.check_disjoint(&data, "data")?;
        let d = data.as_slice();
        let dst = out.as_mut_slice();
        let (consumed, written, stop) =
            maybe_detach(py, d.len(), || self.key.open_records_into(d, max_plaintext as usize, dst))?;
        Ok((consumed, written, stop as u8))
    }

    fn __repr__(&self) -> String {
        format!("<ferrotls._native.RecordProtector {} sequence={}>", self.key.algorithm().name(), self.key.sequence())
    }
}
