//! `CredentialService` over `store::credentials`: the only way password
//! hashes leave the service.

use super::{
    Done, Tenanted,
    convert::{object_in, object_out, tenant},
};
use crate::{
    proto::{self, credential_service_server::CredentialService},
    store::StoreError,
};

super::service!(CredentialApi, credentials: crate::store::credentials::Credentials<'_>);

super::serves!(CredentialApi: CredentialService {
    get(GetCredentialRequest) -> GetCredentialResponse;
    store(StoreCredentialRequest) -> StoreCredentialResponse;
    delete(DeleteCredentialRequest) -> DeleteCredentialResponse;
    update_subject(UpdateSubjectRequest) -> UpdateSubjectResponse;
});

impl CredentialApi {
    async fn get(&self, req: proto::GetCredentialRequest) -> Done<proto::GetCredentialResponse> {
        let tenant = req.tenant()?;
        let c = self.db().get(tenant, &req.subject).await?;
        Ok(proto::GetCredentialResponse {
            credential: c.map(|c| {
                let (credential_attributes, credential_attributes_json) = object_out(c.attributes);
                proto::Credential {
                    account_id: c.account_id,
                    user_name: c.user_name,
                    password_hash: c.password_hash,
                    credential_attributes,
                    credential_attributes_json,
                }
            }),
        })
    }

    async fn store(
        &self,
        req: proto::StoreCredentialRequest,
    ) -> Done<proto::StoreCredentialResponse> {
        let tenant = tenant(&req.tenant)?;
        let attrs = object_in(
            "credential_attributes_json",
            &req.credential_attributes_json,
            req.credential_attributes,
        )?;
        let stored = self
            .db()
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
    }

    async fn delete(
        &self,
        req: proto::DeleteCredentialRequest,
    ) -> Done<proto::DeleteCredentialResponse> {
        let tenant = req.tenant()?;
        let deleted = self.db().delete(tenant, &req.subject).await?;
        Ok(proto::DeleteCredentialResponse { deleted })
    }

    async fn update_subject(
        &self,
        req: proto::UpdateSubjectRequest,
    ) -> Done<proto::UpdateSubjectResponse> {
        let tenant = req.tenant()?;
        let updated = self
            .db()
            .update_subject(tenant, &req.subject, &req.new_subject)
            .await?;
        Ok(proto::UpdateSubjectResponse { updated })
    }
}
