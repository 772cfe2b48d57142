//! `DatabaseClientService` and `DatabaseServiceProviderService` over
//! `store::database_clients` (one store design, two tables).

use super::Done;
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

super::service!(DatabaseClientApi, database_clients: crate::store::database_clients::Catalog<'_>);
super::service!(DatabaseServiceProviderApi, database_service_providers: crate::store::database_clients::Catalog<'_>);

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

// What the two tables answer alike; each service below only converts its
// own message type.

async fn get(catalog: Catalog<'_>, req: proto::CatalogGetRequest) -> Done<Option<Entry>> {
    catalog.get(&req.profile_id, &req.id).await
}

async fn delete(
    catalog: Catalog<'_>,
    req: proto::CatalogDeleteRequest,
) -> Done<proto::CatalogDeleteResponse> {
    let deleted = catalog.delete(&req.profile_id, &req.id).await?;
    Ok(proto::CatalogDeleteResponse { deleted })
}

async fn count(
    catalog: Catalog<'_>,
    req: proto::CatalogCountRequest,
) -> Done<proto::CatalogCountResponse> {
    let (count, truncated) = catalog.count(&req.profile_id, &filter(req.filter)).await?;
    Ok(proto::CatalogCountResponse { count, truncated })
}

super::serves!(DatabaseClientApi: DatabaseClientService {
    get(CatalogGetRequest) -> GetDatabaseClientResponse;
    create(PutDatabaseClientRequest) -> PutDatabaseClientResponse;
    update(PutDatabaseClientRequest) -> PutDatabaseClientResponse;
    delete(CatalogDeleteRequest) -> CatalogDeleteResponse;
    list(CatalogListRequest) -> ListDatabaseClientsResponse;
    count(CatalogCountRequest) -> CatalogCountResponse;
});

impl DatabaseClientApi {
    async fn get(&self, req: proto::CatalogGetRequest) -> Done<proto::GetDatabaseClientResponse> {
        let found = get(self.db(), req).await?;
        Ok(proto::GetDatabaseClientResponse {
            client: found.map(client_to),
        })
    }

    async fn create(
        &self,
        req: proto::PutDatabaseClientRequest,
    ) -> Done<proto::PutDatabaseClientResponse> {
        let catalog = self.db();
        let created = catalog
            .create(&req.profile_id, client_from(req.client)?)
            .await?;
        Ok(proto::PutDatabaseClientResponse {
            client: Some(client_to(created)),
        })
    }

    async fn update(
        &self,
        req: proto::PutDatabaseClientRequest,
    ) -> Done<proto::PutDatabaseClientResponse> {
        let catalog = self.db();
        let updated = catalog
            .update(&req.profile_id, client_from(req.client)?)
            .await?;
        Ok(proto::PutDatabaseClientResponse {
            client: Some(client_to(updated)),
        })
    }

    async fn delete(&self, req: proto::CatalogDeleteRequest) -> Done<proto::CatalogDeleteResponse> {
        delete(self.db(), req).await
    }

    async fn list(
        &self,
        req: proto::CatalogListRequest,
    ) -> Done<proto::ListDatabaseClientsResponse> {
        let (entries, page, truncated) = list_page(self.db(), req).await?;
        let clients = entries.into_iter().map(client_to).collect();
        Ok(proto::ListDatabaseClientsResponse {
            clients,
            page,
            truncated,
        })
    }

    async fn count(&self, req: proto::CatalogCountRequest) -> Done<proto::CatalogCountResponse> {
        count(self.db(), req).await
    }
}

super::serves!(DatabaseServiceProviderApi: DatabaseServiceProviderService {
    get(CatalogGetRequest) -> GetDatabaseServiceProviderResponse;
    create(PutDatabaseServiceProviderRequest) -> PutDatabaseServiceProviderResponse;
    update(PutDatabaseServiceProviderRequest) -> PutDatabaseServiceProviderResponse;
    delete(CatalogDeleteRequest) -> CatalogDeleteResponse;
    list(CatalogListRequest) -> ListDatabaseServiceProvidersResponse;
    count(CatalogCountRequest) -> CatalogCountResponse;
});

impl DatabaseServiceProviderApi {
    async fn get(
        &self,
        req: proto::CatalogGetRequest,
    ) -> Done<proto::GetDatabaseServiceProviderResponse> {
        let found = get(self.db(), req).await?;
        Ok(proto::GetDatabaseServiceProviderResponse {
            service_provider: found.map(provider_to),
        })
    }

    async fn create(
        &self,
        req: proto::PutDatabaseServiceProviderRequest,
    ) -> Done<proto::PutDatabaseServiceProviderResponse> {
        let catalog = self.db();
        let created = catalog
            .create(&req.profile_id, provider_from(req.service_provider)?)
            .await?;
        Ok(proto::PutDatabaseServiceProviderResponse {
            service_provider: Some(provider_to(created)),
        })
    }

    async fn update(
        &self,
        req: proto::PutDatabaseServiceProviderRequest,
    ) -> Done<proto::PutDatabaseServiceProviderResponse> {
        let catalog = self.db();
        let updated = catalog
            .update(&req.profile_id, provider_from(req.service_provider)?)
            .await?;
        Ok(proto::PutDatabaseServiceProviderResponse {
            service_provider: Some(provider_to(updated)),
        })
    }

    async fn delete(&self, req: proto::CatalogDeleteRequest) -> Done<proto::CatalogDeleteResponse> {
        delete(self.db(), req).await
    }

    async fn list(
        &self,
        req: proto::CatalogListRequest,
    ) -> Done<proto::ListDatabaseServiceProvidersResponse> {
        let (entries, page, truncated) = list_page(self.db(), req).await?;
        let service_providers = entries.into_iter().map(provider_to).collect();
        Ok(proto::ListDatabaseServiceProvidersResponse {
            service_providers,
            page,
            truncated,
        })
    }

    async fn count(&self, req: proto::CatalogCountRequest) -> Done<proto::CatalogCountResponse> {
        count(self.db(), req).await
    }
}
