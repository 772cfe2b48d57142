//! `DynamicClientService` over `store::dynamic_clients`.

use tonic::Request;

use super::{Reply, rpc};
use crate::{
    proto::{self, DynamicClientSort, dynamic_client_service_server::DynamicClientService},
    store::{
        StoreError,
        dynamic_clients::{DynamicClient, Listing, SortBy},
    },
};

super::service!(DynamicClientApi, dynamic_clients);

/// A proto client and a stored one share these fields, by name; `$extra`
/// are the ones that differ (the attributes' JSON text).
macro_rules! client_fields {
    ($from:ident => $($to:ident)::+ { $($extra:tt)* }) => {
        $($to)::+ {
            client_id: $from.client_id,
            client_secret: $from.client_secret,
            instance_of_client: $from.instance_of_client,
            initial_client: $from.initial_client,
            authenticated_user: $from.authenticated_user,
            created: $from.created,
            updated: $from.updated,
            status: $from.status,
            scope: $from.scope,
            redirect_uris: $from.redirect_uris,
            grant_types: $from.grant_types,
            $($extra)*
        }
    };
}

fn client_from(c: Option<proto::DynamicClient>) -> Result<DynamicClient, StoreError> {
    let c = c.ok_or_else(|| StoreError::invalid("client", "required"))?;
    Ok(client_fields!(c => DynamicClient {
        attributes: c.attributes_json,
        rendered: Default::default(),
    }))
}

fn client_to(c: DynamicClient) -> proto::DynamicClient {
    client_fields!(c => proto::DynamicClient {
        attributes_json: c.attributes,
    })
}

fn listing(filter: &Option<proto::DynamicClientFilter>) -> Listing<'_> {
    match filter {
        None => Listing::default(),
        Some(f) => Listing {
            template_id: f.template_id.as_deref(),
            user_name: f.user_name.as_deref(),
            active_only: f.active_only,
            ..Listing::default()
        },
    }
}

#[tonic::async_trait]
impl DynamicClientService for DynamicClientApi {
    async fn get(
        &self,
        request: Request<proto::GetDynamicClientRequest>,
    ) -> Reply<proto::GetDynamicClientResponse> {
        rpc(&self.table, request, |req| async move {
            let client = self.store.dynamic_clients().get(&req.client_id).await?;
            Ok(proto::GetDynamicClientResponse::rendered(
                client,
                |c| &c.rendered,
                |c| client_to(std::sync::Arc::unwrap_or_clone(c)),
            ))
        })
        .await
    }

    async fn create(
        &self,
        request: Request<proto::CreateDynamicClientRequest>,
    ) -> Reply<proto::CreateDynamicClientResponse> {
        rpc(&self.table, request, |req| async move {
            let client = self
                .store
                .dynamic_clients()
                .create(client_from(req.client)?)
                .await?;
            Ok(proto::CreateDynamicClientResponse {
                client: Some(client_to(client)),
            })
        })
        .await
    }

    async fn update(
        &self,
        request: Request<proto::UpdateDynamicClientRequest>,
    ) -> Reply<proto::UpdateDynamicClientResponse> {
        rpc(&self.table, request, |req| async move {
            let client = self
                .store
                .dynamic_clients()
                .update(client_from(req.client)?)
                .await?;
            Ok(proto::UpdateDynamicClientResponse {
                client: Some(client_to(client)),
            })
        })
        .await
    }

    async fn delete(
        &self,
        request: Request<proto::DeleteDynamicClientRequest>,
    ) -> Reply<proto::DeleteDynamicClientResponse> {
        rpc(&self.table, request, |req| async move {
            self.store.dynamic_clients().delete(&req.client_id).await?;
            Ok(proto::DeleteDynamicClientResponse {})
        })
        .await
    }

    async fn list(
        &self,
        request: Request<proto::ListDynamicClientsRequest>,
    ) -> Reply<proto::ListDynamicClientsResponse> {
        rpc(&self.table, request, |req| async move {
            let sort = match req.sort() {
                DynamicClientSort::Default => Some(SortBy::ClientId),
                DynamicClientSort::Created => Some(SortBy::Created),
                DynamicClientSort::LastModified => Some(SortBy::Updated),
                DynamicClientSort::None => None,
            };
            let listing = Listing {
                sort,
                descending: req.descending,
                ..listing(&req.filter)
            };
            let page = req.page.clone().unwrap_or_default();
            let found = self
                .store
                .dynamic_clients()
                .list(&listing, page.count.map(|c| c as usize), &page.cursor)
                .await?;
            Ok(proto::ListDynamicClientsResponse {
                clients: found.clients.into_iter().map(client_to).collect(),
                page: Some(proto::PaginationResponse {
                    cursor: found.next.unwrap_or_default(),
                }),
                truncated: found.truncated,
            })
        })
        .await
    }

    async fn count(
        &self,
        request: Request<proto::CountDynamicClientsRequest>,
    ) -> Reply<proto::CountDynamicClientsResponse> {
        rpc(&self.table, request, |req| async move {
            let (count, truncated) = self
                .store
                .dynamic_clients()
                .count(&listing(&req.filter))
                .await?;
            Ok(proto::CountDynamicClientsResponse { count, truncated })
        })
        .await
    }
}
