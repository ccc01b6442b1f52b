//! `RecordProtector` (TLS 1.3) and `Tls12RecordProtector` (TLS 1.2 AEAD): one
//! direction of record protection each.  Both are frozen and share every method
//! (one macro, over `core::record::RecordKey` with its `Format`); the sequence
//! number lives in atomics inside the key, so sharing one object between threads
//! never raises "already borrowed" nor reuses a nonce.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyList, PyTuple};

use super::buf::{ByteBuf, ByteBufMut};
use super::maybe_detach;
use crate::core::aead::Algorithm;
use crate::core::record::{tls12_suite, Format, RecordKey, Stop, MAX_PLAINTEXT};
use crate::core::{Error, Result};

const MAX_PLAINTEXT_I64: i64 = MAX_PLAINTEXT as i64;

/// One direction of TLS 1.3 record protection (RFC 8446 section 5).
#[pyclass(frozen, module = "ferrotls._native")]
pub struct RecordProtector {
    key: RecordKey,
    suite: u16,
}

/// One direction of TLS 1.2 AEAD record protection (RFC 5246 section 6.2.3.3).
#[pyclass(frozen, module = "ferrotls._native")]
pub struct Tls12RecordProtector {
    key: RecordKey,
    suite: u16,
}

fn tls13_suite(suite: i64) -> Result<(Algorithm, Format)> {
    Ok((Algorithm::from_suite(suite)?, Format::Tls13))
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

/// The key of a new protector: `lookup` maps the suite to its AEAD and format.
fn new_key(
    lookup: fn(i64) -> Result<(Algorithm, Format)>,
    suite: i64,
    key: ByteBuf<'_>,
    iv: ByteBuf<'_>,
    sequence: Option<&Bound<'_, PyAny>>,
    data_limit: Option<&Bound<'_, PyAny>>,
) -> PyResult<(RecordKey, u16)> {
    let (alg, format) = lookup(suite)?;
    let seq = match sequence {
        Some(s) => sequence_arg(s)?,
        None => 0,
    };
    let mut key = RecordKey::with_format(alg, format, key.as_slice(), iv.as_slice(), seq)?;
    if let Some(limit) = data_limit {
        if !limit.is_instance_of::<PyInt>() {
            return Err(PyTypeError::new_err("data_limit must be an int"));
        }
        let limit = limit
            .extract::<u128>()
            .map_err(|_| PyValueError::new_err("data_limit must be in 0..2**64"))?;
        key = key.with_data_limit(limit)?;
    }
    // lookup accepted it, so it is a 16-bit code point
    Ok((key, suite as u16))
}

fn max_plaintext_arg(max_plaintext: i64) -> PyResult<usize> {
    if !(1..=MAX_PLAINTEXT_I64).contains(&max_plaintext) {
        return Err(PyValueError::new_err(format!("max_plaintext must be in 1..{MAX_PLAINTEXT}, got {max_plaintext}")));
    }
    Ok(max_plaintext as usize)
}

/// The Python-visible methods, the same for both classes (see interface.py).
macro_rules! record_protector_methods {
    ($cls:ident, $lookup:path) => {
        #[pymethods]
        impl $cls {
            #[new]
            #[pyo3(signature = (suite, key, iv, sequence = None, data_limit = None))]
            fn new(
                suite: i64,
                key: ByteBuf<'_>,
                iv: ByteBuf<'_>,
                sequence: Option<&Bound<'_, PyAny>>,
                data_limit: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Self> {
                let (key, suite) = new_key($lookup, suite, key, iv, sequence, data_limit)?;
                Ok(Self { key, suite })
            }

            /// Application-data records may use sequence numbers below this (2**64: no limit).
            #[getter]
            fn data_limit(&self) -> u128 {
                self.key.data_limit()
            }

            #[getter]
            fn suite(&self) -> u16 {
                self.suite
            }

            /// The sequence number the next record will use.
            #[getter]
            fn sequence(&self) -> u128 {
                self.key.sequence()
            }

            #[pyo3(signature = (length, padding = 0, max_fragment = 16384))]
            fn sealed_size(&self, length: i64, padding: i64, max_fragment: i64) -> PyResult<usize> {
                let params = self.key.seal_params(23, padding, max_fragment)?;
                let length =
                    usize::try_from(length).map_err(|_| Error::Invalid(format!("length must be >= 0, got {length}")))?;
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
                let params = self.key.seal_params(content_type, padding, max_fragment)?;
                let d = data.as_slice();
                let size = self.key.sealed_size(&params, d.len())?;
                PyBytes::new_with(py, size, |out| {
                    maybe_detach(py, self.key.algorithm().cost_ns(d.len()), || self.key.seal_records(&params, d, out))?;
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
                let params = self.key.seal_params(content_type, padding, max_fragment)?;
                out.check_disjoint(&data, "data")?;
                let d = data.as_slice();
                let dst = out.as_mut_slice();
                Ok(maybe_detach(py, self.key.algorithm().cost_ns(d.len()), || self.key.seal_records(&params, d, dst))?)
            }

            /// Open the complete records at the start of `data`: `(items, consumed)`.
            #[pyo3(signature = (data, max_plaintext = 16384))]
            fn open_records<'py>(
                &self,
                py: Python<'py>,
                data: ByteBuf<'_>,
                max_plaintext: i64,
            ) -> PyResult<(Bound<'py, PyList>, usize)> {
                let max_plaintext = max_plaintext_arg(max_plaintext)?;
                let d = data.as_slice();
                let mut scratch = Vec::new();
                let opened = maybe_detach(py, self.key.algorithm().cost_ns(d.len()), || {
                    scratch.reserve(d.len());
                    self.key.open_records(d, max_plaintext, &mut scratch)
                });
                if opened.items.is_empty() {
                    if let Some(e) = opened.error {
                        return Err(e.into());
                    }
                }
                let list = PyList::empty(py);
                for &(content_type, start, end) in &opened.items {
                    let item = PyTuple::new(
                        py,
                        [content_type.into_pyobject(py)?.into_any(), PyBytes::new(py, &scratch[start..end]).into_any()],
                    )?;
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
                let max_plaintext = max_plaintext_arg(max_plaintext)?;
                out.check_disjoint(&data, "data")?;
                let d = data.as_slice();
                let dst = out.as_mut_slice();
                let (consumed, written, stop) = maybe_detach(py, self.key.algorithm().cost_ns(d.len()), || {
                    self.key.open_records_into(d, max_plaintext, dst)
                })?;
                Ok((consumed, written, stop as u8))
            }

            /// The established receive path in one call: open every complete
            /// application-data record at the start of `data` straight into a new `bytes`
            /// object sized for them (no scratch buffer, no copy, GIL released for large
            /// inputs): `(plaintext or None, consumed, stop)`; see interface.py.
            ///
            /// `head`, when given and not empty, is the start of one incomplete record
            /// received earlier: the input is then `head ++ data`, only that record is
            /// assembled, and `consumed` counts bytes of `data` (> 0 means `head` was
            /// used too).
            #[pyo3(signature = (data, max_plaintext = 16384, head = None))]
            fn open_application_data<'py>(
                &self,
                py: Python<'py>,
                data: ByteBuf<'_>,
                max_plaintext: i64,
                head: Option<ByteBuf<'_>>,
            ) -> PyResult<(Option<Bound<'py, PyBytes>>, usize, u8)> {
                let max_plaintext = max_plaintext_arg(max_plaintext)?;
                let h = head.as_ref().map_or(&[][..], |h| h.as_slice());
                open_application_data(py, &self.key, data.as_slice(), h, max_plaintext)
            }

            fn __repr__(&self) -> String {
                format!(
                    "<ferrotls._native.{} {} sequence={}>",
                    stringify!($cls),
                    self.key.algorithm().name(),
                    self.key.sequence()
                )
            }
        }
    };
}

record_protector_methods!(RecordProtector, tls13_suite);
record_protector_methods!(Tls12RecordProtector, tls12_suite);

/// The body of `open_application_data` (`h` empty: no head).
fn open_application_data<'py>(
    py: Python<'py>,
    key: &RecordKey,
    d: &[u8],
    h: &[u8],
    max_plaintext: usize,
) -> PyResult<(Option<Bound<'py, PyBytes>>, usize, u8)> {
    let open = |out: &mut [u8]| {
        if h.is_empty() {
            key.open_records_into(d, max_plaintext, out)
        } else {
            key.open_records_into_after(h, d, max_plaintext, out)
        }
    };
    let room = if h.is_empty() { key.application_data_room(d) } else { key.application_data_room_after(h, d) };
    if room == 0 {
        // Nothing to write (no complete record, or only records with empty
        // bodies): the opener still gives the stop code and raises the first
        // record's error.
        let (consumed, _, stop) = open(&mut [])?;
        return Ok((None, consumed, stop as u8));
    }
    let mut result = (0, 0, Stop::End);
    let work = key.algorithm().cost_ns(h.len() + d.len());
    let plain = PyBytes::new_with(py, room, |out| {
        result = maybe_detach(py, work, || open(out))?;
        Ok(())
    })?;
    let (consumed, written, stop) = result;
    if written == 0 {
        return Ok((None, consumed, stop as u8));
    }
    Ok((Some(fit_bytes(py, plain, written)), consumed, stop as u8))
}

/// `bytes[:len]` for a `bytes` object this module just created (`0 < len <=` its size).
///
/// The content of a record is its body less the content type and padding, so the
/// room allocated before decryption is a little larger than what it held: one
/// byte per record without padding.  When the excess is small the object is
/// shortened in place, as CPython's own `_PyBytes_Resize` does for a fresh object
/// (which the limited API does not offer): `ob_size` is lowered and the
/// terminating NUL that `bytes` keeps after its data is rewritten.  A large
/// excess (heavy padding) is copied into a right-sized object instead, so no
/// connection holds memory for padding it did not keep.
fn fit_bytes<'py>(py: Python<'py>, bytes: Bound<'py, PyBytes>, len: usize) -> Bound<'py, PyBytes> {
    let size = bytes.as_bytes().len();
    debug_assert!(len > 0 && len <= size);
    if len >= size {
        return bytes;
    }
    let excess = size - len;
    if excess > 4096 && excess > size / 8 {
        return PyBytes::new(py, &bytes.as_bytes()[..len]);
    }
    // SAFETY: `bytes` was created by `PyBytes::new_with` in this call and has not
    // been handed to Python code: we hold its only reference, so nobody has read
    // its length or hash.  `PyBytes_AsString` points at `size + 1` writable bytes
    // (data and NUL); index `len` < `size` is in range.  `PyVarObject` is part of
    // the stable ABI, and `ob_size` of a bytes object is its length.
    unsafe {
        let ptr = bytes.as_ptr();
        debug_assert_eq!(pyo3::ffi::Py_REFCNT(ptr), 1);
        *pyo3::ffi::PyBytes_AsString(ptr).add(len) = 0;
        (*ptr.cast::<pyo3::ffi::PyVarObject>()).ob_size = len as pyo3::ffi::Py_ssize_t;
    }
    bytes
}
