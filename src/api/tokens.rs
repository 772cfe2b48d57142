//! `TokenService` and `NonceService` over `store::tokens` / `store::nonces`.

use super::{
    Done,
    convert::{object_in, object_out},
};
use crate::{
    proto::{self, nonce_service_server::NonceService, token_service_server::TokenService},
    store::{StoreError, nonces::NonceStatus, tokens::Token},
};

super::service!(TokenApi, tokens: crate::store::tokens::Tokens<'_>);

/// A proto token and a stored token share these fields, by name; `$extra`
/// are the ones that differ (the data map and its JSON text).
macro_rules! token_fields {
    ($($a:tt)*) => {
        super::convert::same_fields!([
            token_hash id scope delegations_id purpose usage format status issuer subject
            audience created expires not_before
        ] $($a)*)
    };
}

fn token_from(t: Option<proto::Token>) -> Result<Token, StoreError> {
    let t = t.ok_or_else(|| StoreError::invalid("token", "required"))?;
    let data = object_in("token.data_json", &t.data_json, t.data)?.unwrap_or_default();
    Ok(token_fields!(t => Token { data, rendered: Default::default() }))
}

fn token_to(t: Token) -> proto::Token {
    let (data, data_json) = object_out(t.data);
    token_fields!(t => proto::Token { data, data_json })
}

super::serves!(TokenApi: TokenService {
    create_token(CreateTokenRequest) -> CreateTokenResponse;
    get_token_by_hash(GetTokenByHashRequest) -> GetTokenByHashResponse;
    get_token_status(GetTokenStatusRequest) -> GetTokenStatusResponse;
    set_token_status(SetTokenStatusRequest) -> SetTokenStatusResponse;
});

impl TokenApi {
    async fn create_token(
        &self,
        req: proto::CreateTokenRequest,
    ) -> Done<proto::CreateTokenResponse> {
        self.db().create(&token_from(req.token)?).await?;
        Ok(proto::CreateTokenResponse {})
    }

    async fn get_token_by_hash(
        &self,
        req: proto::GetTokenByHashRequest,
    ) -> Done<proto::GetTokenByHashResponse> {
        let token = self.db().get(&req.token_hash).await?;
        Ok(proto::GetTokenByHashResponse::rendered(
            token,
            |t| &t.rendered,
            |t| token_to(std::sync::Arc::unwrap_or_clone(t)),
        ))
    }

    async fn get_token_status(
        &self,
        req: proto::GetTokenStatusRequest,
    ) -> Done<proto::GetTokenStatusResponse> {
        let token = self.db().get(&req.token_hash).await?;
        Ok(proto::GetTokenStatusResponse {
            status: token.map(|t| t.status.clone()),
        })
    }

    async fn set_token_status(
        &self,
        req: proto::SetTokenStatusRequest,
    ) -> Done<proto::SetTokenStatusResponse> {
        let updated = self.db().set_status(&req.token_hash, &req.status).await?;
        Ok(proto::SetTokenStatusResponse { updated })
    }
}

super::service!(NonceApi, nonces: crate::store::nonces::Nonces<'_>);

super::serves!(NonceApi: NonceService {
    save_nonce(SaveNonceRequest) -> SaveNonceResponse;
    get_nonce(GetNonceRequest) -> GetNonceResponse;
    consume_nonce(ConsumeNonceRequest) -> ConsumeNonceResponse;
});

impl NonceApi {
    async fn save_nonce(&self, req: proto::SaveNonceRequest) -> Done<proto::SaveNonceResponse> {
        self.db()
            .save(&req.nonce, &req.value, req.created_at, req.ttl_seconds)
            .await?;
        Ok(proto::SaveNonceResponse {})
    }

    async fn get_nonce(&self, req: proto::GetNonceRequest) -> Done<proto::GetNonceResponse> {
        let state = self.db().get(&req.nonce).await?;
        Ok(proto::GetNonceResponse {
            state: state.map(|s| proto::NonceState {
                value: s.value,
                created_at: s.created_at,
                expires_at: s.expires_at,
                consumed_at: s.consumed_at,
                status: match s.status {
                    NonceStatus::Issued => proto::NonceStatus::Issued,
                    NonceStatus::Used => proto::NonceStatus::Used,
                } as i32,
            }),
        })
    }

    async fn consume_nonce(
        &self,
        req: proto::ConsumeNonceRequest,
    ) -> Done<proto::ConsumeNonceResponse> {
        let consumed = self.db().consume(&req.nonce, req.consumed_at).await?;
        Ok(proto::ConsumeNonceResponse { consumed })
    }
}
