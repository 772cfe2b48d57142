//! `DelegationService` over `store::delegations`.

use tonic::Request;

use super::{Reply, Tenanted, convert::tenant, rpc};

use crate::{
    proto::{self, delegation_service_server::DelegationService},
    store::{
        StoreError,
        delegations::{Delegation, DelegationList, OffsetPage, SetStatusOutcome, SortBy},
    },
};

super::service!(DelegationApi, delegations);

/// A proto delegation and a stored one share these fields, by name; `$extra`
/// are the ones that differ (the JSON texts).
macro_rules! delegation_fields {
    ($from:ident => $($to:ident)::+ { $($extra:tt)* }) => {
        $($to)::+ {
            id: $from.id,
            status: $from.status,
            owner: $from.owner,
            created: $from.created,
            expires: $from.expires,
            client_id: $from.client_id,
            redirect_uri: $from.redirect_uri,
            authorization_code_hash: $from.authorization_code_hash,
            scope: $from.scope,
            mtls_client_certificate: $from.mtls_client_certificate,
            mtls_client_certificate_x5t_s256: $from.mtls_client_certificate_x5t_s256,
            mtls_client_certificate_dn: $from.mtls_client_certificate_dn,
            $($extra)*
        }
    };
}

fn delegation_from(d: Option<proto::Delegation>) -> Result<Delegation, StoreError> {
    let d = d.ok_or_else(|| StoreError::invalid("delegation", "required"))?;
    Ok(delegation_fields!(d => Delegation {
        authentication_attributes: d.authentication_attributes_json,
        consent_result: Some(d.consent_result_json),
        claim_map: d.claim_map_json,
        custom_claim_values: d.custom_claim_values_json,
        claims: d.claims_json,
    }))
}

fn delegation_to(d: Delegation) -> proto::Delegation {
    delegation_fields!(d => proto::Delegation {
        authentication_attributes_json: d.authentication_attributes,
        consent_result_json: d.consent_result.unwrap_or_default(),
        claim_map_json: d.claim_map,
        custom_claim_values_json: d.custom_claim_values,
        claims_json: d.claims,
    })
}

fn page(p: Option<proto::OffsetPage>) -> OffsetPage {
    let p = p.unwrap_or_default();
    OffsetPage::new(p.start_index, p.count)
}

fn list_to(l: DelegationList) -> Option<proto::DelegationList> {
    Some(proto::DelegationList {
        delegations: l.delegations.into_iter().map(delegation_to).collect(),
        total_results: l.total,
        truncated: l.truncated,
    })
}

fn count_to((count, truncated): (u64, bool)) -> Option<proto::DelegationCount> {
    Some(proto::DelegationCount { count, truncated })
}

fn bulk_to(outcome: SetStatusOutcome) -> proto::SetDelegationStatusByOwnerResponse {
    match outcome {
        SetStatusOutcome::Updated(updated) => proto::SetDelegationStatusByOwnerResponse {
            updated,
            too_many: false,
        },
        SetStatusOutcome::TooMany => proto::SetDelegationStatusByOwnerResponse {
            updated: 0,
            too_many: true,
        },
    }
}

#[tonic::async_trait]
impl DelegationService for DelegationApi {
    async fn create(
        &self,
        request: Request<proto::CreateDelegationRequest>,
    ) -> Reply<proto::CreateDelegationResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = tenant(&req.tenant)?;
            self.store
                .delegations()
                .create(tenant, delegation_from(req.delegation)?)
                .await?;
            Ok(proto::CreateDelegationResponse {})
        })
        .await
    }

    async fn get_by_id(
        &self,
        request: Request<proto::GetDelegationByIdRequest>,
    ) -> Reply<proto::GetDelegationByIdResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let d = self.store.delegations().get_issued(tenant, &req.id).await?;
            Ok(proto::GetDelegationByIdResponse {
                delegation: d.map(delegation_to),
            })
        })
        .await
    }

    async fn get_by_authorization_code_hash(
        &self,
        request: Request<proto::GetDelegationByAuthorizationCodeHashRequest>,
    ) -> Reply<proto::GetDelegationByAuthorizationCodeHashResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let d = self
                .store
                .delegations()
                .get_by_authorization_code_hash(tenant, &req.authorization_code_hash)
                .await?;
            Ok(proto::GetDelegationByAuthorizationCodeHashResponse {
                delegation: d.map(delegation_to),
            })
        })
        .await
    }

    async fn set_status(
        &self,
        request: Request<proto::SetDelegationStatusRequest>,
    ) -> Reply<proto::SetDelegationStatusResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let updated = self
                .store
                .delegations()
                .set_status(tenant, &req.id, &req.status)
                .await?;
            Ok(proto::SetDelegationStatusResponse { updated })
        })
        .await
    }

    async fn get_by_owner(
        &self,
        request: Request<proto::GetDelegationsByOwnerRequest>,
    ) -> Reply<proto::GetDelegationsByOwnerResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let list = self
                .store
                .delegations()
                .by_owner(tenant, &req.owner, page(req.page))
                .await?;
            Ok(proto::GetDelegationsByOwnerResponse {
                list: list_to(list),
            })
        })
        .await
    }

    async fn count_by_owner(
        &self,
        request: Request<proto::CountDelegationsByOwnerRequest>,
    ) -> Reply<proto::CountDelegationsByOwnerResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let count = self
                .store
                .delegations()
                .count_by_owner(tenant, &req.owner)
                .await?;
            Ok(proto::CountDelegationsByOwnerResponse {
                count: count_to(count),
            })
        })
        .await
    }

    async fn list_active(
        &self,
        request: Request<proto::ListActiveDelegationsRequest>,
    ) -> Reply<proto::ListActiveDelegationsResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let list = self
                .store
                .delegations()
                .active(tenant, page(req.page))
                .await?;
            Ok(proto::ListActiveDelegationsResponse {
                list: list_to(list),
            })
        })
        .await
    }

    async fn count_active(
        &self,
        request: Request<proto::CountActiveDelegationsRequest>,
    ) -> Reply<proto::CountActiveDelegationsResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let count = self.store.delegations().count_active(tenant).await?;
            Ok(proto::CountActiveDelegationsResponse {
                count: count_to(count),
            })
        })
        .await
    }

    async fn list(
        &self,
        request: Request<proto::ListDelegationsRequest>,
    ) -> Reply<proto::ListDelegationsResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let sort = SortBy::parse(&req.sort_by, req.descending)?;
            let list = self
                .store
                .delegations()
                .list(tenant, &req.filter, sort, page(req.page))
                .await?;
            Ok(proto::ListDelegationsResponse {
                list: list_to(list),
            })
        })
        .await
    }

    async fn set_status_by_owner(
        &self,
        request: Request<proto::SetDelegationStatusByOwnerRequest>,
    ) -> Reply<proto::SetDelegationStatusByOwnerResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let outcome = self
                .store
                .delegations()
                .set_status_by_owner(tenant, &req.owner, None, &req.status)
                .await?;
            Ok(bulk_to(outcome))
        })
        .await
    }

    async fn set_status_by_owner_and_client(
        &self,
        request: Request<proto::SetDelegationStatusByOwnerAndClientRequest>,
    ) -> Reply<proto::SetDelegationStatusByOwnerResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let outcome = self
                .store
                .delegations()
                .set_status_by_owner(tenant, &req.owner, Some(&req.client_id), &req.status)
                .await?;
            Ok(bulk_to(outcome))
        })
        .await
    }
}
