//! The SCIM query planner: a filter's normal form becomes DynamoDB queries
//! (one per distinct key condition, first usable index wins) or, when any
//! alternative has no usable index, one scan. Rendering of key conditions
//! and filters, and exact in-memory re-checks of what DynamoDB cannot
//! express (`ew`, negated `ew`, de-duplication across queries).

mod index;
pub mod run;
#[cfg(test)]
mod tests;

use aws_sdk_dynamodb::types::AttributeValue;

use self::index::{key_cond, try_index};

use super::{
    StoreError,
    codec::Item,
    expr::{Cmp, Cond},
    filter::{self, Dnf, Literal, Op, Term},
    keys::Tenant,
};

/// Most queries one request may run (as the plugin).
pub const MAX_QUERIES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    Str,
    Bool,
    /// A number attribute (N): compared numerically.
    Num,
    /// A string attribute holding one of these values (an enum's names).
    OneOf(&'static [&'static str]),
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

/// How one table renders its keys from filter values: the planner is
/// generic, each table that lists with filters says what its keys look like
/// (accounts: `pk` = `un#jane` or `un(t)#jane`, initials of 3 UTF-16 units).
pub trait KeyLayout {
    /// The table's hash key attribute.
    fn hash_key(&self) -> &'static str;
    /// The table key of the item whose `kind` attribute is `value`.
    fn table_key(&self, tenant: Tenant<'_>, kind: &'static str, value: &str) -> String;
    /// The value a table key names (`un#jane`: `jane`).
    fn value_of<'k>(&self, key: &'k str) -> &'k str;
    /// The initials a prefix search on `kind` is served by; `None` when the
    /// prefix is too short to have them.
    fn prefix_initials(
        &self,
        tenant: Tenant<'_>,
        kind: &'static str,
        prefix: &str,
    ) -> Option<String>;
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
                        (_, Literal::Str(v), AttrKind::OneOf(names)) => names.contains(&v.as_str()),
                        // Whole numbers, as the plugin's Long / Int: no
                        // NaN, infinity or exponent DynamoDB would refuse.
                        (
                            Op::Eq | Op::Ne | Op::Gt | Op::Ge | Op::Lt | Op::Le,
                            Literal::Num(v),
                            AttrKind::Num,
                        ) => v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15,
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

/// Plans a filter: queries when every alternative has a usable index,
/// else one scan.
pub fn plan(
    products: Vec<Product>,
    indexes: &[IndexSpec],
    layout: &dyn KeyLayout,
    tenant: Tenant<'_>,
) -> Result<Plan, StoreError> {
    let mut queries: Vec<QuerySpec> = Vec::new();
    for product in &products {
        let found = indexes.iter().find_map(|ix| {
            let key_use = try_index(ix, product, layout, tenant)?;
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
                    let mut position_keys = vec![layout.hash_key()];
                    if index.name.is_some() {
                        position_keys.push(index.hash_key);
                        position_keys.extend(index.range_key);
                    }
                    queries.push(QuerySpec {
                        index: index.name,
                        key,
                        key_terms: cond.terms(index, layout),
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
        (Literal::Num(want), Some(AttributeValue::N(got))) => {
            let Ok(got) = got.parse::<f64>() else {
                return false;
            };
            match t.op {
                Op::Eq => got == *want,
                Op::Ne => got != *want,
                Op::Gt => got > *want,
                Op::Ge => got >= *want,
                Op::Lt => got < *want,
                Op::Le => got <= *want,
                _ => false,
            }
        }
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
