//! The SCIM query planner: a filter's normal form becomes DynamoDB queries
//! (one per distinct key condition, first usable index wins) or, when any
//! alternative has no usable index, one scan. Rendering of key conditions
//! and filters, and exact in-memory re-checks of what DynamoDB cannot
//! express (`ew`, negated `ew`, de-duplication across queries).

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    StoreError,
    codec::Item,
    expr::{Cmp, Cond},
    filter::{self, Dnf, Literal, Op, Term},
    keys::{self, Tenant},
};

/// Most queries one request may run (as the plugin).
pub const MAX_QUERIES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    Str,
    Bool,
    /// The stored initials of a key attribute of this kind (`un`, `em`):
    /// tenant-prefixed in custom tenants, so filter values are prefixed
    /// the same way before anything compares them.
    Initials(&'static str),
}

/// A SCIM attribute name (case-insensitive) and the item attribute it
/// filters on.
#[derive(Debug, Clone, Copy)]
pub struct AttrSpec {
    pub scim: &'static str,
    pub item: &'static str,
    pub kind: AttrKind,
}

/// How an index's hash value is rendered from the filter value.
#[derive(Debug, Clone, Copy)]
pub enum HashStyle {
    /// The table key `pk`, as `kind#value` / `kind(t)#value`.
    TableKey { kind: &'static str },
    /// An `eq` on the initials attribute itself.
    Initials,
    /// The initials of a `sw` value on the range attribute: a prefix search
    /// the plugin plans as a scan, served by the initials index instead.
    InitialsOfPrefix { kind: &'static str },
}

#[derive(Debug, Clone, Copy)]
pub struct IndexSpec {
    /// `None` is the table itself.
    pub name: Option<&'static str>,
    /// The item attribute a filter term must address to use this index.
    pub term_attr: &'static str,
    /// The index's hash key attribute.
    pub hash_key: &'static str,
    pub range_key: Option<&'static str>,
    pub style: HashStyle,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedTerm {
    pub attr: &'static str,
    pub kind: AttrKind,
    pub op: Op,
    pub value: Literal,
}

pub type Product = Vec<ResolvedTerm>;

/// One DynamoDB query of a plan.
#[derive(Debug, Clone)]
pub struct QuerySpec {
    pub index: Option<&'static str>,
    /// The key condition, rendered by `expr`.
    pub key: Cond,
    /// The key condition as terms, for exact in-memory checks.
    pub key_terms: Product,
    /// The OR of these, minus the key terms, is the filter.
    pub products: Vec<Product>,
    /// Attributes making up an item's position in this query.
    pub position_keys: Vec<&'static str>,
}

impl QuerySpec {
    /// What DynamoDB filters of this query's results. A table-key query
    /// reads at most one item, possibly a secondary item that lacks
    /// attributes of the main item (the initials): it is filtered in memory
    /// only, where such attributes can be derived.
    pub fn server_filter(&self) -> Option<Cond> {
        self.index?;
        filter_cond(&self.products)
    }
}

#[derive(Debug, Clone)]
pub enum Plan {
    Queries(Vec<QuerySpec>),
    /// A scan of the table's main items of the tenant; empty products
    /// means no filter beyond the tenant.
    Scan {
        products: Vec<Product>,
    },
}

fn invalid(msg: impl Into<String>) -> StoreError {
    StoreError::invalid("filter", msg)
}

/// Maps SCIM attribute names, checks value types and puts initials
/// values in the tenant's stored form.
pub fn resolve(
    dnf: Dnf,
    attrs: &[AttrSpec],
    tenant: Tenant<'_>,
) -> Result<Vec<Product>, StoreError> {
    dnf.into_iter()
        .map(|product| {
            product
                .into_iter()
                .map(|Term { attr, op, value }| {
                    let spec = attrs
                        .iter()
                        .find(|s| s.scim.eq_ignore_ascii_case(&attr))
                        .ok_or_else(|| invalid(format!("unknown attribute '{attr}'")))?;
                    let ok = match (op, &value, spec.kind) {
                        (Op::Pr | Op::Np, _, _) => true,
                        (_, Literal::Str(_), AttrKind::Str) => true,
                        (Op::Eq | Op::Ne, Literal::Bool(_), AttrKind::Bool) => true,
                        // Substring tests would also see the tenant prefix.
                        (
                            Op::Eq
                            | Op::Ne
                            | Op::Sw
                            | Op::NotSw
                            | Op::Gt
                            | Op::Ge
                            | Op::Lt
                            | Op::Le,
                            Literal::Str(_),
                            AttrKind::Initials(_),
                        ) => true,
                        _ => false,
                    };
                    if !ok {
                        return Err(invalid(format!(
                            "invalid value for attribute '{attr}' with {op:?}"
                        )));
                    }
                    let value = match (spec.kind, value) {
                        (AttrKind::Initials(kind), Literal::Str(v)) => match tenant {
                            Tenant::Default => Literal::Str(v),
                            Tenant::Custom(_) => Literal::Str(tenant.prefix(kind) + &v),
                        },
                        (_, v) => v,
                    };
                    Ok(ResolvedTerm {
                        attr: spec.item,
                        kind: spec.kind,
                        op,
                        value,
                    })
                })
                .collect()
        })
        .collect()
}

pub fn parse_filter(
    text: &str,
    attrs: &[AttrSpec],
    tenant: Tenant<'_>,
) -> Result<Vec<Product>, StoreError> {
    if text.trim().is_empty() {
        return Ok(vec![Vec::new()]);
    }
    let tree = filter::parse(text).map_err(|e| invalid(e.0))?;
    let dnf = filter::normalize(&tree).map_err(|e| invalid(e.0))?;
    resolve(dnf, attrs, tenant)
}

fn str_value(t: &ResolvedTerm) -> Option<&str> {
    match &t.value {
        Literal::Str(s) => Some(s),
        _ => None,
    }
}

/// What an index can take from a product: its key condition and the
/// terms it consumed; `None` when unusable.
struct KeyUse {
    conditions: Vec<KeyCondition>,
    consumed: Vec<usize>,
}

#[derive(Debug, Clone)]
struct KeyCondition {
    hash: (&'static str, String),
    range: Option<RangeCond>,
}

#[derive(Debug, Clone)]
enum RangeCond {
    Cmp(&'static str, Op, String),
    Between(&'static str, String, String),
}

/// DynamoDB's limits on key attribute values: no key condition may use a
/// value no key can hold (an empty one, or a longer one), or it refuses
/// the request. Such a term stays in the filter instead.
const MAX_HASH_KEY_BYTES: usize = 2048;
const MAX_RANGE_KEY_BYTES: usize = 1024;

fn key_value_fits(v: &str, max: usize) -> bool {
    !v.is_empty() && v.len() <= max
}

fn try_index(index: &IndexSpec, product: &Product, tenant: Tenant<'_>) -> Option<KeyUse> {
    let on = |attr: &str| -> Vec<usize> {
        product
            .iter()
            .enumerate()
            .filter(|(_, t)| t.attr == attr)
            .map(|(i, _)| i)
            .collect()
    };
    if let HashStyle::InitialsOfPrefix { kind } = index.style {
        // A single `sw` of at least 3 units on the range attribute.
        let range = index.range_key?;
        let terms = on(range);
        let [i] = terms[..] else { return None };
        let t = &product[i];
        let v = str_value(t)?;
        if t.op != Op::Sw || keys::utf16_len(v) < 3 || !key_value_fits(v, MAX_RANGE_KEY_BYTES) {
            return None;
        }
        return Some(KeyUse {
            conditions: vec![KeyCondition {
                hash: (index.hash_key, keys::initials(tenant, kind, v)),
                range: Some(RangeCond::Cmp(range, Op::Sw, v.into())),
            }],
            consumed: vec![i],
        });
    }
    let hash_terms = on(index.term_attr);
    let [h] = hash_terms[..] else { return None };
    let ht = &product[h];
    if ht.op != Op::Eq {
        return None;
    }
    let hv = str_value(ht)?;
    let hash_value = match index.style {
        HashStyle::TableKey { kind } => keys::account_key(tenant, kind, hv),
        // Already in stored form (see `resolve`).
        HashStyle::Initials => hv.to_string(),
        HashStyle::InitialsOfPrefix { .. } => return None,
    };
    if !key_value_fits(&hash_value, MAX_HASH_KEY_BYTES) {
        return None;
    }
    let hash = (index.hash_key, hash_value);
    let Some(range) = index.range_key else {
        return Some(KeyUse {
            conditions: vec![KeyCondition { hash, range: None }],
            consumed: vec![h],
        });
    };
    let range_terms = on(range);
    let rt: Vec<&ResolvedTerm> = range_terms.iter().map(|&i| &product[i]).collect();
    let ranges: Vec<Option<RangeCond>> = match rt[..] {
        [] => vec![None],
        [t] => {
            let v = str_value(t)?.to_string();
            if !key_value_fits(&v, MAX_RANGE_KEY_BYTES) {
                return None;
            }
            match t.op {
                Op::Eq | Op::Gt | Op::Ge | Op::Lt | Op::Le | Op::Sw => {
                    vec![Some(RangeCond::Cmp(range, t.op, v))]
                }
                Op::Ne => vec![
                    Some(RangeCond::Cmp(range, Op::Lt, v.clone())),
                    Some(RangeCond::Cmp(range, Op::Gt, v)),
                ],
                _ => return None,
            }
        }
        [a, b] => {
            let (ge, le) = match (a.op, b.op) {
                (Op::Ge, Op::Le) => (a, b),
                (Op::Le, Op::Ge) => (b, a),
                _ => return None,
            };
            let (lo, hi) = (str_value(ge)?, str_value(le)?);
            // DynamoDB refuses BETWEEN with lo > hi; such a range is empty
            // and the filter handles it.
            if !key_value_fits(lo, MAX_RANGE_KEY_BYTES)
                || !key_value_fits(hi, MAX_RANGE_KEY_BYTES)
                || lo > hi
            {
                return None;
            }
            vec![Some(RangeCond::Between(range, lo.into(), hi.into()))]
        }
        _ => return None,
    };
    let mut consumed = vec![h];
    consumed.extend(range_terms);
    Some(KeyUse {
        conditions: ranges
            .into_iter()
            .map(|range| KeyCondition {
                hash: hash.clone(),
                range,
            })
            .collect(),
        consumed,
    })
}

impl KeyCondition {
    fn terms(&self, index: &IndexSpec) -> Product {
        let st = |attr: &'static str, op: Op, v: &str| ResolvedTerm {
            attr,
            kind: AttrKind::Str,
            op,
            value: Literal::Str(v.to_string()),
        };
        let hash_value = &self.hash.1;
        let mut out = vec![match index.style {
            // The table key of an account names the entity by the value
            // every copy carries (`un#jane`: userName = jane).
            HashStyle::TableKey { .. } => {
                let raw = hash_value.split_once('#').map_or("", |(_, v)| v);
                st(index.term_attr, Op::Eq, raw)
            }
            _ => st(index.hash_key, Op::Eq, hash_value),
        }];
        match &self.range {
            None => {}
            Some(RangeCond::Cmp(r, op, v)) => out.push(st(r, *op, v)),
            Some(RangeCond::Between(r, lo, hi)) => {
                out.push(st(r, Op::Ge, lo));
                out.push(st(r, Op::Le, hi));
            }
        }
        out
    }
}

fn key_cond(cond: &KeyCondition) -> Cond {
    let (hk, hv) = &cond.hash;
    let hash = Cond::eq(hk, AttributeValue::S(hv.clone()));
    let range = match &cond.range {
        None => return hash,
        Some(RangeCond::Cmp(r, op, v)) => {
            let v = AttributeValue::S(v.clone());
            match op {
                Op::Eq => Cond::Cmp(r, Cmp::Eq, v),
                Op::Gt => Cond::Cmp(r, Cmp::Gt, v),
                Op::Ge => Cond::Cmp(r, Cmp::Ge, v),
                Op::Lt => Cond::Cmp(r, Cmp::Lt, v),
                Op::Le => Cond::Cmp(r, Cmp::Le, v),
                _ => Cond::BeginsWith(r, v),
            }
        }
        Some(RangeCond::Between(r, lo, hi)) => Cond::Between(
            r,
            AttributeValue::S(lo.clone()),
            AttributeValue::S(hi.clone()),
        ),
    };
    hash.and(range)
}

/// Plans a filter: queries when every alternative has a usable index,
/// else one scan.
pub fn plan(
    products: Vec<Product>,
    indexes: &[IndexSpec],
    tenant: Tenant<'_>,
) -> Result<Plan, StoreError> {
    let mut queries: Vec<QuerySpec> = Vec::new();
    for product in &products {
        let found = indexes.iter().find_map(|ix| {
            let key_use = try_index(ix, product, tenant)?;
            // DynamoDB refuses a query filter naming the index's own key
            // attributes: such a product cannot use this index.
            let keys_left = ix.name.is_some()
                && product.iter().enumerate().any(|(i, t)| {
                    !key_use.consumed.contains(&i)
                        && (t.attr == ix.hash_key || Some(t.attr) == ix.range_key)
                });
            (!keys_left).then_some((ix, key_use))
        });
        let Some((index, key_use)) = found else {
            return Ok(Plan::Scan { products });
        };
        let rest: Product = product
            .iter()
            .enumerate()
            .filter(|(i, _)| !key_use.consumed.contains(i))
            .map(|(_, t)| t.clone())
            .collect();
        for cond in &key_use.conditions {
            let key = key_cond(cond);
            let same = queries
                .iter_mut()
                .find(|q| q.index == index.name && q.key == key);
            match same {
                Some(q) => q.products.push(rest.clone()),
                None => {
                    let mut position_keys = vec!["pk"];
                    if index.name.is_some() {
                        position_keys.push(index.hash_key);
                        position_keys.extend(index.range_key);
                    }
                    queries.push(QuerySpec {
                        index: index.name,
                        key,
                        key_terms: cond.terms(index),
                        products: vec![rest.clone()],
                        position_keys,
                    });
                }
            }
        }
    }
    if queries.len() > MAX_QUERIES {
        return Err(invalid(format!(
            "the filter needs {} table queries and the allowed maximum is {MAX_QUERIES}",
            queries.len()
        )));
    }
    Ok(Plan::Queries(queries))
}

/// The OR of the products as a DynamoDB filter. `None` when some product
/// has no DynamoDB-side condition (everything passes the server-side
/// filter; the exact check happens in memory).
pub fn filter_cond(products: &[Product]) -> Option<Cond> {
    let mut alternatives = Vec::new();
    for product in products {
        let terms: Vec<Cond> = product.iter().filter_map(term_cond).collect();
        alternatives.push(Cond::all(terms)?);
    }
    Cond::any(alternatives)
}

/// What DynamoDB can check of one term: the exact condition, or a
/// superset of it that the in-memory check narrows.
fn term_cond(t: &ResolvedTerm) -> Option<Cond> {
    let a = t.attr;
    let v = || match &t.value {
        Literal::Bool(b) => AttributeValue::Bool(*b),
        Literal::Str(s) => AttributeValue::S(s.clone()),
        Literal::Num(n) => AttributeValue::N(n.to_string()),
        Literal::Null => AttributeValue::Null(true),
    };
    Some(match t.op {
        Op::Eq => Cond::Cmp(a, Cmp::Eq, v()),
        Op::Ne => Cond::Cmp(a, Cmp::Ne, v()),
        Op::Co | Op::Ew => Cond::Contains(a, v()),
        Op::NotCo => Cond::Contains(a, v()).not(),
        Op::Sw => Cond::BeginsWith(a, v()),
        Op::NotSw => Cond::BeginsWith(a, v()).not(),
        Op::Gt => Cond::Cmp(a, Cmp::Gt, v()),
        Op::Ge => Cond::Cmp(a, Cmp::Ge, v()),
        Op::Lt => Cond::Cmp(a, Cmp::Lt, v()),
        Op::Le => Cond::Cmp(a, Cmp::Le, v()),
        Op::Pr => Cond::Exists(a),
        Op::Np => Cond::NotExists(a),
        // `NOT contains` would wrongly drop values containing the text
        // anywhere but at the end.
        Op::NotEw => return None,
    })
}

/// Exact, type-aware evaluation of one product on an item.
pub fn product_matches(product: &Product, item: &Item) -> bool {
    product.iter().all(|t| term_matches(t, item))
}

pub fn any_matches(products: &[Product], item: &Item) -> bool {
    products.iter().any(|p| product_matches(p, item))
}

fn term_matches(t: &ResolvedTerm, item: &Item) -> bool {
    let v = item.get(t.attr);
    match t.op {
        Op::Pr => return v.is_some_and(|v| !matches!(v, AttributeValue::Null(_))),
        Op::Np => return v.is_none_or(|v| matches!(v, AttributeValue::Null(_))),
        _ => {}
    }
    match (&t.value, v) {
        (Literal::Bool(want), Some(AttributeValue::Bool(got))) => match t.op {
            Op::Eq => got == want,
            Op::Ne => got != want,
            _ => false,
        },
        (Literal::Str(want), Some(AttributeValue::S(got))) => {
            let (g, w) = (got.as_str(), want.as_str());
            match t.op {
                Op::Eq => g == w,
                Op::Ne => g != w,
                Op::Co => g.contains(w),
                Op::NotCo => !g.contains(w),
                Op::Sw => g.starts_with(w),
                Op::NotSw => !g.starts_with(w),
                Op::Ew => g.ends_with(w),
                Op::NotEw => !g.ends_with(w),
                Op::Gt => g > w,
                Op::Ge => g >= w,
                Op::Lt => g < w,
                Op::Le => g <= w,
                Op::Pr | Op::Np => false,
            }
        }
        // Missing attribute: only the negations hold (as in DynamoDB, `<>`
        // holds for a missing attribute).
        (_, None) => matches!(t.op, Op::Ne | Op::NotCo | Op::NotSw | Op::NotEw),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::expr::Expr;

    const ATTRS: &[AttrSpec] = &[
        AttrSpec {
            scim: "userName",
            item: "userName",
            kind: AttrKind::Str,
        },
        AttrSpec {
            scim: "emails",
            item: "email",
            kind: AttrKind::Str,
        },
        AttrSpec {
            scim: "active",
            item: "active",
            kind: AttrKind::Bool,
        },
    ];

    const INDEXES: &[IndexSpec] = &[
        IndexSpec {
            name: None,
            term_attr: "userName",
            hash_key: "pk",
            range_key: None,
            style: HashStyle::TableKey { kind: "un" },
        },
        IndexSpec {
            name: None,
            term_attr: "email",
            hash_key: "pk",
            range_key: None,
            style: HashStyle::TableKey { kind: "em" },
        },
    ];

    fn plan_of(f: &str) -> Plan {
        plan(
            parse_filter(f, ATTRS, Tenant::Default).unwrap(),
            INDEXES,
            Tenant::Default,
        )
        .unwrap()
    }

    /// The key condition and filter of a query as the request carries
    /// them (one `Expr` per request).
    fn rendered(q: &QuerySpec) -> (String, Option<String>, Expr) {
        let mut e = Expr::new();
        let key = e.cond(&q.key);
        let filter = filter_cond(&q.products).map(|c| e.cond(&c));
        (key, filter, e)
    }

    fn filter_of(f: &str) -> Option<String> {
        let products = parse_filter(f, ATTRS, Tenant::Default).unwrap();
        filter_cond(&products).map(|c| Expr::new().cond(&c))
    }

    #[test]
    fn and_of_two_keys_is_one_query_with_a_filter() {
        let Plan::Queries(q) =
            plan_of(r#"userName eq "janedoe" and emails eq "jane.doe@example.com""#)
        else {
            panic!("query expected")
        };
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].index, None);
        let (key, filter, e) = rendered(&q[0]);
        assert_eq!(key, "#pk = :v1");
        assert_eq!(filter.as_deref(), Some("#email = :v2"));
        let values = e.values().unwrap();
        assert_eq!(values[":v1"], AttributeValue::S("un#janedoe".into()));
        assert_eq!(values.len(), 2);
        assert_eq!(e.names().unwrap().len(), 2);
    }

    #[test]
    fn or_of_two_keys_is_two_key_only_queries() {
        let Plan::Queries(q) =
            plan_of(r#"userName eq "janedoe" or emails eq "jane.doe@example.com""#)
        else {
            panic!("query expected")
        };
        assert_eq!(q.len(), 2);
        let (key, filter, e) = rendered(&q[1]);
        assert_eq!(key, "#pk = :v1");
        assert_eq!(
            e.values().unwrap()[":v1"],
            AttributeValue::S("em#jane.doe@example.com".into())
        );
        assert_eq!(filter, None);
    }

    #[test]
    fn filters_render_every_shape_without_redundant_parentheses() {
        // Single term.
        assert_eq!(
            filter_of(r#"userName co "x""#).as_deref(),
            Some("contains(#userName, :v1)")
        );
        // AND.
        assert_eq!(
            filter_of(r#"userName co "x" and active eq true"#).as_deref(),
            Some("contains(#userName, :v1) AND #active = :v2")
        );
        // OR of products.
        assert_eq!(
            filter_of(r#"(userName co "x" and active eq true) or emails pr"#).as_deref(),
            Some("contains(#userName, :v1) AND #active = :v2 OR attribute_exists(#email)")
        );
        // NOT, pushed down to the terms.
        assert_eq!(
            filter_of(r#"not (userName co "x" or emails sw "y")"#).as_deref(),
            Some("NOT contains(#userName, :v1) AND NOT begins_with(#email, :v2)")
        );
        // A range on one attribute.
        assert_eq!(
            filter_of(r#"userName ge "a" and userName le "m""#).as_deref(),
            Some("#userName >= :v1 AND #userName <= :v2")
        );
        // Empty residual: a product DynamoDB cannot narrow filters nothing.
        assert_eq!(filter_of(r#"not (userName ew "x")"#), None);
        assert_eq!(
            filter_of(r#"not (userName ew "x") or active eq true"#),
            None
        );
        assert_eq!(filter_of(""), None);
    }

    #[test]
    fn no_usable_index_anywhere_makes_one_scan() {
        assert!(matches!(plan_of(r#"userName sw "jan""#), Plan::Scan { .. }));
        assert!(matches!(
            plan_of(r#"userName eq "a" or active eq true"#),
            Plan::Scan { .. }
        ));
    }

    #[test]
    fn wrong_value_types_and_unknown_attributes_are_invalid() {
        assert!(parse_filter("active eq \"yes\"", ATTRS, Tenant::Default).is_err());
        assert!(parse_filter("userName eq true", ATTRS, Tenant::Default).is_err());
        assert!(parse_filter("nickName eq \"x\"", ATTRS, Tenant::Default).is_err());
    }

    #[test]
    fn in_memory_checks_are_exact() {
        let item = Item::from([
            ("userName".to_string(), AttributeValue::S("janedoe".into())),
            ("active".to_string(), AttributeValue::Bool(true)),
        ]);
        let p = |f: &str| parse_filter(f, ATTRS, Tenant::Default).unwrap();
        assert!(any_matches(&p(r#"userName ew "doe""#), &item));
        assert!(!any_matches(&p(r#"userName ew "jane""#), &item));
        assert!(any_matches(&p(r#"not (userName ew "jane")"#), &item));
        assert!(any_matches(&p("active eq true and not (emails pr)"), &item));
        assert!(!any_matches(&p(r#"emails eq "x""#), &item));
    }
}
