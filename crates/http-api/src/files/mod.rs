//! Files the server writes: CSV (reports, exports) and PDF (reports).

pub mod csv;
pub mod pdf;
