//! `SessionService` over `store::sessions`.

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

super::rpcs! {
    SessionService for SessionApi;

    get_session(GetSessionRequest) -> GetSessionResponse, |api, req| {
        let session = api.store.sessions().get(&req.id).await?;
        Ok(proto::GetSessionResponse {
            session: session.map(|s| proto::Session {
                id: s.id,
                data: s.data,
                expires_at: s.expires_at,
            }),
        })
    }

    insert_session(InsertSessionRequest) -> InsertSessionResponse, |api, req| {
        api.store
            .sessions()
            .insert(&session_from(req.session)?)
            .await?;
        Ok(proto::InsertSessionResponse {})
    }

    update_session(UpdateSessionRequest) -> UpdateSessionResponse, |api, req| {
        api.store
            .sessions()
            .update(&session_from(req.session)?)
            .await?;
        Ok(proto::UpdateSessionResponse {})
    }

    update_session_expiration(UpdateSessionExpirationRequest) -> UpdateSessionExpirationResponse, |api, req| {
        let updated = api
            .store
            .sessions()
            .update_expiration(&req.id, req.expires_at)
            .await?;
        Ok(proto::UpdateSessionExpirationResponse { updated })
    }

    delete_session(DeleteSessionRequest) -> DeleteSessionResponse, |api, req| {
        api.store.sessions().delete(&req.id).await?;
        Ok(proto::DeleteSessionResponse {})
    }
}
