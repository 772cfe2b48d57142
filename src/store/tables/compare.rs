//! `tables check`: every way a live table differs from the layout (keys,
//! key attribute types, each index's keys and projection).

use aws_sdk_dynamodb::types::{
    KeySchemaElement, KeyType, Projection as SdkProjection, TableDescription,
};

use super::TableCheck;
use crate::schema::{IndexDef, KeyAttr, Projection, TableDef};

fn describe_keys(keys: &[KeySchemaElement]) -> String {
    let name = |t: KeyType| {
        keys.iter()
            .find(|k| *k.key_type() == t)
            .map(|k| k.attribute_name().to_string())
    };
    match (name(KeyType::Hash), name(KeyType::Range)) {
        (Some(h), Some(r)) => format!("({h}, {r})"),
        (Some(h), None) => format!("({h})"),
        _ => "(none)".into(),
    }
}

fn expected_keys(hash: KeyAttr, range: Option<KeyAttr>) -> String {
    match range {
        Some(r) => format!("({}, {})", hash.name, r.name),
        None => format!("({})", hash.name),
    }
}

fn describe_projection(p: Option<&SdkProjection>) -> (String, Vec<String>) {
    let ty = p
        .and_then(|p| p.projection_type())
        .map(|t| t.as_str().to_string())
        .unwrap_or_else(|| "NONE".into());
    let mut attrs: Vec<String> = p
        .map(|p| p.non_key_attributes().to_vec())
        .unwrap_or_default();
    attrs.sort();
    (ty, attrs)
}

fn expected_projection(p: Projection) -> (String, Vec<String>) {
    match p {
        Projection::All => ("ALL".into(), Vec::new()),
        Projection::Include(a) => {
            let mut attrs: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            attrs.sort();
            ("INCLUDE".into(), attrs)
        }
    }
}

/// One live index, whichever kind, reduced to what the layout fixes.
struct LiveIndex {
    name: String,
    keys: String,
    projection: (String, Vec<String>),
}

pub(super) fn compare(def: &TableDef, live: &TableDescription, check: &mut TableCheck) {
    let want = expected_keys(def.hash, def.range);
    let got = describe_keys(live.key_schema());
    if want != got {
        check
            .differences
            .push(format!("key schema is {got}, expected {want}"));
    }
    for attr in def.key_attributes() {
        match live
            .attribute_definitions()
            .iter()
            .find(|d| d.attribute_name() == attr.name)
        {
            Some(d) if *d.attribute_type() == attr.ty.sdk() => {}
            Some(d) => check.differences.push(format!(
                "attribute {} has type {}, expected {}",
                attr.name,
                d.attribute_type().as_str(),
                attr.ty.sdk().as_str()
            )),
            None => check
                .differences
                .push(format!("attribute {} is not defined", attr.name)),
        }
    }
    let index =
        |name: Option<&str>, keys: &[KeySchemaElement], p: Option<&SdkProjection>| LiveIndex {
            name: name.unwrap_or_default().to_string(),
            keys: describe_keys(keys),
            projection: describe_projection(p),
        };
    let live_gsis: Vec<LiveIndex> = live
        .global_secondary_indexes()
        .iter()
        .map(|g| index(g.index_name(), g.key_schema(), g.projection()))
        .collect();
    let live_lsis: Vec<LiveIndex> = live
        .local_secondary_indexes()
        .iter()
        .map(|l| index(l.index_name(), l.key_schema(), l.projection()))
        .collect();
    compare_indexes("global index", def.global_indexes, &live_gsis, check);
    compare_indexes("local index", def.local_indexes, &live_lsis, check);
}

fn compare_indexes(kind: &str, want: &[IndexDef], live: &[LiveIndex], check: &mut TableCheck) {
    for index in want {
        let Some(got) = live.iter().find(|l| l.name == index.name) else {
            check
                .differences
                .push(format!("{kind} {} is missing", index.name));
            continue;
        };
        let keys = expected_keys(index.hash, index.range);
        if got.keys != keys {
            check.differences.push(format!(
                "{kind} {} has keys {}, expected {keys}",
                index.name, got.keys
            ));
        }
        let proj = expected_projection(index.projection);
        if got.projection != proj {
            check.differences.push(format!(
                "{kind} {} projects {} {:?}, expected {} {:?}",
                index.name, got.projection.0, got.projection.1, proj.0, proj.1
            ));
        }
    }
    for extra in live
        .iter()
        .filter(|l| !want.iter().any(|w| w.name == l.name))
    {
        check.warnings.push(format!(
            "{kind} {} is not part of the layout (harmless, but unused)",
            extra.name
        ));
    }
}
