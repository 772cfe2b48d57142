//! `SessionService` over `store::sessions`.

use super::Done;
use crate::{
    proto::{self, session_service_server::SessionService},
    store::{StoreError, sessions::Session},
};

super::service!(SessionApi, sessions: crate::store::sessions::Sessions<'_>);

fn session_from(msg: Option<proto::Session>) -> Result<Session, StoreError> {
    let s = msg.ok_or_else(|| StoreError::invalid("session", "required"))?;
    Ok(Session {
        id: s.id,
        data: s.data,
        expires_at: s.expires_at,
    })
}

super::serves!(SessionApi: SessionService {
    get_session(GetSessionRequest) -> GetSessionResponse;
    insert_session(InsertSessionRequest) -> InsertSessionResponse;
    update_session(UpdateSessionRequest) -> UpdateSessionResponse;
    update_session_expiration(UpdateSessionExpirationRequest) -> UpdateSessionExpirationResponse;
    delete_session(DeleteSessionRequest) -> DeleteSessionResponse;
});

impl SessionApi {
    async fn get_session(&self, req: proto::GetSessionRequest) -> Done<proto::GetSessionResponse> {
        let session = self.db().get(&req.id).await?;
        Ok(proto::GetSessionResponse {
            session: session.map(|s| proto::Session {
                id: s.id,
                data: s.data,
                expires_at: s.expires_at,
            }),
        })
    }

    async fn insert_session(
        &self,
        req: proto::InsertSessionRequest,
    ) -> Done<proto::InsertSessionResponse> {
        self.db().insert(&session_from(req.session)?).await?;
        Ok(proto::InsertSessionResponse {})
    }

    async fn update_session(
        &self,
        req: proto::UpdateSessionRequest,
    ) -> Done<proto::UpdateSessionResponse> {
        self.db().update(&session_from(req.session)?).await?;
        Ok(proto::UpdateSessionResponse {})
    }

    async fn update_session_expiration(
        &self,
        req: proto::UpdateSessionExpirationRequest,
    ) -> Done<proto::UpdateSessionExpirationResponse> {
        let updated = self.db().update_expiration(&req.id, req.expires_at).await?;
        Ok(proto::UpdateSessionExpirationResponse { updated })
    }

    async fn delete_session(
        &self,
        req: proto::DeleteSessionRequest,
    ) -> Done<proto::DeleteSessionResponse> {
        self.db().delete(&req.id).await?;
        Ok(proto::DeleteSessionResponse {})
    }
}
