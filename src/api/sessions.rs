//! `SessionService` over `store::sessions`.

use tonic::Request;

use super::{Reply, rpc};
use crate::{
    proto::{self, session_service_server::SessionService},
    store::{StoreError, sessions::Session},
};

super::service!(SessionApi, sessions);

fn session_from(msg: Option<proto::Session>) -> Result<Session, StoreError> {
    let s = msg.ok_or_else(|| StoreError::invalid("session", "required"))?;
    Ok(Session {
        id: s.id,
        data: s.data,
        expires_at: s.expires_at,
    })
}

#[tonic::async_trait]
impl SessionService for SessionApi {
    async fn get_session(
        &self,
        request: Request<proto::GetSessionRequest>,
    ) -> Reply<proto::GetSessionResponse> {
        rpc(&self.table, request, |req| async move {
            let session = self.store.sessions().get(&req.id).await?;
            Ok(proto::GetSessionResponse {
                session: session.map(|s| proto::Session {
                    id: s.id,
                    data: s.data,
                    expires_at: s.expires_at,
                }),
            })
        })
        .await
    }

    async fn insert_session(
        &self,
        request: Request<proto::InsertSessionRequest>,
    ) -> Reply<proto::InsertSessionResponse> {
        rpc(&self.table, request, |req| async move {
            self.store
                .sessions()
                .insert(&session_from(req.session)?)
                .await?;
            Ok(proto::InsertSessionResponse {})
        })
        .await
    }

    async fn update_session(
        &self,
        request: Request<proto::UpdateSessionRequest>,
    ) -> Reply<proto::UpdateSessionResponse> {
        rpc(&self.table, request, |req| async move {
            self.store
                .sessions()
                .update(&session_from(req.session)?)
                .await?;
            Ok(proto::UpdateSessionResponse {})
        })
        .await
    }

    async fn update_session_expiration(
        &self,
        request: Request<proto::UpdateSessionExpirationRequest>,
    ) -> Reply<proto::UpdateSessionExpirationResponse> {
        rpc(&self.table, request, |req| async move {
            let updated = self
                .store
                .sessions()
                .update_expiration(&req.id, req.expires_at)
                .await?;
            Ok(proto::UpdateSessionExpirationResponse { updated })
        })
        .await
    }

    async fn delete_session(
        &self,
        request: Request<proto::DeleteSessionRequest>,
    ) -> Reply<proto::DeleteSessionResponse> {
        rpc(&self.table, request, |req| async move {
            self.store.sessions().delete(&req.id).await?;
            Ok(proto::DeleteSessionResponse {})
        })
        .await
    }
}
