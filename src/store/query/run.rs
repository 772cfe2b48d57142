//! Running what the planner decided: one query or scan rendered once and
//! read page by page ([`Step`]), several read in order ([`walk`], with
//! [`keep`] de-duplicating a plan's queries), and counting with
//! `Select=COUNT`, all within `dynamodb.max_items_read_per_request`.

use std::{collections::HashMap, ops::ControlFlow};

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use serde::de::DeserializeOwned;

use super::{Plan, QuerySpec, any_matches, product_matches};
use crate::{
    aws::{PooledClient, error::SdkResultExt},
    store::{
        StoreError,
        codec::Item,
        cursor::{self, Cursor},
        expr::{self, Cond, Expr},
        table::Table,
    },
};

/// Whole answers, for the operations that need every item of one query.
impl Table<'_> {
    /// Every item a query on `index` (`None`: the table, read
    /// consistently) returns, all pages. More than
    /// `dynamodb.max_items_read_per_request` items to read is refused, not
    /// held in memory.
    pub(crate) async fn query_all(
        &self,
        index: Option<&'static str>,
        key: &Cond,
        filter: Option<&Cond>,
    ) -> Result<Vec<Item>, StoreError> {
        let step = Step::query(index, key, filter);
        let mut items = Vec::new();
        let truncated = walk(self, &[step], true, |_, item| {
            items.push(item);
            ControlFlow::Continue(())
        })
        .await?;
        if truncated {
            return Err(StoreError::NotSupportedByLayout(format!(
                "the answer needs more than dynamodb.max_items_read_per_request ({}) items read",
                self.settings().max_items_read_per_request
            )));
        }
        Ok(items)
    }

    /// As `query_all`, each item decoded as its layout type.
    pub(crate) async fn query_decoded<T: DeserializeOwned>(
        &self,
        index: Option<&'static str>,
        key: &Cond,
        filter: Option<&Cond>,
    ) -> Result<Vec<T>, StoreError> {
        let items = self.query_all(index, key, filter).await?;
        items.into_iter().map(|i| self.decode(i)).collect()
    }
}

/// One query (or the scan) of a plan, rendered once: every page of it
/// sends the same expressions.
#[derive(Debug, Clone)]
pub struct Step {
    index: Option<&'static str>,
    /// `None`: a scan.
    key: Option<String>,
    filter: Option<String>,
    /// A query of the table itself reads consistently (an index cannot).
    consistent: bool,
    names: Option<HashMap<String, String>>,
    values: Option<HashMap<String, AttributeValue>>,
    /// The request field the expressions are built from, when a caller's
    /// input shapes them: a DynamoDB limit they break is that field's
    /// `INVALID_ARGUMENT`, not an internal error.
    input: Option<&'static str>,
    /// Why DynamoDB would refuse the expressions (checked when rendered).
    problem: Option<String>,
}

/// What one page returned.
pub struct Page {
    pub items: Vec<Item>,
    /// Matches on the page (with `Select=COUNT`, the only result).
    pub matched: u64,
    /// Items DynamoDB evaluated, filtered or not.
    pub read: u64,
    /// Where the next page starts; `None` after the last.
    pub next: Option<Item>,
}

impl Step {
    pub fn query(index: Option<&'static str>, key: &Cond, filter: Option<&Cond>) -> Step {
        let mut e = Expr::new();
        let key_text = e.cond(key);
        let filter_text = filter.map(|f| e.cond(f));
        let problem = expr::limit_problem("key condition", &key_text, key).or_else(|| {
            filter
                .zip(filter_text.as_deref())
                .and_then(|(f, text)| expr::limit_problem("filter", text, f))
        });
        Step::rendered(index, Some(key_text), filter_text, e, problem)
    }

    pub fn scan(filter: Option<&Cond>) -> Step {
        let mut e = Expr::new();
        let filter_text = filter.map(|f| e.cond(f));
        let problem = filter
            .zip(filter_text.as_deref())
            .and_then(|(f, text)| expr::limit_problem("filter", text, f));
        Step::rendered(None, None, filter_text, e, problem)
    }

    fn rendered(
        index: Option<&'static str>,
        key: Option<String>,
        filter: Option<String>,
        e: Expr,
        problem: Option<String>,
    ) -> Step {
        let (names, values) = e.into_parts();
        let substituted = expr::substitution_bytes(names.as_ref(), values.as_ref());
        let problem = problem.or_else(|| {
            (substituted > expr::MAX_SUBSTITUTION_BYTES).then(|| {
                format!(
                    "its values make {substituted} bytes of substitutions, and DynamoDB allows {}",
                    expr::MAX_SUBSTITUTION_BYTES
                )
            })
        });
        Step {
            consistent: key.is_some() && index.is_none(),
            index,
            key,
            filter,
            names,
            values,
            input: None,
            problem,
        }
    }

    /// The step's expressions are built from the caller's `field`.
    pub fn from_input(mut self, field: &'static str) -> Step {
        self.input = Some(field);
        self
    }

    /// Query `step` of `plan`, or its scan with `scan_filter`: a caller's
    /// SCIM filter (`filter`) planned.
    pub fn of(plan: &Plan, step: usize, scan_filter: Option<&Cond>) -> Step {
        match plan {
            Plan::Queries(q) => Step::query(
                q[step].index,
                &q[step].key,
                q[step].server_filter().as_ref(),
            ),
            Plan::Scan { .. } => Step::scan(scan_filter),
        }
        .from_input("filter")
    }

    /// One page from `start`. `limit` caps the items evaluated; `count`
    /// asks for the number of matches only.
    pub async fn page(
        &self,
        table: &Table<'_>,
        client: &PooledClient,
        start: Option<Item>,
        limit: Option<u64>,
        forward: bool,
        count: bool,
    ) -> Result<Page, StoreError> {
        let input = self.input.unwrap_or("filter");
        if let Some(problem) = &self.problem {
            return Err(StoreError::invalid(input, problem.clone()));
        }
        let limit = limit.map(|l| i32::try_from(l.max(1)).unwrap_or(i32::MAX));
        let select = count.then_some(Select::Count);
        let sent = start.clone();
        // What a query and a scan page send alike, on either SDK builder.
        macro_rules! send_page {
            ($builder:expr, $action:literal) => {{
                let out = $builder
                    .table_name(table.name())
                    .set_filter_expression(self.filter.clone())
                    .set_expression_attribute_names(self.names.clone())
                    .set_expression_attribute_values(self.values.clone())
                    .set_exclusive_start_key(start)
                    .set_limit(limit)
                    .set_select(select)
                    .send()
                    .await
                    .classify(table.at($action))
                    .map_err(|e| self.refused_input(e))?;
                let page = (out.items, out.count, out.scanned_count);
                (page, out.last_evaluated_key, $action)
            }};
        }
        let ((items, matched, scanned), next, action) = match &self.key {
            Some(key) => send_page!(
                client
                    .query()
                    .set_index_name(self.index.map(String::from))
                    .key_condition_expression(key)
                    .consistent_read(self.consistent)
                    .scan_index_forward(forward),
                "dynamodb:Query"
            ),
            None => send_page!(client.scan(), "dynamodb:Scan"),
        };
        let items = items.unwrap_or_default();
        let matched = u64::try_from(matched).unwrap_or(0).max(items.len() as u64);
        let next = next.filter(|k| !k.is_empty());
        // A server handing back the key it was given would make the caller
        // loop forever.
        if next.is_some() && next == sent {
            return Err(stalled(action, table.name()));
        }
        Ok(Page {
            items,
            matched,
            // 0 from a server that does not say.
            read: u64::try_from(scanned).unwrap_or(0).max(matched),
            next,
        })
    }
}

impl Step {
    /// A `ValidationException` of expressions built from a caller's input
    /// is that input's fault (a key value longer than DynamoDB allows, a
    /// limit past the checks above): `INVALID_ARGUMENT` in our words.
    fn refused_input(&self, err: StoreError) -> StoreError {
        match self.input {
            Some(field) => err.refused_input(field),
            None => err,
        }
    }
}

/// Whether the item a plan's query `step` returned is one to keep: it
/// passes the exact filter (what DynamoDB cannot say, like `ew`), and no
/// earlier query of the plan returned it.
pub fn keep(plan: &Plan, step: usize, item: &Item) -> bool {
    match plan {
        Plan::Scan { products } => any_matches(products, item),
        Plan::Queries(queries) => {
            any_matches(&queries[step].products, item)
                && !queries[..step].iter().any(|q| returns(q, item))
        }
    }
}

/// Whether `item` is among what `q` returns: key condition and filter.
fn returns(q: &QuerySpec, item: &Item) -> bool {
    product_matches(&q.key_terms, item) && any_matches(&q.products, item)
}

/// Every item `steps` return, in order, handed to `visit` with its step
/// until it breaks (a plan's callers check [`keep`] there). Reading stops
/// after the page that reaches `dynamodb.max_items_read_per_request` items
/// evaluated: then `Ok(true)` (truncated).
pub async fn walk(
    table: &Table<'_>,
    steps: &[Step],
    forward: bool,
    mut visit: impl FnMut(usize, Item) -> ControlFlow<()>,
) -> Result<bool, StoreError> {
    let budget = table.settings().max_items_read_per_request;
    let mut read = 0u64;
    let client = table.client().await?;
    for (i, step) in steps.iter().enumerate() {
        let mut start = None;
        loop {
            let left = budget.saturating_sub(read);
            let page = step
                .page(table, &client, start, Some(left), forward, false)
                .await?;
            read += page.read;
            for item in page.items {
                if visit(i, item).is_break() {
                    return Ok(false);
                }
            }
            let more_steps = i + 1 < steps.len();
            match page.next {
                Some(_) if read >= budget => return Ok(true),
                Some(next) => start = Some(next),
                None if read >= budget && more_steps => return Ok(true),
                None => break,
            }
        }
    }
    Ok(false)
}

/// The matches of one query or scan, counted by DynamoDB (`Select=COUNT`):
/// no item is transferred. `(count, truncated)`.
pub async fn count(table: &Table<'_>, step: &Step) -> Result<(u64, bool), StoreError> {
    let budget = table.settings().max_items_read_per_request;
    let client = table.client().await?;
    let (mut matched, mut read) = (0u64, 0u64);
    let mut start = None;
    loop {
        let page = step
            .page(
                table,
                &client,
                start,
                Some(budget.saturating_sub(read)),
                true,
                true,
            )
            .await?;
        matched += page.matched;
        read += page.read;
        match page.next {
            Some(_) if read >= budget => return Ok((matched, true)),
            Some(next) => start = Some(next),
            None => return Ok((matched, false)),
        }
    }
}

/// One cursor page of a single query or scan: up to `size` matches that
/// `keep` accepts, from where `cursor` (empty: the start) says, as many
/// DynamoDB pages as it takes within the read budget. The next cursor, bound
/// to `binding` (the listing's identity), names the last match returned
/// (`position` keys) when more may follow; when the budget runs out first,
/// DynamoDB's own resume key (and `truncated`).
pub struct CursorPage {
    pub items: Vec<Item>,
    pub next: Option<String>,
    pub truncated: bool,
}

/// Where a cursor page starts and how it is bound and sized.
pub struct PageRequest<'a> {
    pub cursor: &'a str,
    pub binding: &'a str,
    pub size: usize,
    pub forward: bool,
    pub position: &'a [&'static str],
}

pub async fn cursor_page(
    table: &Table<'_>,
    step: &Step,
    req: PageRequest<'_>,
    keep: impl Fn(&Item) -> bool,
) -> Result<CursorPage, StoreError> {
    let mut start = if req.cursor.trim().is_empty() {
        None
    } else {
        cursor::decode(req.cursor, req.binding)?.after
    };
    let resume = |after: Item| {
        Some(cursor::encode(
            &Cursor {
                query: 0,
                after: Some(after),
            },
            req.binding,
        ))
    };
    let budget = table.settings().max_items_read_per_request;
    let client = table.client().await?;
    // One match beyond the page tells whether a next page exists.
    let want = req.size + 1;
    let mut items: Vec<Item> = Vec::new();
    let mut read = 0u64;
    loop {
        let left = budget.saturating_sub(read);
        // A full page's worth each time (not what is still missing: with
        // a sparse filter that would shrink to one item per request).
        let limit = (want as u64).min(left);
        let page = step
            .page(table, &client, start, Some(limit), req.forward, false)
            .await?;
        read += page.read;
        for item in page.items {
            if !keep(&item) {
                continue;
            }
            items.push(item);
            if items.len() == want {
                items.truncate(req.size);
                let next = items.last().and_then(|last| {
                    resume(
                        req.position
                            .iter()
                            .filter_map(|k| last.get(*k).map(|v| (k.to_string(), v.clone())))
                            .collect(),
                    )
                });
                return Ok(CursorPage {
                    items,
                    next,
                    truncated: false,
                });
            }
        }
        match page.next {
            None => {
                return Ok(CursorPage {
                    items,
                    next: None,
                    truncated: false,
                });
            }
            Some(next) if read >= budget => {
                return Ok(CursorPage {
                    items,
                    next: resume(next),
                    truncated: true,
                });
            }
            Some(next) => start = Some(next),
        }
    }
}

/// The page size a caller's `count` asks for: `default` when it names
/// none (or zero), never more than `max`.
pub fn page_size(count: Option<usize>, default: usize, max: usize) -> usize {
    match count {
        None | Some(0) => default,
        Some(n) => n.min(max),
    }
}

/// The server answered a page with the start key it was given: paging on
/// would never end.
pub(crate) fn stalled(action: &str, table: &str) -> StoreError {
    StoreError::Aws {
        action: action.into(),
        table: table.to_string(),
        code: "PaginationStalled".into(),
        message: "the server returned the start key it was given".into(),
    }
}
