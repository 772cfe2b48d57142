//! The account filter planner, proven on servers: generated SCIM filters
//! (every attribute and operator the planner accepts, and/or/not nesting,
//! both tenants, scans allowed and not, every ordering) run through gRPC
//! `List` (all pages) and `Count` against seeded accounts, and are compared
//! with an in-memory evaluation written here, independently of the
//! planner. Any mismatch, and any status but the planner's documented
//! refusals, fails. It runs on the embedded Dynoxide and on MiniStack, two
//! independent implementations of DynamoDB's expression validation.

use crate::support;

use std::collections::BTreeSet;

use curity_dynamodb::{
    api::convert::json_to_struct,
    proto::{
        AccountSort, CountAccountsRequest, CreateAccountRequest, ListAccountsRequest, NewAccount,
        PaginationRequest, Tenant, account_service_client::AccountServiceClient,
    },
};
use proptest::{prelude::*, test_runner::TestRunner};
use serde_json::json;
use support::app::{Backend, TestApp};
use tonic::{Code, transport::Channel};

type Client = AccountServiceClient<Channel>;

/// Seeded accounts: shared 3-unit prefixes (initials partitions), names
/// shorter than 3 units, case and non-ASCII differences, accounts without
/// email or phone, both activity states.
const SEEDS: &[(&str, Option<&str>, Option<&str>, bool)] = &[
    (
        "alice",
        Some("alice@example.com"),
        Some("+46700000001"),
        true,
    ),
    ("alicia", Some("alicia@example.com"), None, false),
    ("alina", None, Some("+46700000003"), true),
    ("alfred", Some("Alfred@Example.com"), None, true),
    ("al", Some("al@x.io"), Some("+46700000005"), false),
    ("bob", Some("bob@example.org"), None, true),
    (
        "bobby",
        Some("bobby@example.org"),
        Some("+46700000007"),
        true,
    ),
    ("bobcat", None, None, false),
    ("Bob", Some("Bob@example.org"), None, true),
    (
        "carol",
        Some("carol@example.com"),
        Some("+46700000010"),
        true,
    ),
    ("carolyn", Some("carolyn@x.io"), None, false),
    ("dave", Some("dave@example.com"), None, true),
    (
        "jane.doe",
        Some("jane.doe@example.com"),
        Some("+15550000013"),
        true,
    ),
    ("janet", Some("janet@example.com"), None, true),
    ("jan", Some("jan@x.io"), None, false),
    ("ja", None, None, true),
    ("zoë", Some("zoë@example.com"), Some("+15550000017"), true),
    ("zoey", Some("zoey@example.com"), None, false),
    ("émile", Some("emile@example.fr"), None, true),
    ("x", Some("x@x.io"), Some("+15550000020"), true),
    ("mallory", Some("mallory@evil.io"), None, false),
    ("m", None, Some("+15550000022"), true),
    ("trent", Some("trent@example.com"), None, true),
    (
        "peggy",
        Some("peggy@example.com"),
        Some("+15550000024"),
        false,
    ),
];

const TENANTS: [&str; 2] = ["", "acme"];

/// An account as the model sees it.
#[derive(Debug, Clone)]
struct Model {
    tenant: &'static str,
    id: String,
    user_name: String,
    email: Option<String>,
    phone: Option<String>,
    active: bool,
}

/// The first 3 UTF-16 units, not cutting a surrogate pair.
fn initials(v: &str) -> String {
    let mut units = 0;
    v.chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= 3
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Initials,
    Bool,
}

const ATTRS: &[(&str, Kind)] = &[
    ("id", Kind::Str),
    ("userName", Kind::Str),
    ("userNameInitial", Kind::Initials),
    ("email", Kind::Str),
    ("emails", Kind::Str),
    ("emails.value", Kind::Str),
    ("emailInitial", Kind::Initials),
    ("active", Kind::Bool),
    ("phoneNumbers", Kind::Str),
    ("phoneNumbers.value", Kind::Str),
];

fn ops(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Str => &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"],
        Kind::Initials => &["eq", "ne", "sw", "gt", "ge", "lt", "le", "pr"],
        Kind::Bool => &["eq", "ne", "pr"],
    }
}

#[derive(Debug, Clone)]
enum Value {
    Str(String),
    Bool(bool),
    None,
}

#[derive(Debug, Clone)]
enum Filter {
    Term(&'static str, &'static str, Value),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

impl Filter {
    fn render(&self) -> String {
        match self {
            Filter::Term(a, op, Value::None) => format!("{a} {op}"),
            Filter::Term(a, op, Value::Bool(b)) => format!("{a} {op} {b}"),
            Filter::Term(a, op, Value::Str(s)) => {
                format!("{a} {op} {}", serde_json::Value::String(s.clone()))
            }
            Filter::And(l, r) => format!("({}) and ({})", l.render(), r.render()),
            Filter::Or(l, r) => format!("({}) or ({})", l.render(), r.render()),
            Filter::Not(f) => format!("not ({})", f.render()),
        }
    }

    /// SCIM semantics: a comparison on an absent attribute is false
    /// (`ne` too: RFC 7644 defines `ne` as "not equal", and an absent value
    /// is not equal to any value, so `ne` holds), `pr` is presence.
    fn eval(&self, m: &Model) -> bool {
        match self {
            Filter::And(l, r) => l.eval(m) && r.eval(m),
            Filter::Or(l, r) => l.eval(m) || r.eval(m),
            Filter::Not(f) => !f.eval(m),
            Filter::Term(attr, op, value) => {
                if *attr == "active" {
                    return match (op, value) {
                        (&"pr", _) => true,
                        (&"eq", Value::Bool(b)) => m.active == *b,
                        (&"ne", Value::Bool(b)) => m.active != *b,
                        _ => unreachable!("generated {attr} {op}"),
                    };
                }
                let got: Option<String> = match *attr {
                    "id" => Some(m.id.clone()),
                    "userName" => Some(m.user_name.clone()),
                    "userNameInitial" => Some(initials(&m.user_name)),
                    "email" | "emails" | "emails.value" => m.email.clone(),
                    "emailInitial" => m.email.as_deref().map(initials),
                    "phoneNumbers" | "phoneNumbers.value" => m.phone.clone(),
                    other => unreachable!("attribute {other}"),
                };
                let Some(g) = got else {
                    return *op == "ne";
                };
                let w = match value {
                    Value::Str(s) => s.as_str(),
                    _ => return *op == "pr",
                };
                match *op {
                    "eq" => g == w,
                    "ne" => g != w,
                    "co" => g.contains(w),
                    "sw" => g.starts_with(w),
                    "ew" => g.ends_with(w),
                    // DynamoDB orders strings by their UTF-8 bytes, as Rust does.
                    "gt" => g.as_str() > w,
                    "ge" => g.as_str() >= w,
                    "lt" => g.as_str() < w,
                    "le" => g.as_str() <= w,
                    other => unreachable!("operator {other}"),
                }
            }
        }
    }
}

/// Values that hit the seeds (whole values, prefixes, infixes, suffixes,
/// initials) and values that miss.
fn value_pool() -> Vec<String> {
    let mut pool = BTreeSet::new();
    for (user, email, phone, _) in SEEDS {
        for v in [Some(*user), *email, *phone].into_iter().flatten() {
            let chars: Vec<char> = v.chars().collect();
            pool.insert(v.to_string());
            for n in [1, 2, 3, 4] {
                if n <= chars.len() {
                    pool.insert(chars[..n].iter().collect::<String>());
                    pool.insert(chars[chars.len() - n..].iter().collect::<String>());
                }
            }
            if chars.len() > 3 {
                pool.insert(chars[1..3].iter().collect::<String>());
            }
        }
    }
    for extra in ["", "zzz", "Z", "@", ".", "+46", "example", "nobody@nowhere"] {
        pool.insert(extra.to_string());
    }
    pool.into_iter().collect()
}

fn term(pool: Vec<String>) -> impl Strategy<Value = Filter> {
    (
        0..ATTRS.len(),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(move |(a, op_ix, v_ix, b)| {
            let (attr, kind) = ATTRS[a];
            let op = *op_ix.get(ops(kind));
            let value = match (op, kind) {
                ("pr", _) => Value::None,
                (_, Kind::Bool) => Value::Bool(b),
                _ => Value::Str(v_ix.get(&pool).clone()),
            };
            Filter::Term(attr, op, value)
        })
}

/// Terms an index can serve: equality on a key, a prefix of 3+ units,
/// initials; with values that exist.
fn key_term() -> impl Strategy<Value = Filter> {
    let seeds = SEEDS.len();
    (0..seeds, 0..6usize, 3..6usize).prop_map(|(i, shape, n)| {
        let (user, email, phone, _) = SEEDS[i];
        let s = |v: &str| Value::Str(v.to_string());
        let prefix = |v: &str| Value::Str(v.chars().take(n).collect());
        match (shape, email, phone) {
            (1, Some(e), _) => Filter::Term("emails", "eq", s(e)),
            (2, _, Some(p)) => Filter::Term("phoneNumbers", "eq", s(p)),
            (3, _, _) => Filter::Term("userName", "sw", prefix(user)),
            (4, Some(e), _) => Filter::Term("emails.value", "sw", prefix(e)),
            (5, _, _) => Filter::Term("userNameInitial", "eq", Value::Str(initials(user))),
            _ => Filter::Term("userName", "eq", s(user)),
        }
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![3 => term(value_pool()), 2 => key_term()];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

#[derive(Debug, Clone)]
struct Case {
    filter: Filter,
    tenant: &'static str,
    sort: AccountSort,
    descending: bool,
    page: u32,
}

fn case() -> impl Strategy<Value = Case> {
    (
        filter(),
        prop::sample::select(TENANTS.to_vec()),
        prop::sample::select(vec![
            AccountSort::None,
            AccountSort::None,
            AccountSort::UserName,
            AccountSort::Email,
        ]),
        any::<bool>(),
        prop::sample::select(vec![1u32, 3, 7, 100]),
    )
        .prop_map(|(filter, tenant, sort, descending, page)| Case {
            filter,
            tenant,
            sort,
            descending,
            page,
        })
}

fn tenant(t: &str) -> Option<Tenant> {
    (!t.is_empty()).then(|| Tenant { id: t.into() })
}

async fn seed(app: &TestApp) -> Vec<Model> {
    let mut c = Client::new(app.channel.clone());
    let mut out = Vec::new();
    for t in TENANTS {
        for (i, (user, email, phone, active)) in SEEDS.iter().enumerate() {
            // The second tenant gets every other account, flipped: tenants
            // with the same names but different data.
            if !t.is_empty() && i % 2 == 1 {
                continue;
            }
            let active = if t.is_empty() { *active } else { !*active };
            let mut attrs = json!({"name": {"givenName": user}});
            if let Some(e) = email {
                attrs["emails"] = json!([{"value": e, "primary": true}]);
            }
            if let Some(p) = phone {
                attrs["phoneNumbers"] = json!([{"value": p, "primary": true}]);
            }
            let serde_json::Value::Object(attrs) = attrs else {
                unreachable!()
            };
            let account = c
                .create(CreateAccountRequest {
                    tenant: tenant(t),
                    account: Some(NewAccount {
                        user_name: (*user).into(),
                        active,
                        attributes: Some(json_to_struct(attrs)),
                        ..Default::default()
                    }),
                    password_hash: None,
                })
                .await
                .unwrap_or_else(|e| panic!("seed {user} in tenant '{t}': {e}"))
                .into_inner()
                .account
                .expect("created account");
            out.push(Model {
                tenant: t,
                id: account.id,
                user_name: (*user).into(),
                email: email.map(String::from),
                phone: phone.map(String::from),
                active,
            });
        }
    }
    out
}

/// What a run of one case showed.
enum Outcome {
    /// The accounts listed (in order) and the count.
    Listed(Vec<String>, u64),
    /// A documented refusal: a scan when scans are off, an ordering the
    /// layout cannot serve (FAILED_PRECONDITION), too many queries or
    /// alternatives (INVALID_ARGUMENT).
    Refused(Code, String),
}

async fn run(c: &mut Client, case: &Case) -> Result<Outcome, String> {
    let text = case.filter.render();
    let mut ids = Vec::new();
    let mut cursor = String::new();
    for round in 0.. {
        if round > SEEDS.len() * 2 + 2 {
            return Err("pagination does not end".into());
        }
        let resp = c
            .list(deadline(ListAccountsRequest {
                tenant: tenant(case.tenant),
                filter: text.clone(),
                page: Some(PaginationRequest {
                    count: Some(case.page),
                    cursor: cursor.clone(),
                }),
                sort_by: case.sort as i32,
                descending: case.descending,
            }))
            .await;
        let page = match resp {
            Ok(r) => r.into_inner(),
            Err(s) if refusal(&s) && round == 0 => {
                return Ok(Outcome::Refused(s.code(), s.message().to_string()));
            }
            Err(s) => return Err(format!("List page {round}: {s:?}")),
        };
        if page.accounts.is_empty() && round > 0 {
            return Err(format!(
                "page {round} is empty but the previous one had a cursor"
            ));
        }
        if page.accounts.len() > case.page as usize {
            return Err(format!(
                "page {round} holds {} > {}",
                page.accounts.len(),
                case.page
            ));
        }
        ids.extend(page.accounts.into_iter().map(|a| a.id));
        cursor = page.page.map(|p| p.cursor).unwrap_or_default();
        if cursor.is_empty() {
            break;
        }
    }
    let count = c
        .count(deadline(CountAccountsRequest {
            tenant: tenant(case.tenant),
            filter: text.clone(),
        }))
        .await;
    let count = match count {
        Ok(r) => r.into_inner().count,
        Err(s) => return Err(format!("Count after a successful List: {s:?}")),
    };
    Ok(Outcome::Listed(ids, count))
}

/// Seeded data is tiny: a call that takes longer is stuck, and the case
/// is reported instead of hanging the test.
fn deadline<T>(message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.set_timeout(std::time::Duration::from_secs(20));
    r
}

fn refusal(s: &tonic::Status) -> bool {
    match s.code() {
        Code::FailedPrecondition => true,
        Code::InvalidArgument => {
            let m = s.message();
            m.contains("table queries and the allowed maximum") || m.contains("alternatives")
        }
        _ => false,
    }
}

/// Checks one case against the model; `Ok(true)` when it was served.
fn check(models: &[Model], case: &Case, outcome: Outcome, scans: bool) -> Result<bool, String> {
    let expected: Vec<&Model> = models
        .iter()
        .filter(|m| m.tenant == case.tenant && case.filter.eval(m))
        .collect();
    let want: BTreeSet<&str> = expected.iter().map(|m| m.id.as_str()).collect();
    match outcome {
        Outcome::Refused(code, msg) => {
            let scan_refused = code == Code::FailedPrecondition && msg.contains("table scan");
            let sort_refused = code == Code::FailedPrecondition && msg.contains("ordered by");
            if scan_refused && scans {
                return Err(format!("scan refused although allowed: {msg}"));
            }
            if sort_refused && case.sort == AccountSort::None {
                return Err(format!("ordering refused without an ordering: {msg}"));
            }
            Ok(false)
        }
        Outcome::Listed(ids, count) => {
            let got: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
            if got.len() != ids.len() {
                return Err(format!("an account is listed twice: {ids:?}"));
            }
            if got != want {
                let name = |id: &str| {
                    models
                        .iter()
                        .find(|m| m.id == id)
                        .map_or(id.to_string(), |m| format!("{}/{}", m.tenant, m.user_name))
                };
                return Err(format!(
                    "listed {:?}, expected {:?}",
                    got.iter().map(|i| name(i)).collect::<Vec<_>>(),
                    want.iter().map(|i| name(i)).collect::<Vec<_>>()
                ));
            }
            if count != want.len() as u64 {
                return Err(format!("Count {count}, expected {}", want.len()));
            }
            if case.sort != AccountSort::None {
                let key = |id: &String| -> Option<String> {
                    let m = models.iter().find(|m| &m.id == id)?;
                    match case.sort {
                        AccountSort::Email => m.email.clone(),
                        _ => Some(m.user_name.clone()),
                    }
                };
                let keys: Vec<Option<String>> = ids.iter().map(key).collect();
                let mut sorted = keys.clone();
                sorted.sort();
                if case.descending {
                    sorted.reverse();
                }
                if keys != sorted {
                    return Err(format!("not in the requested order: {keys:?}"));
                }
            }
            Ok(true)
        }
    }
}

fn regressions() -> Vec<Case> {
    let term = |a, op, v: &str| Filter::Term(a, op, Value::Str(v.into()));
    vec![
        // A page ending on a table-key lookup's one item, more in a later
        // query: the cursor once pointed "after" that item in the same
        // lookup, which a server may answer with the item again.
        Case {
            filter: Filter::And(
                Box::new(Filter::Or(
                    Box::new(term("userName", "eq", "alfred")),
                    Box::new(term("phoneNumbers", "eq", "+46700000001")),
                )),
                Box::new(term("email", "gt", "")),
            ),
            tenant: "",
            sort: AccountSort::None,
            descending: false,
            page: 1,
        },
        Case {
            filter: Filter::Or(
                Box::new(Filter::And(
                    Box::new(term("userNameInitial", "eq", "Bob")),
                    Box::new(Filter::Not(Box::new(term("id", "lt", "0005")))),
                )),
                Box::new(Filter::And(
                    Box::new(term("userName", "eq", "ja")),
                    Box::new(term("emails.value", "co", "zoë")),
                )),
            ),
            tenant: "",
            sort: AccountSort::None,
            descending: false,
            page: 1,
        },
    ]
}

/// Runs `cases` generated cases on one backend, scans allowed or not.
fn differential(backend: Backend, scans: bool, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (app, models) = rt.block_on(async {
        let app = TestApp::start_backend(backend, |c| c.dynamodb.allow_table_scans = scans).await;
        let models = seed(&app).await;
        (app, models)
    });
    // Cases a generated run once failed on, kept so that every run has them.
    for case in regressions() {
        let mut c = Client::new(app.channel.clone());
        let text = case.filter.render();
        let outcome = rt
            .block_on(run(&mut c, &case))
            .unwrap_or_else(|e| panic!("{backend:?}: {text}: {e}"));
        check(&models, &case, outcome, scans)
            .unwrap_or_else(|e| panic!("{backend:?}: {text}: {e}"));
    }
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    });
    // (unordered cases, of those served)
    let tally = std::cell::Cell::new((0u32, 0u32));
    let result = runner.run(&case(), |case| {
        let mut c = Client::new(app.channel.clone());
        // The first failure is printed as found: shrinking can take long.
        let fail = |e: String| {
            eprintln!("{backend:?}, scans allowed = {scans}: {case:?}: {e}");
            TestCaseError::fail(format!("{}: {e}", case.filter.render()))
        };
        let outcome = rt.block_on(run(&mut c, &case)).map_err(fail)?;
        let served = check(&models, &case, outcome, scans).map_err(fail)?;
        if case.sort == AccountSort::None {
            let (n, s) = tally.get();
            tally.set((n + 1, s + u32::from(served)));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{backend:?}, scans allowed = {scans}: {e}");
    }
    // Refusals are legitimate (too many queries or alternatives; a scan
    // when scans are off), but a planner refusing nearly everything would
    // pass the comparison vacuously.
    let (unordered, served) = tally.get();
    let min = if scans {
        unordered * 8 / 10
    } else {
        unordered / 10
    };
    eprintln!(
        "{backend:?}, scans allowed = {scans}: {served} of {unordered} unordered cases served"
    );
    assert!(
        served >= min.max(1),
        "{backend:?}, scans allowed = {scans}: only {served} of {unordered} unordered cases were served"
    );
    drop(app);
}

#[test]
fn generated_filters_list_and_count_exactly_the_model_on_the_embedded_store_with_scans() {
    differential(Backend::Embedded, true, 300);
}

#[test]
fn generated_filters_list_and_count_exactly_the_model_on_the_embedded_store_without_scans() {
    differential(Backend::Embedded, false, 200);
}

#[test]
fn generated_filters_list_and_count_exactly_the_model_on_ministack_with_scans() {
    differential(Backend::MiniStack, true, 150);
}

#[test]
fn generated_filters_list_and_count_exactly_the_model_on_ministack_without_scans() {
    differential(Backend::MiniStack, false, 100);
}
