//! Messages tests write, with every field a plugin-written item has.

use curity_dynamodb::{
    api::convert::json_to_struct,
    proto::{CreateAccountRequest, NewAccount, Tenant, Token},
};
use serde_json::Value;

/// Creates an active account `user_name` in `tenant` ("" the default one),
/// with `attributes` (a JSON object) when given.
pub fn new_account(
    tenant: &str,
    user_name: &str,
    attributes: Option<Value>,
) -> CreateAccountRequest {
    let attributes = attributes.map(|a| json_to_struct(a.as_object().cloned().unwrap_or_default()));
    CreateAccountRequest {
        tenant: (!tenant.is_empty()).then(|| Tenant { id: tenant.into() }),
        account: Some(NewAccount {
            user_name: user_name.into(),
            active: true,
            attributes,
            ..Default::default()
        }),
        password_hash: None,
    }
}

/// An issued opaque access token of `hash`, with claims data.
pub fn token(hash: &str) -> Token {
    Token {
        token_hash: hash.into(),
        id: Some("tid-1".into()),
        scope: Some("openid profile".into()),
        delegations_id: "d-1".into(),
        purpose: "access_token".into(),
        usage: "bearer".into(),
        format: "opaque".into(),
        status: "issued".into(),
        issuer: "https://idsvr".into(),
        subject: "jane".into(),
        audience: vec!["api-1".into(), "api-2".into()],
        data: Some(json_to_struct(
            serde_json::json!({"claims": {"a": 1}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )),
        created: 1_700_000_000,
        expires: 1_700_003_600,
        not_before: 1_700_000_000,
        ..Default::default()
    }
}
