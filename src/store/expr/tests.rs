use super::*;

#[test]
fn operators_are_counted_as_dynamodb_counts_them_and_the_limit_is_exact() {
    let leaf = |i: usize| Cond::Cmp("a", Cmp::Ne, s(&i.to_string()));
    // n comparisons joined by n - 1 ANDs: 2n - 1 operators.
    let and = |n: usize| Cond::all((0..n).map(leaf)).expect("parts");
    assert_eq!(and(150).operators(), 299);
    assert_eq!(Cond::Not(Box::new(and(150))).operators(), 300);
    let (text, _) = render(&Cond::Not(Box::new(and(150))));
    assert_eq!(
        limit_problem("filter", &text, &Cond::Not(Box::new(and(150)))),
        None
    );
    let past = and(151);
    assert_eq!(past.operators(), 301);
    let (text, _) = render(&past);
    assert!(
        limit_problem("filter", &text, &past)
            .expect("301 operators")
            .contains("301 operators")
    );
}

#[test]
fn an_expression_past_4096_bytes_is_refused_and_4096_is_not() {
    let cond = Cond::eq("a", s("v"));
    assert_eq!(limit_problem("key", &"x".repeat(4096), &cond), None);
    assert!(
        limit_problem("key", &"x".repeat(4097), &cond)
            .expect("too long")
            .contains("4097 bytes")
    );
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn render(c: &Cond) -> (String, Expr) {
    let mut e = Expr::new();
    let text = e.cond(c);
    (text, e)
}

#[test]
fn a_single_term_has_no_parentheses() {
    let (t, e) = render(&Cond::eq("userName", s("jane")));
    assert_eq!(t, "#userName = :v1");
    assert_eq!(e.names().unwrap()["#userName"], "userName");
    assert_eq!(e.values().unwrap()[":v1"], s("jane"));
}

#[test]
fn and_and_or_of_terms_are_flat() {
    let and = Cond::all([
        Cond::eq("a", s("1")),
        Cond::all([Cond::Exists("b"), Cond::eq("c", s("3"))]).unwrap(),
    ])
    .unwrap();
    assert_eq!(
        render(&and).0,
        "#a = :v1 AND attribute_exists(#b) AND #c = :v2"
    );
    let or = Cond::any([Cond::eq("a", s("1")), Cond::NotExists("b")]).unwrap();
    assert_eq!(render(&or).0, "#a = :v1 OR attribute_not_exists(#b)");
}

#[test]
fn an_or_of_products_brackets_nothing_and_an_and_over_an_or_brackets_the_or() {
    let products = Cond::any([
        Cond::all([Cond::eq("a", s("1")), Cond::eq("b", s("2"))]).unwrap(),
        Cond::Cmp("c", Cmp::Gt, s("3")),
    ])
    .unwrap();
    assert_eq!(render(&products).0, "#a = :v1 AND #b = :v2 OR #c > :v3");
    let guarded = Cond::BeginsWith("pk", s("ai#")).and(products);
    assert_eq!(
        render(&guarded).0,
        "begins_with(#pk, :v1) AND (#a = :v2 AND #b = :v3 OR #c > :v4)"
    );
}

#[test]
fn not_brackets_groups_only_and_double_negation_cancels() {
    let t = Cond::Contains("userName", s("x")).not();
    assert_eq!(render(&t).0, "NOT contains(#userName, :v1)");
    let g = Cond::all([Cond::eq("a", s("1")), Cond::eq("b", s("2"))])
        .unwrap()
        .not();
    assert_eq!(render(&g).0, "NOT (#a = :v1 AND #b = :v2)");
    assert_eq!(render(&g.not()).0, "#a = :v1 AND #b = :v2");
    let and_of_not = Cond::eq("a", s("1")).and(Cond::Exists("b").not());
    assert_eq!(
        render(&and_of_not).0,
        "#a = :v1 AND NOT attribute_exists(#b)"
    );
}

#[test]
fn a_key_condition_with_a_range_and_between() {
    let k = Cond::eq("emailInitial", s("jan")).and(Cond::Between("email", s("a"), s("b")));
    let (t, e) = render(&k);
    assert_eq!(t, "#emailInitial = :v1 AND #email BETWEEN :v2 AND :v3");
    assert_eq!(e.values().unwrap().len(), 3);
}

#[test]
fn empty_groups_are_no_condition_at_all() {
    assert_eq!(Cond::all([]), None);
    assert_eq!(Cond::any(Vec::new()), None);
    let e = Expr::new();
    assert_eq!(e.names(), None);
    assert_eq!(e.values(), None);
}

#[test]
fn every_name_and_value_is_registered_once_and_used() {
    // The same attribute twice: one name, two values.
    let c = Cond::Cmp("status", Cmp::Ge, s("a")).and(Cond::Cmp("status", Cmp::Le, s("b")));
    let (t, e) = render(&c);
    assert_eq!(t, "#status >= :v1 AND #status <= :v2");
    assert_eq!(e.names().unwrap().len(), 1);
    assert_eq!(e.values().unwrap().len(), 2);
}

#[test]
fn odd_attribute_names_get_numbered_placeholders() {
    let mut e = Expr::new();
    assert_eq!(e.name("a-b"), "#n0");
    assert_eq!(e.name("a-b"), "#n0");
    assert_eq!(e.name("x.y"), "#n1");
    assert_eq!(e.names().unwrap()["#n1"], "x.y");
}

#[test]
fn updates_render_set_and_remove_with_a_condition_sharing_the_maps() {
    let mut e = Expr::new();
    let u = e.update(
        &Update::new()
            .set("expiresAt", AttributeValue::N("5".into()))
            .set("deletableAt", AttributeValue::N("9".into()))
            .set_if_absent("created", AttributeValue::N("1".into()))
            .remove("consumedAt"),
    );
    let c = e.cond(&Cond::Exists("id"));
    assert_eq!(
        u,
        "SET #expiresAt = :v1, #deletableAt = :v2, #created = if_not_exists(#created, :v3) \
         REMOVE #consumedAt"
    );
    assert_eq!(c, "attribute_exists(#id)");
    let (names, values) = e.into_parts();
    assert_eq!(names.unwrap().len(), 5);
    assert_eq!(values.unwrap().len(), 3);
}
