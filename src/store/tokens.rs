//! `curity-tokens`: one item per token, keyed by `tokenHash`; `audience` a
//! list of strings, `tokenData` a JSON string, `deletableAt` = `expires` +
//! `dynamodb.ttl.tokens_retain_seconds`. No delete: TTL removes tokens.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};

use super::{
    Store, StoreError,
    codec::{self, Item, n, plus_retain, s},
    expr::{Cond, Update},
};

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub token_hash: String,
    pub id: Option<String>,
    pub scope: Option<String>,
    pub delegations_id: String,
    pub purpose: String,
    pub usage: String,
    pub format: String,
    pub status: String,
    pub issuer: String,
    pub subject: String,
    pub audience: Vec<String>,
    pub data: Map<String, Value>,
    pub created: i64,
    pub expires: i64,
    pub not_before: i64,
}

/// Status names are lower-case identifiers (`issued`, `used`, `revoked`).
/// The constants of Curity's `TokenStatus`, as the plugin stores them
/// (`name()`, lower case). The plugin reads `status` with
/// `TokenStatus.valueOf`: any other value makes the token unreadable to it.
pub const TOKEN_STATUSES: &[&str] = &["issued", "used", "revoked"];

fn check_status(field: &'static str, status: &str) -> Result<(), StoreError> {
    if !TOKEN_STATUSES.contains(&status) {
        return Err(StoreError::invalid(
            field,
            "one of issued, used or revoked (Curity's TokenStatus)",
        ));
    }
    Ok(())
}

impl Store {
    pub async fn create_token(&self, t: &Token) -> Result<(), StoreError> {
        codec::check_key("token.token_hash", &t.token_hash)?;
        check_status("token.status", &t.status)?;
        let table = &self.tables().tokens;
        let mut item = Item::from([
            ("tokenHash".to_string(), s(&t.token_hash)),
            ("delegationsId".to_string(), s(&t.delegations_id)),
            ("purpose".to_string(), s(&t.purpose)),
            ("usage".to_string(), s(&t.usage)),
            ("format".to_string(), s(&t.format)),
            ("status".to_string(), s(&t.status)),
            ("issuer".to_string(), s(&t.issuer)),
            ("subject".to_string(), s(&t.subject)),
            (
                "audience".to_string(),
                AttributeValue::L(t.audience.iter().map(s).collect()),
            ),
            (
                "tokenData".to_string(),
                s(Value::Object(t.data.clone()).to_string()),
            ),
            ("created".to_string(), n(t.created)),
            ("expires".to_string(), n(t.expires)),
            ("notBefore".to_string(), n(t.not_before)),
            (
                "deletableAt".to_string(),
                n(plus_retain(
                    t.expires,
                    self.settings().ttl.tokens_retain_seconds,
                )),
            ),
        ]);
        if let Some(id) = &t.id {
            item.insert("id".into(), s(id));
        }
        if let Some(scope) = &t.scope {
            item.insert("scope".into(), s(scope));
        }
        self.put_if_absent(table, "tokenHash", item, "token", "token.token_hash")
            .await
    }

    /// Consistent read; no expiry check.
    pub async fn get_token(&self, token_hash: &str) -> Result<Option<Token>, StoreError> {
        codec::check_key("token_hash", token_hash)?;
        let table = &self.tables().tokens;
        let Some(mut item) = self.get_consistent(table, "tokenHash", token_hash).await? else {
            return Ok(None);
        };
        let opt = |item: &mut Item, name: &str| match item.remove(name) {
            Some(AttributeValue::S(v)) => Some(v),
            _ => None,
        };
        let audience = match item.remove("audience") {
            Some(AttributeValue::L(l)) => l
                .into_iter()
                .filter_map(|v| match v {
                    AttributeValue::S(s) => Some(s),
                    _ => None,
                })
                .collect(),
            Some(AttributeValue::Ss(l)) => l,
            Some(AttributeValue::S(one)) => vec![one],
            _ => Vec::new(),
        };
        let data = match opt(&mut item, "tokenData") {
            None => Map::new(),
            Some(json) => match serde_json::from_str(&json) {
                Ok(Value::Object(m)) => m,
                _ => {
                    return Err(StoreError::MalformedItem {
                        table: table.clone(),
                        reason: "tokenData is not a JSON object".into(),
                    });
                }
            },
        };
        Ok(Some(Token {
            created: codec::get_n(&item, table, "created").unwrap_or(0),
            expires: codec::get_n(&item, table, "expires").unwrap_or(0),
            not_before: codec::get_n(&item, table, "notBefore").unwrap_or(0),
            id: opt(&mut item, "id"),
            scope: opt(&mut item, "scope"),
            delegations_id: opt(&mut item, "delegationsId").unwrap_or_default(),
            purpose: opt(&mut item, "purpose").unwrap_or_default(),
            usage: opt(&mut item, "usage").unwrap_or_default(),
            format: opt(&mut item, "format").unwrap_or_default(),
            // No status is no token Curity can use: malformed, not "".
            status: codec::get_s(&mut item, table, "status")?,
            issuer: opt(&mut item, "issuer").unwrap_or_default(),
            subject: opt(&mut item, "subject").unwrap_or_default(),
            token_hash: codec::get_s(&mut item, table, "tokenHash")?,
            audience,
            data,
        }))
    }

    /// 1 when the token exists and took the status, 0 otherwise.
    pub async fn set_token_status(
        &self,
        token_hash: &str,
        status: &str,
    ) -> Result<u32, StoreError> {
        codec::check_key("token_hash", token_hash)?;
        check_status("status", status)?;
        let updated = self
            .update_if(
                &self.tables().tokens,
                ("tokenHash", token_hash),
                &Update::new().set("status", s(status)),
                &Cond::Exists("tokenHash"),
            )
            .await?;
        Ok(u32::from(updated))
    }
}
