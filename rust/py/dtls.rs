//! `Dtls13RecordProtector` and `Dtls12RecordProtector`: one epoch and one
//! direction of DTLS record protection each (see `core::dtls`).  Both are frozen
//! and share every method but the constructor (one macro); the sending sequence
//! number is atomic and the replay window sits behind a mutex inside the key.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyList, PyTuple};

use super::buf::ByteBuf;
use super::maybe_detach;
use crate::core::aead::Algorithm;
use crate::core::dtls::{DtlsKey, SEQ_LIMIT};
use crate::core::record::MAX_PLAINTEXT;

/// One epoch and direction of DTLS 1.3 record protection (RFC 9147 section 4).
#[pyclass(frozen, module = "ferrotls._native")]
pub struct Dtls13RecordProtector {
    key: DtlsKey,
    suite: u16,
}

/// One epoch and direction of DTLS 1.2 AEAD record protection (RFC 6347, RFC 9146).
#[pyclass(frozen, module = "ferrotls._native")]
pub struct Dtls12RecordProtector {
    key: DtlsKey,
    suite: u16,
}

fn int_arg(value: Option<&Bound<'_, PyAny>>, what: &str, end: u128) -> PyResult<Option<u128>> {
    let Some(v) = value else { return Ok(None) };
    if !v.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!("{what} must be an int")));
    }
    match v.extract::<u128>() {
        Ok(x) if x < end => Ok(Some(x)),
        _ => Err(PyValueError::new_err(format!("{what} must be in 0..{}", end - 1))),
    }
}

/// Sequence, data limit and connection ID, shared by both constructors.
fn common_args(
    sequence: Option<&Bound<'_, PyAny>>,
    connection_id: Option<ByteBuf<'_>>,
) -> PyResult<(u64, Vec<u8>)> {
    let seq = int_arg(sequence, "sequence", u128::from(SEQ_LIMIT))?.unwrap_or(0) as u64;
    let cid = connection_id.as_ref().map_or_else(Vec::new, |c| c.as_slice().to_vec());
    Ok((seq, cid))
}

fn with_limit(key: DtlsKey, data_limit: Option<&Bound<'_, PyAny>>) -> PyResult<DtlsKey> {
    match int_arg(data_limit, "data_limit", (1u128 << 64) + 1)? {
        Some(limit) => Ok(key.with_data_limit(limit)?),
        None => Ok(key),
    }
}

fn max_plaintext_arg(max_plaintext: i64) -> PyResult<usize> {
    if !(1..=MAX_PLAINTEXT as i64).contains(&max_plaintext) {
        return Err(PyValueError::new_err(format!("max_plaintext must be in 1..{MAX_PLAINTEXT}, got {max_plaintext}")));
    }
    Ok(max_plaintext as usize)
}

/// The Python-visible methods, the same for both classes (see interface.py).
macro_rules! dtls_protector_methods {
    ($cls:ident, $($ctor:tt)*) => {
        #[pymethods]
        impl $cls {
            $($ctor)*

            #[getter]
            fn suite(&self) -> u16 {
                self.suite
            }

            #[getter]
            fn epoch(&self) -> u64 {
                self.key.epoch()
            }

            /// The sequence number the next sealed record will use.
            #[getter]
            fn sequence(&self) -> u128 {
                self.key.sequence()
            }

            /// Application-data records may use sequence numbers below this (2**64: no limit).
            #[getter]
            fn data_limit(&self) -> u128 {
                self.key.data_limit()
            }

            /// The connection ID written into sealed records or expected in opened ones.
            #[getter]
            fn connection_id<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
                PyBytes::new(py, self.key.connection_id())
            }

            /// One more than the highest sequence number opened (0: none yet).
            #[getter]
            fn next_expected(&self) -> u64 {
                self.key.next_expected()
            }

            #[pyo3(signature = (length, padding = 0, length_field = true, sequence_bits = 16))]
            fn sealed_size(&self, length: i64, padding: i64, length_field: bool, sequence_bits: i64) -> PyResult<usize> {
                let p = self.key.seal_params(23, padding, length_field, sequence_bits)?;
                let length =
                    usize::try_from(length).map_err(|_| PyValueError::new_err(format!("length must be >= 0, got {length}")))?;
                Ok(self.key.sealed_size(&p, length)?)
            }

            /// Protect `data` as one record (header included).
            #[pyo3(signature = (content_type, data, padding = 0, length_field = true, sequence_bits = 16))]
            fn seal_record<'py>(
                &self,
                py: Python<'py>,
                content_type: i64,
                data: ByteBuf<'_>,
                padding: i64,
                length_field: bool,
                sequence_bits: i64,
            ) -> PyResult<Bound<'py, PyBytes>> {
                let p = self.key.seal_params(content_type, padding, length_field, sequence_bits)?;
                let d = data.as_slice();
                let size = self.key.sealed_size(&p, d.len())?;
                PyBytes::new_with(py, size, |out| {
                    maybe_detach(py, self.key.algorithm().cost_ns(d.len()), || self.key.seal_record(&p, d, out))?;
                    Ok(())
                })
            }

            /// Open the records of this epoch at the start of the datagram `data`:
            /// `(items, consumed, (invalid, unauthentic, replayed))` (see interface.py).
            #[pyo3(signature = (data, max_plaintext = 16384))]
            fn open_datagram<'py>(
                &self,
                py: Python<'py>,
                data: ByteBuf<'_>,
                max_plaintext: i64,
            ) -> PyResult<(Bound<'py, PyList>, usize, (u32, u32, u32))> {
                let max_plaintext = max_plaintext_arg(max_plaintext)?;
                let d = data.as_slice();
                let mut scratch = Vec::new();
                let opened = maybe_detach(py, self.key.algorithm().cost_ns(d.len()), || {
                    scratch.reserve(d.len());
                    self.key.open_datagram(d, max_plaintext, &mut scratch)
                });
                let list = PyList::empty(py);
                let epoch = self.key.epoch();
                for item in &opened.items {
                    let t = PyTuple::new(
                        py,
                        [
                            epoch.into_pyobject(py)?.into_any(),
                            item.seq.into_pyobject(py)?.into_any(),
                            item.content_type.into_pyobject(py)?.into_any(),
                            PyBytes::new(py, &scratch[item.start..item.end]).into_any(),
                        ],
                    )?;
                    list.append(t)?;
                }
                let d = opened.dropped;
                Ok((list, opened.consumed, (d.invalid, d.unauthentic, d.replayed)))
            }

            /// The first two bytes of the record number mask for a 16-byte ciphertext
            /// sample (DTLS 1.3; ValueError for DTLS 1.2).
            fn record_number_mask<'py>(&self, py: Python<'py>, sample: ByteBuf<'_>) -> PyResult<Bound<'py, PyBytes>> {
                Ok(PyBytes::new(py, &self.key.record_number_mask(sample.as_slice())?))
            }

            fn __repr__(&self) -> String {
                format!(
                    "<ferrotls._native.{} {} epoch={} sequence={}>",
                    stringify!($cls),
                    self.key.algorithm().name(),
                    self.key.epoch(),
                    self.key.sequence()
                )
            }
        }
    };
}

dtls_protector_methods!(
    Dtls13RecordProtector,
    #[new]
    #[pyo3(signature = (suite, key, iv, sn_key, epoch, sequence = None, data_limit = None, connection_id = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        suite: i64,
        key: ByteBuf<'_>,
        iv: ByteBuf<'_>,
        sn_key: ByteBuf<'_>,
        epoch: &Bound<'_, PyAny>,
        sequence: Option<&Bound<'_, PyAny>>,
        data_limit: Option<&Bound<'_, PyAny>>,
        connection_id: Option<ByteBuf<'_>>,
    ) -> PyResult<Self> {
        let alg = Algorithm::from_suite(suite)?;
        let epoch = int_arg(Some(epoch), "epoch", 1u128 << 64)?.unwrap_or(0) as u64;
        let (seq, cid) = common_args(sequence, connection_id)?;
        let k = DtlsKey::dtls13(alg, key.as_slice(), iv.as_slice(), sn_key.as_slice(), epoch, seq, &cid)?;
        Ok(Self { key: with_limit(k, data_limit)?, suite: alg.suite() })
    }
);

dtls_protector_methods!(
    Dtls12RecordProtector,
    #[new]
    #[pyo3(signature = (suite, key, iv, epoch, sequence = None, data_limit = None, connection_id = None))]
    fn new(
        suite: i64,
        key: ByteBuf<'_>,
        iv: ByteBuf<'_>,
        epoch: &Bound<'_, PyAny>,
        sequence: Option<&Bound<'_, PyAny>>,
        data_limit: Option<&Bound<'_, PyAny>>,
        connection_id: Option<ByteBuf<'_>>,
    ) -> PyResult<Self> {
        let epoch = int_arg(Some(epoch), "epoch", 1 << 16)?.unwrap_or(0) as u64;
        let (seq, cid) = common_args(sequence, connection_id)?;
        let k = DtlsKey::dtls12(suite, key.as_slice(), iv.as_slice(), epoch, seq, &cid)?;
        // dtls12 accepted it, so it is a 16-bit code point
        Ok(Self { key: with_limit(k, data_limit)?, suite: suite as u16 })
    }
);
