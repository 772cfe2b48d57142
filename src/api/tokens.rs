//! `TokenService` and `NonceService` over `store::tokens` / `store::nonces`.

use tonic::Request;

use super::{
    Reply,
    convert::{object_in, object_out},
    rpc,
};
use crate::{
    proto::{self, nonce_service_server::NonceService, token_service_server::TokenService},
    store::{StoreError, nonces::NonceStatus, tokens::Token},
};

super::service!(TokenApi, tokens);

/// A proto token and a stored token share these fields, by name; `$extra`
/// are the ones that differ (the data map and its JSON text).
macro_rules! token_fields {
    ($from:ident => $($to:ident)::+ { $($extra:tt)* }) => {
        $($to)::+ {
            token_hash: $from.token_hash,
            id: $from.id,
            scope: $from.scope,
            delegations_id: $from.delegations_id,
            purpose: $from.purpose,
            usage: $from.usage,
            format: $from.format,
            status: $from.status,
            issuer: $from.issuer,
            subject: $from.subject,
            audience: $from.audience,
            created: $from.created,
            expires: $from.expires,
            not_before: $from.not_before,
            $($extra)*
        }
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

#[tonic::async_trait]
impl TokenService for TokenApi {
    async fn create_token(
        &self,
        request: Request<proto::CreateTokenRequest>,
    ) -> Reply<proto::CreateTokenResponse> {
        rpc(&self.table, request, |req| async move {
            self.store.tokens().create(&token_from(req.token)?).await?;
            Ok(proto::CreateTokenResponse {})
        })
        .await
    }

    async fn get_token_by_hash(
        &self,
        request: Request<proto::GetTokenByHashRequest>,
    ) -> Reply<proto::GetTokenByHashResponse> {
        rpc(&self.table, request, |req| async move {
            let token = self.store.tokens().get(&req.token_hash).await?;
            Ok(proto::GetTokenByHashResponse::rendered(
                token,
                |t| &t.rendered,
                |t| token_to(std::sync::Arc::unwrap_or_clone(t)),
            ))
        })
        .await
    }

    async fn get_token_status(
        &self,
        request: Request<proto::GetTokenStatusRequest>,
    ) -> Reply<proto::GetTokenStatusResponse> {
        rpc(&self.table, request, |req| async move {
            let token = self.store.tokens().get(&req.token_hash).await?;
            Ok(proto::GetTokenStatusResponse {
                status: token.map(|t| t.status.clone()),
            })
        })
        .await
    }

    async fn set_token_status(
        &self,
        request: Request<proto::SetTokenStatusRequest>,
    ) -> Reply<proto::SetTokenStatusResponse> {
        rpc(&self.table, request, |req| async move {
            let updated = self
                .store
                .tokens()
                .set_status(&req.token_hash, &req.status)
                .await?;
            Ok(proto::SetTokenStatusResponse { updated })
        })
        .await
    }
}

super::service!(NonceApi, nonces);

#[tonic::async_trait]
impl NonceService for NonceApi {
    async fn save_nonce(
        &self,
        request: Request<proto::SaveNonceRequest>,
    ) -> Reply<proto::SaveNonceResponse> {
        rpc(&self.table, request, |req| async move {
            self.store
                .nonces()
                .save(&req.nonce, &req.value, req.created_at, req.ttl_seconds)
                .await?;
            Ok(proto::SaveNonceResponse {})
        })
        .await
    }

    async fn get_nonce(
        &self,
        request: Request<proto::GetNonceRequest>,
    ) -> Reply<proto::GetNonceResponse> {
        rpc(&self.table, request, |req| async move {
            let state = self.store.nonces().get(&req.nonce).await?;
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
        })
        .await
    }

    async fn consume_nonce(
        &self,
        request: Request<proto::ConsumeNonceRequest>,
    ) -> Reply<proto::ConsumeNonceResponse> {
        rpc(&self.table, request, |req| async move {
            let consumed = self
                .store
                .nonces()
                .consume(&req.nonce, req.consumed_at)
                .await?;
            Ok(proto::ConsumeNonceResponse { consumed })
        })
        .await
    }
}
