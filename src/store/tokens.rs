//! `curity-tokens`: one item per token, keyed by `tokenHash`; `audience` a
//! list of strings, `tokenData` a JSON string, `deletableAt` = `expires` +
//! `dynamodb.ttl.tokens_retain_seconds`. No delete: TTL removes tokens.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::{
    StoreError,
    codec::{self, n, plus_retain, s},
    expr::{Cond, Update},
    handle,
};
use crate::schema::TTL_ATTRIBUTE;

handle!(
    /// `store.tokens()`.
    Tokens
);

/// A token, and the item as the plugin writes it (plus `deletableAt`).
/// Reads are lenient where the plugin's are (a missing string is empty, a
/// missing number 0, `audience` may be a list, a string set or one string);
/// `status` and `tokenHash` are required. `tokenData` is JSON object text,
/// not a map (`codec::json_text`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    /// The API's rendering of this token, once per cached read.
    #[serde(skip)]
    pub rendered: crate::rendered::Rendered,
    pub token_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default)]
    pub delegations_id: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub usage: String,
    #[serde(default)]
    pub format: String,
    /// No status is no token Curity can use: malformed, not "".
    pub status: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default, deserialize_with = "one_or_many")]
    pub audience: Vec<String>,
    #[serde(rename = "tokenData", default, with = "codec::json_text")]
    pub data: Map<String, Value>,
    #[serde(default, with = "codec::epoch")]
    pub created: i64,
    #[serde(default, with = "codec::epoch")]
    pub expires: i64,
    #[serde(default, with = "codec::epoch")]
    pub not_before: i64,
}

/// Status names are lower-case identifiers (`issued`, `used`, `revoked`).
/// The constants of Curity's `TokenStatus`, as the plugin stores them
/// (`name()`, lower case). The plugin reads `status` with
/// `TokenStatus.valueOf`: any other value makes the token unreadable to it.
pub const TOKEN_STATUSES: &[&str] = &["issued", "used", REVOKED];

const REVOKED: &str = "revoked";

fn check_status(field: &'static str, status: &str) -> Result<(), StoreError> {
    if !TOKEN_STATUSES.contains(&status) {
        return Err(StoreError::invalid(
            field,
            "one of issued, used or revoked (Curity's TokenStatus)",
        ));
    }
    Ok(())
}

/// `audience` as the plugin writes it (L of S), as a string set, or as one
/// string written by another tool.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<String>),
        One(String),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::Many(v) => v,
        OneOrMany::One(s) => vec![s],
    })
}

impl Tokens<'_> {
    pub async fn create(&self, t: &Token) -> Result<(), StoreError> {
        codec::check_key("token.token_hash", &t.token_hash)?;
        check_status("token.status", &t.status)?;
        let retain = self.0.settings().ttl.tokens_retain_seconds;
        let mut item = self.0.encode(t)?;
        item.insert(TTL_ATTRIBUTE.into(), n(plus_retain(t.expires, retain)));
        if codec::item_size(&item) > codec::MAX_ITEM_BYTES {
            return Err(StoreError::invalid(
                "token.data",
                "the token would exceed DynamoDB's 400 KB item size",
            ));
        }
        self.0
            .put_if_absent(item, "token", "token.token_hash")
            .await
    }

    /// Through the cache (README: the tokens row of the consistency
    /// contract); no expiry check.
    pub async fn get(&self, token_hash: &str) -> Result<Option<Arc<Token>>, StoreError> {
        codec::check_key("token_hash", token_hash)?;
        self.0.read_cached(self.0.key(token_hash)).await
    }

    /// 1 when the token exists and took the status, 0 otherwise. A revoked
    /// token stays revoked (the plugin accepts any transition, so a caller
    /// could bring a revoked token back): only `revoked` may be set on it.
    pub async fn set_status(&self, token_hash: &str, status: &str) -> Result<u32, StoreError> {
        codec::check_key("token_hash", token_hash)?;
        check_status("status", status)?;
        let mut allowed = self.0.exists();
        if status != REVOKED {
            allowed = allowed.and(Cond::eq("status", s(REVOKED)).not());
        }
        let updated = self
            .0
            .update_if(
                self.0.key(token_hash),
                &Update::new().set("status", s(status)),
                &allowed,
            )
            .await?;
        Ok(u32::from(updated))
    }
}
