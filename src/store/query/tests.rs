//! Planner tests over a two-index account-like layout.

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

/// `pk` as `<kind>#<value>`, initials the first 3 characters.
struct TestKeys;

impl KeyLayout for TestKeys {
    fn hash_key(&self) -> &'static str {
        "pk"
    }

    fn table_key(&self, _: Tenant<'_>, kind: &'static str, value: &str) -> String {
        format!("{kind}#{value}")
    }

    fn value_of<'k>(&self, key: &'k str) -> &'k str {
        key.split_once('#').map_or("", |(_, v)| v)
    }

    fn prefix_initials(&self, _: Tenant<'_>, _: &'static str, prefix: &str) -> Option<String> {
        (prefix.chars().count() >= 3).then(|| prefix.chars().take(3).collect())
    }
}

fn plan_of(f: &str) -> Plan {
    plan(
        parse_filter(f, ATTRS, Tenant::Default).unwrap(),
        INDEXES,
        &TestKeys,
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
    let Plan::Queries(q) = plan_of(r#"userName eq "janedoe" and emails eq "jane.doe@example.com""#)
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
    let Plan::Queries(q) = plan_of(r#"userName eq "janedoe" or emails eq "jane.doe@example.com""#)
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
