//! One-line reads over gRPC for what tests check after a write: the
//! message, or `None` where the service answers that nothing is there.

use curity_dynamodb::proto::{
    GetSessionRequest, GetTokenByHashRequest, Session, Token,
    session_service_client::SessionServiceClient, token_service_client::TokenServiceClient,
};
use tonic::transport::Channel;

use super::Answer;

/// The session `id` (default tenant).
pub async fn session(c: &mut SessionServiceClient<Channel>, id: &str) -> Option<Session> {
    let req = GetSessionRequest { id: id.into() };
    c.get_session(req).await.answer("get session").session
}

/// The token of `hash` (default tenant).
pub async fn token(c: &mut TokenServiceClient<Channel>, hash: &str) -> Option<Token> {
    let req = GetTokenByHashRequest {
        token_hash: hash.into(),
    };
    c.get_token_by_hash(req).await.answer("get token").token
}
