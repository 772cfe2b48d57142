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
        let retain = self.0.settings().ttl.nonces_retain_seconds;
        let item = self.0.encode(&NonceItem {
            nonce: Cow::Borrowed(nonce),
            nonce_value: Cow::Borrowed(value),
            created_at,
            nonce_ttl: ttl_seconds,
            nonce_status: Cow::Borrowed(ISSUED),
            consumed_at: None,
            deletable_at: Some(plus_retain(created_at.saturating_add(ttl_seconds), retain)),
        })?;
        self.0.put_if_absent(item, "nonce", "nonce").await
    }

    pub async fn get(&self, nonce: &str) -> Result<Option<NonceState>, StoreError> {
        codec::check_key("nonce", nonce)?;
        let Some(item) = self.0.get(self.0.key(nonce)).await? else {
            return Ok(None);
        };
        let item: NonceItem<'static> = self.0.decode(item)?;
        let expires_at = item.created_at.saturating_add(item.nonce_ttl);
        if expires_at <= now_epoch()
            && item.nonce_status == ISSUED
            && let Err(e) = self.change_status(nonce, EXPIRED, None, None).await
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

    /// `true` when the nonce was issued, unexpired and is now consumed. An
    /// expired nonce is not consumed (the plugin consumes it): the write is
    /// conditioned on the `createdAt` and `nonceTtl` the expiry was judged
    /// from, so it cannot consume a nonce re-saved meanwhile.
    pub async fn consume(&self, nonce: &str, consumed_at: i64) -> Result<bool, StoreError> {
        codec::check_key("nonce", nonce)?;
        let Some(item) = self.0.read::<NonceItem>(self.0.key(nonce)).await? else {
            return Ok(false);
        };
        if item.nonce_status != ISSUED {
            return Ok(false);
        }
        if item.created_at.saturating_add(item.nonce_ttl) <= now_epoch() {
            if let Err(e) = self.change_status(nonce, EXPIRED, None, None).await {
                tracing::debug!(error = %e, "marking an expired nonce failed");
            }
            return Ok(false);
        }
        let judged = (item.created_at, item.nonce_ttl);
        self.change_status(nonce, CONSUMED, Some(consumed_at), Some(judged))
            .await
    }

    /// Moves an issued nonce to `status`; with `judged`, only while its
    /// `createdAt` and `nonceTtl` are still the ones read.
    async fn change_status(
        &self,
        nonce: &str,
        status: &str,
        consumed_at: Option<i64>,
        judged: Option<(i64, i64)>,
    ) -> Result<bool, StoreError> {
        let mut update = Update::new().set("nonceStatus", s(status));
        if let Some(at) = consumed_at {
            update = update.set("consumedAt", n(at));
        }
        let mut only_issued = self.0.exists().and(Cond::eq("nonceStatus", s(ISSUED)));
        if let Some((created_at, ttl)) = judged {
            only_issued = only_issued
                .and(Cond::eq("createdAt", n(created_at)))
                .and(Cond::eq("nonceTtl", n(ttl)));
        }
        self.0
            .update_if(self.0.key(nonce), &update, &only_issued)
            .await
    }
}
