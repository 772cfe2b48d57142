//! How an account filter is planned: the SCIM attributes accounts can be
//! filtered on, the indexes in the plugin's order, how account keys look
//! ([`AccountKeys`]), and what can be sorted.

use super::{Accounts, PK};
use crate::schema;
use crate::store::{
    StoreError,
    codec::s,
    expr::Cond,
    keys::{self, Tenant},
    query::{self, AttrKind, AttrSpec, HashStyle, IndexSpec, KeyLayout, Plan},
};

pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 100;

const fn attr(scim: &'static str, item: &'static str, kind: AttrKind) -> AttrSpec {
    AttrSpec { scim, item, kind }
}

/// An initials attribute: named alike in SCIM and on the item, its
/// values prefixed by the key `kind`.
const fn initials(name: &'static str, kind: &'static str) -> AttrSpec {
    attr(name, name, AttrKind::Initials(kind))
}

/// SCIM attribute names accepted in account filters.
pub const ACCOUNT_ATTRS: &[AttrSpec] = &[
    attr("id", "accountId", AttrKind::Str),
    attr("userName", "userName", AttrKind::Str),
    initials("userNameInitial", keys::USER_NAME),
    attr("email", "email", AttrKind::Str),
    attr("emails", "email", AttrKind::Str),
    attr("emails.value", "email", AttrKind::Str),
    initials("emailInitial", keys::EMAIL),
    attr("active", "active", AttrKind::Bool),
    attr("phoneNumbers", "phone", AttrKind::Str),
    attr("phoneNumbers.value", "phone", AttrKind::Str),
];

const USER_NAME_INDEX: &str = "userNameInitial-userName-index";
const EMAIL_INDEX: &str = "emailInitial-email-index";

const fn table_key(term_attr: &'static str, kind: &'static str) -> IndexSpec {
    IndexSpec {
        name: None,
        term_attr,
        hash_key: PK,
        range_key: None,
        style: HashStyle::TableKey { kind },
    }
}

/// In the plugin's order; the two prefix-search entries are ours (the
/// plugin scans for `userName sw`), tried only when nothing else fits.
fn account_indexes(unique_phones: bool) -> Vec<IndexSpec> {
    debug_assert!(schema::ACCOUNTS.global_indexes[0].name == USER_NAME_INDEX);
    let mut v = vec![
        table_key("accountId", keys::ACCOUNT_ID),
        table_key("userName", keys::USER_NAME),
        IndexSpec {
            name: Some(USER_NAME_INDEX),
            term_attr: "userNameInitial",
            hash_key: "userNameInitial",
            range_key: Some("userName"),
            style: HashStyle::Initials,
        },
        table_key("email", keys::EMAIL),
        IndexSpec {
            name: Some(EMAIL_INDEX),
            term_attr: "emailInitial",
            hash_key: "emailInitial",
            range_key: Some("email"),
            style: HashStyle::Initials,
        },
    ];
    if unique_phones {
        v.push(table_key("phone", keys::PHONE));
    }
    v.push(IndexSpec {
        name: Some(USER_NAME_INDEX),
        term_attr: "userName",
        hash_key: "userNameInitial",
        range_key: Some("userName"),
        style: HashStyle::InitialsOfPrefix {
            kind: keys::USER_NAME,
        },
    });
    v.push(IndexSpec {
        name: Some(EMAIL_INDEX),
        term_attr: "email",
        hash_key: "emailInitial",
        range_key: Some("email"),
        style: HashStyle::InitialsOfPrefix { kind: keys::EMAIL },
    });
    v
}

/// Where a listing's queries and scan go, for tests and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanSummary {
    /// Index name per query (`None`: the table key).
    Queries(Vec<Option<&'static str>>),
    Scan,
}

/// An ordering the layout can serve: the range key of an initials index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    UserName,
    Email,
}

impl SortKey {
    fn index(self) -> &'static str {
        match self {
            Self::UserName => USER_NAME_INDEX,
            Self::Email => EMAIL_INDEX,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::UserName => "userName",
            Self::Email => "email",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

/// Account keys: `pk` is `<kind>#<value>` (`<kind>(<tenant>)#<value>` in a
/// custom tenant); initials are the first 3 UTF-16 units of a value.
pub struct AccountKeys;

impl KeyLayout for AccountKeys {
    fn hash_key(&self) -> &'static str {
        schema::ACCOUNTS.hash.name
    }

    fn table_key(&self, tenant: Tenant<'_>, kind: &'static str, value: &str) -> String {
        keys::account_key(tenant, kind, value)
    }

    fn value_of<'k>(&self, key: &'k str) -> &'k str {
        key.split_once('#').map_or("", |(_, v)| v)
    }

    fn prefix_initials(
        &self,
        tenant: Tenant<'_>,
        kind: &'static str,
        prefix: &str,
    ) -> Option<String> {
        (keys::utf16_len(prefix) >= 3).then(|| keys::initials(tenant, kind, prefix))
    }
}

impl Accounts<'_> {
    pub(super) fn plan(&self, tenant: Tenant<'_>, filter: &str) -> Result<Plan, StoreError> {
        let products = query::parse_filter(filter, ACCOUNT_ATTRS, tenant)?;
        let plan = query::plan(
            products,
            &account_indexes(self.0.settings().unique_phone_numbers),
            &AccountKeys,
            tenant,
        )?;
        if matches!(plan, Plan::Scan { .. }) && !self.0.settings().allow_table_scans {
            return Err(StoreError::NotSupportedByLayout(
                "the filter needs a table scan, which is not allowed \
                 (dynamodb.allow_table_scans = false); filter on id, userName, emails or \
                 phoneNumbers with eq, or userName / emails with sw and at least 3 characters"
                    .into(),
            ));
        }
        Ok(plan)
    }

    /// How a filter would be executed.
    pub fn explain_filter(
        &self,
        tenant: Tenant<'_>,
        filter: &str,
    ) -> Result<PlanSummary, StoreError> {
        Ok(match self.plan(tenant, filter)? {
            Plan::Queries(q) => PlanSummary::Queries(q.iter().map(|q| q.index).collect()),
            Plan::Scan { .. } => PlanSummary::Scan,
        })
    }
}

/// A scan reads the tenant's main items (`ai#` / `ai(t)#` keys) and what
/// DynamoDB can check of the filter.
pub(super) fn scan_filter(tenant: Tenant<'_>, products: &[query::Product]) -> Cond {
    let main_items = Cond::BeginsWith(PK, s(tenant.prefix(keys::ACCOUNT_ID)));
    match query::filter_cond(products) {
        Some(f) => main_items.and(f),
        None => main_items,
    }
}

/// Sorting is only what an index already returns in order: one query on
/// the index whose range key is the sort attribute (or one table-key
/// lookup, which yields at most one account).
pub(super) fn check_sortable(plan: &Plan, sort: Sort) -> Result<(), StoreError> {
    match plan {
        Plan::Queries(q) if q.len() == 1 && q[0].index.is_none_or(|i| i == sort.key.index()) => {
            Ok(())
        }
        _ => Err(StoreError::NotSupportedByLayout(format!(
            "accounts can be ordered by {} only when the filter is served by the {} index \
             (e.g. {} sw \"abc\"); the layout has nothing to sort this filter's results by",
            sort.key.name(),
            sort.key.index(),
            sort.key.name(),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;
    use crate::store::{expr::Expr, query::QuerySpec};

    fn plan_for(filter: &str, unique_phones: bool, tenant: Tenant<'_>) -> Result<Plan, StoreError> {
        let products = query::parse_filter(filter, ACCOUNT_ATTRS, tenant)?;
        query::plan(
            products,
            &account_indexes(unique_phones),
            &AccountKeys,
            tenant,
        )
    }

    fn queries(filter: &str) -> Vec<QuerySpec> {
        match plan_for(filter, true, Tenant::Default).expect("plan") {
            Plan::Queries(q) => q,
            Plan::Scan { .. } => panic!("{filter}: expected queries, got a scan"),
        }
    }

    fn is_scan(filter: &str, unique_phones: bool) -> bool {
        matches!(
            plan_for(filter, unique_phones, Tenant::Default).expect("plan"),
            Plan::Scan { .. }
        )
    }

    fn key_expression(q: &QuerySpec) -> String {
        Expr::new().cond(&q.key)
    }

    fn key(q: &QuerySpec, placeholder: &str) -> String {
        let mut e = Expr::new();
        e.cond(&q.key);
        match &e.values().expect("values")[placeholder] {
            AttributeValue::S(s) => s.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn user_name_and_email_eq_is_one_table_key_query_filtered_by_email() {
        let q = queries(r#"userName eq "janedoe" and emails eq "jane.doe@example.com""#);
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].index, None);
        assert_eq!(key_expression(&q[0]), "#pk = :v1");
        assert_eq!(key(&q[0], ":v1"), "un#janedoe");
        assert_eq!(q[0].products[0][0].attr, "email");
    }

    #[test]
    fn user_name_or_email_eq_is_two_key_only_queries() {
        let q = queries(r#"userName eq "janedoe" or emails eq "jane.doe@example.com""#);
        assert_eq!(q.len(), 2);
        assert_eq!(key(&q[0], ":v1"), "un#janedoe");
        assert_eq!(key(&q[1], ":v1"), "em#jane.doe@example.com");
        assert!(q.iter().all(|q| q.products == vec![Vec::new()]));
    }

    #[test]
    fn id_and_phone_use_their_table_keys_with_the_tenant_prefix() {
        let Plan::Queries(q) = plan_for(r#"id eq "42""#, true, Tenant::Custom("t")).unwrap() else {
            panic!("query")
        };
        assert_eq!(key(&q[0], ":v1"), "ai(t)#42");
        assert_eq!(key(&queries(r#"phoneNumbers eq "+1""#)[0], ":v1"), "pn#+1");
        // Without unique phones there are no pn# items: scan the phone
        // attribute instead.
        assert!(is_scan(r#"phoneNumbers eq "+1""#, false));
    }

    #[test]
    fn user_name_prefix_of_three_or_more_units_uses_the_initials_index() {
        let q = queries(r#"userName sw "jane""#);
        assert_eq!(q[0].index, Some(USER_NAME_INDEX));
        assert_eq!(
            key_expression(&q[0]),
            "#userNameInitial = :v1 AND begins_with(#userName, :v2)"
        );
        assert_eq!(key(&q[0], ":v1"), "jan");
        assert_eq!(key(&q[0], ":v2"), "jane");
        let q = queries(r#"emails sw "jane@""#);
        assert_eq!(q[0].index, Some(EMAIL_INDEX));
        // Shorter prefixes cannot name an initials partition.
        assert!(is_scan(r#"userName sw "ja""#, true));
    }

    #[test]
    fn initials_eq_with_a_range_ne_is_two_queries() {
        let q = queries(r#"emailInitial eq "jan" and emails ne "jane@x.io""#);
        assert_eq!(q.len(), 2);
        assert_eq!(
            key_expression(&q[0]),
            "#emailInitial = :v1 AND #email < :v2"
        );
        assert_eq!(
            key_expression(&q[1]),
            "#emailInitial = :v1 AND #email > :v2"
        );
        assert!(q.iter().all(|q| q.index == Some(EMAIL_INDEX)));
    }

    #[test]
    fn alternatives_without_a_usable_index_make_the_whole_filter_a_scan() {
        assert!(is_scan("active eq true", true));
        assert!(is_scan(r#"userName ne "x""#, true));
        assert!(is_scan(r#"userName eq "a" or active eq false"#, true));
        assert!(is_scan("", true));
    }

    fn scan_expression(filter: &str, tenant: Tenant<'_>) -> (String, Expr) {
        let Plan::Scan { products } = plan_for(filter, true, tenant).expect("plan") else {
            panic!("{filter}: expected a scan")
        };
        let mut e = Expr::new();
        (e.cond(&scan_filter(tenant, &products)), e)
    }

    #[test]
    fn a_scan_adds_the_main_item_prefix_and_brackets_only_an_or() {
        // The shape that once failed on every server: one product.
        let (f, e) = scan_expression(r#"userName co "x""#, Tenant::Default);
        assert_eq!(f, "begins_with(#pk, :v1) AND contains(#userName, :v2)");
        assert_eq!(e.values().unwrap()[":v1"], s("ai#"));
        let (f, e) = scan_expression(
            r#"active eq true and userName gt "m" or emails pr"#,
            Tenant::Custom("t"),
        );
        assert_eq!(
            f,
            "begins_with(#pk, :v1) AND (#active = :v2 AND #userName > :v3 OR attribute_exists(#email))"
        );
        assert_eq!(e.values().unwrap()[":v1"], s("ai(t)#"));
        // No residual: the prefix alone.
        assert_eq!(
            scan_expression("", Tenant::Default).0,
            "begins_with(#pk, :v1)"
        );
        assert_eq!(
            scan_expression(r#"not (userName ew "x")"#, Tenant::Default).0,
            "begins_with(#pk, :v1)"
        );
    }

    #[test]
    fn no_query_filters_on_its_own_index_keys_and_no_key_condition_holds_an_unusable_value() {
        // DynamoDB refuses a query filter naming the index's keys: the
        // initials index cannot serve these, so they scan.
        assert!(is_scan(
            r#"userName sw "alic" and userNameInitial ne "zzz""#,
            true
        ));
        assert!(is_scan(r#"emailInitial eq "ali" and emails co "x""#, true));
        // Empty values, and an empty BETWEEN, never reach a key condition.
        assert!(is_scan(r#"userNameInitial eq """#, true));
        assert!(is_scan(r#"emailInitial eq "ali" and emails sw """#, true));
        assert!(is_scan(
            r#"emailInitial eq "ali" and emails ge "b" and emails le "a""#,
            true
        ));
    }

    #[test]
    fn more_than_eight_queries_are_refused() {
        let f = (0..9)
            .map(|i| format!(r#"userName eq "u{i}""#))
            .collect::<Vec<_>>()
            .join(" or ");
        let err = plan_for(&f, true, Tenant::Default).unwrap_err();
        assert!(err.to_string().contains("maximum is 8"), "{err}");
    }
}
