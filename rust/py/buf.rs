//! Byte inputs and outputs through the buffer protocol.
//!
//! `ByteBuf` borrows any C-contiguous buffer (bytes take a fast path without
//! `PyObject_GetBuffer`); `ByteBufMut` borrows a writable one.  The buffer is held
//! for the whole call, so the memory stays valid; but a caller who mutates a
//! buffer from another thread while a call runs with the GIL released gets
//! garbage output (the same caveat as cryptography's `buf.rs` and blake3-py).
//! Callers cannot make Rust read freed memory, only inconsistent bytes.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

pub enum ByteBuf<'py> {
    Bytes(Bound<'py, PyBytes>),
    Buffer(PyBuffer<u8>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for ByteBuf<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = obj.to_owned().cast_into::<PyBytes>() {
            return Ok(Self::Bytes(b));
        }
        let buf = PyBuffer::<u8>::get(&obj)
            .map_err(|_| PyTypeError::new_err(format!("expected a bytes-like object, got {}", type_name(&obj))))?;
        if !buf.is_c_contiguous() {
            return Err(PyValueError::new_err("buffer must be C-contiguous"));
        }
        Ok(Self::Buffer(buf))
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

impl ByteBuf<'_> {
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Self::Bytes(b) => b.as_bytes(),
            Self::Buffer(buf) => {
                let len = buf.len_bytes();
                if len == 0 {
                    return &[];
                }
                // SAFETY: `buf` is a C-contiguous buffer of `len` u8 items (checked in
                // `extract`), and the PyBuffer keeps the exporter's memory alive and
                // in place until it is dropped, which outlives the returned borrow.
                unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, len) }
            }
        }
    }
}

/// A writable, C-contiguous output buffer.
pub struct ByteBufMut(PyBuffer<u8>);

impl<'a, 'py> FromPyObject<'a, 'py> for ByteBufMut {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let buf = PyBuffer::<u8>::get(&obj).map_err(|_| {
            PyTypeError::new_err(format!("out must be a writable bytes-like object, got {}", type_name(&obj)))
        })?;
        if buf.readonly() {
            return Err(PyTypeError::new_err("out must be a writable buffer (e.g. bytearray), got a read-only one"));
        }
        if !buf.is_c_contiguous() {
            return Err(PyValueError::new_err("out must be C-contiguous"));
        }
        Ok(Self(buf))
    }
}

impl ByteBufMut {
    /// The writable bytes.  Takes `&mut self` so one `ByteBufMut` yields one live
    /// mutable slice at a time.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let len = self.0.len_bytes();
        if len == 0 {
            return &mut [];
        }
        // SAFETY: the buffer is writable and C-contiguous with `len` u8 items
        // (checked in `extract`); the PyBuffer pins the memory until drop; `&mut
        // self` prevents a second Rust borrow, and `check_disjoint` rejects input
        // buffers that alias it before both slices are used together.
        unsafe { std::slice::from_raw_parts_mut(self.0.buf_ptr() as *mut u8, len) }
    }

    fn range(&self) -> (usize, usize) {
        let start = self.0.buf_ptr() as usize;
        (start, start + self.0.len_bytes())
    }

    /// ValueError if `input` overlaps this buffer (Rust may not alias &mut and &).
    pub fn check_disjoint(&self, input: &ByteBuf<'_>, what: &str) -> PyResult<()> {
        let s = input.as_slice();
        if s.is_empty() || self.0.len_bytes() == 0 {
            return Ok(());
        }
        let (a0, a1) = self.range();
        let b0 = s.as_ptr() as usize;
        let b1 = b0 + s.len();
        if a0 < b1 && b0 < a1 {
            return Err(PyValueError::new_err(format!("out must not overlap {what}")));
        }
        Ok(())
    }
}
