//! Knowledge documents: upload (type judged by content), list, download, delete.

use super::{CallcenterService, not_found};
use crate::document::{Document, classify};
use crate::error::Result;
use management_core::{Permission, Principal};

impl CallcenterService {
    /// Stores an upload after checking its name and content (see [`classify`]), with its
    /// text read for the assistant.
    pub async fn upload_document(&self, by: &Principal, name: &str, data: Vec<u8>) -> Result<Document> {
        by.require(Permission::CallcenterWrite)?;
        let mut document = classify(name, data)?;
        if document.text.is_none() {
            document.text = self.ports.extractor.text(&document.content_type, document.data.clone()).await?;
        }
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
    use crate::CallcenterError;
    use crate::ports::MockDocumentRepository;
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
}
