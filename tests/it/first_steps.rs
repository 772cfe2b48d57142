//! A newcomer's first ten minutes: `call` against a running service (plain,
//! TLS with a client certificate, unreachable), `serve --embedded` found by
//! the admin commands through its state file, and mistakes answered with
//! the fix (flags, host names, misspelt variables, an unreachable STS).

use crate::support::{self, Answer};

use support::{
    app::TestApp,
    pki::{Ca, write},
    service::{Env, Service, run_cli, stderr, stdout},
};

#[tokio::test]
async fn call_prints_the_answer_as_json_and_a_failure_as_status_and_detail() {
    let app = TestApp::start().await;
    let env = Env::new();
    let addr = app.addr.to_string();
    let create = r#"{"session":{"id":"s1","data":"d","expires_at":1900000000}}"#;
    let out = run_cli(
        &env,
        None,
        &[
            "call",
            "--addr",
            &addr,
            "SessionService/InsertSession",
            create,
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "{}\n");
    let out = run_cli(
        &env,
        None,
        &[
            "call",
            "--addr",
            &addr,
            "curity.datasource.v1.SessionService/GetSession",
            r#"{"id":"s1"}"#,
        ],
    )
    .await;
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(answer["session"]["expires_at"], 1_900_000_000, "{answer}");
    assert_eq!(answer["session"]["data"], "d");

    let out = run_cli(
        &env,
        None,
        &[
            "call",
            "--addr",
            &addr,
            "SessionService/InsertSession",
            create,
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: ALREADY_EXISTS: session already exists (session.id is taken)\n\
         detail: reason ALREADY_EXISTS, field session.id\n"
    );
}

#[tokio::test]
async fn call_refuses_a_request_it_cannot_send_naming_the_field() {
    let env = Env::new();
    for (method, body, needle) in [
        (
            "AccountService/GetByUserName",
            r#"{"username":"jane"}"#,
            "username",
        ),
        ("AccountService/GetByName", "{}", "GetByUserName"),
        (
            "SessionService/GetSession",
            "{not json",
            "GetSessionRequest",
        ),
    ] {
        let out = run_cli(&env, None, &["call", "--addr", "127.0.0.1:9", method, body]).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{method} {body}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains(needle), "{needle}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn call_names_an_address_where_nothing_listens() {
    let env = Env::new();
    let port = support::free_port();
    let addr = format!("127.0.0.1:{port}");
    let out = run_cli(&env, None, &["call", "--addr", &addr, "Health/Check"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("error: cannot reach {addr}: ")),
        "{err}"
    );
    assert!(
        err.contains("Is `curity-dynamodb serve` running there?"),
        "{err}"
    );
}

#[tokio::test]
async fn call_speaks_mutual_tls_with_the_given_ca_and_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let (cert, key) = server_ca.leaf(&["localhost"], false);
    let cert_file = write(dir.path(), "tls.crt", &cert);
    let key_file = write(dir.path(), "tls.key", &key);
    let clients = write(dir.path(), "clients.crt", &client_ca.pem());
    let app = TestApp::start_with(move |cfg| {
        cfg.server.tls.cert_file = Some(cert_file);
        cfg.server.tls.key_file = Some(key_file);
        cfg.server.tls.client_ca_file = Some(clients);
    })
    .await;
    let (ccert, ckey) = client_ca.leaf(&["curity"], false);
    let ca = write(dir.path(), "ca.crt", &server_ca.pem())
        .display()
        .to_string();
    let ccert = write(dir.path(), "c.crt", &ccert).display().to_string();
    let ckey = write(dir.path(), "c.key", &ckey).display().to_string();
    let addr = app.addr.to_string();
    let env = Env::new();
    let tls = [
        "--ca-file",
        &ca,
        "--cert-file",
        &ccert,
        "--key-file",
        &ckey,
        "--server-name",
        "localhost",
    ];
    let mut args = vec!["call", "--addr", &addr];
    args.extend(tls);
    args.extend(["SessionService/GetSession", r#"{"id":"none"}"#]);
    let out = run_cli(&env, None, &args).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "{}\n");

    // Without the client certificate the service refuses the call.
    let out = run_cli(
        &env,
        None,
        &[
            "call",
            "--addr",
            &addr,
            "--ca-file",
            &ca,
            "--server-name",
            "localhost",
            "SessionService/GetSession",
            "{}",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: UNAUTHENTICATED: "),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn serve_embedded_is_found_by_the_other_commands_and_forgotten_when_it_stops() {
    let mut env = Env::new();
    let cfg = env.write("empty.toml", "");
    let dir = env.path("data");
    let dir_arg = dir.display().to_string();
    let mut svc = Service::start(&env, &cfg, &["--embedded", &dir_arg]).await;
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("embedded.json")).unwrap()).unwrap();
    assert_eq!(state["grpc"], svc.addr.to_string());
    assert!(
        state["json_ds"].is_string(),
        "the JSON port is on by default: {state}"
    );

    let embedded = format!("--embedded={dir_arg}");
    let out = run_cli(&env, None, &["call", &embedded, "Health/Check"]).await;
    assert_eq!(
        stdout(&out),
        "{\n  \"status\": \"SERVING\"\n}\n",
        "{}",
        stderr(&out)
    );
    // Reflection is on for a loopback embedded server.
    {
        use tonic_reflection::pb::v1::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest,
        };
        let mut client = ServerReflectionClient::new(support::channel(svc.addr).await);
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut answers = client
            .server_reflection_info(tokio_stream::iter([req]))
            .await
            .answer("reflection is served");
        assert!(answers.message().await.expect("a listing").is_some());
    }
    let out = run_cli(
        &env,
        None,
        &["call", &embedded, "grpc.health.v1.Health/Watch"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("streams"), "{}", stderr(&out));

    // The commands' own default: warnings only.
    env.remove("RUST_LOG");
    for args in [
        vec!["tables", "check", "--embedded", &dir_arg],
        vec!["whoami", "--embedded", &dir_arg],
        vec!["doctor", "--embedded", &dir_arg],
        vec!["config", "print", "--embedded", &dir_arg],
    ] {
        let out = run_cli(&env, None, &args).await;
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            !stderr(&out).contains(" INFO "),
            "{args:?} logs only warnings: {}",
            stderr(&out)
        );
    }
    let doctor = stdout(&run_cli(&env, None, &["doctor", "--embedded", &dir_arg]).await);
    assert!(
        doctor.contains("[skip] identity: does not apply to a local store"),
        "{doctor}"
    );
    assert!(doctor.contains("check(s) failed") || doctor.contains("all checks passed"));

    assert!(svc.terminate().await.success());
    assert!(
        !dir.join("embedded.json").exists(),
        "the state leaves with the server"
    );
    let out = run_cli(&env, None, &["tables", "check", "--embedded", &dir_arg]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no running `serve --embedded` found"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(&format!("serve --embedded {dir_arg}")),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn mistakes_on_the_command_line_get_the_fix() {
    let env = Env::new();
    let out = run_cli(&env, None, &["serve", "--port", "50051"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("tip: `serve` takes the address and port together: --listen 127.0.0.1:50051"),
        "{}",
        stderr(&out)
    );
    let out = run_cli(&env, None, &["serve", "--listen", "localhost:50051"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("use an IP address, e.g. 127.0.0.1:50051"),
        "{}",
        stderr(&out)
    );
    let out = run_cli(&env, None, &["serve", "--embeded"]).await;
    assert!(
        stderr(&out).contains("'--embedded'"),
        "clap's suggestion: {}",
        stderr(&out)
    );
}

#[tokio::test]
async fn config_errors_name_the_variable_as_written_with_the_nearest_key() {
    let mut env = Env::new();
    env.set("CURITY_DYNAMODB_SERVER__LISTN", "127.0.0.1:1");
    let out = run_cli(&env, None, &["config", "print"]).await;
    assert_eq!(
        stderr(&out),
        "error: CURITY_DYNAMODB_SERVER__LISTN (server.listn): unknown variable; did you mean \
         CURITY_DYNAMODB_SERVER__LISTEN?\n"
    );
    let mut env = Env::new();
    env.set("CURITY_DYNAMODB_SERVER__LISTEN", "localhost:50051");
    let out = run_cli(&env, None, &["config", "print"]).await;
    assert!(
        stderr(&out).starts_with(
            "error: CURITY_DYNAMODB_SERVER__LISTEN (server.listen): invalid socket address \
             syntax: use an IP address and port, e.g. 127.0.0.1:50051"
        ),
        "{}",
        stderr(&out)
    );
    let mut env = Env::new();
    env.set("CURITY_DYNAMODB_AWS__REGION", "mars");
    let out = run_cli(&env, None, &["config", "print"]).await;
    assert!(
        stderr(&out).starts_with("error: CURITY_DYNAMODB_AWS__REGION (aws.region): \"mars\""),
        "{}",
        stderr(&out)
    );
    // The config file named by the variable `--config` reads is a file,
    // not a key of the configuration.
    let mut env = Env::new();
    let cfg = env.config("[aws]\nregion = \"eu-west-1\"\naccess_method = \"default_chain\"\n");
    env.set("CURITY_DYNAMODB_CONFIG", cfg.display().to_string());
    let out = run_cli(&env, None, &["config", "print"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test]
async fn every_config_error_is_one_single_spaced_line() {
    let cases: [(&str, &str); 5] = [
        ("CURITY_DYNAMODB_SERVER__LISTEN", "nowhere"),
        ("CURITY_DYNAMODB_AWS__ACCESS_METHOD", "telepathy"),
        ("CURITY_DYNAMODB_POOL__MAX_SIZE", "many"),
        ("CURITY_DYNAMODB_CACHE__STREAMS__MAX_LAG_MS", "1"),
        ("CURITY_DYNAMODB_JSON_DS__LISTEN", "0.0.0.0:1"),
    ];
    for (var, value) in cases {
        let mut env = Env::new();
        env.set(var, value);
        let out = run_cli(&env, None, &["serve"]).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{var}: {err}");
        let line = err
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_default();
        assert!(!line.contains("  "), "{var}: a run of spaces in {line:?}");
        assert!(!line.contains("``"), "{var}: doubled quotes in {line:?}");
    }
}

#[tokio::test]
async fn whoami_and_doctor_name_sts_when_it_does_not_answer() {
    let mut env = Env::new();
    let token = env.write("token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
    env.set("AWS_REGION", "eu-west-1");
    env.set(
        "AWS_ROLE_ARN",
        "arn:aws:iam::111122223333:role/curity-dynamodb",
    );
    env.set("AWS_WEB_IDENTITY_TOKEN_FILE", token.display().to_string());
    // `Env` aims STS at a port where nothing listens.
    let out = run_cli(&env, None, &["whoami"]).await;
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(line.contains("STS"), "{err}");
    assert!(
        line.contains("http://127.0.0.1:9"),
        "names the endpoint it tried: {err}"
    );
    assert!(!line.contains("DynamoDB"), "{err}");

    let out = run_cli(&env, None, &["doctor"]).await;
    let report = stdout(&out);
    assert!(
        report.contains("STS at http://127.0.0.1:9 did not answer"),
        "{report}"
    );
    assert!(
        report.contains("fix: make STS at http://127.0.0.1:9 reachable"),
        "{report}"
    );
    assert!(
        !report.contains("trust policy"),
        "not a policy problem: {report}"
    );
}
