//! Finding delegations: by owner, all active ones, by SCIM filter (planned
//! over the table key and the owner and client indexes, §13.4 of the
//! layout), with offset paging as Curity's delegation data access pages;
//! and status changes for every delegation of an owner.

use std::{cmp::Ordering, collections::BinaryHeap, ops::ControlFlow};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use super::{
    CLIENT_INDEX, Delegation, Delegations, ISSUED, OWNER_INDEX, REVOKED, STATUSES, check_status,
    in_tenant,
};
use crate::store::{
    StoreError,
    codec::{self, Item, s},
    expr::{Cond, Update},
    filter::{Literal, Op},
    keys::Tenant,
    query::{
        self, AttrKind, AttrSpec, HashStyle, IndexSpec, KeyLayout, Plan, ResolvedTerm,
        run::{self, Step},
    },
    table::OnConflict,
};

pub const DEFAULT_COUNT: usize = 50;
pub const MAX_COUNT: usize = 1000;
/// A sorted listing holds `start_index + count` delegations while it reads.
pub const MAX_SORTED_WINDOW: usize = 10_000;
/// The plugin's cap on one bulk status change.
pub const MAX_BULK: usize = 200;
/// Actions per `TransactWriteItems` in a bulk status change.
const BATCH: usize = 100;

const fn attr(scim: &'static str, item: &'static str, kind: AttrKind) -> AttrSpec {
    AttrSpec { scim, item, kind }
}

/// SCIM attribute names accepted in delegation filters and sorts.
pub const DELEGATION_ATTRS: &[AttrSpec] = &[
    attr("userName", "owner", AttrKind::Str),
    attr("owner", "owner", AttrKind::Str),
    attr("scope", "scope", AttrKind::Str),
    attr("clientId", "clientId", AttrKind::Str),
    attr("client_id", "clientId", AttrKind::Str),
    attr("redirectUri", "redirectUri", AttrKind::Str),
    attr("redirect_uri", "redirectUri", AttrKind::Str),
    attr("status", "status", AttrKind::OneOf(STATUSES)),
    attr("expires", "expires", AttrKind::Num),
    attr("externalId", "id", AttrKind::Str),
    attr("tenantId", "tenantId", AttrKind::Str),
];

/// In the plugin's order (its `authorization-hash-index` entry is
/// unreachable: no filter attribute names it).
const INDEXES: &[IndexSpec] = &[
    IndexSpec {
        name: None,
        term_attr: "id",
        hash_key: "id",
        range_key: None,
        style: HashStyle::TableKey { kind: "" },
    },
    IndexSpec {
        name: Some(OWNER_INDEX),
        term_attr: "owner",
        hash_key: "owner",
        range_key: Some("status"),
        style: HashStyle::Initials,
    },
    IndexSpec {
        name: Some(CLIENT_INDEX),
        term_attr: "clientId",
        hash_key: "clientId",
        range_key: Some("status"),
        style: HashStyle::Initials,
    },
];

/// Delegation keys are the id itself.
struct DelegationKeys;

impl KeyLayout for DelegationKeys {
    fn hash_key(&self) -> &'static str {
        "id"
    }

    fn table_key(&self, _: Tenant<'_>, _: &'static str, value: &str) -> String {
        value.to_string()
    }

    fn value_of<'k>(&self, key: &'k str) -> &'k str {
        key
    }

    fn prefix_initials(&self, _: Tenant<'_>, _: &'static str, _: &str) -> Option<String> {
        None
    }
}

/// Which matches to return: skip `start`, take `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPage {
    pub start: usize,
    pub count: usize,
}

impl OffsetPage {
    pub fn new(start: u32, count: Option<u32>) -> Self {
        Self {
            start: start as usize,
            count: count.map_or(DEFAULT_COUNT, |c| (c as usize).min(MAX_COUNT)),
        }
    }
}

#[derive(Debug, Default)]
pub struct DelegationList {
    pub delegations: Vec<Delegation>,
    pub total: u64,
    pub truncated: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SetStatusOutcome {
    Updated(u32),
    /// More than [`MAX_BULK`] would change; nothing was changed.
    TooMany,
}

/// The term "belongs to the tenant", for the planner's products.
fn tenant_term(tenant: Tenant<'_>) -> ResolvedTerm {
    match tenant.id() {
        None => ResolvedTerm {
            attr: "tenantId",
            kind: AttrKind::Str,
            op: Op::Np,
            value: Literal::Null,
        },
        Some(t) => ResolvedTerm {
            attr: "tenantId",
            kind: AttrKind::Str,
            op: Op::Eq,
            value: Literal::Str(t.to_string()),
        },
    }
}

/// A sort position: missing values first, then numbers, then strings.
#[derive(Debug, Clone, PartialEq)]
enum SortVal {
    Missing,
    Num(f64),
    Str(String),
}

impl SortVal {
    fn of(item: &Item, attr: &str) -> Self {
        match item.get(attr) {
            Some(AttributeValue::S(v)) => Self::Str(v.clone()),
            Some(AttributeValue::N(v)) => v.parse().map_or(Self::Missing, Self::Num),
            _ => Self::Missing,
        }
    }

    fn cmp(&self, other: &Self) -> Ordering {
        use SortVal::*;
        match (self, other) {
            (Missing, Missing) => Ordering::Equal,
            (Missing, _) => Ordering::Less,
            (_, Missing) => Ordering::Greater,
            (Num(a), Num(b)) => a.total_cmp(b),
            (Num(_), Str(_)) => Ordering::Less,
            (Str(_), Num(_)) => Ordering::Greater,
            (Str(a), Str(b)) => a.cmp(b),
        }
    }
}

/// One match in a sorted window: ordered by value (reversed when
/// descending), then by arrival, so equal values keep index order.
struct Ranked {
    value: SortVal,
    descending: bool,
    seq: u64,
    item: Item,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_value = self.value.cmp(&other.value);
        let by_value = if self.descending {
            by_value.reverse()
        } else {
            by_value
        };
        by_value.then(self.seq.cmp(&other.seq))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

/// A sort: the item attribute and the direction.
#[derive(Debug, Clone, Copy)]
pub struct SortBy {
    attr: &'static str,
    descending: bool,
}

impl SortBy {
    /// `name` is a SCIM attribute of [`DELEGATION_ATTRS`]; empty: no sort.
    pub fn parse(name: &str, descending: bool) -> Result<Option<Self>, StoreError> {
        if name.trim().is_empty() {
            return Ok(None);
        }
        let spec = DELEGATION_ATTRS
            .iter()
            .find(|a| a.scim.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                StoreError::invalid(
                    "sort_by",
                    format!("unknown attribute '{name}' used for sorting"),
                )
            })?;
        Ok(Some(Self {
            attr: spec.item,
            descending,
        }))
    }
}

impl Delegations<'_> {
    /// The owner's issued delegations in this tenant, in index order.
    pub async fn by_owner(
        &self,
        tenant: Tenant<'_>,
        owner: &str,
        page: OffsetPage,
    ) -> Result<DelegationList, StoreError> {
        codec::check_key("owner", owner)?;
        let step = owner_query(tenant, owner, ISSUED, None);
        self.page_of(&[step], None, page).await
    }

    pub async fn count_by_owner(
        &self,
        tenant: Tenant<'_>,
        owner: &str,
    ) -> Result<(u64, bool), StoreError> {
        codec::check_key("owner", owner)?;
        run::count(&self.0, &owner_query(tenant, owner, ISSUED, None)).await
    }

    /// Issued delegations of this tenant: a scan.
    pub async fn active(
        &self,
        tenant: Tenant<'_>,
        page: OffsetPage,
    ) -> Result<DelegationList, StoreError> {
        self.check_scans_allowed()?;
        self.page_of(&[active_scan(tenant)], None, page).await
    }

    pub async fn count_active(&self, tenant: Tenant<'_>) -> Result<(u64, bool), StoreError> {
        self.check_scans_allowed()?;
        run::count(&self.0, &active_scan(tenant)).await
    }

    /// A SCIM filter, planned as the plugin plans it; every alternative is
    /// confined to the tenant (the plugin's no-filter listing is not).
    pub async fn list(
        &self,
        tenant: Tenant<'_>,
        filter: &str,
        sort: Option<SortBy>,
        page: OffsetPage,
    ) -> Result<DelegationList, StoreError> {
        let mut products = query::parse_filter(filter, DELEGATION_ATTRS, tenant)?;
        for p in &mut products {
            p.push(tenant_term(tenant));
        }
        let plan = query::plan(products, INDEXES, &DelegationKeys, tenant)?;
        let steps: Vec<Step> = match &plan {
            Plan::Queries(q) => (0..q.len()).map(|i| Step::of(&plan, i, None)).collect(),
            Plan::Scan { products } => {
                self.check_scans_allowed()?;
                vec![Step::scan(query::filter_cond(products).as_ref()).from_input("filter")]
            }
        };
        self.page_of(&steps, Some((&plan, sort)), page).await
    }

    /// Where `status` changes for the owner's delegations in the other
    /// status (optionally of one client), at most [`MAX_BULK`] of them, in
    /// transactions of [`BATCH`]. A failing batch leaves the earlier ones
    /// applied; the same call then completes the rest.
    pub async fn set_status_by_owner(
        &self,
        tenant: Tenant<'_>,
        owner: &str,
        client_id: Option<&str>,
        status: &str,
    ) -> Result<SetStatusOutcome, StoreError> {
        codec::check_key("owner", owner)?;
        if let Some(c) = client_id {
            codec::check_key("client_id", c)?;
        }
        check_status("status", status)?;
        let from = if status == REVOKED { ISSUED } else { REVOKED };
        let step = owner_query(tenant, owner, from, client_id);
        let mut ids = Vec::new();
        let truncated = run::walk(&self.0, &[step], true, |_, item| {
            if let Some(AttributeValue::S(id)) = item.get("id") {
                ids.push(id.clone());
            }
            if ids.len() > MAX_BULK {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await?;
        if ids.len() > MAX_BULK {
            return Ok(SetStatusOutcome::TooMany);
        }
        if truncated {
            return Err(StoreError::NotSupportedByLayout(format!(
                "finding the owner's delegations read more than \
                 dynamodb.max_items_read_per_request items ({}) without an answer",
                self.0.settings().max_items_read_per_request
            )));
        }
        for batch in ids.chunks(BATCH) {
            let actions = batch
                .iter()
                .map(|id| Ok((self.status_action(tenant, id, status)?, OnConflict::Moved)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.0.transact(actions, "delegation").await?;
        }
        Ok(SetStatusOutcome::Updated(ids.len() as u32))
    }

    /// `SET status` on an existing delegation of the tenant (the plugin's
    /// update has no condition: one the TTL removed meanwhile would come
    /// back as a stub).
    fn status_action(
        &self,
        tenant: Tenant<'_>,
        id: &str,
        status: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        self.0.tx_update(
            self.0.key(id),
            &Update::new().set("status", s(status)),
            Some(&self.0.exists().and(in_tenant(tenant))),
        )
    }

    fn check_scans_allowed(&self) -> Result<(), StoreError> {
        if self.0.settings().allow_table_scans {
            return Ok(());
        }
        Err(StoreError::NotSupportedByLayout(
            "this listing needs a table scan, which is not allowed \
             (dynamodb.allow_table_scans = false); filter on owner, client_id or externalId \
             with eq"
                .into(),
        ))
    }

    /// Runs `steps` (one plan's, when `plan` is given: its exact re-check,
    /// de-duplication and sort apply), keeping only the page's window.
    async fn page_of(
        &self,
        steps: &[Step],
        plan: Option<(&Plan, Option<SortBy>)>,
        page: OffsetPage,
    ) -> Result<DelegationList, StoreError> {
        let sort = plan.and_then(|(_, s)| s);
        let window = page.start.saturating_add(page.count);
        if sort.is_some() && window > MAX_SORTED_WINDOW {
            return Err(StoreError::invalid(
                "page.start_index",
                format!("a sorted listing reaches at most {MAX_SORTED_WINDOW} matches deep"),
            ));
        }
        let forward = true;
        let mut total: u64 = 0;
        let mut kept: Vec<Item> = Vec::new();
        let mut ranked: BinaryHeap<Ranked> = BinaryHeap::new();
        let truncated = run::walk(&self.0, steps, forward, |step, item| {
            if let Some((plan, _)) = plan
                && !run::keep(plan, step, &item)
            {
                return ControlFlow::Continue(());
            }
            let seq = total;
            total += 1;
            match sort {
                Some(SortBy { attr, descending }) => {
                    ranked.push(Ranked {
                        value: SortVal::of(&item, attr),
                        descending,
                        seq,
                        item,
                    });
                    if ranked.len() > window {
                        ranked.pop();
                    }
                }
                None => {
                    let at = seq as usize;
                    if at >= page.start && at < window {
                        kept.push(item);
                    }
                }
            }
            ControlFlow::Continue(())
        })
        .await?;
        let items: Vec<Item> = match sort {
            Some(_) => ranked
                .into_sorted_vec()
                .into_iter()
                .skip(page.start)
                .map(|r| r.item)
                .collect(),
            None => kept,
        };
        let delegations = items
            .into_iter()
            .map(|i| self.decode_checked(i))
            .collect::<Result<_, _>>()?;
        Ok(DelegationList {
            delegations,
            total,
            truncated,
        })
    }
}

/// The owner's delegations in `status`, of this tenant (and client).
fn owner_query(tenant: Tenant<'_>, owner: &str, status: &str, client_id: Option<&str>) -> Step {
    let key = Cond::eq("owner", s(owner)).and(Cond::eq("status", s(status)));
    let mut filter = in_tenant(tenant);
    if let Some(c) = client_id {
        filter = filter.and(Cond::eq("clientId", s(c)));
    }
    Step::query(Some(OWNER_INDEX), &key, Some(&filter))
}

fn active_scan(tenant: Tenant<'_>) -> Step {
    Step::scan(Some(&Cond::eq("status", s(ISSUED)).and(in_tenant(tenant))))
}

#[cfg(test)]
mod tests;
