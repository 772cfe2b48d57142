//! `tables backfill-initials`: accounts written by plugin versions before
//! October 2022 have no `userNameInitial` / `emailInitial` on their main
//! item, so the initials indexes (prefix and initials filters) do not see
//! them. This adds what is missing, computed as the plugin computes it.
//!
//! Idempotent (only main items lacking initials are touched), resumable
//! (`start_after` a main item key printed with the progress), rate-limited,
//! and never loses a concurrent write: each update is conditional on the
//! `version`, `userName` and `email` it was computed from, and an item
//! that changed meanwhile is skipped and counted (a re-run picks it up).
//! `version` is not bumped: the account's content does not change.

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Select};

use super::{Accounts, PK};
use crate::aws::error::SdkResultExt;
use crate::store::{
    StoreError,
    codec::{Item, s},
    expr::{Cond, Expr, Update},
    keys::{self, Tenant},
};

/// Items read per scan page.
const PAGE: i32 = 100;

#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// Count what would change, write nothing.
    pub dry_run: bool,
    /// Most updates per second (at least 1).
    pub rate_per_second: u32,
    /// Resume after this main item key (`ai#...`), as progress printed it.
    pub start_after: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillProgress {
    /// Main items lacking initials found so far.
    pub found: u64,
    pub updated: u64,
    /// Changed by another writer between read and update.
    pub skipped_changed: u64,
    /// The key to resume after, when the scan is not finished.
    pub resume_after: Option<String>,
}

/// Main items (`ai#` / `ai(t)#`) missing an initial their values call for.
pub fn missing_initials() -> Cond {
    let main_item = Cond::BeginsWith(PK, s(keys::ACCOUNT_ID));
    let missing = Cond::NotExists("userNameInitial")
        .or(Cond::Exists("email").and(Cond::NotExists("emailInitial")));
    main_item.and(missing)
}

/// A bounded sample for `doctor`: how many of the first `sample` items of
/// the accounts table are main items lacking initials. `(found, scanned)`.
pub async fn sample_missing_initials(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    sample: i32,
) -> Result<
    (u64, u64),
    aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::scan::ScanError>,
> {
    let mut e = Expr::new();
    let filter = e.cond(&missing_initials());
    let (names, values) = e.into_parts();
    let out = client
        .scan()
        .table_name(table)
        .filter_expression(filter)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .select(Select::Count)
        .limit(sample)
        .send()
        .await?;
    Ok((out.count.max(0) as u64, out.scanned_count.max(0) as u64))
}

/// The update an item needs, with the condition that it is still the
/// item the initials were computed from. `None` when nothing is missing
/// or the item has no user name to compute from.
fn plan_update(item: &Item) -> Option<(String, Update, Cond)> {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) if !v.is_empty() => Some(v.as_str()),
        _ => None,
    };
    let pk = text(PK)?;
    let user_name = text("userName")?;
    let tenant = match text("tenantId") {
        Some(t) => Tenant::Custom(t),
        None => Tenant::Default,
    };
    let mut update = Update::new();
    let mut needed = false;
    if !item.contains_key("userNameInitial") {
        update = update.set(
            "userNameInitial",
            s(keys::initials(tenant, keys::USER_NAME, user_name)),
        );
        needed = true;
    }
    let email = text("email");
    if let Some(e) = email
        && !item.contains_key("emailInitial")
    {
        update = update.set("emailInitial", s(keys::initials(tenant, keys::EMAIL, e)));
        needed = true;
    }
    if !needed {
        return None;
    }
    let version = match item.get("version") {
        Some(v @ AttributeValue::N(_)) => Cond::eq("version", v.clone()),
        _ => Cond::NotExists("version"),
    };
    let email = match email {
        Some(e) => Cond::eq("email", s(e)),
        None => Cond::NotExists("email"),
    };
    let unchanged = Cond::Exists(PK)
        .and(version)
        .and(Cond::eq("userName", s(user_name)))
        .and(email);
    Some((pk.to_string(), update, unchanged))
}

impl Accounts<'_> {
    /// Runs the back-fill; `progress` is called after every scanned page.
    pub async fn backfill_initials(
        &self,
        options: &BackfillOptions,
        mut progress: impl FnMut(&BackfillProgress),
    ) -> Result<BackfillProgress, StoreError> {
        let table = self.name();
        let pause = Duration::from_secs_f64(1.0 / f64::from(options.rate_per_second.max(1)));
        let mut e = Expr::new();
        let filter = e.cond(&missing_initials());
        let (names, values) = e.into_parts();
        let mut state = BackfillProgress::default();
        let mut start = options
            .start_after
            .as_ref()
            .map(|pk| Item::from([(PK.to_string(), s(pk))]));
        loop {
            // The pooled client goes back before the updates of the page.
            let page = {
                let client = self.0.client().await?;
                client
                    .scan()
                    .table_name(table)
                    .filter_expression(&filter)
                    .set_expression_attribute_names(names.clone())
                    .set_expression_attribute_values(values.clone())
                    .set_exclusive_start_key(start.take())
                    .limit(PAGE)
                    .send()
                    .await
                    .classify(self.0.at("dynamodb:Scan"))?
            };
            for item in page.items.unwrap_or_default() {
                let Some((pk, update, unchanged)) = plan_update(&item) else {
                    continue;
                };
                state.found += 1;
                if options.dry_run {
                    continue;
                }
                if self
                    .0
                    .update_if(self.0.key(&pk), &update, &unchanged)
                    .await?
                {
                    state.updated += 1;
                } else {
                    state.skipped_changed += 1;
                }
                tokio::time::sleep(pause).await;
            }
            start = page.last_evaluated_key.filter(|k| !k.is_empty());
            state.resume_after = start.as_ref().and_then(|k| match k.get(PK) {
                Some(AttributeValue::S(pk)) => Some(pk.clone()),
                _ => None,
            });
            progress(&state);
            if start.is_none() {
                return Ok(state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, &str)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| {
                let v = if *k == "version" {
                    AttributeValue::N((*v).into())
                } else {
                    s(*v)
                };
                (k.to_string(), v)
            })
            .collect()
    }

    fn render(c: &Cond) -> String {
        Expr::new().cond(c)
    }

    #[test]
    fn the_filter_selects_main_items_missing_an_initial() {
        assert_eq!(
            render(&missing_initials()),
            "begins_with(#pk, :v1) AND (attribute_not_exists(#userNameInitial) OR \
             attribute_exists(#email) AND attribute_not_exists(#emailInitial))"
        );
    }

    #[test]
    fn updates_add_only_what_is_missing_in_the_tenants_form_guarded_by_what_was_read() {
        let (pk, update, guard) = plan_update(&item(&[
            ("pk", "ai(acme)#1"),
            ("tenantId", "acme"),
            ("userName", "janedoe"),
            ("email", "jane@x.io"),
            ("version", "3"),
        ]))
        .expect("update");
        assert_eq!(pk, "ai(acme)#1");
        let mut e = Expr::new();
        assert_eq!(
            e.update(&update),
            "SET #userNameInitial = :v1, #emailInitial = :v2"
        );
        assert_eq!(
            e.cond(&guard),
            "attribute_exists(#pk) AND #version = :v3 AND #userName = :v4 AND #email = :v5"
        );
        assert_eq!(e.values().unwrap()[":v1"], s("un(acme)#jan"));
        assert_eq!(e.values().unwrap()[":v2"], s("em(acme)#jan"));
        // Complete items, and items with nothing to compute from, are left.
        assert!(
            plan_update(&item(&[
                ("pk", "ai#1"),
                ("userName", "jane"),
                ("userNameInitial", "jan")
            ]))
            .is_none()
        );
        assert!(plan_update(&item(&[("pk", "ai#1")])).is_none());
        // No version and no email: guarded by their absence.
        let (_, update, guard) =
            plan_update(&item(&[("pk", "ai#2"), ("userName", "bo")])).expect("update");
        let mut e = Expr::new();
        assert_eq!(e.update(&update), "SET #userNameInitial = :v1");
        assert_eq!(
            e.cond(&guard),
            "attribute_exists(#pk) AND attribute_not_exists(#version) AND #userName = :v2 \
             AND attribute_not_exists(#email)"
        );
    }
}
