//! CSV as spreadsheets read it: RFC 4180 quoting (the `csv` crate), UTF-8, written in chunks
//! so a long file streams, and no formula injection: a text cell that a spreadsheet would run
//! as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed
//! with `'`, which spreadsheets show as text. Imports take that prefix off again.

use crate::error::{ApiError, ApiResult};
use actix_web::HttpResponse;
use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt};

/// Characters a spreadsheet treats as the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell made safe for spreadsheets.
pub fn text_cell(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) { format!("'{text}") } else { text.to_string() }
}

/// A cell read back from a file: the prefix [`text_cell`] adds is taken off.
pub fn read_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// Records written into a buffer that is taken chunk by chunk.
pub struct CsvChunks {
    writer: ::csv::Writer<Vec<u8>>,
}

fn writer() -> ::csv::Writer<Vec<u8>> {
    ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(Vec::new())
}

impl Default for CsvChunks {
    fn default() -> Self {
        CsvChunks { writer: writer() }
    }
}

impl CsvChunks {
    /// Writes one record (cells already made safe where they are text).
    pub fn record<I, S>(&mut self, cells: I) -> ApiResult<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.writer.write_record(cells).map_err(|e| ApiError::internal(format!("CSV: {e}")))
    }

    /// What was written since the last call.
    pub fn take(&mut self) -> ApiResult<Bytes> {
        let full = std::mem::replace(&mut self.writer, writer());
        full.into_inner().map(Bytes::from).map_err(|e| ApiError::internal(format!("CSV: {e}")))
    }
}

/// `text/csv; charset=utf-8` as an attachment named `file_name`, streamed. A failure once the
/// answer has begun can only cut it short: it is logged, and the client sees a broken transfer.
pub fn attachment<S>(file_name: &str, chunks: S) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, ApiError>> + 'static,
{
    let chunks = chunks.map(|chunk| {
        chunk.map_err(|e| {
            tracing::error!(error = %e.message, "CSV stream cut short");
            actix_web::error::ErrorInternalServerError(e.message)
        })
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{file_name}\"")))
        .streaming(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_read_back() {
        for danger in ["=SUM(A1:A9)", "+998901234567", "-1+1", "@cmd", "\tx"] {
            let safe = text_cell(danger);
            assert!(safe.starts_with('\''), "{safe}");
            assert_eq!(read_cell(&safe), danger);
        }
        assert_eq!(text_cell("Toshkent"), "Toshkent");
        assert_eq!(read_cell("'quoted"), "'quoted", "a plain leading quote is the user's");
    }

    #[test]
    fn quoting_follows_rfc_4180() {
        let mut out = CsvChunks::default();
        out.record(["a,b", "say \"hi\"", "two\nlines", "Oʻzbekiston"]).unwrap();
        let text = String::from_utf8(out.take().unwrap().to_vec()).unwrap();
        assert_eq!(text, "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",Oʻzbekiston\r\n");
        assert!(out.take().unwrap().is_empty());
    }
}
