//! `curity-sessions`: `id` (hash key), `sessionData` (opaque), `expiresAt`
//! and `deletableAt` (epoch seconds). Global: sessions ignore tenants.

use serde::{Deserialize, Serialize};

use super::{
    StoreError,
    codec::{self, MAX_ITEM_BYTES, n, plus_retain},
    expr::Update,
    handle,
};
use crate::schema::TTL_ATTRIBUTE;

handle!(
    /// `store.sessions()`.
    Sessions
);

/// A session, and the item as the plugin writes it (plus `deletableAt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    #[serde(rename = "sessionData")]
    pub data: String,
    #[serde(with = "codec::epoch")]
    pub expires_at: i64,
}

impl Session {
    fn validate(&self) -> Result<(), StoreError> {
        codec::check_key("session.id", &self.id)?;
        // DynamoDB's item limit, less room for the other attributes.
        if self.data.len() + self.id.len() > MAX_ITEM_BYTES - 256 {
            return Err(StoreError::invalid(
                "session.data",
                "the session would exceed DynamoDB's 400 KB item size",
            ));
        }
        if self.expires_at < 0 {
            return Err(StoreError::invalid(
                "session.expires_at",
                "must be epoch seconds (not negative)",
            ));
        }
        Ok(())
    }
}

impl Sessions<'_> {
    fn item(&self, session: &Session) -> Result<codec::Item, StoreError> {
        let retain = self.0.settings().ttl.sessions_retain_seconds;
        let mut item = self.0.encode(session)?;
        item.insert(
            TTL_ATTRIBUTE.into(),
            n(plus_retain(session.expires_at, retain)),
        );
        Ok(item)
    }

    /// Consistent read; no expiry check (the caller judges expiry).
    pub async fn get(&self, id: &str) -> Result<Option<Session>, StoreError> {
        codec::check_key("id", id)?;
        self.0.read(self.0.key(id)).await
    }

    pub async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        session.validate()?;
        self.0
            .put_if_absent(self.item(session)?, "session", "session.id")
            .await
    }

    /// Full replace; creates the session when missing (as the plugin does).
    pub async fn update(&self, session: &Session) -> Result<(), StoreError> {
        session.validate()?;
        self.0.put(self.item(session)?).await
    }

    /// Returns false (and writes nothing) when no session has that id.
    pub async fn update_expiration(&self, id: &str, expires_at: i64) -> Result<bool, StoreError> {
        codec::check_key("id", id)?;
        if expires_at < 0 {
            return Err(StoreError::invalid(
                "expires_at",
                "must be epoch seconds (not negative)",
            ));
        }
        let retain = self.0.settings().ttl.sessions_retain_seconds;
        let update = Update::new()
            .set("expiresAt", n(expires_at))
            .set("deletableAt", n(plus_retain(expires_at, retain)));
        self.0
            .update_if(self.0.key(id), &update, &self.0.exists())
            .await
    }

    pub async fn delete(&self, id: &str) -> Result<(), StoreError> {
        codec::check_key("id", id)?;
        self.0.delete(self.0.key(id)).await
    }
}
