//! `LinkService` and `AttributeService` over `store::links`.

use tonic::Request;

use super::{Reply, Tenanted, accounts::account_to_proto, rpc};
use crate::proto::{
    self, attribute_service_server::AttributeService, link_service_server::LinkService,
};

super::service!(LinkApi, links);

#[tonic::async_trait]
impl LinkService for LinkApi {
    async fn link(&self, request: Request<proto::LinkRequest>) -> Reply<proto::LinkResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            self.store
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
        })
        .await
    }

    async fn list_links(
        &self,
        request: Request<proto::ListLinksRequest>,
    ) -> Reply<proto::ListLinksResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let links = self
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
        })
        .await
    }

    async fn resolve_link(
        &self,
        request: Request<proto::ResolveLinkRequest>,
    ) -> Reply<proto::AccountResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let account = self
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
        })
        .await
    }

    async fn delete_link(
        &self,
        request: Request<proto::DeleteLinkRequest>,
    ) -> Reply<proto::DeleteLinkResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let deleted = self
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
        })
        .await
    }
}

super::service!(AttributeApi, links);

#[tonic::async_trait]
impl AttributeService for AttributeApi {
    async fn get_attributes(
        &self,
        request: Request<proto::GetAttributesRequest>,
    ) -> Reply<proto::GetAttributesResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let rows = self
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
        })
        .await
    }
}
