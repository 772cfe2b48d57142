//! The chart's alerts and dashboard against the service itself: every
//! expression of `files/alerts.yaml` and `files/dashboard.json` parses as
//! PromQL, and every metric and label it selects on is exported by a
//! running service after a call of every RPC (and of the JSON port).

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::{
    parser::{self, Expr, VectorSelector},
    util::{ExprVisitor, walk_expr},
};

use crate::support::{
    self,
    rpcs::every_rpc,
    service::{Env, Service},
};

const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/helm/curity-dynamodb");

/// Labels Prometheus adds to every scraped series (the target's), which the
/// service does not export itself.
const TARGET_LABELS: [&str; 4] = ["namespace", "pod", "instance", "job"];

/// Every expression of the alerts and the dashboard panels, named.
fn expressions() -> Vec<(String, String)> {
    let alerts: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(format!("{CHART}/files/alerts.yaml")).expect("alerts.yaml"),
    )
    .expect("alerts.yaml is YAML");
    let mut out = Vec::new();
    for group in alerts["groups"].as_sequence().expect("groups") {
        for rule in group["rules"].as_sequence().expect("rules") {
            let name = rule["alert"].as_str().expect("alert name");
            let expr = rule["expr"].as_str().expect("alert expr");
            out.push((format!("alert {name}"), expr.to_string()));
        }
    }
    let board: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{CHART}/files/dashboard.json")).expect("dashboard"),
    )
    .expect("dashboard.json is JSON");
    for panel in board["panels"].as_array().expect("panels") {
        let title = panel["title"].as_str().expect("title");
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("panel expr");
            // Grafana's variables, as Grafana substitutes them.
            let expr = expr
                .replace("$__rate_interval", "5m")
                .replace("$__range", "1h")
                .replace("$namespace", "curity");
            out.push((format!("panel {title:?}"), expr));
        }
    }
    out
}

/// The metric names and the label names each selector names.
#[derive(Default)]
struct Selected(BTreeMap<String, BTreeSet<String>>);

impl Selected {
    fn add(&mut self, vs: &VectorSelector) {
        let name = vs.name.clone().unwrap_or_default();
        let labels = self.0.entry(name).or_default();
        for m in &vs.matchers.matchers {
            labels.insert(m.name.clone());
        }
    }
}

impl ExprVisitor for Selected {
    type Error = ();

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
        match expr {
            Expr::VectorSelector(vs) => self.add(vs),
            Expr::MatrixSelector(ms) => self.add(&ms.vs),
            _ => {}
        }
        Ok(true)
    }
}

/// Series name → the label names it carries, from Prometheus' text format.
fn exported(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let labels = out.entry(line[..name_end].to_string()).or_default();
        if let Some(inner) = line[name_end..]
            .strip_prefix('{')
            .and_then(|r| r.split_once('}'))
        {
            for pair in inner.0.split(',') {
                if let Some((k, _)) = pair.split_once('=') {
                    labels.insert(k.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn every_alert_and_panel_expression_parses_as_promql() {
    let all = expressions();
    assert!(all.len() >= 15, "{} expressions", all.len());
    for (what, expr) in &all {
        if let Err(e) = parser::parse(expr) {
            panic!("{what}: {e}\n{expr}");
        }
    }
    // The parser refuses what Prometheus refuses (so the test can fail).
    assert!(parser::parse("sum(rate(curity_dynamodb_rpc_seconds_count[5m]) > ").is_err());
}

#[tokio::test]
async fn every_metric_and_label_the_alerts_and_dashboard_select_is_exported() {
    let port = support::free_port();
    let env = Env::new();
    let cfg = env.config(&format!(
        "[server]\nmetrics_listen = \"127.0.0.1:{port}\"\n\n\
             [dynamodb]\nallow_table_scans = true\n\n\
             [cache.streams]\nenabled = true\n\n\
             [json_ds]\nlisten = \"127.0.0.1:0\"\n"
    ));
    let svc = Service::start(&env, &cfg, &["--embedded"]).await;
    let ch = support::channel(svc.addr).await;
    assert!(support::wait_serving(&ch, std::time::Duration::from_secs(30)).await);
    every_rpc(ch, "acme").await;
    let json: std::net::SocketAddr =
        svc.events("serving Curity's JSON data source protocol")[0]["fields"]["listen"]
            .as_str()
            .expect("json listen")
            .parse()
            .expect("json addr");
    support::http::send(json, "GET", "/", &[], b"").await;

    let mut selected = Selected::default();
    for (what, expr) in expressions() {
        let ast = parser::parse(&expr).unwrap_or_else(|e| panic!("{what}: {e}"));
        walk_expr(&mut selected, &ast).expect("walk");
    }
    assert!(selected.0.len() >= 10, "{:?}", selected.0.keys());
    // Stream lag is measured once a reader has caught up: wait for it
    // rather than for a time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let series = loop {
        let series = exported(&support::http::metrics(port).await);
        if series.contains_key("curity_dynamodb_cache_stream_lag_seconds")
            || std::time::Instant::now() > deadline
        {
            break series;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let mut missing = Vec::new();
    for (metric, labels) in &selected.0 {
        let Some(has) = series.get(metric) else {
            missing.push(format!("{metric} (not exported)"));
            continue;
        };
        for label in labels {
            if !has.contains(label) && !TARGET_LABELS.contains(&label.as_str()) {
                missing.push(format!("{metric}: label {label}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "selected but not exported: {missing:#?}"
    );
}
