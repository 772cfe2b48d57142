//! `CredentialService` over `store::credentials`: the only way password
//! hashes leave the service.

use super::{
    Tenanted,
    convert::{object_in, object_out, tenant},
};
use crate::{
    proto::{self, credential_service_server::CredentialService},
    store::StoreError,
};

super::service!(CredentialApi, accounts);

super::rpcs! {
    CredentialService for CredentialApi;

    get(GetCredentialRequest) -> GetCredentialResponse, |api, req| {
        let tenant = req.tenant()?;
        let c = api.store.credentials().get(tenant, &req.subject).await?;
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
    }

    store(StoreCredentialRequest) -> StoreCredentialResponse, |api, req| {
        let tenant = tenant(&req.tenant)?;
        let attrs = object_in(
            "credential_attributes_json",
            &req.credential_attributes_json,
            req.credential_attributes,
        )?;
        let stored = api
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
    }

    delete(DeleteCredentialRequest) -> DeleteCredentialResponse, |api, req| {
        let tenant = req.tenant()?;
        let deleted = api
            .store
            .credentials()
            .delete(tenant, &req.subject)
            .await?;
        Ok(proto::DeleteCredentialResponse { deleted })
    }

    update_subject(UpdateSubjectRequest) -> UpdateSubjectResponse, |api, req| {
        let tenant = req.tenant()?;
        let updated = api
            .store
            .credentials()
            .update_subject(tenant, &req.subject, &req.new_subject)
            .await?;
        Ok(proto::UpdateSubjectResponse { updated })
    }
}
