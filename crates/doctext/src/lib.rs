//! The text of uploaded pdf and docx documents, for the assistant to answer from
//! ([`TextExtractor`] port). Extraction runs on the blocking pool; a document whose text
//! cannot be read (a scan, a damaged file) is kept without text.

use async_trait::async_trait;
use callcenter_core::Result;
use callcenter_core::document::{DOCX_TYPE, PDF_TYPE};
use callcenter_core::ports::TextExtractor;
use std::io::{Cursor, Read};

/// Most characters kept from one document.
const MAX_TEXT: usize = 2_000_000;

/// [`TextExtractor`] over `pdf-extract` and the docx XML.
#[derive(Debug, Clone, Copy, Default)]
pub struct DocumentText;

/// The paragraphs of a docx: the text runs (`<w:t>`) of `word/document.xml`, one line per
/// paragraph (`</w:p>`), tabs and breaks as spaces.
pub fn docx_text(data: &[u8]) -> Option<String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).ok()?;
    let mut xml = String::new();
    archive.by_name("word/document.xml").ok()?.take(50_000_000).read_to_string(&mut xml).ok()?;
    let mut text = String::new();
    let mut rest = xml.as_str();
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else { break };
        let tag = &rest[start + 1..start + end];
        let after = &rest[start + end + 1..];
        let name = tag.split([' ', '/']).next().unwrap_or_default();
        match name {
            _ if tag == "/w:p" => text.push_str("\n\n"),
            "w:t" if !tag.ends_with('/') => {
                let close = after.find("</w:t>").unwrap_or(after.len());
                text.push_str(&unescape(&after[..close]));
                rest = &after[close..];
                continue;
            }
            "w:tab" | "w:br" => text.push(' '),
            _ => {}
        }
        rest = after;
    }
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// The text of a pdf, paragraphs separated by blank lines.
pub fn pdf_text(data: &[u8]) -> Option<String> {
    let text = pdf_extract::extract_text_from_mem(data).ok()?;
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let text = lines.join("\n").split("\n\n\n").collect::<Vec<_>>().join("\n\n");
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

#[async_trait]
impl TextExtractor for DocumentText {
    async fn text(&self, content_type: &str, data: Vec<u8>) -> Result<Option<String>> {
        let content_type = content_type.to_string();
        let read = tokio::task::spawn_blocking(move || match content_type.as_str() {
            PDF_TYPE => pdf_text(&data),
            DOCX_TYPE => docx_text(&data),
            _ => None,
        });
        // A panic inside the pdf parser is a document we cannot read, not a failed upload.
        let text = read.await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading a document's text failed");
            None
        });
        Ok(text.map(|t| t.chars().take(MAX_TEXT).collect()))
    }
}

/// Documents to test with (the `fixtures` feature).
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures {
    /// A one-page pdf showing `line` in Helvetica.
    pub fn pdf(line: &str) -> Vec<u8> {
        let stream = format!("BT /F1 12 Tf 72 720 Td ({line}) Tj ET");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
            format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::pdf;
    use super::*;
    use std::io::Write;

    fn docx(body: &str) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("[Content_Types].xml", options).unwrap();
        zip.write_all(b"<Types/>").unwrap();
        zip.start_file("word/document.xml", options).unwrap();
        zip.write_all(format!("<w:document><w:body>{body}</w:body></w:document>").as_bytes()).unwrap();
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn docx_paragraphs_become_lines() {
        let data = docx(
            r#"<w:p><w:r><w:t>Yotoqxona narxi:</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">oyiga 300 000 so'm</w:t></w:r></w:p><w:p><w:r><w:t>A &amp; B</w:t></w:r></w:p>"#,
        );
        assert_eq!(docx_text(&data).as_deref(), Some("Yotoqxona narxi: oyiga 300 000 so'm\n\nA & B"));
        assert_eq!(docx_text(b"PK\x03\x04 broken"), None);
        assert_eq!(docx_text(&docx("<w:p/>")), None, "no text");
    }

    #[test]
    fn pdf_text_is_read() {
        let text = pdf_text(&pdf("Grant arizasi 1-avgustgacha qabul qilinadi")).expect("text");
        assert!(text.contains("Grant arizasi 1-avgustgacha qabul qilinadi"), "{text:?}");
        assert_eq!(pdf_text(b"%PDF-1.7 broken"), None);
    }

    #[tokio::test]
    async fn the_port_picks_the_reader_by_type() {
        let text = DocumentText.text(DOCX_TYPE, docx("<w:p><w:r><w:t>Salom</w:t></w:r></w:p>")).await.unwrap();
        assert_eq!(text.as_deref(), Some("Salom"));
        assert_eq!(DocumentText.text("text/plain", b"x".to_vec()).await.unwrap(), None);
    }
}
