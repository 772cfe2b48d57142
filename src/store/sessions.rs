//! `curity-sessions`: `id` (hash key), `sessionData` (opaque), `expiresAt`
//! and `deletableAt` (epoch seconds). Global: sessions ignore tenants.

use super::{
    Store, StoreError,
    codec::{self, Item, n, plus_retain, s},
    expr::{Cond, Update},
};
use crate::aws::error::classify;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub data: String,
    pub expires_at: i64,
}

impl Session {
    fn validate(&self) -> Result<(), StoreError> {
        codec::check_key("session.id", &self.id)?;
        if self.expires_at < 0 {
            return Err(StoreError::invalid(
                "session.expires_at",
                "must be epoch seconds (not negative)",
            ));
        }
        Ok(())
    }
}

impl Store {
    fn session_item(&self, session: &Session) -> Item {
        let retain = self.settings().ttl.sessions_retain_seconds;
        Item::from([
            ("id".to_string(), s(&session.id)),
            ("sessionData".to_string(), s(&session.data)),
            ("expiresAt".to_string(), n(session.expires_at)),
            (
                "deletableAt".to_string(),
                n(plus_retain(session.expires_at, retain)),
            ),
        ])
    }

    /// Consistent read; no expiry check (the caller judges expiry).
    pub async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        codec::check_key("id", id)?;
        let table = &self.tables().sessions;
        let Some(mut item) = self.get_consistent(table, "id", id).await? else {
            return Ok(None);
        };
        Ok(Some(Session {
            expires_at: codec::get_n(&item, table, "expiresAt")?,
            data: codec::get_s(&mut item, table, "sessionData")?,
            id: codec::get_s(&mut item, table, "id")?,
        }))
    }

    pub async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        session.validate()?;
        let item = self.session_item(session);
        self.put_if_absent(&self.tables().sessions, "id", item, "session", "session.id")
            .await
    }

    /// Full replace; creates the session when missing (as the plugin does).
    pub async fn update_session(&self, session: &Session) -> Result<(), StoreError> {
        session.validate()?;
        let table = &self.tables().sessions;
        let client = self.client().await?;
        client
            .put_item()
            .table_name(table)
            .set_item(Some(self.session_item(session)))
            .send()
            .await
            .map_err(|e| classify(&e, self.at("dynamodb:PutItem", table)))?;
        Ok(())
    }

    /// Returns false (and writes nothing) when no session has that id.
    pub async fn update_session_expiration(
        &self,
        id: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        codec::check_key("id", id)?;
        if expires_at < 0 {
            return Err(StoreError::invalid(
                "expires_at",
                "must be epoch seconds (not negative)",
            ));
        }
        let retain = self.settings().ttl.sessions_retain_seconds;
        let update = Update::new()
            .set("expiresAt", n(expires_at))
            .set("deletableAt", n(plus_retain(expires_at, retain)));
        self.update_if(
            &self.tables().sessions,
            ("id", id),
            &update,
            &Cond::Exists("id"),
        )
        .await
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        codec::check_key("id", id)?;
        let table = &self.tables().sessions;
        let client = self.client().await?;
        client
            .delete_item()
            .table_name(table)
            .key("id", s(id))
            .send()
            .await
            .map_err(|e| classify(&e, self.at("dynamodb:DeleteItem", table)))?;
        Ok(())
    }
}
