//! `CredentialService` over `store::credentials`: the only way password
//! hashes leave the service.

use tonic::Request;

use super::{
    Reply, Tenanted,
    convert::{object_in, object_out, tenant},
    rpc,
};
use crate::{
    proto::{self, credential_service_server::CredentialService},
    store::StoreError,
};

super::service!(CredentialApi, accounts);

#[tonic::async_trait]
impl CredentialService for CredentialApi {
    async fn get(
        &self,
        request: Request<proto::GetCredentialRequest>,
    ) -> Reply<proto::GetCredentialResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let c = self.store.credentials().get(tenant, &req.subject).await?;
            Ok(proto::GetCredentialResponse {
                credential: c.map(|c| {
                    let (credential_attributes, credential_attributes_json) =
                        object_out(c.attributes);
                    proto::Credential {
                        account_id: c.account_id,
                        user_name: c.user_name,
                        password_hash: c.password_hash,
                        credential_attributes,
                        credential_attributes_json,
                    }
                }),
            })
        })
        .await
    }

    async fn store(
        &self,
        request: Request<proto::StoreCredentialRequest>,
    ) -> Reply<proto::StoreCredentialResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = tenant(&req.tenant)?;
            let attrs = object_in(
                "credential_attributes_json",
                &req.credential_attributes_json,
                req.credential_attributes,
            )?;
            let stored = self
                .store
                .credentials()
                .store(
                    tenant,
                    &req.subject,
                    req.password_hash.as_deref(),
                    attrs.as_ref(),
                )
                .await?;
            if !stored {
                return Err(StoreError::NotFound { what: "account" });
            }
            Ok(proto::StoreCredentialResponse {})
        })
        .await
    }

    async fn delete(
        &self,
        request: Request<proto::DeleteCredentialRequest>,
    ) -> Reply<proto::DeleteCredentialResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let deleted = self
                .store
                .credentials()
                .delete(tenant, &req.subject)
                .await?;
            Ok(proto::DeleteCredentialResponse { deleted })
        })
        .await
    }

    async fn update_subject(
        &self,
        request: Request<proto::UpdateSubjectRequest>,
    ) -> Reply<proto::UpdateSubjectResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let updated = self
                .store
                .credentials()
                .update_subject(tenant, &req.subject, &req.new_subject)
                .await?;
            Ok(proto::UpdateSubjectResponse { updated })
        })
        .await
    }
}
