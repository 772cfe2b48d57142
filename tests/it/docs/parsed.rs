//! Blocks that are parsed, never run: shell (bash -n, our flags, the
//! chart's keys) and configuration (TOML).

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
};

use super::{BIN, ROOT};

/// Shell blocks are parsed, never run; what they ask of our binary and
/// chart must exist.
pub(super) fn check_shell(block: &str, at: &str) {
    let mut bash = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    bash.stdin
        .take()
        .unwrap()
        .write_all(block.as_bytes())
        .unwrap();
    let out = bash.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{at}: bash -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for command in block.replace("\\\n", " ").lines() {
        // The program is the first word after `VAR=value` assignments.
        let words: Vec<&str> = command
            .split_whitespace()
            .skip_while(|w| w.contains('=') && !w.starts_with('-'))
            .collect();
        let Some(program) = words.first() else {
            continue;
        };
        if *program == "curity-dynamodb" || program.ends_with("/curity-dynamodb") {
            check_our_flags(BIN, &words[1..], at);
        } else if *program == "cargo" && words.get(1) == Some(&"run") {
            let dashes = words.iter().position(|w| *w == "--").unwrap_or(words.len());
            let example = words[..dashes]
                .windows(2)
                .find(|w| w[0] == "--example")
                .map(|w| w[1]);
            let rest = words.get(dashes + 1..).unwrap_or_default();
            match example {
                None => check_our_flags(BIN, rest, at),
                Some(name) => check_example_flags(name, rest, at),
            }
        } else if let Some(name) = program.strip_prefix("target/release/examples/") {
            check_example_flags(name, &words[1..], at);
        } else if *program == "helm"
            && matches!(words.get(1), Some(&"upgrade" | &"install" | &"template"))
        {
            check_helm(&words, at);
        }
    }
}

/// An example's flags against its `--help`, when it has been built (the
/// test command builds the examples before the tests).
fn check_example_flags(name: &str, words: &[&str], at: &str) {
    let target = Path::new(BIN).parent().unwrap();
    let exe = target.join("examples").join(name);
    if exe.exists() {
        check_our_flags(exe.to_str().unwrap(), words, at);
    } else {
        assert!(
            Path::new(ROOT)
                .join("examples")
                .join(format!("{name}.rs"))
                .exists(),
            "{at}: no example {name}"
        );
    }
}

/// `curity-dynamodb [global] SUB [SUB] --flag ...`: each flag in that
/// subcommand's help.
fn check_our_flags(exe: &str, words: &[&str], at: &str) {
    let words: Vec<&str> = words
        .iter()
        .take_while(|w| !matches!(**w, "|" | "&&" | ";" | "&" | ">" | "2>&1" | "#"))
        .copied()
        .collect();
    let mut path: Vec<&str> = Vec::new();
    let mut skip_value = false;
    for w in &words {
        if skip_value {
            skip_value = false;
            continue;
        }
        if *w == "--config" {
            skip_value = true;
            continue;
        }
        if w.starts_with('-') {
            break;
        }
        if w.chars().all(|c| c.is_ascii_lowercase() || c == '-') && path.len() < 2 {
            path.push(w);
        } else {
            break;
        }
    }
    // Only known subcommands form the path (`call` takes a positional).
    let help = loop {
        let out = Command::new(exe)
            .args(&path)
            .arg("--help")
            .output()
            .unwrap();
        if out.status.success() || path.is_empty() {
            break String::from_utf8_lossy(&out.stdout).into_owned();
        }
        path.pop();
    };
    for w in &words {
        if let Some(flag) = w.strip_prefix("--") {
            let flag = flag.split('=').next().unwrap_or_default();
            assert!(
                help.contains(&format!("--{flag}")),
                "{at}: `{} {}` has no flag --{flag}",
                Path::new(exe).file_name().unwrap().to_string_lossy(),
                path.join(" ")
            );
        }
    }
}

/// `helm upgrade|install|template ... --set k=v`: every key in the schema,
/// and the chart renders with them.
fn check_helm(words: &[&str], at: &str) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join(CHART).join("values.schema.json")).unwrap(),
    )
    .unwrap();
    let mut sets: Vec<(String, String, String)> = Vec::new();
    for pair in words.windows(2) {
        if matches!(pair[0], "--set" | "--set-string") {
            for assignment in pair[1].trim_matches('"').split(',') {
                let (key, value) = assignment
                    .split_once('=')
                    .unwrap_or_else(|| panic!("{at}: --set {assignment}: no value"));
                assert!(
                    schema_has(&schema, key),
                    "{at}: --set {key}: not a key of the chart (values.schema.json)"
                );
                sets.push((pair[0].to_owned(), key.to_owned(), sample_value(key, value)));
            }
        }
    }
    let helm = std::env::var_os("HELM")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join(".tools/bin/helm"));
    if sets.is_empty() || !helm.exists() {
        return;
    }
    let mut values: Vec<(String, String, String)> = vec![
        ("--set".into(), "aws.region".into(), "eu-west-1".into()),
        (
            "--set".into(),
            "serviceAccount.roleArn".into(),
            "arn:aws:iam::111122223333:role/curity-dynamodb".into(),
        ),
    ];
    values.extend(sets);
    let mut helm = Command::new(helm);
    helm.args(["template", "docs", CHART]).current_dir(ROOT);
    let home = tempfile::tempdir().unwrap();
    helm.env("HOME", home.path());
    for (flag, key, value) in &values {
        helm.arg(flag).arg(format!("{key}={value}"));
    }
    let out = helm.output().unwrap();
    assert!(
        out.status.success(),
        "{at}: helm template with the documented values: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const CHART: &str = "deploy/helm/curity-dynamodb";

fn schema_has(schema: &serde_json::Value, key: &str) -> bool {
    let mut node = schema;
    for part in key.split('.') {
        match node["properties"].get(part) {
            Some(next) => node = next,
            None => return node["additionalProperties"].is_object(),
        }
    }
    true
}

/// A shell placeholder (`$REGION`, `<tag>`) becomes a value the chart
/// accepts, so the rendering checks the keys and their shapes.
fn sample_value(key: &str, value: &str) -> String {
    let value = value.trim_matches('"');
    if !(value.contains('$') || value.contains('<')) {
        return value.to_owned();
    }
    match key {
        "aws.region" => "eu-west-1".into(),
        "serviceAccount.roleArn" => "arn:aws:iam::111122223333:role/curity-dynamodb".into(),
        "image.digest" => format!("sha256:{}", "0".repeat(64)),
        _ => "sample".into(),
    }
}

/// TOML blocks of this service's configuration must parse as one.
pub(super) fn check_toml(block: &str, at: &str) {
    let table: toml::Table = toml::from_str(block).unwrap_or_else(|e| panic!("{at}: {e}"));
    let ours = ["server", "aws", "dynamodb", "pool", "cache", "json_ds"];
    if table.keys().all(|k| ours.contains(&k.as_str()))
        && let Err(e) = toml::from_str::<curity_dynamodb::config::Config>(block)
    {
        panic!("{at}: not a valid configuration: {e}");
    }
}
