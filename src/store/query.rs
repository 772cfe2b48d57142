//! The SCIM query planner: a filter's normal form becomes DynamoDB queries
//! (one per distinct key condition, first usable index wins) or, when any
//! alternative has no usable index, one scan. Rendering of key conditions
//! and filters, and exact in-memory re-checks of what DynamoDB cannot
//! express (`ew`, negated `ew`, de-duplication across queries).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    StoreError,
    codec::Item,
    filter::{self, Dnf, Literal, Op, Term},
    keys::{self, Tenant},
};

/// Most queries one request may run (as the plugin).
pub const MAX_QUERIES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    Str,
    Bool,
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
    /// The initials of the value (tenant-prefixed), from an `eq` on the
    /// initials attribute.
    Initials { kind: &'static str },
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
    pub key_expression: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
    /// The key condition as terms, for exact in-memory checks.
    pub key_terms: Product,
    /// The OR of these, minus the key terms, is the filter.
    pub products: Vec<Product>,
    /// Attributes making up an item's position in this query.
    pub position_keys: Vec<&'static str>,
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

/// Maps SCIM attribute names and checks value types.
pub fn resolve(dnf: Dnf, attrs: &[AttrSpec]) -> Result<Vec<Product>, StoreError> {
    dnf.into_iter()
        .map(|product| {
            product
                .into_iter()
                .map(|Term { attr, op, value }| {
                    let spec = attrs
                        .iter()
                        .find(|s| s.scim.eq_ignore_ascii_case(&attr))
                        .ok_or_else(|| invalid(format!("unknown attribute '{attr}'")))?;
                    let ok = matches!(
                        (op, &value, spec.kind),
                        (Op::Pr | Op::Np, _, _)
                            | (_, Literal::Str(_), AttrKind::Str)
                            | (Op::Eq | Op::Ne, Literal::Bool(_), AttrKind::Bool)
                    );
                    if !ok {
                        return Err(invalid(format!(
                            "invalid value for attribute '{attr}' with {op:?}"
                        )));
                    }
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

pub fn parse_filter(text: &str, attrs: &[AttrSpec]) -> Result<Vec<Product>, StoreError> {
    if text.trim().is_empty() {
        return Ok(vec![Vec::new()]);
    }
    let tree = filter::parse(text).map_err(|e| invalid(e.0))?;
    let dnf = filter::normalize(&tree).map_err(|e| invalid(e.0))?;
    resolve(dnf, attrs)
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
    hash: (String, String),
    range: Option<RangeCond>,
}

#[derive(Debug, Clone)]
enum RangeCond {
    Cmp(&'static str, Op, String),
    Between(&'static str, String, String),
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
        if t.op != Op::Sw || keys::utf16_len(v) < 3 {
            return None;
        }
        return Some(KeyUse {
            conditions: vec![KeyCondition {
                hash: (index.hash_key.into(), keys::initials(tenant, kind, v)),
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
        HashStyle::Initials { kind } => keys::initials(tenant, kind, hv),
        HashStyle::InitialsOfPrefix { .. } => return None,
    };
    let hash = (index.hash_key.to_string(), hash_value);
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
            vec![Some(RangeCond::Between(
                range,
                str_value(ge)?.into(),
                str_value(le)?.into(),
            ))]
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

fn render_key(
    cond: &KeyCondition,
) -> (
    String,
    HashMap<String, String>,
    HashMap<String, AttributeValue>,
) {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let (hk, hv) = &cond.hash;
    names.insert(format!("#{hk}"), hk.clone());
    values.insert(format!(":{hk}_1"), AttributeValue::S(hv.clone()));
    let mut expr = format!("#{hk} = :{hk}_1");
    match &cond.range {
        None => {}
        Some(RangeCond::Cmp(r, op, v)) => {
            names.insert(format!("#{r}"), (*r).to_string());
            values.insert(format!(":{r}_1"), AttributeValue::S(v.clone()));
            let c = match op {
                Op::Eq => format!("#{r} = :{r}_1"),
                Op::Gt => format!("#{r} > :{r}_1"),
                Op::Ge => format!("#{r} >= :{r}_1"),
                Op::Lt => format!("#{r} < :{r}_1"),
                Op::Le => format!("#{r} <= :{r}_1"),
                _ => format!("begins_with(#{r}, :{r}_1)"),
            };
            expr.push_str(" AND ");
            expr.push_str(&c);
        }
        Some(RangeCond::Between(r, lo, hi)) => {
            names.insert(format!("#{r}"), (*r).to_string());
            values.insert(format!(":{r}_1"), AttributeValue::S(lo.clone()));
            values.insert(format!(":{r}_2"), AttributeValue::S(hi.clone()));
            expr.push_str(&format!(" AND #{r} BETWEEN :{r}_1 AND :{r}_2"));
        }
    }
    (expr, names, values)
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
        let found = indexes
            .iter()
            .find_map(|ix| try_index(ix, product, tenant).map(|u| (ix, u)));
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
            let (key_expression, names, values) = render_key(cond);
            let same = queries.iter_mut().find(|q| {
                q.index == index.name && q.key_expression == key_expression && q.values == values
            });
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
                        key_expression,
                        names,
                        values,
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

/// Renders the OR of the products as a DynamoDB filter expression, adding
/// to `names`/`values`. `None` when some product has no DynamoDB-side
/// condition (everything passes the server-side filter).
pub fn render_filter(
    products: &[Product],
    names: &mut HashMap<String, String>,
    values: &mut HashMap<String, AttributeValue>,
) -> Option<String> {
    let mut counters: HashMap<&str, usize> = HashMap::new();
    let mut rendered = Vec::new();
    for product in products {
        let mut parts = Vec::new();
        for t in product {
            let a = t.attr;
            let name = format!("#{a}");
            let mut value = || {
                let n = counters.entry(a).or_insert(0);
                *n += 1;
                let placeholder = format!(":{a}_f{n}");
                let v = match &t.value {
                    Literal::Bool(b) => AttributeValue::Bool(*b),
                    Literal::Str(s) => AttributeValue::S(s.clone()),
                    Literal::Num(n) => AttributeValue::N(n.to_string()),
                    Literal::Null => AttributeValue::Null(true),
                };
                values.insert(placeholder.clone(), v);
                placeholder
            };
            let part = match t.op {
                Op::Eq => format!("{name} = {}", value()),
                Op::Ne => format!("{name} <> {}", value()),
                Op::Co | Op::Ew => format!("contains({name}, {})", value()),
                Op::NotCo => format!("NOT contains({name}, {})", value()),
                Op::Sw => format!("begins_with({name}, {})", value()),
                Op::NotSw => format!("NOT begins_with({name}, {})", value()),
                Op::Gt => format!("{name} > {}", value()),
                Op::Ge => format!("{name} >= {}", value()),
                Op::Lt => format!("{name} < {}", value()),
                Op::Le => format!("{name} <= {}", value()),
                Op::Pr => format!("attribute_exists({name})"),
                Op::Np => format!("attribute_not_exists({name})"),
                // Checked in memory only: `NOT contains` would wrongly drop
                // values containing the text anywhere but at the end.
                Op::NotEw => continue,
            };
            names.insert(name, a.to_string());
            parts.push(part);
        }
        if parts.is_empty() {
            return None;
        }
        rendered.push(format!("({})", parts.join(" AND ")));
    }
    if rendered.is_empty() {
        None
    } else {
        Some(rendered.join(" OR "))
    }
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
        plan(parse_filter(f, ATTRS).unwrap(), INDEXES, Tenant::Default).unwrap()
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
        assert_eq!(q[0].key_expression, "#pk = :pk_1");
        assert_eq!(q[0].values[":pk_1"], AttributeValue::S("un#janedoe".into()));
        let (mut n, mut v) = (HashMap::new(), HashMap::new());
        assert_eq!(
            render_filter(&q[0].products, &mut n, &mut v).as_deref(),
            Some("(#email = :email_f1)")
        );
    }

    #[test]
    fn or_of_two_keys_is_two_key_only_queries() {
        let Plan::Queries(q) =
            plan_of(r#"userName eq "janedoe" or emails eq "jane.doe@example.com""#)
        else {
            panic!("query expected")
        };
        assert_eq!(q.len(), 2);
        assert_eq!(
            q[1].values[":pk_1"],
            AttributeValue::S("em#jane.doe@example.com".into())
        );
        let (mut n, mut v) = (HashMap::new(), HashMap::new());
        assert_eq!(render_filter(&q[0].products, &mut n, &mut v), None);
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
        assert!(parse_filter("active eq \"yes\"", ATTRS).is_err());
        assert!(parse_filter("userName eq true", ATTRS).is_err());
        assert!(parse_filter("nickName eq \"x\"", ATTRS).is_err());
    }

    #[test]
    fn in_memory_checks_are_exact() {
        let item = Item::from([
            ("userName".to_string(), AttributeValue::S("janedoe".into())),
            ("active".to_string(), AttributeValue::Bool(true)),
        ]);
        let p = |f: &str| parse_filter(f, ATTRS).unwrap();
        assert!(any_matches(&p(r#"userName ew "doe""#), &item));
        assert!(!any_matches(&p(r#"userName ew "jane""#), &item));
        assert!(any_matches(&p(r#"not (userName ew "jane")"#), &item));
        assert!(any_matches(&p("active eq true and not (emails pr)"), &item));
        assert!(!any_matches(&p(r#"emails eq "x""#), &item));
    }
}
