use super::*;

fn env_none(_: &str) -> Option<String> {
    None
}

fn parse(toml: &str) -> Result<Config, ConfigError> {
    let cfg: Config = Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::string(toml))
        .extract()
        .map_err(|e| ConfigError::Parse(messages::describe_figment_error(e)))?;
    cfg.validate(&env_none)
}

fn message(r: Result<Config, ConfigError>) -> String {
    match r {
        Ok(_) => panic!("expected a config error"),
        Err(e) => e.to_string(),
    }
}

/// `toml` is refused with a message naming each of `names`.
fn refused_naming(toml: &str, names: &[&str]) {
    let m = message(parse(toml));
    for name in names {
        assert!(m.contains(name), "{name} not in {m}");
    }
}

#[test]
fn defaults_match_the_plugin() {
    let c = Config::default();
    assert_eq!(c.aws.access_method, AccessMethod::WebIdentity);
    assert!(!c.dynamodb.allow_table_scans);
    assert!(c.dynamodb.unique_phone_numbers);
    let t = c.dynamodb.ttl;
    assert_eq!(
        [
            t.sessions_retain_seconds,
            t.nonces_retain_seconds,
            t.delegations_retain_seconds,
            t.tokens_retain_seconds,
            t.devices_retain_seconds
        ],
        [86_400, 86_400, 31_536_000, 172_800, 2_592_000]
    );
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:50051");
    assert_eq!(c.pool.max_size, 64);
}

#[test]
fn unknown_access_method_names_the_key() {
    refused_naming(
        "[aws]\nregion = \"eu-west-1\"\naccess_method = \"magic\"",
        &["aws.access_method", "magic"],
    );
}

#[test]
fn cache_settings_out_of_range_name_their_keys() {
    let m = message(parse(
        "[aws]\nregion = \"eu-west-1\"\naccess_method = \"default_chain\"\n\
         [cache]\nmax_bytes = 10\ntokens = { ttl_ms = 0 }\n\
         [cache.streams]\nenabled = true\npoll_interval_ms = 500\nmax_lag_ms = 400",
    ));
    assert!(m.contains("cache.max_bytes"), "{m}");
    assert!(m.contains("cache.tokens.ttl_ms"), "{m}");
    assert!(m.contains("cache.streams.max_lag_ms"), "{m}");
    assert!(!m.contains("cache.accounts"), "{m}");
}

#[test]
fn unknown_key_is_rejected_by_name() {
    refused_naming("[aws]\nregoin = \"eu-west-1\"", &["regoin"]);
}

#[test]
fn web_identity_without_role_or_token_names_both_keys() {
    refused_naming(
        "[aws]\nregion = \"eu-west-1\"",
        &["aws.web_identity.role_arn", "aws.web_identity.token_file"],
    );
}

#[test]
fn web_identity_takes_role_and_token_from_the_webhook_env() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "jwt").unwrap();
    let token_str = token.display().to_string();
    let env = move |k: &str| match k {
        "AWS_ROLE_ARN" => Some("arn:aws:iam::123456789012:role/curity".to_string()),
        "AWS_WEB_IDENTITY_TOKEN_FILE" => Some(token_str.clone()),
        "AWS_REGION" => Some("eu-north-1".to_string()),
        _ => None,
    };
    let c = Config::default().validate(&env).unwrap();
    assert_eq!(c.aws.region.as_deref(), Some("eu-north-1"));
    assert_eq!(
        c.aws.web_identity.role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/curity")
    );
    assert_eq!(c.aws.web_identity.token_file.as_deref(), Some(&*token));
}

#[test]
fn unreadable_token_file_names_key_and_path() {
    refused_naming(
        "[aws]\nregion = \"eu-west-1\"\n[aws.web_identity]\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\ntoken_file = \"/nonexistent/token\"",
        &["aws.web_identity.token_file", "/nonexistent/token"],
    );
}

#[test]
fn bad_region_is_rejected() {
    for r in ["moon-1", "EU-WEST-1", "eu-west", "eu-west-01", ""] {
        let m = message(parse(&format!(
            "[aws]\nregion = \"{r}\"\naccess_method = \"default_chain\""
        )));
        assert!(m.contains("aws.region"), "{r}: {m}");
    }
    for r in [
        "eu-west-1",
        "us-gov-east-1",
        "ap-southeast-5",
        "il-central-1",
    ] {
        assert!(is_region_name(r), "{r}");
    }
}

#[test]
fn access_key_requires_both_halves() {
    let m = message(parse(
        "[aws]\nregion = \"eu-west-1\"\naccess_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"AKIA\"",
    ));
    assert!(m.contains("aws.access_key.secret_access_key"), "{m}");
    assert!(!m.contains("access_key_id:"), "{m}");
}

#[test]
fn bad_role_arn_and_endpoint_are_named() {
    refused_naming(
        "[aws]\nregion = \"eu-west-1\"\naccess_method = \"profile\"\nendpoint_url = \"localhost:8000\"\n[aws.profile]\nrole_arn = \"arn:aws:iam::12:user/x\"",
        &["aws.profile.role_arn", "aws.endpoint_url"],
    );
}

#[test]
fn secrets_are_redacted_in_debug_and_print() {
    let c = parse(
        "[aws]\nregion = \"eu-west-1\"\naccess_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"AKIAEXAMPLE\"\nsecret_access_key = \"s3cr3t-value\"",
    )
    .unwrap();
    assert!(!format!("{c:?}").contains("s3cr3t-value"));
    let printed = c.to_redacted_toml().unwrap();
    assert!(!printed.contains("s3cr3t-value"), "{printed}");
    assert!(printed.contains("<redacted>"), "{printed}");
    assert_eq!(
        c.aws.access_key.secret_access_key.unwrap().expose(),
        "s3cr3t-value"
    );
}

#[test]
fn malformed_toml_is_a_parse_error() {
    assert!(matches!(
        parse("[aws\nregion = 1"),
        Err(ConfigError::Parse(_))
    ));
}

#[test]
fn table_prefix_characters_are_checked() {
    refused_naming(
        "[aws]\nregion = \"eu-west-1\"\naccess_method = \"default_chain\"\n[dynamodb]\ntable_name_prefix = \"a b\"",
        &["dynamodb.table_name_prefix"],
    );
}

#[test]
fn only_serve_reads_the_files_it_serves_with_and_reports_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short");
    std::fs::write(&short, "short").unwrap();
    let toml = format!(
        "[aws]\nregion = \"eu-west-1\"\naccess_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"AKIAEXAMPLE\"\nsecret_access_key = \"x\"\n\
         [server.auth]\nbearer_token_file = {short:?}\n\
         [server.tls]\ncert_file = \"/nonexistent/a.crt\"\nkey_file = \"/nonexistent/a.key\"\n\
         [json_ds]\nlisten = \"127.0.0.1:0\"\n\
         [json_ds.tls]\ncert_file = \"/nonexistent/b.crt\"\nkey_file = \"/nonexistent/b.key\"\n"
    );
    // Other commands (tables, policy, doctor) never need the files.
    parse(&toml).expect("valid for every command");
    let cfg: Config = Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::string(&toml))
        .extract()
        .unwrap();
    let m = message(cfg.validate_to_serve(&env_none));
    for key in [
        "server.auth.bearer_token_file",
        "server.tls.cert_file",
        "server.tls.key_file",
        "json_ds.tls.cert_file",
        "json_ds.tls.key_file",
    ] {
        assert!(m.contains(key), "{key} missing from {m}");
    }
}
