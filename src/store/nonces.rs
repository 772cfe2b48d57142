//! `curity-nonces`: `nonce` (hash key), `nonceValue`, `createdAt`,
//! `nonceTtl`, `nonceStatus` (`issued` / `consumed` / `expired`),
//! `consumedAt`, and `deletableAt` = `createdAt` + `nonceTtl` +
//! `dynamodb.ttl.nonces_retain_seconds`, written once.

use super::{
    Store, StoreError,
    accounts::now_epoch,
    codec::{self, Item, n, plus_retain, s},
    expr::{Cond, Update},
};

const ISSUED: &str = "issued";
const CONSUMED: &str = "consumed";
const EXPIRED: &str = "expired";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NonceStatus {
    Issued,
    Used,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonceState {
    pub value: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    /// As read, before any expiry marking (the plugin's contract).
    pub status: NonceStatus,
}

impl Store {
    pub async fn save_nonce(
        &self,
        nonce: &str,
        value: &str,
        created_at: i64,
        ttl_seconds: i64,
    ) -> Result<(), StoreError> {
        codec::check_key("nonce", nonce)?;
        if ttl_seconds < 0 {
            return Err(StoreError::invalid("ttl_seconds", "must not be negative"));
        }
        let table = &self.tables().nonces;
        let retain = self.settings().ttl.nonces_retain_seconds;
        let item = Item::from([
            ("nonce".to_string(), s(nonce)),
            ("nonceValue".to_string(), s(value)),
            ("createdAt".to_string(), n(created_at)),
            ("nonceTtl".to_string(), n(ttl_seconds)),
            ("nonceStatus".to_string(), s(ISSUED)),
            (
                "deletableAt".to_string(),
                n(plus_retain(created_at.saturating_add(ttl_seconds), retain)),
            ),
        ]);
        self.put_if_absent(table, "nonce", item, "nonce", "nonce")
            .await
    }

    /// Consistent read. An expired, still-issued nonce is marked `expired`
    /// in the table on the way; the state returned is the one read.
    pub async fn get_nonce(&self, nonce: &str) -> Result<Option<NonceState>, StoreError> {
        codec::check_key("nonce", nonce)?;
        let table = &self.tables().nonces;
        let Some(mut item) = self.get_consistent(table, "nonce", nonce).await? else {
            return Ok(None);
        };
        let created_at = codec::get_n(&item, table, "createdAt")?;
        let ttl = codec::get_n(&item, table, "nonceTtl")?;
        let consumed_at = codec::get_n(&item, table, "consumedAt").ok();
        let stored_status = codec::get_s(&mut item, table, "nonceStatus")?;
        let expires_at = created_at.saturating_add(ttl);
        if expires_at <= now_epoch() && stored_status == ISSUED {
            // Best effort, as the plugin: the read's answer does not depend on it.
            if let Err(e) = self.change_nonce_status(nonce, EXPIRED, None).await {
                tracing::debug!(error = %e, "marking an expired nonce failed");
            }
        }
        Ok(Some(NonceState {
            value: codec::get_s(&mut item, table, "nonceValue")?,
            created_at,
            expires_at,
            consumed_at,
            status: if stored_status == CONSUMED {
                NonceStatus::Used
            } else {
                NonceStatus::Issued
            },
        }))
    }

    /// `true` when the nonce was issued and is now consumed.
    pub async fn consume_nonce(&self, nonce: &str, consumed_at: i64) -> Result<bool, StoreError> {
        codec::check_key("nonce", nonce)?;
        self.change_nonce_status(nonce, CONSUMED, Some(consumed_at))
            .await
    }

    /// `issued` → `status`, only from `issued`; `deletableAt` untouched.
    async fn change_nonce_status(
        &self,
        nonce: &str,
        status: &str,
        consumed_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut update = Update::new().set("nonceStatus", s(status));
        if let Some(at) = consumed_at {
            update = update.set("consumedAt", n(at));
        }
        let only_issued = Cond::Exists("nonce").and(Cond::eq("nonceStatus", s(ISSUED)));
        self.update_if(
            &self.tables().nonces,
            ("nonce", nonce),
            &update,
            &only_issued,
        )
        .await
    }
}
