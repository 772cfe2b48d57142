//! `TokenService` and `NonceService` over `store::tokens` / `store::nonces`.

use tonic::{Request, Response, Status};

use super::{
    convert::{object_in, object_out},
    rpc,
};
use crate::{
    proto::{self, nonce_service_server::NonceService, token_service_server::TokenService},
    store::{StoreError, nonces::NonceStatus, tokens::Token},
};

super::service!(TokenApi, tokens);

fn token_from(t: Option<proto::Token>) -> Result<Token, StoreError> {
    let t = t.ok_or_else(|| StoreError::invalid("token", "required"))?;
    Ok(Token {
        token_hash: t.token_hash,
        id: t.id,
        scope: t.scope,
        delegations_id: t.delegations_id,
        purpose: t.purpose,
        usage: t.usage,
        format: t.format,
        status: t.status,
        issuer: t.issuer,
        subject: t.subject,
        audience: t.audience,
        data: object_in("token.data_json", &t.data_json, t.data)?.unwrap_or_default(),
        created: t.created,
        expires: t.expires,
        not_before: t.not_before,
    })
}

fn token_to(t: Token) -> proto::Token {
    let (data, data_json) = object_out(t.data);
    proto::Token {
        token_hash: t.token_hash,
        id: t.id,
        scope: t.scope,
        delegations_id: t.delegations_id,
        purpose: t.purpose,
        usage: t.usage,
        format: t.format,
        status: t.status,
        issuer: t.issuer,
        subject: t.subject,
        audience: t.audience,
        data,
        created: t.created,
        expires: t.expires,
        not_before: t.not_before,
        data_json,
    }
}

#[tonic::async_trait]
impl TokenService for TokenApi {
    async fn create_token(
        &self,
        request: Request<proto::CreateTokenRequest>,
    ) -> Result<Response<proto::CreateTokenResponse>, Status> {
        rpc(self.table(), request, |req| async move {
            self.store.tokens().create(&token_from(req.token)?).await?;
            Ok(proto::CreateTokenResponse {})
        })
        .await
    }

    async fn get_token_by_hash(
        &self,
        request: Request<proto::GetTokenByHashRequest>,
    ) -> Result<Response<proto::GetTokenByHashResponse>, Status> {
        rpc(self.table(), request, |req| async move {
            let token = self.store.tokens().get(&req.token_hash).await?;
            Ok(proto::GetTokenByHashResponse {
                token: token.map(token_to),
            })
        })
        .await
    }

    async fn get_token_status(
        &self,
        request: Request<proto::GetTokenStatusRequest>,
    ) -> Result<Response<proto::GetTokenStatusResponse>, Status> {
        rpc(self.table(), request, |req| async move {
            let token = self.store.tokens().get(&req.token_hash).await?;
            Ok(proto::GetTokenStatusResponse {
                status: token.map(|t| t.status),
            })
        })
        .await
    }

    async fn set_token_status(
        &self,
        request: Request<proto::SetTokenStatusRequest>,
    ) -> Result<Response<proto::SetTokenStatusResponse>, Status> {
        rpc(self.table(), request, |req| async move {
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
    ) -> Result<Response<proto::SaveNonceResponse>, Status> {
        rpc(self.table(), request, |req| async move {
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
    ) -> Result<Response<proto::GetNonceResponse>, Status> {
        rpc(self.table(), request, |req| async move {
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
    ) -> Result<Response<proto::ConsumeNonceResponse>, Status> {
        rpc(self.table(), request, |req| async move {
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
