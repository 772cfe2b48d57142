//! Deployment artefacts: the Helm chart rendered by a real helm binary, the
//! generated IAM policy files, and the EKS set-up script's dry run.

use crate::support;

use std::{path::PathBuf, process::Command};

use curity_dynamodb::config::Config;
use serde::Deserialize;
use serde_json::Value;
use support::service::{Env, run_cli, stdout};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const ARN: &str = "arn:aws:iam::111122223333:role/curity-dynamo";

/// `scripts/install-chart-tools` puts helm here (`HELM` overrides).
fn helm() -> PathBuf {
    let p = std::env::var("HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(ROOT).join(".tools/bin/helm"));
    assert!(
        p.exists(),
        "helm not found at {}: run scripts/test (it runs scripts/install-chart-tools)",
        p.display()
    );
    p
}

/// Renders the chart and returns its documents as JSON values.
fn render(extra: &[&str]) -> Result<Vec<Value>, String> {
    let home = tempfile::tempdir().expect("helm home");
    let out = Command::new(helm())
        .env("HOME", home.path())
        .args([
            "template",
            "cur",
            "deploy/helm/curity-dynamodb",
            "-n",
            "curity",
            "--kube-version",
            "1.31.0",
        ])
        .args(extra)
        .current_dir(ROOT)
        .output()
        .expect("run helm");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(serde_yaml_ng::Deserializer::from_str(&text)
        .filter_map(|d| Value::deserialize(d).ok())
        .filter(|v| !v.is_null())
        .collect())
}

fn base() -> Vec<&'static str> {
    vec![
        "--set",
        "aws.region=eu-west-1",
        "--set-string",
        "serviceAccount.roleArn=arn:aws:iam::111122223333:role/curity-dynamo",
    ]
}

fn kind<'a>(docs: &'a [Value], kind: &str) -> Option<&'a Value> {
    docs.iter().find(|d| d["kind"] == kind)
}

fn named<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

#[test]
fn a_headless_service_lists_every_pod_for_clients_that_balance_per_call() {
    let docs = render(&base()).expect("render");
    let headless = named(&docs, "Service", "cur-curity-dynamodb-headless").expect("headless");
    assert_eq!(headless["spec"]["clusterIP"], "None");
    let ports = headless["spec"]["ports"].as_array().expect("ports");
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["name"], "grpc");
    assert_eq!(
        headless["spec"]["selector"],
        named(&docs, "Service", "cur-curity-dynamodb").expect("service")["spec"]["selector"]
    );

    let mut args = base();
    args.extend(["--set", "service.headless=false"]);
    let docs = render(&args).expect("render");
    assert!(named(&docs, "Service", "cur-curity-dynamodb-headless").is_none());
}

#[test]
fn service_account_is_dynamo_sa_with_the_irsa_annotations() {
    let mut args = base();
    args.extend([
        "--set",
        "serviceAccount.audience=sts.amazonaws.com",
        "--set",
        "serviceAccount.tokenExpiration=3600",
    ]);
    let docs = render(&args).expect("render");
    let sa = kind(&docs, "ServiceAccount").expect("service account");
    assert_eq!(sa["metadata"]["name"], "dynamo-sa");
    assert_eq!(sa["metadata"]["namespace"], "curity");
    let ann = &sa["metadata"]["annotations"];
    assert_eq!(ann["eks.amazonaws.com/role-arn"], ARN);
    assert_eq!(ann["eks.amazonaws.com/sts-regional-endpoints"], "true");
    assert_eq!(ann["eks.amazonaws.com/audience"], "sts.amazonaws.com");
    assert_eq!(ann["eks.amazonaws.com/token-expiration"], "3600");
}

#[test]
fn an_existing_service_account_is_used_not_created() {
    let mut args = base();
    args.extend(["--set", "serviceAccount.create=false"]);
    let docs = render(&args).expect("render");
    assert!(kind(&docs, "ServiceAccount").is_none());
    let dep = kind(&docs, "Deployment").expect("deployment");
    assert_eq!(
        dep["spec"]["template"]["spec"]["serviceAccountName"],
        "dynamo-sa"
    );
}

#[test]
fn deployment_is_locked_down_and_probed_over_grpc_health() {
    let docs = render(&base()).expect("render");
    let pod = &kind(&docs, "Deployment").expect("deployment")["spec"]["template"]["spec"];
    // Delay (10) + grace (20) + margin: the kubelet outwaits both phases.
    assert_eq!(pod["terminationGracePeriodSeconds"], 40);
    assert_eq!(pod["serviceAccountName"], "dynamo-sa");
    assert_eq!(pod["automountServiceAccountToken"], false);
    let psc = &pod["securityContext"];
    assert_eq!(psc["runAsNonRoot"], true);
    assert_eq!(psc["fsGroup"], 10001);
    assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault");
    let c = &pod["containers"][0];
    let csc = &c["securityContext"];
    assert_eq!(csc["readOnlyRootFilesystem"], true);
    assert_eq!(csc["allowPrivilegeEscalation"], false);
    assert_eq!(csc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(c["readinessProbe"]["grpc"]["port"], 50051);
    assert_eq!(c["livenessProbe"]["grpc"]["service"], "liveness");
    assert_eq!(c["startupProbe"]["grpc"]["port"], 50051);
    let env: Vec<(&str, &str)> = c["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or(""),
                e["value"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(env.contains(&("AWS_REGION", "eu-west-1")), "{env:?}");
    assert!(
        env.contains(&("AWS_EC2_METADATA_DISABLED", "true")),
        "{env:?}"
    );
    assert!(c["resources"]["limits"]["memory"].is_string());
    assert_eq!(
        pod["topologySpreadConstraints"][0]["topologyKey"],
        "topology.kubernetes.io/zone"
    );
}

/// The rendered config.toml as the service reads it in the pod (the
/// webhook's env pointing at a token file).
fn validated(toml: &str) -> Config {
    let env = Env::new();
    let path = env.write("config.toml", toml);
    let token = env.write("token", "jwt");
    let token_s = token.display().to_string();
    let lookup = move |k: &str| match k {
        "AWS_ROLE_ARN" => Some(ARN.to_string()),
        "AWS_WEB_IDENTITY_TOKEN_FILE" => Some(token_s.clone()),
        _ => None,
    };
    Config::parse(Some(&path))
        .expect("parses")
        .validate(&lookup)
        .expect("validates")
}

#[test]
fn the_rendered_config_is_accepted_by_the_service() {
    let docs = render(&base()).expect("render");
    let cm = kind(&docs, "ConfigMap").expect("configmap");
    let toml = cm["data"]["config.toml"].as_str().expect("config.toml");
    let config = validated(toml);
    assert_eq!(config.aws.region.as_deref(), Some("eu-west-1"));
    assert_eq!(config.server.listen.to_string(), "0.0.0.0:50051");
    assert_eq!(config.aws.web_identity.role_arn.as_deref(), Some(ARN));
    assert_eq!(
        config.server.auth.bearer_token_file.as_deref(),
        Some(std::path::Path::new("/var/run/curity-dynamodb/auth/token"))
    );
    assert!(!config.server.insecure);
    assert_eq!(config.server.shutdown_delay_seconds, 10);
    assert_eq!(
        config.server.exposure_problem(config.server.listen),
        None,
        "the chart's 0.0.0.0 listener is authenticated"
    );
}

#[test]
fn the_bearer_token_secret_is_mounted_read_only_and_auth_cannot_be_dropped_silently() {
    let docs = render(&base()).expect("render");
    let pod = &kind(&docs, "Deployment").expect("deployment")["spec"]["template"]["spec"];
    let secret = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "auth")
        .expect("auth volume");
    assert_eq!(secret["secret"]["secretName"], "curity-dynamodb-auth");
    assert_eq!(secret["secret"]["items"][0]["key"], "token");
    let mount = pod["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["name"] == "auth")
        .expect("auth mount");
    assert_eq!(mount["mountPath"], "/var/run/curity-dynamodb/auth");
    assert_eq!(mount["readOnly"], true);

    let mut args = base();
    args.extend(["--set-string", "auth.bearerTokenSecret="]);
    let err = render(&args).expect_err("no auth");
    assert!(err.contains("auth.bearerTokenSecret is required"), "{err}");

    args.extend(["--set", "auth.insecure=true"]);
    let docs = render(&args).expect("insecure renders");
    let toml = kind(&docs, "ConfigMap").expect("configmap")["data"]["config.toml"]
        .as_str()
        .expect("config.toml")
        .to_string();
    assert!(toml.contains("insecure = true"), "{toml}");
    assert!(!toml.contains("bearer_token_file"), "{toml}");
}

#[test]
fn network_policy_admits_only_the_curity_runtime_and_allows_dns_and_https_out() {
    let docs = render(&base()).expect("render");
    let np = kind(&docs, "NetworkPolicy").expect("network policy");
    let ingress = np["spec"]["ingress"].as_array().expect("ingress");
    assert_eq!(ingress.len(), 1);
    assert_eq!(
        ingress[0]["from"][0]["podSelector"]["matchLabels"]["role"],
        "curity-idsvr-runtime"
    );
    let egress_ports: Vec<i64> = np["spec"]["egress"]
        .as_array()
        .expect("egress")
        .iter()
        .flat_map(|e| e["ports"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["port"].as_i64())
        .collect();
    assert_eq!(egress_ports, [53, 53, 443]);
}

#[test]
fn tracing_names_the_collector_in_the_config_and_opens_egress_to_it_alone() {
    let docs = render(&base()).expect("render");
    let toml = kind(&docs, "ConfigMap").expect("configmap")["data"]["config.toml"]
        .as_str()
        .expect("config.toml")
        .to_string();
    assert!(!toml.contains("[telemetry]"), "off by default: {toml}");

    let mut args = base();
    args.extend([
        "--set-string",
        "tracing.otlpEndpoint=http://otel-collector.observability:4317",
        // `--set` makes 0.25 a string, which the schema refuses.
        "--set-json",
        "tracing.sampleRatio=0.25",
        "--set-string",
        "tracing.collector.podSelector.matchLabels.app=otel-collector",
        "--set-string",
        r"tracing.collector.namespaceSelector.matchLabels.kubernetes\.io/metadata\.name=observability",
    ]);
    let docs = render(&args).expect("render with tracing");
    let toml = kind(&docs, "ConfigMap").expect("configmap")["data"]["config.toml"]
        .as_str()
        .expect("config.toml")
        .to_string();
    let config = validated(&toml);
    assert_eq!(
        config.telemetry.otlp_endpoint.as_deref(),
        Some("http://otel-collector.observability:4317")
    );
    assert_eq!(config.telemetry.sample_ratio, Some(0.25));
    assert_eq!(config.telemetry.export_queue_size, Some(2048));

    let np = kind(&docs, "NetworkPolicy").expect("network policy");
    let egress = np["spec"]["egress"].as_array().expect("egress");
    let to_collector: Vec<&Value> = egress
        .iter()
        .filter(|e| e["ports"][0]["port"] == 4317)
        .collect();
    assert_eq!(to_collector.len(), 1, "{egress:?}");
    let peer = &to_collector[0]["to"][0];
    assert_eq!(peer["podSelector"]["matchLabels"]["app"], "otel-collector");
    assert_eq!(
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "observability"
    );

    let mut bad = base();
    bad.extend(["--set-string", "tracing.otlpEndpoint=otel-collector:4317"]);
    let err = render(&bad).expect_err("an endpoint without a scheme");
    assert!(err.contains("otlpEndpoint"), "{err}");
}

#[test]
fn values_schema_requires_a_region_and_a_well_formed_role_arn() {
    let err = render(&[
        "--set-string",
        "serviceAccount.roleArn=arn:aws:iam::123:user/x",
        "--set",
        "aws.region=eu-west-1",
    ])
    .expect_err("bad ARN");
    assert!(err.contains("roleArn"), "{err}");
    let err = render(&[
        "--set-string",
        "serviceAccount.roleArn=arn:aws:iam::111122223333:role/r",
    ])
    .expect_err("no region");
    assert!(err.contains("region"), "{err}");
}

#[test]
fn chart_app_version_is_quoted() {
    let chart =
        std::fs::read_to_string(PathBuf::from(ROOT).join("deploy/helm/curity-dynamodb/Chart.yaml"))
            .expect("Chart.yaml");
    assert!(
        chart.contains(&format!("appVersion: \"{}\"", env!("CARGO_PKG_VERSION"))),
        "{chart}"
    );
}

#[tokio::test]
async fn deploy_iam_policies_are_what_the_binary_generates() {
    let env = Env::new();
    for (file, args) in [
        ("policy.json", vec!["policy"]),
        ("admin-policy.json", vec!["policy", "--admin"]),
    ] {
        let out = run_cli(&env, None, &args).await;
        let generated: Value = serde_json::from_str(&stdout(&out)).expect("policy json");
        let committed: Value = serde_json::from_str(
            &std::fs::read_to_string(PathBuf::from(ROOT).join("deploy/iam").join(file))
                .expect("read"),
        )
        .expect("committed json");
        assert_eq!(
            generated,
            committed,
            "deploy/iam/{file} is stale: regenerate it with `curity-dynamodb {}`",
            args.join(" ")
        );
    }
}

#[test]
fn eks_setup_dry_run_prints_every_step_and_calls_nothing() {
    let out = Command::new("bash")
        .arg(PathBuf::from(ROOT).join("deploy/eks/setup.sh"))
        .args([
            "--dry-run",
            "--cluster",
            "prod",
            "--region",
            "eu-west-1",
            "--account",
            "111122223333",
            "--prefix",
            "dev-",
        ])
        // No aws, eksctl, helm or kubectl on this PATH: a dry run must not need them.
        .env(
            "PATH",
            format!(
                "{}:/usr/bin:/bin",
                PathBuf::from(ROOT).join("target/debug").display()
            ),
        )
        .output()
        .expect("run setup.sh");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    for expected in [
        "aws eks describe-cluster --name prod --region eu-west-1 --query cluster.identity.oidc.issuer",
        "eksctl utils associate-iam-oidc-provider --cluster prod --region eu-west-1 --approve",
        "policy --region eu-west-1 --prefix dev- --account 111122223333",
        "aws iam create-policy --policy-name curity-dynamodb",
        "eksctl create iamserviceaccount --cluster prod --region eu-west-1 --namespace curity --name dynamo-sa",
        "--role-only --approve",
        "kubectl -n curity create secret generic curity-dynamodb-auth --from-file=token=",
        "helm upgrade --install curity-dynamodb",
        "--set-string serviceAccount.roleArn=arn:aws:iam::111122223333:role/curity-dynamodb-prod",
        "kubectl -n curity rollout status deploy/curity-dynamodb",
        "curity-dynamodb doctor --expect-role-arn arn:aws:iam::111122223333:role/curity-dynamodb-prod",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let bad = Command::new("bash")
        .arg(PathBuf::from(ROOT).join("deploy/eks/setup.sh"))
        .args(["--dry-run", "--region", "eu-west-1"])
        .output()
        .expect("run setup.sh");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--cluster is required"));
}

#[test]
fn with_a_tls_secret_the_port_speaks_tls_probes_move_to_the_health_port_and_mtls_authenticates() {
    let mut args = base();
    args.extend([
        "--set-string",
        "tls.secretName=curity-dynamodb-tls",
        "--set",
        "tls.mutual=true",
        "--set-string",
        "auth.bearerTokenSecret=",
    ]);
    let docs = render(&args).expect("mutual TLS alone is enough authentication");
    let pod = &kind(&docs, "Deployment").expect("deployment")["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(c[probe]["grpc"]["port"], 8081, "{probe}");
    }
    let tls = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "tls")
        .expect("tls volume");
    assert_eq!(tls["secret"]["secretName"], "curity-dynamodb-tls");
    let toml = kind(&docs, "ConfigMap").expect("configmap")["data"]["config.toml"]
        .as_str()
        .expect("config.toml")
        .to_string();
    let config = validated(&toml);
    let server = &config.server;
    assert_eq!(
        server.tls.client_ca_file.as_deref(),
        Some(std::path::Path::new("/var/run/curity-dynamodb/tls/ca.crt"))
    );
    assert_eq!(server.health_listen.map(|a| a.port()), Some(8081));
    assert!(server.auth.bearer_token_file.is_none());
    assert_eq!(server.exposure_problem(server.listen), None);
}

#[test]
fn the_json_data_source_port_needs_tls_and_an_authentication_of_curity() {
    let mut args = base();
    args.extend([
        "--set-string",
        "tls.secretName=curity-dynamodb-tls",
        "--set",
        "jsonDataSource.enabled=true",
        "--set-string",
        "jsonDataSource.basicAuth.passwordSecret=curity-json-basic",
        "--set-string",
        "jsonDataSource.tenantIdParameter=tenantId",
    ]);
    let docs = render(&args).expect("render");
    let toml = kind(&docs, "ConfigMap").expect("configmap")["data"]["config.toml"]
        .as_str()
        .expect("config.toml")
        .to_string();
    let env = Env::new();
    let config = Config::parse(Some(&env.write("config.toml", &toml))).expect("parses");
    let json = &config.json_ds;
    let listen = json.listen.expect("json_ds.listen");
    assert_eq!(listen.to_string(), "0.0.0.0:8443");
    assert_eq!(json.context, "/json-ds");
    assert_eq!(json.tenant_id_parameter.as_deref(), Some("tenantId"));
    assert_eq!(json.auth.basic_username.as_deref(), Some("curity"));
    assert_eq!(
        json.auth.basic_password_file.as_deref(),
        Some(std::path::Path::new(
            "/var/run/curity-dynamodb/json-basic/password"
        ))
    );
    assert!(json.tls.enabled());
    assert_eq!(json.exposure_problem(listen, false), None);

    let svc = named(&docs, "Service", "cur-curity-dynamodb").expect("service");
    assert!(
        svc["spec"]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .any(|p| p["name"] == "json" && p["port"] == 8443 && p["targetPort"] == "json")
    );
    let pod = &kind(&docs, "Deployment").expect("deployment")["spec"]["template"]["spec"];
    assert!(
        pod["containers"][0]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .any(|p| p["name"] == "json" && p["containerPort"] == 8443)
    );
    let basic = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "json-basic")
        .expect("json-basic volume");
    assert_eq!(basic["secret"]["secretName"], "curity-json-basic");
    assert_eq!(basic["secret"]["items"][0]["key"], "password");
    let np = kind(&docs, "NetworkPolicy").expect("network policy");
    assert!(
        np["spec"]["ingress"][0]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .any(|p| p["port"] == "json"),
        "Curity may reach the JSON port"
    );

    let mut no_tls = base();
    no_tls.extend([
        "--set",
        "jsonDataSource.enabled=true",
        "--set-string",
        "jsonDataSource.basicAuth.passwordSecret=curity-json-basic",
    ]);
    let err = render(&no_tls).expect_err("no TLS");
    assert!(
        err.contains("jsonDataSource.enabled needs tls.secretName"),
        "{err}"
    );
    let mut no_auth = base();
    no_auth.extend([
        "--set-string",
        "tls.secretName=curity-dynamodb-tls",
        "--set",
        "jsonDataSource.enabled=true",
    ]);
    let err = render(&no_auth).expect_err("no authentication of Curity");
    assert!(
        err.contains("basicAuth.passwordSecret or tls.mutual"),
        "{err}"
    );
}
