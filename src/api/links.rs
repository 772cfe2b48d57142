//! `LinkService` and `AttributeService` over `store::links`.

use tonic::{Request, Response, Status};

use super::{accounts::account_to_proto, convert::tenant, rpc};
use crate::{
    proto::{self, attribute_service_server::AttributeService, link_service_server::LinkService},
    store::Store,
};

pub struct LinkApi {
    store: Store,
}

impl LinkApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn table(&self) -> &str {
        &self.store.tables().links
    }
}

#[tonic::async_trait]
impl LinkService for LinkApi {
    async fn link(
        &self,
        request: Request<proto::LinkRequest>,
    ) -> Result<Response<proto::LinkResponse>, Status> {
        let req = request.into_inner();
        let t = req.tenant.as_ref().map(|t| t.id.as_str());
        rpc("Links.Link", self.table(), t, async {
            let tenant = tenant(&req.tenant)?;
            self.store
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
    ) -> Result<Response<proto::ListLinksResponse>, Status> {
        let req = request.into_inner();
        let t = req.tenant.as_ref().map(|t| t.id.as_str());
        rpc("Links.ListLinks", self.table(), t, async {
            let tenant = tenant(&req.tenant)?;
            let links = self
                .store
                .list_links(tenant, &req.linking_account_manager, &req.local_account_id)
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
    ) -> Result<Response<proto::AccountResponse>, Status> {
        let req = request.into_inner();
        let t = req.tenant.as_ref().map(|t| t.id.as_str());
        rpc("Links.ResolveLink", self.table(), t, async {
            let tenant = tenant(&req.tenant)?;
            let account = self
                .store
                .resolve_link(
                    tenant,
                    &req.linking_account_manager,
                    &req.foreign_domain,
                    &req.foreign_account_id,
                )
                .await?;
            Ok(proto::AccountResponse {
                account: account.map(account_to_proto),
            })
        })
        .await
    }

    async fn delete_link(
        &self,
        request: Request<proto::DeleteLinkRequest>,
    ) -> Result<Response<proto::DeleteLinkResponse>, Status> {
        let req = request.into_inner();
        let t = req.tenant.as_ref().map(|t| t.id.as_str());
        rpc("Links.DeleteLink", self.table(), t, async {
            let tenant = tenant(&req.tenant)?;
            let deleted = self
                .store
                .delete_link(
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

pub struct AttributeApi {
    store: Store,
}

impl AttributeApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl AttributeService for AttributeApi {
    async fn get_attributes(
        &self,
        request: Request<proto::GetAttributesRequest>,
    ) -> Result<Response<proto::GetAttributesResponse>, Status> {
        let req = request.into_inner();
        let t = req.tenant.as_ref().map(|t| t.id.as_str());
        rpc(
            "Attributes.GetAttributes",
            &self.store.tables().links,
            t,
            async {
                let tenant = tenant(&req.tenant)?;
                let rows = self.store.get_attributes(tenant, &req.subject).await?;
                Ok(proto::GetAttributesResponse {
                    rows: rows
                        .into_iter()
                        .map(|r| proto::AttributeRow {
                            columns: r.into_iter().collect(),
                        })
                        .collect(),
                })
            },
        )
        .await
    }
}
