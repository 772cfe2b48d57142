//! Which key condition an index can take from one product of a filter,
//! within DynamoDB's limits on key values.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{AttrKind, HashStyle, IndexSpec, KeyLayout, Product, ResolvedTerm, str_value};
use crate::store::{
    expr::{Cmp, Cond},
    filter::{Literal, Op},
    keys::Tenant,
};

/// What an index can take from a product: its key condition and the
/// terms it consumed; `None` when unusable.
pub(super) struct KeyUse {
    pub(super) conditions: Vec<KeyCondition>,
    pub(super) consumed: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(super) struct KeyCondition {
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

pub(super) fn try_index(
    index: &IndexSpec,
    product: &Product,
    layout: &dyn KeyLayout,
    tenant: Tenant<'_>,
) -> Option<KeyUse> {
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
        if t.op != Op::Sw || !key_value_fits(v, MAX_RANGE_KEY_BYTES) {
            return None;
        }
        let initials = layout.prefix_initials(tenant, kind, v)?;
        return Some(KeyUse {
            conditions: vec![KeyCondition {
                hash: (index.hash_key, initials),
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
        HashStyle::TableKey { kind } => layout.table_key(tenant, kind, hv),
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
    pub(super) fn terms(&self, index: &IndexSpec, layout: &dyn KeyLayout) -> Product {
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
            HashStyle::TableKey { .. } => st(index.term_attr, Op::Eq, layout.value_of(hash_value)),
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

pub(super) fn key_cond(cond: &KeyCondition) -> Cond {
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
