use super::*;

/// The index of each query of a filter's plan (`None`: the table key),
/// or `Err(())` for a scan; with the tenant term every product gets.
fn plan_of(filter: &str) -> Result<Vec<(Option<&'static str>, String)>, ()> {
    let tenant = Tenant::Default;
    let mut products = query::parse_filter(filter, DELEGATION_ATTRS, tenant).unwrap();
    for p in &mut products {
        p.push(tenant_term(tenant));
    }
    match query::plan(products, INDEXES, &DelegationKeys, tenant).unwrap() {
        Plan::Queries(q) => Ok(q
            .iter()
            .map(|q| (q.index, format!("{:?}", q.key)))
            .collect()),
        Plan::Scan { .. } => Err(()),
    }
}

#[test]
fn the_plugins_pinned_shapes_choose_its_indexes() {
    // DelegationQueryTests: the client index, `expires` left as filter.
    let q = plan_of("status eq \"issued\" and expires gt 1234 and client_id eq \"client-one\"")
        .unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].0, Some(CLIENT_INDEX));
    // `ne` on the range key: two queries, `<` and `>`.
    let q = plan_of("status ne \"issued\" and client_id eq \"client-one\"").unwrap();
    assert_eq!(q.len(), 2);
    assert!(q[0].1.contains("Lt") && q[1].1.contains("Gt"), "{q:?}");
    // Not an index attribute: a scan.
    assert_eq!(plan_of("redirect_uri eq \"https://x\""), Err(()));
    // No filter at all: a scan (of the tenant only).
    assert_eq!(plan_of(""), Err(()));
}

#[test]
fn the_table_key_owner_index_and_between_are_used_in_the_plugins_order() {
    assert_eq!(plan_of("externalId eq \"d\"").unwrap()[0].0, None);
    // The table key comes before the owner index.
    assert_eq!(
        plan_of("externalId eq \"d\" and owner eq \"jane\"").unwrap()[0].0,
        None
    );
    let q =
        plan_of("owner eq \"jane\" and status ge \"issued\" and status le \"revoked\"").unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].0, Some(OWNER_INDEX));
    assert!(q[0].1.contains("Between"), "{q:?}");
    // The owner index comes before the client index.
    assert_eq!(
        plan_of("client_id eq \"c\" and owner eq \"jane\"").unwrap()[0].0,
        Some(OWNER_INDEX)
    );
    // An alternative without an index makes the whole filter a scan.
    assert_eq!(plan_of("owner eq \"jane\" or scope eq \"x\""), Err(()));
}

#[test]
fn sorting_puts_missing_values_first_and_keeps_index_order_for_ties() {
    let item = |v: Option<&str>| -> Item {
        v.map(|v| Item::from([("owner".to_string(), s(v))]))
            .unwrap_or_default()
    };
    let mut heap = BinaryHeap::new();
    for (seq, v) in [Some("b"), None, Some("a"), Some("b")]
        .into_iter()
        .enumerate()
    {
        heap.push(Ranked {
            value: SortVal::of(&item(v), "owner"),
            descending: false,
            seq: seq as u64,
            item: item(v),
        });
    }
    let order: Vec<u64> = heap.into_sorted_vec().iter().map(|r| r.seq).collect();
    assert_eq!(order, [1, 2, 0, 3]);
    assert!(SortBy::parse("color", false).is_err());
    assert!(SortBy::parse("client_id", true).unwrap().is_some());
}
