//! Reading `multipart/form-data` bodies within a size limit.

use crate::error::{ApiError, ApiResult};
use actix_multipart::{Multipart, MultipartError};
use actix_web::HttpRequest;
use actix_web::http::header::CONTENT_TYPE;
use futures_util::StreamExt;

/// One kept field of a multipart body.
pub struct Field {
    pub name: String,
    /// The file name of a file field.
    pub file_name: Option<String>,
    pub data: Vec<u8>,
}

/// Whether the request body is `multipart/form-data`.
pub fn is_multipart(req: &HttpRequest) -> bool {
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    content_type.to_ascii_lowercase().starts_with("multipart/form-data")
}

/// Reads the fields named in `wanted` (others are read and dropped), refusing with 413 as
/// soon as the body outgrows `limit` bytes.
pub async fn read_fields(mut form: Multipart, limit: usize, wanted: &[&str]) -> ApiResult<Vec<Field>> {
    let malformed = |e: MultipartError| ApiError::validation(format!("Malformed multipart body: {e}"));
    let (mut fields, mut read) = (Vec::new(), 0usize);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_string();
        let keep = wanted.contains(&name.as_str());
        let file_name = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_string);
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            read += chunk.len();
            if read > limit {
                return Err(ApiError::too_large(format!("The upload is larger than the limit of {limit} bytes.")));
            }
            if keep {
                data.extend_from_slice(&chunk);
            }
        }
        if keep && file_name.is_none() && data.contains(&0) {
            return Err(ApiError::field(&name, format!("{name} contains a NUL character, which is not accepted.")));
        }
        if keep {
            fields.push(Field { name, file_name, data });
        }
    }
    Ok(fields)
}

/// A multipart body whose file went to a temporary file (removed when this is dropped).
pub struct Spooled {
    /// The file field's content, if the body had one.
    pub file: Option<tempfile::NamedTempFile>,
    /// The text fields asked for, by name.
    pub texts: Vec<(String, String)>,
}

/// Reads a multipart body, writing the field `file_field` to a temporary file as it arrives
/// (memory stays flat however large the file) and keeping the text fields named in `texts`;
/// refuses with 413 as soon as the body outgrows `limit` bytes.
pub async fn spool(mut form: Multipart, limit: usize, file_field: &str, texts: &[&str]) -> ApiResult<Spooled> {
    use tokio::io::AsyncWriteExt;
    let malformed = |e: MultipartError| ApiError::validation(format!("Malformed multipart body: {e}"));
    let io = |e: std::io::Error| ApiError::internal(format!("spooling an upload: {e}"));
    let mut spooled = Spooled { file: None, texts: Vec::new() };
    let mut read = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_string();
        let mut sink = if name == file_field && spooled.file.is_none() {
            let temp = tempfile::NamedTempFile::new().map_err(io)?;
            let file = tokio::fs::File::from_std(temp.reopen().map_err(io)?);
            spooled.file = Some(temp);
            Some(file)
        } else {
            None
        };
        let keep_text = texts.contains(&name.as_str());
        let mut text = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            read += chunk.len();
            if read > limit {
                return Err(ApiError::too_large(format!("The upload is larger than the limit of {limit} bytes.")));
            }
            if let Some(file) = sink.as_mut() {
                file.write_all(&chunk).await.map_err(io)?;
            } else if keep_text && text.len() < 1024 {
                text.extend_from_slice(&chunk);
            }
        }
        if let Some(mut file) = sink {
            file.flush().await.map_err(io)?;
        }
        if keep_text {
            let value = String::from_utf8(text).map_err(|_| ApiError::field(&name, format!("{name} must be text.")))?;
            spooled.texts.push((name, value));
        }
    }
    Ok(spooled)
}
