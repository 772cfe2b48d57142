//! `DynamicClientService` over `store::dynamic_clients`.

use super::Done;
use crate::{
    proto::{self, DynamicClientSort, dynamic_client_service_server::DynamicClientService},
    store::{
        StoreError,
        dynamic_clients::{DynamicClient, Listing, SortBy},
    },
};

super::service!(DynamicClientApi, dynamic_clients: crate::store::dynamic_clients::DynamicClients<'_>);

/// A proto client and a stored one share these fields, by name; `$extra`
/// are the ones that differ (the attributes' JSON text).
macro_rules! client_fields {
    ($($a:tt)*) => {
        super::convert::same_fields!([
            client_id client_secret instance_of_client initial_client authenticated_user
            created updated status scope redirect_uris grant_types
        ] $($a)*)
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

super::serves!(DynamicClientApi: DynamicClientService {
    get(GetDynamicClientRequest) -> GetDynamicClientResponse;
    create(CreateDynamicClientRequest) -> CreateDynamicClientResponse;
    update(UpdateDynamicClientRequest) -> UpdateDynamicClientResponse;
    delete(DeleteDynamicClientRequest) -> DeleteDynamicClientResponse;
    list(ListDynamicClientsRequest) -> ListDynamicClientsResponse;
    count(CountDynamicClientsRequest) -> CountDynamicClientsResponse;
});

impl DynamicClientApi {
    async fn get(
        &self,
        req: proto::GetDynamicClientRequest,
    ) -> Done<proto::GetDynamicClientResponse> {
        let client = self.db().get(&req.client_id).await?;
        Ok(proto::GetDynamicClientResponse::rendered(
            client,
            |c| &c.rendered,
            |c| client_to(std::sync::Arc::unwrap_or_clone(c)),
        ))
    }

    async fn create(
        &self,
        req: proto::CreateDynamicClientRequest,
    ) -> Done<proto::CreateDynamicClientResponse> {
        let client = self.db().create(client_from(req.client)?).await?;
        Ok(proto::CreateDynamicClientResponse {
            client: Some(client_to(client)),
        })
    }

    async fn update(
        &self,
        req: proto::UpdateDynamicClientRequest,
    ) -> Done<proto::UpdateDynamicClientResponse> {
        let client = self.db().update(client_from(req.client)?).await?;
        Ok(proto::UpdateDynamicClientResponse {
            client: Some(client_to(client)),
        })
    }

    async fn delete(
        &self,
        req: proto::DeleteDynamicClientRequest,
    ) -> Done<proto::DeleteDynamicClientResponse> {
        self.db().delete(&req.client_id).await?;
        Ok(proto::DeleteDynamicClientResponse {})
    }

    async fn list(
        &self,
        req: proto::ListDynamicClientsRequest,
    ) -> Done<proto::ListDynamicClientsResponse> {
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
            .db()
            .list(&listing, page.count.map(|c| c as usize), &page.cursor)
            .await?;
        Ok(proto::ListDynamicClientsResponse {
            clients: found.clients.into_iter().map(client_to).collect(),
            page: Some(proto::PaginationResponse {
                cursor: found.next.unwrap_or_default(),
            }),
            truncated: found.truncated,
        })
    }

    async fn count(
        &self,
        req: proto::CountDynamicClientsRequest,
    ) -> Done<proto::CountDynamicClientsResponse> {
        let (count, truncated) = self.db().count(&listing(&req.filter)).await?;
        Ok(proto::CountDynamicClientsResponse { count, truncated })
    }
}
