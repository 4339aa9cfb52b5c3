//! Knowledge documents: upload (type judged by content), list, download, delete.

use super::{CallcenterService, not_found};
use crate::document::{Document, classify};
use crate::error::{CallcenterError, Result};
use management_core::{Permission, Principal};

impl CallcenterService {
    /// Stores an upload after checking its name and content (see [`classify`]), with its
    /// text read for the assistant; a document no text can be read from (a damaged or
    /// scanned PDF, say) is refused, since the assistant could not answer from it.
    pub async fn upload_document(&self, by: &Principal, name: &str, data: Vec<u8>) -> Result<Document> {
        by.require(Permission::CallcenterWrite)?;
        let mut document = classify(name, data)?;
        if document.text.is_none() {
            let text = self.ports.extractor.text(&document.content_type, document.data.clone()).await?;
            document.text = text.filter(|t| !t.trim().is_empty());
            if document.text.is_none() {
                return Err(CallcenterError::Unsupported(format!(
                    "No text could be read from '{}': upload a document that holds text.",
                    document.name
                )));
            }
        }
        // Text columns cannot hold NUL characters.
        document.text = document.text.map(|t| t.replace('\0', ""));
        self.ports.documents.insert(document).await
    }

    pub async fn documents(&self, by: &Principal) -> Result<Vec<Document>> {
        by.require(Permission::CallcenterRead)?;
        self.ports.documents.list().await
    }

    /// The document and its bytes.
    pub async fn document(&self, by: &Principal, id: i64) -> Result<(Document, Vec<u8>)> {
        by.require(Permission::CallcenterRead)?;
        self.ports.documents.get(id).await?.ok_or_else(|| not_found("File", id))
    }

    pub async fn delete_document(&self, by: &Principal, id: i64) -> Result<()> {
        by.require(Permission::CallcenterDelete)?;
        if self.ports.documents.delete(id).await? { Ok(()) } else { Err(not_found("File", id)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockDocumentRepository, MockTextExtractor};
    use crate::service::CallcenterPorts;
    use crate::service::tests::{mocks, principal};
    use std::sync::Arc;

    #[tokio::test]
    async fn refused_uploads_are_not_stored() {
        let mut documents = MockDocumentRepository::new();
        documents.expect_insert().never();
        let svc = CallcenterService::new(CallcenterPorts { documents: Arc::new(documents), ..mocks() });
        let operator = principal(&[Permission::CallcenterRead, Permission::CallcenterWrite]);
        let err = svc.upload_document(&operator, "virus.exe", b"MZ".to_vec()).await.unwrap_err();
        assert!(matches!(err, CallcenterError::Unsupported(_)));
        let reader = principal(&[Permission::CallcenterRead]);
        let err = svc.upload_document(&reader, "a.txt", b"hi".to_vec()).await.unwrap_err();
        assert!(matches!(err, CallcenterError::Forbidden(_)));
    }

    #[tokio::test]
    async fn a_pdf_without_readable_text_is_refused() {
        let mut documents = MockDocumentRepository::new();
        documents.expect_insert().never();
        let mut extractor = MockTextExtractor::new();
        extractor.expect_text().returning(|_, _| Ok(None));
        let svc = CallcenterService::new(CallcenterPorts {
            documents: Arc::new(documents),
            extractor: Arc::new(extractor),
            ..mocks()
        });
        let operator = principal(&[Permission::CallcenterWrite]);
        let err = svc.upload_document(&operator, "fake.pdf", b"%PDF-1.7 garbage".to_vec()).await.unwrap_err();
        assert!(matches!(err, CallcenterError::Unsupported(_)), "{err:?}");
    }
}
