//! Listing and counting accounts with SCIM filters, planned as the plugin
//! plans them (§13.3 of the layout), with cursor pagination.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    Account, Accounts, PK,
    plan::{DEFAULT_PAGE, MAX_PAGE, Sort, check_sortable, scan_filter},
};
use crate::{
    aws::error::SdkResultExt,
    store::{
        StoreError,
        codec::{Item, s},
        cursor::{self, Cursor},
        expr::Expr,
        keys::{self, Tenant},
        query::{self, Plan, QuerySpec},
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
        let size = match count {
            None | Some(0) => DEFAULT_PAGE,
            Some(n) => n.min(MAX_PAGE),
        };
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
        let table = self.name();
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
        let budget = self.settings().max_items_read_per_request;
        let mut read: u64 = 0;
        let mut stopped: Option<Cursor> = None;
        let client = self.client().await?;
        'steps: for step in start.query..steps {
            let mut exclusive_start = if step == start.query {
                start.after.clone()
            } else {
                None
            };
            // Rendered once per step; every page of it sends the same.
            let mut e = Expr::new();
            let (key, filter) = match plan {
                Plan::Queries(_) => {
                    let q = &queries[step];
                    (Some(e.cond(&q.key)), q.server_filter().map(|c| e.cond(&c)))
                }
                Plan::Scan { products } => (None, Some(e.cond(&scan_filter(tenant, products)))),
            };
            let (names, values) = e.into_parts();
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
                }
                .map(|l| i32::try_from(l).unwrap_or(i32::MAX));
                let sent_start = exclusive_start.clone();
                let (items, scanned, last_key) = match &key {
                    Some(key) => {
                        let out = client
                            .query()
                            .table_name(table)
                            .set_index_name(queries[step].index.map(String::from))
                            .key_condition_expression(key)
                            .set_filter_expression(filter.clone())
                            .set_expression_attribute_names(names.clone())
                            .set_expression_attribute_values(values.clone())
                            .set_exclusive_start_key(exclusive_start.take())
                            .set_limit(page_limit)
                            .scan_index_forward(forward)
                            .send()
                            .await
                            .classify(self.at("dynamodb:Query"))?;
                        let scanned = out.scanned_count;
                        (
                            out.items.unwrap_or_default(),
                            scanned,
                            out.last_evaluated_key,
                        )
                    }
                    None => {
                        let out = client
                            .scan()
                            .table_name(table)
                            .set_filter_expression(filter.clone())
                            .set_expression_attribute_names(names.clone())
                            .set_expression_attribute_values(values.clone())
                            .set_exclusive_start_key(exclusive_start.take())
                            .set_limit(page_limit)
                            .send()
                            .await
                            .classify(self.at("dynamodb:Scan"))?;
                        let scanned = out.scanned_count;
                        (
                            out.items.unwrap_or_default(),
                            scanned,
                            out.last_evaluated_key,
                        )
                    }
                };
                let returned = items.len() as u64;
                // What DynamoDB evaluated, filtered or not (0 from a server
                // that does not say).
                read += u64::try_from(scanned).unwrap_or(0).max(returned);
                for mut item in items {
                    complete_initials(tenant, &mut item);
                    if !self.keep(plan, queries, step, &item) {
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
                let more_here = last_key.as_ref().is_some_and(|k| !k.is_empty()) && !single;
                if read >= budget && (more_here || step + 1 < steps) {
                    stopped = Some(match &last_key {
                        Some(k) if more_here => Cursor {
                            query: step,
                            after: Some(k.clone()),
                        },
                        _ => Cursor {
                            query: step + 1,
                            after: None,
                        },
                    });
                    break 'steps;
                }
                match last_key {
                    Some(k) if !k.is_empty() && !single => {
                        // A server handing back the key it was given would
                        // make this loop forever.
                        if sent_start.as_ref() == Some(&k) {
                            let action = match key {
                                Some(_) => "dynamodb:Query",
                                None => "dynamodb:Scan",
                            };
                            return Err(crate::store::table::stalled(action, table));
                        }
                        exclusive_start = Some(k);
                    }
                    _ => break,
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

    /// In-memory re-check: the exact filter (for what DynamoDB cannot say,
    /// like `ew`), and de-duplication across queries: an item a previous
    /// query of the plan matches was returned by that query.
    fn keep(&self, plan: &Plan, queries: &[QuerySpec], step: usize, item: &Item) -> bool {
        match plan {
            Plan::Scan { products } => query::any_matches(products, item),
            Plan::Queries(_) => {
                query::any_matches(&queries[step].products, item)
                    && !queries[..step]
                        .iter()
                        .any(|q| self.query_full_match(q, item))
            }
        }
    }

    /// Whether `item` is among what `q` returns: key condition and filter.
    fn query_full_match(&self, q: &QuerySpec, item: &Item) -> bool {
        query::product_matches(&q.key_terms, item) && query::any_matches(&q.products, item)
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
