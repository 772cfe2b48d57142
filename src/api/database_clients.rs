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

/// One of the two services: its six handlers and their tonic trait. The
/// two differ only in their message types and the item's field names, so
/// one definition serves both (names in, no bodies).
macro_rules! catalog_service {
    ($api:ident: $service:ident {
        item: $item:ident: $Msg:ident { $id:ident, $name:ident, $status:ident },
        items: $items:ident,
        get: $Got:ident,
        list: $Listed:ident,
        put: $Put:ident -> $Wrote:ident $(,)?
    }) => {
        super::serves!($api: $service {
            get(CatalogGetRequest) -> $Got;
            create($Put) -> $Wrote;
            update($Put) -> $Wrote;
            delete(CatalogDeleteRequest) -> CatalogDeleteResponse;
            list(CatalogListRequest) -> $Listed;
            count(CatalogCountRequest) -> CatalogCountResponse;
        });

        impl $api {
            fn entry(m: Option<proto::$Msg>) -> Result<Entry, StoreError> {
                let m = m.ok_or_else(|| StoreError::invalid(stringify!($item), "required"))?;
                Ok(Entry {
                    id: m.$id,
                    name: m.$name,
                    status: m.$status,
                    tags: m.tags,
                    attributes: m.attributes_json,
                    configuration_references: m.configuration_references_json,
                    ..Entry::default()
                })
            }

            fn message(e: Entry) -> proto::$Msg {
                proto::$Msg {
                    $id: e.id,
                    $name: e.name,
                    $status: e.status,
                    tags: e.tags,
                    attributes_json: e.attributes,
                    created: e.created,
                    last_modified: e.last_modified,
                    version: e.version,
                    configuration_references_json: String::new(),
                }
            }

            async fn get(&self, req: proto::CatalogGetRequest) -> Done<proto::$Got> {
                let found = self.db().get(&req.profile_id, &req.id).await?;
                Ok(proto::$Got {
                    $item: found.map(Self::message),
                })
            }

            async fn create(&self, req: proto::$Put) -> Done<proto::$Wrote> {
                let entry = Self::entry(req.$item)?;
                let created = self.db().create(&req.profile_id, entry).await?;
                Ok(proto::$Wrote {
                    $item: Some(Self::message(created)),
                })
            }

            async fn update(&self, req: proto::$Put) -> Done<proto::$Wrote> {
                let entry = Self::entry(req.$item)?;
                let updated = self.db().update(&req.profile_id, entry).await?;
                Ok(proto::$Wrote {
                    $item: Some(Self::message(updated)),
                })
            }

            async fn delete(
                &self,
                req: proto::CatalogDeleteRequest,
            ) -> Done<proto::CatalogDeleteResponse> {
                let deleted = self.db().delete(&req.profile_id, &req.id).await?;
                Ok(proto::CatalogDeleteResponse { deleted })
            }

            async fn list(&self, req: proto::CatalogListRequest) -> Done<proto::$Listed> {
                let (entries, page, truncated) = list_page(self.db(), req).await?;
                Ok(proto::$Listed {
                    $items: entries.into_iter().map(Self::message).collect(),
                    page,
                    truncated,
                })
            }

            async fn count(
                &self,
                req: proto::CatalogCountRequest,
            ) -> Done<proto::CatalogCountResponse> {
                let filter = filter(req.filter);
                let (count, truncated) = self.db().count(&req.profile_id, &filter).await?;
                Ok(proto::CatalogCountResponse { count, truncated })
            }
        }
    };
}

catalog_service!(DatabaseClientApi: DatabaseClientService {
    item: client: DatabaseClient { client_id, client_name, status }, items: clients,
    get: GetDatabaseClientResponse, list: ListDatabaseClientsResponse,
    put: PutDatabaseClientRequest -> PutDatabaseClientResponse,
});

catalog_service!(DatabaseServiceProviderApi: DatabaseServiceProviderService {
    item: service_provider: DatabaseServiceProvider { id, service_provider_name, enabled },
    items: service_providers,
    get: GetDatabaseServiceProviderResponse, list: ListDatabaseServiceProvidersResponse,
    put: PutDatabaseServiceProviderRequest -> PutDatabaseServiceProviderResponse,
});
