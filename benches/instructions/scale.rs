//! `--scale`: the cost that grows with the work. `Count` and `List`
//! (every page of 100, the cursor followed to the end) over 1 000, 10 000
//! and 100 000 accounts, in instructions per item (callgrind, as the main
//! table) and in bytes held at the peak (the growth of the resident set of
//! a server run without valgrind, one fresh server per figure). And the
//! JSON port's verify with the password checked here (BCrypt cost 10, the
//! account's credential read from the store) against BCrypt's own cost,
//! `bcrypt::verify` counted alone in this process.
//!
//! Not part of the budgets (seeding 111 000 accounts takes a quarter of an
//! hour; the seeded store is kept in `target/instructions/scale-store` for
//! the next run): `cargo bench --bench instructions -- --scale`; writes
//! `target/instructions/scale.json`.

use super::*;

/// The populations: each a user-name prefix of its own, so a `sw` filter
/// selects exactly one (served by the user-name initials index).
const SIZES: [(u64, &str); 3] = [
    (1_000, "scale1k-"),
    (10_000, "scale10k-"),
    (100_000, "scale100k-"),
];
const PAGE: u32 = 100;
const PASSWORD: &str = "correct horse battery staple";
/// What a seeded account holds besides its user name: an email (its own
/// item in the layout) and a name, as a typical Curity account.
const ATTRIBUTES: &str = r#"{"emails":[{"value":"{user}@example.com","primary":true}],"name":{"givenName":"Scaled","familyName":"User"}}"#;
const VERIFIES: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Count,
    List,
}

pub(super) async fn run(profile: Option<PathBuf>) {
    let work = tempfile::tempdir().expect("temp dir");
    let out = profile.unwrap_or_else(|| work.path().join("callgrind"));
    std::fs::create_dir_all(&out).expect("profile dir");
    // Kept between runs: seeding takes a quarter of an hour on the
    // embedded store.
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/instructions/scale-store");
    let seeded = kept.join("seeded-bcrypt-hash");
    let store = Store::start_in(&kept);
    let hash = match std::fs::read_to_string(&seeded) {
        Ok(hash) => hash,
        Err(_) => {
            let hash = bcrypt::hash(PASSWORD, 10).expect("bcrypt");
            let started = Instant::now();
            seed(&store, &hash).await;
            eprintln!("seeded 111 001 accounts in {:.0?}", started.elapsed());
            std::fs::write(&seeded, &hash).expect("mark the store seeded");
            hash
        }
    };

    let server = Measured::start_with(
        work.path(),
        &out,
        &store.endpoint,
        "scale",
        false,
        "backend_verifies_password = true\n",
        true,
    )
    .await;
    let ch = server.channel().await;
    let floor = server
        .measure("health (floor)", "request", 2000, || {
            let mut c = HealthClient::new(ch.clone());
            async move { c.check(HealthCheckRequest::default()).await.map(|_| ()) }
        })
        .await
        .instructions;
    let authed = InterceptedService::new(ch.clone(), Bearer(bearer()));
    // Warm every path once (plans, pools, the first page's allocations).
    for op in [Op::Count, Op::List] {
        run_op(&authed, op, SIZES[0]).await;
    }
    let mut rows = Vec::new();
    for size in SIZES {
        for op in [Op::Count, Op::List] {
            server.control("-z");
            run_op(&authed, op, size).await;
            let total = server.dump(&format!("{op:?} {}", size.1));
            rows.push(Row {
                op,
                accounts: size.0,
                per_item: total / size.0,
                peak_bytes: 0,
            });
        }
    }
    let verify = server
        .measure(
            "JSON port verify, BCrypt cost 10",
            "request",
            VERIFIES,
            || {
                let json = server.json.clone();
                async move {
                    match verify_password(&json).await {
                        200 => Ok(()),
                        s => Err(tonic::Status::internal(format!("verify answered {s}"))),
                    }
                }
            },
        )
        .await
        .instructions;
    server.stop();
    let bcrypt_alone =
        child_under_callgrind(&out, &["--bcrypt", &hash], "bcrypt::verify") / VERIFIES as u64;

    for row in &mut rows {
        row.peak_bytes = peak_bytes(work.path(), &out, &store.endpoint, row).await;
    }
    report(floor, &rows, verify, bcrypt_alone);
}

struct Row {
    op: Op,
    accounts: u64,
    per_item: u64,
    peak_bytes: u64,
}

/// Idempotent: what an interrupted run left is kept, the rest created.
async fn seed(store: &Store, hash: &str) {
    let ch = Channel::from_shared(format!("http://{}", store.grpc))
        .expect("uri")
        .connect()
        .await
        .expect("store grpc");
    let created = AccountServiceClient::new(ch.clone())
        .create(CreateAccountRequest {
            tenant: None,
            account: Some(NewAccount {
                user_name: "bcrypt-user".into(),
                active: true,
                ..Default::default()
            }),
            password_hash: None,
        })
        .await;
    if let Err(e) = created {
        assert_eq!(
            e.code(),
            tonic::Code::AlreadyExists,
            "seed the BCrypt account: {e:?}"
        );
    }
    CredentialServiceClient::new(ch.clone())
        .store(StoreCredentialRequest {
            subject: "bcrypt-user".into(),
            password_hash: Some(hash.into()),
            ..Default::default()
        })
        .await
        .expect("the BCrypt account's password");
    for (n, prefix) in SIZES {
        let mut missing = (0..n)
            .map(|i| format!("{prefix}{i:06}"))
            .collect::<BTreeSet<_>>();
        let ch = ch.clone();
        each_listed(
            |r| {
                let mut c = AccountServiceClient::new(ch.clone());
                async move { c.list(r).await }
            },
            prefix,
            |a| {
                missing.remove(&a.user_name);
            },
        )
        .await;
        seed_named(&ch, missing, ATTRIBUTES).await;
    }
}

/// One `Count`, or one `List` walked page by page to the end; checks that
/// it saw exactly the population.
async fn run_op(ch: &Authed, op: Op, (n, prefix): (u64, &str)) {
    let mut c = AccountServiceClient::new(ch.clone());
    let filter = format!("userName sw \"{prefix}\"");
    let seen = match op {
        Op::Count => {
            let r = c
                .count(CountAccountsRequest {
                    tenant: None,
                    filter,
                })
                .await
                .expect("count")
                .into_inner();
            assert!(!r.truncated, "a count of {n} is not truncated");
            r.count
        }
        Op::List => {
            let mut seen = 0;
            let ch = ch.clone();
            each_listed(
                |r| {
                    let mut c = AccountServiceClient::new(ch.clone());
                    async move { c.list(r).await }
                },
                prefix,
                |_| seen += 1,
            )
            .await;
            seen
        }
    };
    assert_eq!(seen, n, "{op:?} over {prefix} saw every account once");
}

/// Every account whose user name starts with `prefix`, listed page by page
/// (pages of 100, the cursor followed to the end) through `list`.
async fn each_listed<F, Fut>(
    list: F,
    prefix: &str,
    mut visit: impl FnMut(&curity_dynamodb::proto::Account),
) where
    F: Fn(curity_dynamodb::proto::ListAccountsRequest) -> Fut,
    Fut: Future<
        Output = Result<
            tonic::Response<curity_dynamodb::proto::ListAccountsResponse>,
            tonic::Status,
        >,
    >,
{
    let mut cursor = String::new();
    loop {
        let page = list(curity_dynamodb::proto::ListAccountsRequest {
            filter: format!("userName sw \"{prefix}\""),
            page: Some(curity_dynamodb::proto::PaginationRequest {
                count: Some(PAGE),
                cursor,
            }),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
        page.accounts.iter().for_each(&mut visit);
        cursor = page.page.map(|p| p.cursor).unwrap_or_default();
        if cursor.is_empty() {
            break;
        }
    }
}

/// The resident set's growth while `row`'s operation runs, in a server
/// started for it alone (no valgrind) and warmed on the smallest
/// population first: the peak (`VmHWM`, reset through `clear_refs`) minus
/// the resident set before.
async fn peak_bytes(work: &Path, out: &Path, endpoint: &str, row: &Row) -> u64 {
    let server = Measured::start_with(work, out, endpoint, "plain", false, "", false).await;
    let authed = InterceptedService::new(server.channel().await, Bearer(bearer()));
    run_op(&authed, row.op, SIZES[0]).await;
    let pid = server.child.id();
    let before = status_kib(pid, "VmRSS");
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset the peak");
    let size = *SIZES.iter().find(|s| s.0 == row.accounts).expect("size");
    run_op(&authed, row.op, size).await;
    let peak = status_kib(pid, "VmHWM");
    server.stop();
    peak.saturating_sub(before) * 1024
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// Curity's verify with the password (backend verifies), JSON posted.
async fn verify_password(addr: &str) -> u16 {
    let client: HttpClient =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let body = serde_json::json!({"username": "bcrypt-user", "password": PASSWORD}).to_string();
    post_credentials(&client, addr, body.into_bytes()).await
}

/// Child mode: BCrypt's own cost, `VERIFIES` verifications of `hash`.
pub(super) fn bcrypt_child(hash: &str) {
    assert!(bcrypt::verify(PASSWORD, hash).expect("verify"), "warm-up");
    println!("warm");
    let mut go = String::new();
    std::io::stdin().read_line(&mut go).expect("go");
    for _ in 0..VERIFIES {
        assert!(bcrypt::verify(PASSWORD, hash).expect("verify"));
    }
    println!("done");
    let mut rest = String::new();
    let _ = std::io::stdin().read_line(&mut rest);
}

fn report(floor: u64, rows: &[Row], verify: u64, bcrypt_alone: u64) {
    println!("health floor: {floor} instructions per request");
    println!(
        "{:<8} {:>9} {:>22} {:>14} {:>16}",
        "op", "accounts", "instructions per item", "× floor", "peak bytes held"
    );
    for r in rows {
        println!(
            "{:<8} {:>9} {:>22} {:>14.3} {:>16}",
            format!("{:?}", r.op),
            r.accounts,
            r.per_item,
            r.per_item as f64 / floor as f64,
            r.peak_bytes
        );
    }
    println!(
        "JSON port verify, BCrypt cost 10: {verify} instructions per request; \
         bcrypt::verify alone {bcrypt_alone} ({:.4}×); the rest {}",
        verify as f64 / bcrypt_alone as f64,
        verify as i64 - bcrypt_alone as i64
    );
    let json = serde_json::json!({
        "floor": floor,
        "rows": rows.iter().map(|r| serde_json::json!({
            "op": format!("{:?}", r.op),
            "accounts": r.accounts,
            "instructions_per_item": r.per_item,
            "peak_bytes": r.peak_bytes,
        })).collect::<Vec<_>>(),
        "verify_bcrypt_10": verify,
        "bcrypt_verify_alone": bcrypt_alone,
    });
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/instructions");
    std::fs::create_dir_all(&dir).expect("report dir");
    std::fs::write(
        dir.join("scale.json"),
        serde_json::to_string_pretty(&json).expect("report"),
    )
    .expect("write report");
}
