//! `SessionService` over `store::sessions`.

use tonic::{Request, Response, Status};

use super::rpc;
use crate::{
    proto::{self, session_service_server::SessionService},
    store::{Store, StoreError, sessions::Session},
};

pub struct SessionApi {
    store: Store,
}

impl SessionApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn table(&self) -> &str {
        &self.store.tables().sessions
    }
}

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
    ) -> Result<Response<proto::GetSessionResponse>, Status> {
        let req = request.into_inner();
        rpc("GetSession", self.table(), None, async {
            let session = self.store.get_session(&req.id).await?;
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
    ) -> Result<Response<proto::InsertSessionResponse>, Status> {
        let req = request.into_inner();
        rpc("InsertSession", self.table(), None, async {
            self.store
                .insert_session(&session_from(req.session)?)
                .await?;
            Ok(proto::InsertSessionResponse {})
        })
        .await
    }

    async fn update_session(
        &self,
        request: Request<proto::UpdateSessionRequest>,
    ) -> Result<Response<proto::UpdateSessionResponse>, Status> {
        let req = request.into_inner();
        rpc("UpdateSession", self.table(), None, async {
            self.store
                .update_session(&session_from(req.session)?)
                .await?;
            Ok(proto::UpdateSessionResponse {})
        })
        .await
    }

    async fn update_session_expiration(
        &self,
        request: Request<proto::UpdateSessionExpirationRequest>,
    ) -> Result<Response<proto::UpdateSessionExpirationResponse>, Status> {
        let req = request.into_inner();
        rpc("UpdateSessionExpiration", self.table(), None, async {
            let updated = self
                .store
                .update_session_expiration(&req.id, req.expires_at)
                .await?;
            Ok(proto::UpdateSessionExpirationResponse { updated })
        })
        .await
    }

    async fn delete_session(
        &self,
        request: Request<proto::DeleteSessionRequest>,
    ) -> Result<Response<proto::DeleteSessionResponse>, Status> {
        let req = request.into_inner();
        rpc("DeleteSession", self.table(), None, async {
            self.store.delete_session(&req.id).await?;
            Ok(proto::DeleteSessionResponse {})
        })
        .await
    }
}
