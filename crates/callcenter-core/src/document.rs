//! Knowledge documents: files operators upload for the assistant to answer from.
//! Their type is judged by content, and the name must agree with it.

use crate::error::{CallcenterError, Result};
use chrono::{DateTime, Utc};

/// A stored document, without its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: i64,
    pub name: String,
    pub content_type: String,
    pub bytes: i64,
    pub created_at: DateTime<Utc>,
}

/// A document about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDocument {
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
    /// The readable text, for the assistant (text formats here; pdf and docx through the
    /// `TextExtractor` port).
    pub text: Option<String>,
}

/// The stored content type of pdf documents.
pub const PDF_TYPE: &str = "application/pdf";
/// The stored content type of docx documents.
pub const DOCX_TYPE: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// What the bytes of an upload are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Pdf,
    Docx,
    Text,
    Other,
}

fn strip_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data)
}

fn sniff(data: &[u8]) -> Content {
    if data.starts_with(b"%PDF-") {
        return Content::Pdf;
    }
    if data.starts_with(b"PK\x03\x04") {
        // A docx is a zip holding word/document.xml; zip entry names are stored uncompressed.
        let has = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
        return if has(b"[Content_Types].xml") && has(b"word/") { Content::Docx } else { Content::Other };
    }
    match std::str::from_utf8(strip_bom(data)) {
        Ok(text) if !text.contains('\0') => Content::Text,
        _ => Content::Other,
    }
}

/// The accepted extensions, for messages.
pub const ACCEPTED: &str = "txt, md, pdf, docx, csv, json";

/// Largest file name kept.
const MAX_NAME: usize = 255;

/// Checks an upload: a non-empty name with an accepted extension, content of that type
/// (`Unsupported` otherwise), and returns what to store.
pub fn classify(name: &str, data: Vec<u8>) -> Result<NewDocument> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() {
        return Err(CallcenterError::field("file", "The file needs a name."));
    }
    if name.chars().count() > MAX_NAME {
        return Err(CallcenterError::field("file", format!("The file name must be at most {MAX_NAME} characters.")));
    }
    if data.is_empty() {
        return Err(CallcenterError::field("file", "The file is empty."));
    }
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let content = sniff(&data);
    let content_type = match (extension.as_str(), content) {
        ("pdf", Content::Pdf) => PDF_TYPE,
        ("docx", Content::Docx) => DOCX_TYPE,
        ("txt", Content::Text) => "text/plain; charset=utf-8",
        ("md", Content::Text) => "text/markdown; charset=utf-8",
        ("csv", Content::Text) => "text/csv; charset=utf-8",
        ("json", Content::Text) => "application/json",
        ("pdf" | "docx" | "txt" | "md" | "csv" | "json", _) => {
            return Err(CallcenterError::Unsupported(format!("The content of '{name}' is not a .{extension} file.")));
        }
        _ => {
            return Err(CallcenterError::Unsupported(format!(
                "'{name}' is not an accepted type; accepted: {ACCEPTED}."
            )));
        }
    };
    if extension == "json" && serde_json::from_slice::<serde_json::Value>(strip_bom(&data)).is_err() {
        return Err(CallcenterError::Unsupported(format!("'{name}' is not valid JSON.")));
    }
    let text = (content == Content::Text).then(|| String::from_utf8_lossy(strip_bom(&data)).into_owned());
    Ok(NewDocument { name: name.to_string(), content_type: content_type.to_string(), data, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsupported(name: &str, data: &[u8]) -> bool {
        matches!(classify(name, data.to_vec()), Err(CallcenterError::Unsupported(_)))
    }

    #[test]
    fn types_are_judged_by_content() {
        let doc = classify("dir/Narxlar.md", "# Narxlar\nOylik: 100 000".as_bytes().to_vec()).unwrap();
        assert_eq!((doc.name.as_str(), doc.content_type.as_str()), ("Narxlar.md", "text/markdown; charset=utf-8"));
        assert_eq!(doc.text.as_deref(), Some("# Narxlar\nOylik: 100 000"));
        assert_eq!(classify("a.pdf", b"%PDF-1.7 ...".to_vec()).unwrap().content_type, "application/pdf");
        assert!(classify("a.pdf", b"%PDF-1.7".to_vec()).unwrap().text.is_none());
        assert!(unsupported("a.pdf", b"just text"), "a text file named .pdf");
        assert!(unsupported("a.txt", b"\x7fELF\x02\x01\x01\0\0\0"), "a binary named .txt");
        assert!(unsupported("a.exe", b"MZ\x90\0"));
        assert!(unsupported("a.json", b"{\"a\": [1, 2}"));
        assert!(classify("a.json", b"{\"a\": [1, \"]\"]}".to_vec()).is_ok());
        assert!(unsupported("a.docx", b"PK\x03\x04 not a word file"));
        assert!(classify("a.docx", b"PK\x03\x04....[Content_Types].xml....word/document.xml".to_vec()).is_ok());
    }

    #[test]
    fn names_and_emptiness_are_checked() {
        assert!(matches!(classify("", b"x".to_vec()), Err(CallcenterError::Validation { .. })));
        assert!(matches!(classify("a.txt", vec![]), Err(CallcenterError::Validation { .. })));
    }
}
