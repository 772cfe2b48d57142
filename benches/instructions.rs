//! Instructions per request, counted by callgrind inside the server process
//! as deployed (the release binary, bearer authentication on), against a
//! DynamoDB-compatible store in a process of its own so its work is not
//! counted. Instruction counts do not move with the machine's load, so
//! they make budgets: `benches/instruction-budgets.toml` holds each
//! request's ratio to the health floor measured in the same run, and
//! `scripts/instruction-budgets` fails when one exceeds its budget by more
//! than 5 %.
//!
//! For each scenario: warm up, zero the counters (`callgrind_control -z`),
//! send N requests over one connection with 8 in flight, dump
//! (`callgrind_control -d`), divide. The raw SDK `GetItem` (the SDK's own
//! cost, the baseline of the uncached reads) runs in this process,
//! re-executed under callgrind (`--raw-get`).
//!
//! Run: `cargo bench --bench instructions` (prints a table and writes
//! `target/instructions/report.json`; `-- --profile DIR` keeps the
//! callgrind files for `callgrind_annotate`; `-- --sdk-settings` adds the
//! raw `GetItem` under each client setting that costs instructions per
//! request, the study behind the client's configuration).

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::proto::{
    CountAccountsRequest, CreateAccountRequest, CreateDynamicClientRequest, CreateTokenRequest,
    DynamicClient, GetAccountByUserNameRequest, GetDynamicClientRequest, GetSessionRequest,
    GetTokenByHashRequest, InsertSessionRequest, NewAccount, Session, StoreCredentialRequest,
    Token, account_service_client::AccountServiceClient,
    credential_service_client::CredentialServiceClient,
    dynamic_client_service_client::DynamicClientServiceClient,
    session_service_client::SessionServiceClient, token_service_client::TokenServiceClient,
};
use tokio::sync::Semaphore;
use tonic::{
    metadata::MetadataValue, service::interceptor::InterceptedService, transport::Channel,
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

#[path = "instructions/scale.rs"]
mod scale;

const BIN: &str = env!("CARGO_BIN_EXE_curity-dynamodb");
const TOKEN: &str = "instructions-bearer-token-0123456789abcdef";
const IN_FLIGHT: usize = 8;
/// Accounts the `Count` scenario counts (per item).
const COUNTED: u64 = 10_000;

type Authed = InterceptedService<Channel, Bearer>;

#[derive(Clone)]
struct Bearer(MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--raw-get") {
        return raw_get_child(&args[i + 1], &args[i + 2]);
    }
    if let Some(i) = args.iter().position(|a| a == "--bcrypt") {
        return scale::bcrypt_child(&args[i + 1]);
    }
    let sdk_settings = args.iter().any(|a| a == "--sdk-settings");
    // `cargo bench` passes `--bench`; anything else is for libtest.
    let profile = args
        .iter()
        .position(|a| a == "--profile")
        .map(|i| PathBuf::from(&args[i + 1]));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if args.iter().any(|a| a == "--scale") {
        return runtime.block_on(scale::run(profile));
    }
    runtime.block_on(run(profile, sdk_settings));
}

/// One measured figure: instructions per request (or per item).
#[derive(Debug, Clone, serde::Serialize)]
struct Figure {
    name: &'static str,
    per: &'static str,
    instructions: u64,
}

async fn run(profile: Option<PathBuf>, sdk_settings: bool) {
    let work = tempfile::tempdir().expect("temp dir");
    let out = profile.unwrap_or_else(|| work.path().join("callgrind"));
    std::fs::create_dir_all(&out).expect("profile dir");
    let store = Store::start(work.path());
    seed(&store).await;

    let mut figures = Vec::new();
    for cached in [true, false] {
        let server = Measured::start(work.path(), &out, &store.endpoint, cached).await;
        let ch = server.channel().await;
        if cached {
            figures.push(
                server
                    .measure("health (floor)", "request", 2000, || {
                        let mut c = HealthClient::new(ch.clone());
                        async move { c.check(HealthCheckRequest::default()).await.map(|_| ()) }
                    })
                    .await,
            );
        }
        let authed = InterceptedService::new(ch.clone(), Bearer(bearer()));
        let n = if cached { 2000 } else { 500 };
        for (name, scenario) in hot_reads(cached) {
            let authed = authed.clone();
            figures.push(
                server
                    .measure(name, "request", n, move || scenario(authed.clone()))
                    .await,
            );
        }
        if cached {
            figures.push(server.measure_json_verify(1000).await);
        } else {
            let authed = authed.clone();
            let mut f = server
                .measure("account Count (10 000 accounts)", "item", 2, move || {
                    let mut c = AccountServiceClient::new(authed.clone());
                    async move {
                        let n = c
                            .count(CountAccountsRequest {
                                filter: "userName sw \"counted-\"".into(),
                                ..Default::default()
                            })
                            .await?
                            .into_inner()
                            .count;
                        assert_eq!(n, COUNTED, "every seeded account counted");
                        Ok(())
                    }
                })
                .await;
            f.instructions /= COUNTED;
            figures.push(f);
        }
        server.stop();
    }
    figures.push(raw_get_figure(&store.endpoint, &out, SdkSetting::AsBuilt));
    if sdk_settings {
        for setting in SdkSetting::STUDIED {
            figures.push(raw_get_figure(&store.endpoint, &out, setting));
        }
    }

    let floor = figures[0].instructions as f64;
    println!("{:<52} {:>12} {:>8}", "request", "instructions", "× floor");
    let mut report = BTreeMap::new();
    for f in &figures {
        let ratio = f.instructions as f64 / floor;
        println!(
            "{:<52} {:>12} {:>8.2}",
            format!("{} (per {})", f.name, f.per),
            f.instructions,
            ratio
        );
        report.insert(
            f.name,
            serde_json::json!({"per": f.per, "instructions": f.instructions, "ratio": ratio}),
        );
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/instructions");
    std::fs::create_dir_all(&dir).expect("report dir");
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report).expect("report"),
    )
    .expect("write report");
    println!("report: {}", dir.join("report.json").display());
}

type Scenario = Box<
    dyn Fn(Authed) -> std::pin::Pin<Box<dyn Future<Output = Result<(), tonic::Status>> + Send>>
        + Send
        + Sync,
>;

fn hot_reads(cached: bool) -> Vec<(&'static str, Scenario)> {
    let suffix = |s: &'static str, u: &'static str| if cached { s } else { u };
    vec![
        (
            suffix(
                "account by user name, cached",
                "account by user name, uncached",
            ),
            Box::new(|ch| {
                Box::pin(async move {
                    let found = AccountServiceClient::new(ch)
                        .get_by_user_name(GetAccountByUserNameRequest {
                            tenant: None,
                            user_name: "hot-user".into(),
                        })
                        .await?;
                    assert!(found.into_inner().account.is_some());
                    Ok(())
                })
            }),
        ),
        (
            suffix("token by hash, cached", "token by hash, uncached"),
            Box::new(|ch| {
                Box::pin(async move {
                    let found = TokenServiceClient::new(ch)
                        .get_token_by_hash(GetTokenByHashRequest {
                            token_hash: "hot-token".into(),
                        })
                        .await?;
                    assert!(found.into_inner().token.is_some());
                    Ok(())
                })
            }),
        ),
        (
            suffix("session by id (never cached)", "session by id"),
            Box::new(|ch| {
                Box::pin(async move {
                    let found = SessionServiceClient::new(ch)
                        .get_session(GetSessionRequest {
                            id: "hot-session".into(),
                        })
                        .await?;
                    assert!(found.into_inner().session.is_some());
                    Ok(())
                })
            }),
        ),
        (
            suffix("DCR client by id, cached", "DCR client by id, uncached"),
            Box::new(|ch| {
                Box::pin(async move {
                    let found = DynamicClientServiceClient::new(ch)
                        .get(GetDynamicClientRequest {
                            client_id: "hot-client".into(),
                        })
                        .await?;
                    assert!(found.into_inner().client.is_some());
                    Ok(())
                })
            }),
        ),
    ]
}

fn bearer() -> MetadataValue<tonic::metadata::Ascii> {
    format!("Bearer {TOKEN}").parse().expect("header")
}

/// The store: `serve --embedded DIR` in a process of its own; its gRPC
/// port seeds the data, its DynamoDB endpoint serves the measured server.
struct Store {
    child: Child,
    endpoint: String,
    grpc: String,
}

impl Store {
    fn start(work: &Path) -> Self {
        Self::start_in(&work.join("store"))
    }

    fn start_in(dir: &Path) -> Self {
        let _ = std::fs::remove_file(dir.join("embedded.json"));
        let child = Command::new(BIN)
            .args(["serve", "--embedded"])
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "error")
            .env("CURITY_DYNAMODB_JSON_DS__LISTEN", "127.0.0.1:0")
            .env("CURITY_DYNAMODB_CACHE__ENABLED", "false")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the store");
        let state = wait_for(Duration::from_secs(60), || {
            std::fs::read_to_string(dir.join("embedded.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        });
        Self {
            child,
            endpoint: state["dynamodb_endpoint"]
                .as_str()
                .expect("endpoint")
                .into(),
            grpc: state["grpc"].as_str().expect("grpc").into(),
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn seed(store: &Store) {
    let ch = Channel::from_shared(format!("http://{}", store.grpc))
        .expect("uri")
        .connect()
        .await
        .expect("store grpc");
    AccountServiceClient::new(ch.clone())
        .create(CreateAccountRequest {
            tenant: None,
            account: Some(NewAccount {
                user_name: "hot-user".into(),
                active: true,
                attributes_json: r#"{"emails":[{"value":"hot@example.com","primary":true}],"name":{"givenName":"Hot","familyName":"User"}}"#.into(),
                ..Default::default()
            }),
            password_hash: None,
        })
        .await
        .expect("seed account");
    CredentialServiceClient::new(ch.clone())
        .store(StoreCredentialRequest {
            subject: "hot-user".into(),
            password_hash: Some(
                "$2b$10$0/Vln/LWNwDgAyLaB8tCXOPFDftEQ083fb4dub.eipQZP7uWEH..O".into(),
            ),
            ..Default::default()
        })
        .await
        .expect("seed password");
    TokenServiceClient::new(ch.clone())
        .create_token(CreateTokenRequest {
            token: Some(Token {
                token_hash: "hot-token".into(),
                status: "issued".into(),
                subject: "hot-user".into(),
                audience: vec!["api".into()],
                expires: 1_900_000_000,
                data_json: r#"{"scope":"openid","client_id":"web"}"#.into(),
                ..Default::default()
            }),
        })
        .await
        .expect("seed token");
    SessionServiceClient::new(ch.clone())
        .insert_session(InsertSessionRequest {
            session: Some(Session {
                id: "hot-session".into(),
                data: "x".repeat(512),
                expires_at: 1_900_000_000,
            }),
        })
        .await
        .expect("seed session");
    DynamicClientServiceClient::new(ch.clone())
        .create(CreateDynamicClientRequest {
            client: Some(DynamicClient {
                client_id: "hot-client".into(),
                status: "ACTIVE".into(),
                attributes_json: r#"{"client_name":"Hot"}"#.into(),
                ..Default::default()
            }),
        })
        .await
        .expect("seed client");
    seed_accounts(&ch, "counted-", COUNTED, "").await;
}

/// `n` accounts named `{prefix}{i:06}`, 32 created at a time.
async fn seed_accounts(ch: &Channel, prefix: &str, n: u64, attributes_json: &str) {
    seed_named(
        ch,
        (0..n).map(|i| format!("{prefix}{i:06}")),
        attributes_json,
    )
    .await;
}

/// Accounts of these names (`{user}` in the attributes is the name), 32
/// created at a time.
async fn seed_named(ch: &Channel, names: impl IntoIterator<Item = String>, attributes_json: &str) {
    let gate = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::new();
    for user_name in names {
        let permit = gate.clone().acquire_owned().await.expect("gate");
        let mut c = AccountServiceClient::new(ch.clone());
        let attributes_json = attributes_json.replace("{user}", &user_name);
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            c.create(CreateAccountRequest {
                tenant: None,
                account: Some(NewAccount {
                    user_name,
                    active: true,
                    attributes_json,
                    ..Default::default()
                }),
                password_hash: None,
            })
            .await
            .expect("seed an account");
        }));
    }
    for t in tasks {
        t.await.expect("seed task");
    }
}

/// The server under callgrind.
struct Measured {
    child: Child,
    grpc: String,
    json: String,
    out: PathBuf,
}

impl Measured {
    async fn start(work: &Path, out: &Path, endpoint: &str, cached: bool) -> Self {
        let tag = if cached { "cached" } else { "uncached" };
        Self::start_with(work, out, endpoint, tag, cached, "", true).await
    }

    /// `json_ds` is appended to the configuration's `[json_ds]` section;
    /// without `callgrind` the server runs as is (for its memory).
    async fn start_with(
        work: &Path,
        out: &Path,
        endpoint: &str,
        tag: &str,
        cached: bool,
        json_ds: &str,
        callgrind: bool,
    ) -> Self {
        let token = work.join("bearer");
        std::fs::write(&token, TOKEN).expect("token file");
        let config = work.join(format!("{tag}.toml"));
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\nreadiness_interval_seconds = 86400\n\
                 request_timeout_seconds = 3600\n\
                 metrics_listen = \"127.0.0.1:0\"\n\
                 log_format = \"json\"\n[server.auth]\nbearer_token_file = {token:?}\n\
                 reload_seconds = 86400\n\
                 [aws]\nregion = \"us-east-1\"\nendpoint_url = \"{endpoint}\"\n\
                 access_method = \"access_key\"\n\
                 api_call_timeout_seconds = 600.0\napi_call_attempt_timeout_seconds = 600.0\n\
                 [aws.access_key]\naccess_key_id = \"x\"\nsecret_access_key = \"x\"\n\
                 [dynamodb]\nallow_table_scans = true\nmax_items_read_per_request = 1000000\n\
                 [cache]\nenabled = {cached}\n\
                 [json_ds]\nlisten = \"127.0.0.1:0\"\n{json_ds}"
            ),
        )
        .expect("config");
        let mut command = if callgrind {
            let mut c = Command::new("valgrind");
            c.args(["--tool=callgrind", "--collect-systime=no"])
                .arg(format!("--callgrind-out-file={}/{tag}.%p", out.display()))
                .arg(BIN);
            c
        } else {
            Command::new(BIN)
        };
        let mut child = command
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .env("RUST_LOG", "info,dynoxide=error")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("valgrind (install it: scripts/instruction-budgets does)");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut grpc = None;
            let mut json = None;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                let f = &v["fields"];
                match f["message"].as_str() {
                    Some("serving gRPC") => grpc = f["listen"].as_str().map(String::from),
                    Some("serving Curity's JSON data source protocol") => {
                        json = f["listen"].as_str().map(String::from)
                    }
                    _ => {}
                }
                if let (Some(g), Some(j)) = (&grpc, &json) {
                    let _ = tx.send((g.clone(), j.clone()));
                    grpc = None;
                }
            }
        });
        let (grpc, json) = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("the measured server started");
        Self {
            child,
            grpc,
            json,
            out: out.to_path_buf(),
        }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.grpc))
            .expect("uri")
            .connect()
            .await
            .expect("measured grpc")
    }

    fn control(&self, flag: &str) {
        let status = Command::new("callgrind_control")
            .arg(flag)
            .arg(self.child.id().to_string())
            .stdout(Stdio::null())
            .status()
            .expect("callgrind_control");
        assert!(status.success(), "callgrind_control {flag}");
    }

    /// Warm-up, zero, `n` requests with 8 in flight, dump: instructions per
    /// request.
    async fn measure<F, Fut>(
        &self,
        name: &'static str,
        per: &'static str,
        n: usize,
        make: F,
    ) -> Figure
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<(), tonic::Status>> + Send + 'static,
    {
        drive(&make, n.div_ceil(10).max(2)).await;
        self.control("-z");
        drive(&make, n).await;
        let total = self.dump(name);
        Figure {
            name,
            per,
            instructions: total / n as u64,
        }
    }

    /// Curity's credential verify on the JSON port (Curity verifies: no
    /// hashing here; the password hash is read from DynamoDB on every
    /// verify, never cached).
    async fn measure_json_verify(&self, n: usize) -> Figure {
        let addr = self.json.clone();
        let client: HttpClient =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let make = move || {
            let addr = addr.clone();
            let client = client.clone();
            async move {
                let status = verify(&client, &addr).await;
                if status == 200 {
                    Ok(())
                } else {
                    Err(tonic::Status::internal(format!("verify answered {status}")))
                }
            }
        };
        self.measure("JSON port verify (Curity verifies)", "request", n, make)
            .await
    }

    /// Dumps the counters; returns the instructions since the last zero.
    fn dump(&self, name: &str) -> u64 {
        let before: Vec<PathBuf> = dumps(&self.out);
        self.control("-d");
        let file = wait_for(Duration::from_secs(60), || {
            dumps(&self.out).into_iter().find(|p| !before.contains(p))
        });
        let text = wait_for(Duration::from_secs(60), || {
            std::fs::read_to_string(&file)
                .ok()
                .filter(|t| t.contains("\nsummary:") || t.contains("\ntotals:"))
        });
        let renamed = self.out.join(format!(
            "{}.callgrind",
            name.replace([' ', ',', '(', ')'], "_")
        ));
        let _ = std::fs::rename(&file, renamed);
        text.lines()
            .find_map(|l| {
                l.strip_prefix("summary: ")
                    .or_else(|| l.strip_prefix("totals: "))
            })
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("a summary line")
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn dumps(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_none_or(|e| e != "callgrind"))
                .collect()
        })
        .unwrap_or_default()
}

/// `n` requests, at most 8 in flight.
async fn drive<F, Fut>(make: &F, n: usize)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), tonic::Status>> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let permit = gate.clone().acquire_owned().await.expect("gate");
        let fut = make();
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            fut.await
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("request");
    }
}

type HttpClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<bytes::Bytes>,
>;

/// POST the credentials as Curity does, over kept-alive connections (as
/// Curity's HTTP client keeps them).
async fn verify(client: &HttpClient, addr: &str) -> u16 {
    post_credentials(client, addr, br#"{"username":"hot-user"}"#.to_vec()).await
}

/// POST `body` to the credentials path; the status (0: no answer).
async fn post_credentials(client: &HttpClient, addr: &str, body: Vec<u8>) -> u16 {
    let req = http::Request::post(format!("http://{addr}/json-ds/credentials"))
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .expect("request");
    match client.request(req).await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
            status
        }
        Err(_) => 0,
    }
}

/// A DynamoDB client setting whose cost per request is measured.
#[derive(Debug, Clone, Copy)]
enum SdkSetting {
    /// As the service builds its clients.
    AsBuilt,
    /// Stalled-stream protection off (it guards against a body that stops
    /// arriving: the service relies on it with the attempt timeout).
    NoStalledStreamProtection,
    /// The endpoint given as is, without the endpoint rules.
    StaticEndpoint,
    /// No retries (measured only: the service relies on them).
    NoRetries,
}

impl SdkSetting {
    const STUDIED: [Self; 3] = [
        Self::NoStalledStreamProtection,
        Self::StaticEndpoint,
        Self::NoRetries,
    ];

    fn arg(self) -> &'static str {
        match self {
            Self::AsBuilt => "as-built",
            Self::NoStalledStreamProtection => "no-stalled-stream-protection",
            Self::StaticEndpoint => "static-endpoint",
            Self::NoRetries => "no-retries",
        }
    }

    fn parse(arg: &str) -> Self {
        [Self::AsBuilt]
            .into_iter()
            .chain(Self::STUDIED)
            .find(|s| s.arg() == arg)
            .unwrap_or_else(|| panic!("unknown SDK setting {arg}"))
    }

    fn name(self) -> &'static str {
        match self {
            Self::AsBuilt => "raw SDK GetItem (the SDK's own cost)",
            Self::NoStalledStreamProtection => "raw SDK GetItem, stalled-stream protection off",
            Self::StaticEndpoint => "raw SDK GetItem, static endpoint resolver",
            Self::NoRetries => "raw SDK GetItem, retries off",
        }
    }

    fn apply(self, config: &aws_sdk_dynamodb::Config, endpoint: &str) -> aws_sdk_dynamodb::Config {
        let b = config.to_builder();
        match self {
            Self::AsBuilt => b,
            Self::NoStalledStreamProtection => b.stalled_stream_protection(
                aws_sdk_dynamodb::config::StalledStreamProtectionConfig::disabled(),
            ),
            Self::StaticEndpoint => b.endpoint_resolver(StaticEndpoint(endpoint.to_string())),
            Self::NoRetries => {
                b.retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            }
        }
        .build()
    }
}

#[derive(Debug)]
struct StaticEndpoint(String);

impl aws_sdk_dynamodb::config::endpoint::ResolveEndpoint for StaticEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _: &'a aws_sdk_dynamodb::config::endpoint::Params,
    ) -> aws_sdk_dynamodb::config::endpoint::EndpointFuture<'a> {
        aws_sdk_dynamodb::config::endpoint::EndpointFuture::ready(Ok(
            aws_smithy_types::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

/// The SDK's own `GetItem`: this binary again, under callgrind, with the
/// client built as the service builds its clients (or with one setting
/// changed).
fn raw_get_figure(endpoint: &str, out: &Path, setting: SdkSetting) -> Figure {
    const N: usize = 500;
    let total = child_under_callgrind(
        out,
        &["--raw-get", endpoint, setting.arg()],
        &format!("raw SDK GetItem {}", setting.arg()),
    );
    Figure {
        name: setting.name(),
        per: "request",
        instructions: total / N as u64,
    }
}

/// This binary again under callgrind with `args` (a child mode): it warms
/// up and says `warm`, waits for `go`, works, says `done`. The
/// instructions between `go` and `done`.
fn child_under_callgrind(out: &Path, args: &[&str], name: &str) -> u64 {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new("valgrind")
        .args(["--tool=callgrind", "--collect-systime=no"])
        .arg(format!("--callgrind-out-file={}/child.%p", out.display()))
        .arg(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("valgrind");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut stdin = child.stdin.take().expect("stdin");
    let m = Measured {
        grpc: String::new(),
        json: String::new(),
        out: out.to_path_buf(),
        child,
    };
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("warm"));
    m.control("-z");
    writeln!(stdin, "go").expect("go");
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("done"));
    let total = m.dump(name);
    drop(stdin);
    let mut child = m.child;
    let _ = child.wait();
    total
}

/// Child mode: warm up, say so, wait for the go, do N GetItems of the hot
/// session with 8 in flight, say done.
fn raw_get_child(endpoint: &str, setting: &str) {
    const N: usize = 500;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut config = curity_dynamodb::config::Config::default();
        curity_dynamodb::local::point_at_local_store(&mut config, endpoint);
        let aws = curity_dynamodb::aws::Aws::connect(&config.aws)
            .await
            .expect("aws");
        let client = aws_sdk_dynamodb::Client::from_conf(
            SdkSetting::parse(setting).apply(aws.dynamodb_config(), endpoint),
        );
        let get = || {
            let client = client.clone();
            async move {
                let out = client
                    .get_item()
                    .table_name("curity-sessions")
                    .key("id", AttributeValue::S("hot-session".into()))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| tonic::Status::internal(format!("{e:?}")))?;
                assert!(out.item.is_some());
                Ok(())
            }
        };
        drive(&get, 50).await;
        println!("warm");
        let mut go = String::new();
        std::io::stdin().read_line(&mut go).expect("go");
        drive(&get, N).await;
        println!("done");
        let mut rest = String::new();
        let _ = std::io::stdin().read_line(&mut rest);
    });
}

fn wait_for<T>(limit: Duration, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = ready() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}
