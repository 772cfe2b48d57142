//! Listing and counting accounts with SCIM filters, planned as the plugin
//! plans them (§13.3 of the layout), with cursor pagination.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    Account, Accounts, PK,
    plan::{DEFAULT_PAGE, MAX_PAGE, Sort, check_sortable, scan_filter},
};
use crate::store::{
    StoreError,
    codec::{Item, s},
    cursor::{self, Cursor},
    keys::{self, Tenant},
    query::{
        Plan, QuerySpec,
        run::{self, Step},
    },
};

pub struct AccountPage {
    pub accounts: Vec<Account>,
    pub next: Option<String>,
}

/// What a run of the plan found.
struct Collected {
    /// The matches kept (`List` only).
    hits: Vec<Hit>,
    matched: u64,
    /// Where the next page starts, when there is one.
    next: Option<Cursor>,
    /// Stopped at the read budget.
    truncated: bool,
}

/// One matching item and where it sits (query, position key).
struct Hit {
    item: Item,
    query: usize,
}

impl Accounts<'_> {
    pub async fn list(
        &self,
        tenant: Tenant<'_>,
        filter: &str,
        sort: Option<Sort>,
        count: Option<usize>,
        cursor_text: &str,
    ) -> Result<AccountPage, StoreError> {
        let size = run::page_size(count, DEFAULT_PAGE, MAX_PAGE);
        let binding = format!("accounts|{}|{filter}|{sort:?}", tenant.id().unwrap_or(""));
        let start = if cursor_text.trim().is_empty() {
            Cursor {
                query: 0,
                after: None,
            }
        } else {
            cursor::decode(cursor_text, &binding)?
        };
        let plan = self.plan(tenant, filter)?;
        if let Some(sort) = sort {
            check_sortable(&plan, sort)?;
        }
        let forward = !sort.is_some_and(|s| s.descending);
        let Collected { hits, next, .. } = self
            .collect(tenant, &plan, start, Some(size), forward)
            .await?;
        let accounts = hits
            .into_iter()
            .map(|h| self.stored_from_item(h.item).map(|s| s.account))
            .collect::<Result<_, _>>()?;
        Ok(AccountPage {
            accounts,
            next: next.map(|c| cursor::encode(&c, &binding)),
        })
    }

    /// The number of matches, and whether counting stopped at
    /// `dynamodb.max_items_read_per_request` (then a lower bound).
    pub async fn count(&self, tenant: Tenant<'_>, filter: &str) -> Result<(u64, bool), StoreError> {
        let plan = self.plan(tenant, filter)?;
        let start = Cursor {
            query: 0,
            after: None,
        };
        let c = self.collect(tenant, &plan, start, None, true).await?;
        Ok((c.matched, c.truncated))
    }

    /// Runs the plan from `start`, collecting matches until `limit`. With
    /// no limit (`Count`) matches are only counted: no item outlives its
    /// page, so memory stays that of one page whatever the count. Reading
    /// stops after the page that reaches `dynamodb.max_items_read_per_request`
    /// items read: the result is then truncated, and the cursor resumes
    /// after that page.
    async fn collect(
        &self,
        tenant: Tenant<'_>,
        plan: &Plan,
        start: Cursor,
        limit: Option<usize>,
        forward: bool,
    ) -> Result<Collected, StoreError> {
        let queries: &[QuerySpec] = match plan {
            Plan::Queries(q) => q,
            Plan::Scan { .. } => &[],
        };
        let steps = queries.len().max(1);
        if start.query >= steps {
            return Err(StoreError::invalid(
                "page.cursor",
                "does not fit this filter",
            ));
        }
        // One match beyond the page tells whether a next page exists.
        let want = limit.map(|l| l + 1);
        let mut hits: Vec<Hit> = Vec::new();
        let mut matched: u64 = 0;
        let budget = self.0.settings().max_items_read_per_request;
        let mut read: u64 = 0;
        let mut stopped: Option<Cursor> = None;
        let client = self.0.client().await?;
        let scan = match plan {
            Plan::Scan { products } => Some(scan_filter(tenant, products)),
            Plan::Queries(_) => None,
        };
        'steps: for step in start.query..steps {
            let mut exclusive_start = if step == start.query {
                start.after.clone()
            } else {
                None
            };
            let query = Step::of(plan, step, scan.as_ref());
            // A table-key lookup reads one item at most: one request, no
            // limit, nothing to resume (servers disagree on resuming "after"
            // a hash-only key: Dynoxide returns the item again).
            let single = queries.get(step).is_some_and(|q| q.index.is_none());
            loop {
                // No page reads past the budget (a lookup reads one item).
                let left = budget.saturating_sub(read).max(1);
                let page_limit = match want {
                    _ if single => None,
                    Some(w) => Some(((w - hits.len()).max(1) as u64).min(left)),
                    None => Some(left),
                };
                // A lookup never resumes, whatever a cursor says.
                let from = exclusive_start.take().filter(|_| !single);
                let page = query
                    .page(&self.0, &client, from, page_limit, forward, false)
                    .await?;
                read += page.read;
                for mut item in page.items {
                    complete_initials(tenant, &mut item);
                    if !run::keep(plan, step, &item) {
                        continue;
                    }
                    matched += 1;
                    if limit.is_none() {
                        continue;
                    }
                    hits.push(Hit { item, query: step });
                    if want.is_some_and(|w| hits.len() >= w) {
                        break 'steps;
                    }
                }
                let next = page.next.filter(|_| !single);
                if read >= budget && (next.is_some() || step + 1 < steps) {
                    stopped = Some(match next {
                        Some(k) => Cursor {
                            query: step,
                            after: Some(k),
                        },
                        None => Cursor {
                            query: step + 1,
                            after: None,
                        },
                    });
                    break 'steps;
                }
                match next {
                    Some(k) => exclusive_start = Some(k),
                    None => break,
                }
            }
        }
        if let Some(cursor) = stopped {
            return Ok(Collected {
                hits,
                matched,
                next: Some(cursor),
                truncated: true,
            });
        }
        let next = match limit {
            Some(l) if hits.len() > l => {
                hits.truncate(l);
                hits.last().map(|h| match queries.get(h.query) {
                    // A table-key lookup holds one item at most: the next
                    // match is in a later query (there is one, as a match
                    // followed). Resuming "after" the key inside the same
                    // lookup is a request servers answer differently
                    // (Dynoxide returns the item again).
                    Some(q) if q.index.is_none() => Cursor {
                        query: h.query + 1,
                        after: None,
                    },
                    _ => Cursor {
                        query: h.query,
                        after: Some(self.position(plan, queries, h)),
                    },
                })
            }
            _ => None,
        };
        Ok(Collected {
            hits,
            matched,
            next,
            truncated: false,
        })
    }

    /// The key an item occupies in the query that returned it.
    fn position(&self, plan: &Plan, queries: &[QuerySpec], hit: &Hit) -> Item {
        let keys: &[&str] = match plan {
            Plan::Scan { .. } => &[PK],
            Plan::Queries(_) => &queries[hit.query].position_keys,
        };
        keys.iter()
            .filter_map(|k| hit.item.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect()
    }
}

/// Secondary items (`un#`, `em#`, `pn#`) carry no initials: derive them
/// as the main item has them, so that filters on initials see the same
/// account whichever item a query returned.
fn complete_initials(tenant: Tenant<'_>, item: &mut Item) {
    for (source, target, kind) in [
        ("userName", "userNameInitial", keys::USER_NAME),
        ("email", "emailInitial", keys::EMAIL),
    ] {
        if item.contains_key(target) {
            continue;
        }
        if let Some(AttributeValue::S(v)) = item.get(source) {
            let initials = keys::initials(tenant, kind, v);
            item.insert(target.to_string(), s(initials));
        }
    }
}
