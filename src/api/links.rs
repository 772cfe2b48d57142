//! `LinkService` and `AttributeService` over `store::links`.

use super::{Tenanted, accounts::account_to_proto};
use crate::proto::{
    self, attribute_service_server::AttributeService, link_service_server::LinkService,
};

super::service!(LinkApi, links);

super::rpcs! {
    LinkService for LinkApi;

    link(LinkRequest) -> LinkResponse, |api, req| {
        let tenant = req.tenant()?;
        api.store
            .links()
            .link(
                tenant,
                &req.linking_account_manager,
                &req.local_account_id,
                &req.foreign_domain,
                &req.foreign_user_name,
            )
            .await?;
        Ok(proto::LinkResponse {})
    }

    list_links(ListLinksRequest) -> ListLinksResponse, |api, req| {
        let tenant = req.tenant()?;
        let links = api
            .store
            .links()
            .list(tenant, &req.linking_account_manager, &req.local_account_id)
            .await?;
        Ok(proto::ListLinksResponse {
            links: links
                .into_iter()
                .map(|l| proto::LinkedAccount {
                    domain: l.domain,
                    id: l.id,
                    created: l.created,
                })
                .collect(),
        })
    }

    resolve_link(ResolveLinkRequest) -> AccountResponse, |api, req| {
        let tenant = req.tenant()?;
        let account = api
            .store
            .links()
            .resolve(
                tenant,
                &req.linking_account_manager,
                &req.foreign_domain,
                &req.foreign_account_id,
            )
            .await?;
        Ok(proto::AccountResponse::rendered(
            account,
            |a| &a.rendered,
            |a| account_to_proto(std::sync::Arc::unwrap_or_clone(a)),
        ))
    }

    delete_link(DeleteLinkRequest) -> DeleteLinkResponse, |api, req| {
        let tenant = req.tenant()?;
        let deleted = api
            .store
            .links()
            .delete(
                tenant,
                &req.linking_account_manager,
                &req.local_account_id,
                &req.foreign_domain,
                &req.foreign_account_id,
            )
            .await?;
        Ok(proto::DeleteLinkResponse { deleted })
    }
}

super::service!(AttributeApi, links);

super::rpcs! {
    AttributeService for AttributeApi;

    get_attributes(GetAttributesRequest) -> GetAttributesResponse, |api, req| {
        let tenant = req.tenant()?;
        let rows = api
            .store
            .links()
            .get_attributes(tenant, &req.subject)
            .await?;
        Ok(proto::GetAttributesResponse {
            rows: rows
                .into_iter()
                .map(|r| proto::AttributeRow {
                    columns: r.into_iter().collect(),
                })
                .collect(),
        })
    }
}
