//! `DelegationService` over `store::delegations`.

use super::{Done, Tenanted, convert::tenant};

use crate::{
    proto::{self, delegation_service_server::DelegationService},
    store::{
        StoreError,
        delegations::{Delegation, DelegationList, OffsetPage, SetStatusOutcome, SortBy},
    },
};

super::service!(DelegationApi, delegations: crate::store::delegations::Delegations<'_>);

/// A proto delegation and a stored one share these fields, by name; `$extra`
/// are the ones that differ (the JSON texts).
macro_rules! delegation_fields {
    ($($a:tt)*) => {
        super::convert::same_fields!([
            id status owner created expires client_id redirect_uri authorization_code_hash
            scope mtls_client_certificate mtls_client_certificate_x5t_s256
            mtls_client_certificate_dn
        ] $($a)*)
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

super::serves!(DelegationApi: DelegationService {
    create(CreateDelegationRequest) -> CreateDelegationResponse;
    get_by_id(GetDelegationByIdRequest) -> GetDelegationByIdResponse;
    get_by_authorization_code_hash(GetDelegationByAuthorizationCodeHashRequest) -> GetDelegationByAuthorizationCodeHashResponse;
    set_status(SetDelegationStatusRequest) -> SetDelegationStatusResponse;
    get_by_owner(GetDelegationsByOwnerRequest) -> GetDelegationsByOwnerResponse;
    count_by_owner(CountDelegationsByOwnerRequest) -> CountDelegationsByOwnerResponse;
    list_active(ListActiveDelegationsRequest) -> ListActiveDelegationsResponse;
    count_active(CountActiveDelegationsRequest) -> CountActiveDelegationsResponse;
    list(ListDelegationsRequest) -> ListDelegationsResponse;
    set_status_by_owner(SetDelegationStatusByOwnerRequest) -> SetDelegationStatusByOwnerResponse;
    set_status_by_owner_and_client(SetDelegationStatusByOwnerAndClientRequest) -> SetDelegationStatusByOwnerResponse;
});

impl DelegationApi {
    async fn create(
        &self,
        req: proto::CreateDelegationRequest,
    ) -> Done<proto::CreateDelegationResponse> {
        let tenant = tenant(&req.tenant)?;
        self.db()
            .create(tenant, delegation_from(req.delegation)?)
            .await?;
        Ok(proto::CreateDelegationResponse {})
    }

    async fn get_by_id(
        &self,
        req: proto::GetDelegationByIdRequest,
    ) -> Done<proto::GetDelegationByIdResponse> {
        let tenant = req.tenant()?;
        let d = self.db().get_issued(tenant, &req.id).await?;
        Ok(proto::GetDelegationByIdResponse {
            delegation: d.map(delegation_to),
        })
    }

    async fn get_by_authorization_code_hash(
        &self,
        req: proto::GetDelegationByAuthorizationCodeHashRequest,
    ) -> Done<proto::GetDelegationByAuthorizationCodeHashResponse> {
        let tenant = req.tenant()?;
        let d = self
            .db()
            .get_by_authorization_code_hash(tenant, &req.authorization_code_hash)
            .await?;
        Ok(proto::GetDelegationByAuthorizationCodeHashResponse {
            delegation: d.map(delegation_to),
        })
    }

    async fn set_status(
        &self,
        req: proto::SetDelegationStatusRequest,
    ) -> Done<proto::SetDelegationStatusResponse> {
        let tenant = req.tenant()?;
        let updated = self.db().set_status(tenant, &req.id, &req.status).await?;
        Ok(proto::SetDelegationStatusResponse { updated })
    }

    async fn get_by_owner(
        &self,
        req: proto::GetDelegationsByOwnerRequest,
    ) -> Done<proto::GetDelegationsByOwnerResponse> {
        let tenant = req.tenant()?;
        let list = self
            .db()
            .by_owner(tenant, &req.owner, page(req.page))
            .await?;
        Ok(proto::GetDelegationsByOwnerResponse {
            list: list_to(list),
        })
    }

    async fn count_by_owner(
        &self,
        req: proto::CountDelegationsByOwnerRequest,
    ) -> Done<proto::CountDelegationsByOwnerResponse> {
        let tenant = req.tenant()?;
        let count = self.db().count_by_owner(tenant, &req.owner).await?;
        Ok(proto::CountDelegationsByOwnerResponse {
            count: count_to(count),
        })
    }

    async fn list_active(
        &self,
        req: proto::ListActiveDelegationsRequest,
    ) -> Done<proto::ListActiveDelegationsResponse> {
        let tenant = req.tenant()?;
        let list = self.db().active(tenant, page(req.page)).await?;
        Ok(proto::ListActiveDelegationsResponse {
            list: list_to(list),
        })
    }

    async fn count_active(
        &self,
        req: proto::CountActiveDelegationsRequest,
    ) -> Done<proto::CountActiveDelegationsResponse> {
        let tenant = req.tenant()?;
        let count = self.db().count_active(tenant).await?;
        Ok(proto::CountActiveDelegationsResponse {
            count: count_to(count),
        })
    }

    async fn list(
        &self,
        req: proto::ListDelegationsRequest,
    ) -> Done<proto::ListDelegationsResponse> {
        let tenant = req.tenant()?;
        let sort = SortBy::parse(&req.sort_by, req.descending)?;
        let list = self
            .db()
            .list(tenant, &req.filter, sort, page(req.page))
            .await?;
        Ok(proto::ListDelegationsResponse {
            list: list_to(list),
        })
    }

    async fn set_status_by_owner(
        &self,
        req: proto::SetDelegationStatusByOwnerRequest,
    ) -> Done<proto::SetDelegationStatusByOwnerResponse> {
        let tenant = req.tenant()?;
        let outcome = self
            .db()
            .set_status_by_owner(tenant, &req.owner, None, &req.status)
            .await?;
        Ok(bulk_to(outcome))
    }

    async fn set_status_by_owner_and_client(
        &self,
        req: proto::SetDelegationStatusByOwnerAndClientRequest,
    ) -> Done<proto::SetDelegationStatusByOwnerResponse> {
        let tenant = req.tenant()?;
        let outcome = self
            .db()
            .set_status_by_owner(tenant, &req.owner, Some(&req.client_id), &req.status)
            .await?;
        Ok(bulk_to(outcome))
    }
}
