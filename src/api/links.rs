//! `LinkService` and `AttributeService` over `store::links`.

use super::{Done, Tenanted, accounts::account_to_proto};
use crate::proto::{
    self, attribute_service_server::AttributeService, link_service_server::LinkService,
};

super::service!(LinkApi, links: crate::store::links::Links<'_>);

super::serves!(LinkApi: LinkService {
    link(LinkRequest) -> LinkResponse;
    list_links(ListLinksRequest) -> ListLinksResponse;
    resolve_link(ResolveLinkRequest) -> AccountResponse;
    delete_link(DeleteLinkRequest) -> DeleteLinkResponse;
});

impl LinkApi {
    async fn link(&self, req: proto::LinkRequest) -> Done<proto::LinkResponse> {
        let tenant = req.tenant()?;
        self.db()
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

    async fn list_links(&self, req: proto::ListLinksRequest) -> Done<proto::ListLinksResponse> {
        let tenant = req.tenant()?;
        let links = self
            .db()
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

    async fn resolve_link(&self, req: proto::ResolveLinkRequest) -> Done<proto::AccountResponse> {
        let tenant = req.tenant()?;
        let account = self
            .db()
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

    async fn delete_link(&self, req: proto::DeleteLinkRequest) -> Done<proto::DeleteLinkResponse> {
        let tenant = req.tenant()?;
        let deleted = self
            .db()
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

super::service!(AttributeApi, links: crate::store::links::Links<'_>);

super::serves!(AttributeApi: AttributeService {
    get_attributes(GetAttributesRequest) -> GetAttributesResponse;
});

impl AttributeApi {
    async fn get_attributes(
        &self,
        req: proto::GetAttributesRequest,
    ) -> Done<proto::GetAttributesResponse> {
        let tenant = req.tenant()?;
        let rows = self.db().get_attributes(tenant, &req.subject).await?;
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
