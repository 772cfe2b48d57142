//! `DatabaseClientService` and `DatabaseServiceProviderService` over
//! `store::database_clients` (one store design, two tables).

use tonic::Request;

use super::{Reply, rpc};
use crate::{
    proto::{
        self, database_client_service_server::DatabaseClientService,
        database_service_provider_service_server::DatabaseServiceProviderService,
    },
    store::{
        StoreError,
        database_clients::{Catalog, Entry, Filter},
    },
};

super::service!(DatabaseClientApi, database_clients);
super::service!(DatabaseServiceProviderApi, database_service_providers);

fn client_from(c: Option<proto::DatabaseClient>) -> Result<Entry, StoreError> {
    let c = c.ok_or_else(|| StoreError::invalid("client", "required"))?;
    Ok(Entry {
        id: c.client_id,
        name: c.client_name,
        status: c.status,
        tags: c.tags,
        attributes: c.attributes_json,
        configuration_references: c.configuration_references_json,
        ..Entry::default()
    })
}

fn client_to(e: Entry) -> proto::DatabaseClient {
    proto::DatabaseClient {
        client_id: e.id,
        client_name: e.name,
        status: e.status,
        tags: e.tags,
        attributes_json: e.attributes,
        created: e.created,
        last_modified: e.last_modified,
        version: e.version,
        configuration_references_json: String::new(),
    }
}

fn provider_from(p: Option<proto::DatabaseServiceProvider>) -> Result<Entry, StoreError> {
    let p = p.ok_or_else(|| StoreError::invalid("service_provider", "required"))?;
    Ok(Entry {
        id: p.id,
        name: p.service_provider_name,
        status: p.enabled,
        tags: p.tags,
        attributes: p.attributes_json,
        configuration_references: p.configuration_references_json,
        ..Entry::default()
    })
}

fn provider_to(e: Entry) -> proto::DatabaseServiceProvider {
    proto::DatabaseServiceProvider {
        id: e.id,
        service_provider_name: e.name,
        enabled: e.status,
        tags: e.tags,
        attributes_json: e.attributes,
        created: e.created,
        last_modified: e.last_modified,
        version: e.version,
        configuration_references_json: String::new(),
    }
}

fn filter(f: Option<proto::CatalogFilter>) -> Filter {
    let f = f.unwrap_or_default();
    Filter {
        search_terms: f.search_terms,
        tags: f.tags.map(|t| t.tags),
        name: f.name,
        active_only: f.active_only,
    }
}

fn sort(name: &str) -> Option<&str> {
    Some(name.trim()).filter(|n| !n.is_empty())
}

/// One page of either table's listing, and its continuation.
async fn list_page(
    catalog: Catalog<'_>,
    req: proto::CatalogListRequest,
) -> Result<(Vec<Entry>, Option<proto::PaginationResponse>, bool), StoreError> {
    let page = req.page.unwrap_or_default();
    let found = catalog
        .list(
            &req.profile_id,
            &filter(req.filter),
            sort(&req.sort_by),
            req.descending,
            page.count.map(|c| c as usize),
            &page.cursor,
        )
        .await?;
    let next = proto::PaginationResponse {
        cursor: found.next.unwrap_or_default(),
    };
    Ok((found.entries, Some(next), found.truncated))
}

#[tonic::async_trait]
impl DatabaseClientService for DatabaseClientApi {
    async fn get(
        &self,
        request: Request<proto::CatalogGetRequest>,
    ) -> Reply<proto::GetDatabaseClientResponse> {
        rpc(&self.table, request, |req| async move {
            let found = self
                .store
                .database_clients()
                .get(&req.profile_id, &req.id)
                .await?;
            Ok(proto::GetDatabaseClientResponse {
                client: found.map(client_to),
            })
        })
        .await
    }

    async fn create(
        &self,
        request: Request<proto::PutDatabaseClientRequest>,
    ) -> Reply<proto::PutDatabaseClientResponse> {
        rpc(&self.table, request, |req| async move {
            let created = self
                .store
                .database_clients()
                .create(&req.profile_id, client_from(req.client)?)
                .await?;
            Ok(proto::PutDatabaseClientResponse {
                client: Some(client_to(created)),
            })
        })
        .await
    }

    async fn update(
        &self,
        request: Request<proto::PutDatabaseClientRequest>,
    ) -> Reply<proto::PutDatabaseClientResponse> {
        rpc(&self.table, request, |req| async move {
            let updated = self
                .store
                .database_clients()
                .update(&req.profile_id, client_from(req.client)?)
                .await?;
            Ok(proto::PutDatabaseClientResponse {
                client: Some(client_to(updated)),
            })
        })
        .await
    }

    async fn delete(
        &self,
        request: Request<proto::CatalogDeleteRequest>,
    ) -> Reply<proto::CatalogDeleteResponse> {
        rpc(&self.table, request, |req| async move {
            let deleted = self
                .store
                .database_clients()
                .delete(&req.profile_id, &req.id)
                .await?;
            Ok(proto::CatalogDeleteResponse { deleted })
        })
        .await
    }

    async fn list(
        &self,
        request: Request<proto::CatalogListRequest>,
    ) -> Reply<proto::ListDatabaseClientsResponse> {
        rpc(&self.table, request, |req| async move {
            let (entries, page, truncated) = list_page(self.store.database_clients(), req).await?;
            Ok(proto::ListDatabaseClientsResponse {
                clients: entries.into_iter().map(client_to).collect(),
                page,
                truncated,
            })
        })
        .await
    }

    async fn count(
        &self,
        request: Request<proto::CatalogCountRequest>,
    ) -> Reply<proto::CatalogCountResponse> {
        rpc(&self.table, request, |req| async move {
            let (count, truncated) = self
                .store
                .database_clients()
                .count(&req.profile_id, &filter(req.filter))
                .await?;
            Ok(proto::CatalogCountResponse { count, truncated })
        })
        .await
    }
}

#[tonic::async_trait]
impl DatabaseServiceProviderService for DatabaseServiceProviderApi {
    async fn get(
        &self,
        request: Request<proto::CatalogGetRequest>,
    ) -> Reply<proto::GetDatabaseServiceProviderResponse> {
        rpc(&self.table, request, |req| async move {
            let found = self
                .store
                .database_service_providers()
                .get(&req.profile_id, &req.id)
                .await?;
            Ok(proto::GetDatabaseServiceProviderResponse {
                service_provider: found.map(provider_to),
            })
        })
        .await
    }

    async fn create(
        &self,
        request: Request<proto::PutDatabaseServiceProviderRequest>,
    ) -> Reply<proto::PutDatabaseServiceProviderResponse> {
        rpc(&self.table, request, |req| async move {
            let created = self
                .store
                .database_service_providers()
                .create(&req.profile_id, provider_from(req.service_provider)?)
                .await?;
            Ok(proto::PutDatabaseServiceProviderResponse {
                service_provider: Some(provider_to(created)),
            })
        })
        .await
    }

    async fn update(
        &self,
        request: Request<proto::PutDatabaseServiceProviderRequest>,
    ) -> Reply<proto::PutDatabaseServiceProviderResponse> {
        rpc(&self.table, request, |req| async move {
            let updated = self
                .store
                .database_service_providers()
                .update(&req.profile_id, provider_from(req.service_provider)?)
                .await?;
            Ok(proto::PutDatabaseServiceProviderResponse {
                service_provider: Some(provider_to(updated)),
            })
        })
        .await
    }

    async fn delete(
        &self,
        request: Request<proto::CatalogDeleteRequest>,
    ) -> Reply<proto::CatalogDeleteResponse> {
        rpc(&self.table, request, |req| async move {
            let deleted = self
                .store
                .database_service_providers()
                .delete(&req.profile_id, &req.id)
                .await?;
            Ok(proto::CatalogDeleteResponse { deleted })
        })
        .await
    }

    async fn list(
        &self,
        request: Request<proto::CatalogListRequest>,
    ) -> Reply<proto::ListDatabaseServiceProvidersResponse> {
        rpc(&self.table, request, |req| async move {
            let (entries, page, truncated) =
                list_page(self.store.database_service_providers(), req).await?;
            Ok(proto::ListDatabaseServiceProvidersResponse {
                service_providers: entries.into_iter().map(provider_to).collect(),
                page,
                truncated,
            })
        })
        .await
    }

    async fn count(
        &self,
        request: Request<proto::CatalogCountRequest>,
    ) -> Reply<proto::CatalogCountResponse> {
        rpc(&self.table, request, |req| async move {
            let (count, truncated) = self
                .store
                .database_service_providers()
                .count(&req.profile_id, &filter(req.filter))
                .await?;
            Ok(proto::CatalogCountResponse { count, truncated })
        })
        .await
    }
}
