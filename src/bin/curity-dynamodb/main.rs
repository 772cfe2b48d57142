//! The `curity-dynamodb` binary: parse the command line, load the config,
//! call into the library. Exit codes: 0 success, 1 failure, 2 bad
//! configuration or environment (a config key, file or endpoint to fix).
//! `args` is the command line, `tables` the `tables` subcommands.

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod args;
mod call;
mod policy;
mod progress;
mod tables;
mod transfer;

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use args::{Cli, Command, ConfigCommand, Local, TablesCommand};
use clap::Parser;
use curity_dynamodb::{
    app::App,
    aws::Aws,
    config::Config,
    local::{State, point_at_local_store},
    server,
    store::{
        StoreError,
        accounts::backfill::BackfillOptions,
        tables::{Billing, Protection},
    },
    telemetry,
};
use tables::backfill_initials;
use transfer::Job;

/// An error and the exit code it deserves.
pub(crate) struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Self {
            code: 1,
            error: e.into(),
        }
    }
}

pub(crate) fn bad_input(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 2,
        error: e.into(),
    }
}

/// Store errors that mean "fix the configuration or environment".
pub(crate) fn store_failure(e: StoreError) -> Failure {
    Failure {
        code: e.class().exit_code,
        error: anyhow::anyhow!(e.full()),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if let Some(hint) = args::hint(&e) {
                eprintln!("\n  tip: {hint}");
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

/// The configuration (with `--prefix` over the configured prefix), the
/// command's logging, and AWS: what every table command starts with.
async fn connect_for(
    path: Option<&std::path::Path>,
    local: &Local,
    prefix: Option<String>,
) -> Result<(Aws, Config), Failure> {
    let config = load_config(path, local, |c| {
        if let Some(p) = prefix {
            c.dynamodb.table_name_prefix = p;
        }
    })?;
    telemetry::init_command_logging(config.server.log_format);
    let aws = Aws::connect(&config.aws).await.map_err(bad_input)?;
    Ok((aws, config))
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let path = cli.config.as_deref();
    match cli.command {
        Command::Serve {
            listen,
            embedded,
            insecure,
        } => serve(path, listen, embedded, insecure).await,
        Command::Tables { action } => {
            let (prefix, local) = match &action {
                TablesCommand::Create { prefix, local, .. }
                | TablesCommand::Check { prefix, local }
                | TablesCommand::BackfillInitials { prefix, local, .. } => (prefix.clone(), local),
            };
            let (aws, config) = connect_for(path, local, prefix).await?;
            match action {
                TablesCommand::Create {
                    billing,
                    streams,
                    pitr,
                    sse_kms_key,
                    deletion_protection,
                    tags,
                    ..
                } => {
                    let protection = Protection {
                        pitr,
                        sse_kms_key,
                        deletion_protection,
                        tags,
                    };
                    tables::create(&aws, &config, billing, streams, &protection).await
                }
                TablesCommand::Check { .. } => tables::check(&aws, &config).await,
                TablesCommand::BackfillInitials {
                    dry_run,
                    rate,
                    start_after,
                    ..
                } => {
                    let options = BackfillOptions {
                        dry_run,
                        rate_per_second: rate,
                        start_after,
                    };
                    backfill_initials(&aws, &config, &options).await
                }
            }
        }
        Command::Config {
            action: ConfigCommand::Print { local },
        } => {
            let config = load_config(path, &local, |_| {})?;
            print!("{}", config.to_redacted_toml().map_err(bad_input)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor {
            json,
            expect_role_arn,
            expect_subject,
            expect_audience,
            local,
        } => {
            let expect = curity_dynamodb::doctor::Expectations {
                role_arn: expect_role_arn,
                subject: expect_subject,
                audience: expect_audience,
            };
            let report = match local_endpoint(&local)? {
                Some(endpoint) => {
                    let config = load_config(path, &local, |_| {})?;
                    curity_dynamodb::doctor::run_local(&config, &endpoint).await
                }
                None => {
                    curity_dynamodb::doctor::run(
                        path,
                        &expect,
                        &curity_dynamodb::config::process_env,
                    )
                    .await
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.render());
            }
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Policy(ask) => policy::print(path, ask),
        Command::Call(mut options) => {
            if let Some(dir) = options.embedded.take() {
                let state = State::read(dir.as_deref()).map_err(bad_input)?;
                options.addr = state.grpc.to_string();
            }
            call::run(options).await
        }
        Command::Export { on, out, segments } => {
            transfer::run(path, on, &out, Job::Export { segments }).await
        }
        Command::Import {
            on,
            input,
            concurrency,
        } => {
            let concurrency = concurrency.into();
            transfer::run(path, on, &input, Job::Import { concurrency }).await
        }
        Command::Whoami { json, local } => {
            if let Some(endpoint) = local_endpoint(&local)? {
                println!(
                    "store: the local one at {endpoint} (placeholder credentials)\n\
                     identity: none; sts:GetCallerIdentity does not apply to a local store"
                );
                return Ok(ExitCode::SUCCESS);
            }
            let config = Config::load(path).map_err(bad_input)?;
            telemetry::init_command_logging(config.server.log_format);
            let aws = Aws::connect(&config.aws).await.map_err(bad_input)?;
            let id = aws.caller_identity().await.map_err(store_failure)?;
            if json {
                println!("{}", serde_json::to_string(&id)?);
            } else {
                println!(
                    "access method: {}\naccount: {}\narn: {}\nuser id: {}",
                    aws.method().as_str(),
                    id.account,
                    id.arn,
                    id.user_id
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The endpoint `--embedded [DIR]` or `--endpoint URL` names, if any.
fn local_endpoint(local: &Local) -> Result<Option<String>, Failure> {
    match (&local.embedded, &local.endpoint) {
        (Some(dir), _) => Ok(Some(
            State::read(dir.as_deref())
                .map_err(bad_input)?
                .dynamodb_endpoint,
        )),
        (None, Some(url)) => Ok(Some(url.clone())),
        (None, None) => Ok(None),
    }
}

/// File and environment, the command's own overrides, a local store when
/// one is named; then validated once.
fn load_config(
    path: Option<&std::path::Path>,
    local: &Local,
    overrides: impl FnOnce(&mut Config),
) -> Result<Config, Failure> {
    let mut config = Config::parse(path).map_err(bad_input)?;
    overrides(&mut config);
    if let Some(endpoint) = local_endpoint(local)? {
        point_at_local_store(&mut config, &endpoint);
    }
    config
        .validate(&curity_dynamodb::config::process_env)
        .map_err(bad_input)
}

async fn serve(
    path: Option<&std::path::Path>,
    listen: Option<SocketAddr>,
    embedded: Option<Option<PathBuf>>,
    insecure: bool,
) -> Result<ExitCode, Failure> {
    let mut config = Config::parse(path).map_err(bad_input)?;
    if let Some(addr) = listen {
        config.server.listen = addr;
    }
    config.server.insecure |= insecure;
    if embedded.is_some() {
        local_defaults(&mut config);
    }
    if let Some(problem) = config.server.exposure_problem(config.server.listen) {
        return Err(bad_input(anyhow::anyhow!(problem)));
    }
    let traces = if telemetry::traces::wanted(&config.telemetry, |k| std::env::var(k).ok()) {
        let traces = telemetry::traces::Traces::start(&config.telemetry)
            .map_err(|e| bad_input(anyhow::anyhow!(e)))?;
        Some(traces)
    } else {
        None
    };
    telemetry::init_logging(
        config.server.log_format,
        config.server.audit_file.as_deref(),
        traces.as_ref(),
    )
    .map_err(|e| bad_input(anyhow::anyhow!(e)))?;

    #[cfg(feature = "embedded")]
    let embedded_store = match &embedded {
        Some(dir) => {
            let store = curity_dynamodb::embedded::Embedded::start(dir.as_deref())
                .await
                .map_err(bad_input)?;
            store.configure(&mut config);
            tracing::info!(
                endpoint = store.endpoint(),
                persisted_in = ?dir,
                "embedded DynamoDB-compatible store started"
            );
            Some(store)
        }
        None => None,
    };
    #[cfg(not(feature = "embedded"))]
    if embedded.is_some() {
        return Err(bad_input(anyhow::anyhow!(
            "--embedded: this build has no embedded store (cargo feature `embedded`)"
        )));
    }

    // Every problem of the configuration and the files it names in one
    // report, before any AWS call; then what only building the TLS
    // configurations finds (a key that does not fit its certificate), for
    // both ports together.
    let config = config
        .validate_to_serve(&curity_dynamodb::config::process_env)
        .map_err(bad_input)?;
    let json_tls = config
        .json_ds
        .listen
        .is_some()
        .then_some(("json_ds.tls", &config.json_ds.tls));
    let tls_problems: Vec<String> = std::iter::once(("server.tls", &config.server.tls))
        .chain(json_tls)
        .filter(|(_, tls)| tls.enabled())
        .filter_map(|(section, tls)| curity_dynamodb::tls::Tls::load(tls, section).err())
        .collect();
    if !tls_problems.is_empty() {
        return Err(bad_input(curity_dynamodb::config::ConfigError::Invalid(
            tls_problems,
        )));
    }
    if let Some(addr) = config.server.metrics_listen {
        telemetry::init_metrics(addr).map_err(bad_input)?;
    }
    let aws = Aws::connect(&config.aws).await.map_err(bad_input)?;

    #[cfg(feature = "embedded")]
    if embedded_store.is_some() {
        let streams = config.cache.enabled && config.cache.streams.enabled;
        tables::create(
            &aws,
            &config,
            Billing::OnDemand,
            streams,
            &Protection::default(),
        )
        .await?;
    }

    let app = App::build(config, &aws).await.map_err(bad_input)?;
    #[cfg(feature = "embedded")]
    let state_dir = match (&embedded, &embedded_store) {
        (Some(dir), Some(store)) => {
            let state = State {
                pid: std::process::id(),
                dynamodb_endpoint: store.endpoint().to_owned(),
                grpc: app.grpc_addr(),
                json_ds: app.json_addr(),
            };
            // Only the other commands' discovery depends on it: a read-only
            // temporary directory (a locked-down container) is no reason
            // not to serve.
            match state.write(dir.as_deref()) {
                Ok(path) => {
                    tracing::info!(state = %path.display(), "other commands find this server with --embedded");
                    Some(dir.clone())
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no state file: other commands cannot find this server with --embedded");
                    None
                }
            }
        }
        _ => None,
    };
    app.run(server::shutdown_signal()).await?;

    #[cfg(feature = "embedded")]
    if let Some(store) = embedded_store {
        if let Some(dir) = state_dir {
            State::remove(dir.as_deref());
        }
        store.stop().await;
    }
    if let Some(traces) = traces {
        traces.shutdown();
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// What `serve --embedded` turns on for a newcomer on a loopback address,
/// unless configured otherwise: reflection (for grpcurl and IDEs) and the
/// JSON data source port on the next port (50052 beside 50051).
fn local_defaults(config: &mut Config) {
    let listen = config.server.listen;
    if !listen.ip().is_loopback() {
        return;
    }
    config.server.reflection.get_or_insert(true);
    if config.json_ds.listen.is_none() {
        let port = match listen.port() {
            0 => 0,
            p => p.saturating_add(1),
        };
        config.json_ds.listen = Some(SocketAddr::new(listen.ip(), port));
    }
}
