//! `curity-nonces`: `nonce` (hash key), `nonceValue`, `createdAt`,
//! `nonceTtl`, `nonceStatus` (`issued` / `consumed` / `expired`),
//! `consumedAt`, and `deletableAt` = `createdAt` + `nonceTtl` +
//! `dynamodb.ttl.nonces_retain_seconds`, written once.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{
    StoreError,
    codec::{self, n, now_epoch, plus_retain, s},
    expr::{Cond, Update},
    handle,
};

handle!(
    /// `store.nonces()`.
    Nonces
);

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
    pub status: NonceStatus,
}

/// The item as the plugin writes it; `consumedAt` appears when consumed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NonceItem<'a> {
    nonce: Cow<'a, str>,
    nonce_value: Cow<'a, str>,
    #[serde(with = "codec::epoch")]
    created_at: i64,
    #[serde(with = "codec::epoch")]
    nonce_ttl: i64,
    nonce_status: Cow<'a, str>,
    #[serde(
        default,
        with = "codec::epoch::option",
        skip_serializing_if = "Option::is_none"
    )]
    consumed_at: Option<i64>,
    #[serde(default, with = "codec::epoch::option")]
    deletable_at: Option<i64>,
}

impl Nonces<'_> {
    pub async fn save(
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
        let retain = self.settings().ttl.nonces_retain_seconds;
        let item = self.encode(&NonceItem {
            nonce: Cow::Borrowed(nonce),
            nonce_value: Cow::Borrowed(value),
            created_at,
            nonce_ttl: ttl_seconds,
            nonce_status: Cow::Borrowed(ISSUED),
            consumed_at: None,
            deletable_at: Some(plus_retain(created_at.saturating_add(ttl_seconds), retain)),
        })?;
        self.put_if_absent(item, "nonce", "nonce").await
    }

    pub async fn get(&self, nonce: &str) -> Result<Option<NonceState>, StoreError> {
        codec::check_key("nonce", nonce)?;
        let Some(item) = self.0.get(self.key(nonce)).await? else {
            return Ok(None);
        };
        let item: NonceItem<'static> = self.decode(item)?;
        let expires_at = item.created_at.saturating_add(item.nonce_ttl);
        if expires_at <= now_epoch()
            && item.nonce_status == ISSUED
            && let Err(e) = self.change_status(nonce, EXPIRED, None).await
        {
            tracing::debug!(error = %e, "marking an expired nonce failed");
        }
        Ok(Some(NonceState {
            value: item.nonce_value.into_owned(),
            created_at: item.created_at,
            expires_at,
            consumed_at: item.consumed_at,
            status: if item.nonce_status == CONSUMED {
                NonceStatus::Used
            } else {
                NonceStatus::Issued
            },
        }))
    }

    pub async fn consume(&self, nonce: &str, consumed_at: i64) -> Result<bool, StoreError> {
        codec::check_key("nonce", nonce)?;
        self.change_status(nonce, CONSUMED, Some(consumed_at)).await
    }

    async fn change_status(
        &self,
        nonce: &str,
        status: &str,
        consumed_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut update = Update::new().set("nonceStatus", s(status));
        if let Some(at) = consumed_at {
            update = update.set("consumedAt", n(at));
        }
        let only_issued = self.exists().and(Cond::eq("nonceStatus", s(ISSUED)));
        self.update_if(self.key(nonce), &update, &only_issued).await
    }
}
