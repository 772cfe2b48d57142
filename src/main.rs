//! The `curity-dynamodb` binary: parse the command line, load the config,
//! call into the library. Exit codes: 0 success, 1 failure, 2 bad
//! configuration or environment (a config key, file or endpoint to fix).

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use curity_dynamodb::{
    aws::{Aws, DynamoPool},
    config::Config,
    server,
    store::{
        Store, StoreError,
        backfill::BackfillOptions,
        tables::{Billing, TableAdmin},
    },
    telemetry,
};

#[derive(Parser)]
#[command(
    name = "curity-dynamodb",
    version,
    about = "Curity data source on DynamoDB"
)]
struct Cli {
    /// TOML config file; `CURITY_DYNAMODB_*` variables override it.
    #[arg(
        long,
        global = true,
        env = "CURITY_DYNAMODB_CONFIG",
        value_name = "PATH"
    )]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC data source.
    Serve {
        /// Overrides `server.listen`.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Run against an embedded DynamoDB-compatible store (tables created
        /// first), persisted in DIR, or in memory without DIR.
        #[arg(long, value_name = "DIR", num_args = 0..=1)]
        embedded: Option<Option<PathBuf>>,
    },
    /// Create or check the `curity-*` tables.
    Tables {
        #[command(subcommand)]
        action: TablesCommand,
    },
    /// Show configuration.
    Config {
        #[command(subcommand)]
        action: ConfigCommand,
    },
    /// Explain which AWS identity the service gets and why; check every
    /// table and index. Exit 1 when a check fails.
    Doctor {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The IAM role the pod should run as (default: AWS_ROLE_ARN).
        #[arg(long, value_name = "ARN")]
        expect_role_arn: Option<String>,
        /// The token subject the role trusts.
        #[arg(long, value_name = "SUB")]
        expect_subject: Option<String>,
        /// The token audience the OIDC provider lists.
        #[arg(long, value_name = "AUD", default_value = "sts.amazonaws.com")]
        expect_audience: String,
    },
    /// Print the least-privilege IAM policy for the `curity-*` tables.
    Policy {
        /// Table name prefix (default: `dynamodb.table_name_prefix` when a
        /// config is given, else none).
        #[arg(long)]
        prefix: Option<String>,
        /// Narrow the resources to one region.
        #[arg(long)]
        region: Option<String>,
        /// Narrow the resources to one AWS account (12 digits).
        #[arg(long)]
        account: Option<String>,
        /// Also allow creating tables and managing TTL (`tables create`).
        #[arg(long)]
        admin: bool,
    },
    /// Show the AWS identity the configured credentials resolve to.
    Whoami {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TablesCommand {
    /// Create missing tables (idempotent), wait for ACTIVE, enable TTL.
    Create {
        #[arg(long, value_enum, default_value = "on-demand")]
        billing: Billing,
        /// Overrides `dynamodb.table_name_prefix`.
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Compare live tables with the layout; exit 1 naming each difference.
    Check {
        /// Overrides `dynamodb.table_name_prefix`.
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Add the `userNameInitial` / `emailInitial` that accounts written by
    /// plugin versions before October 2022 lack (prefix and initials
    /// filters do not find those accounts otherwise). Idempotent.
    BackfillInitials {
        /// Overrides `dynamodb.table_name_prefix`.
        #[arg(long)]
        prefix: Option<String>,
        /// Count what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Most updates per second.
        #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        rate: u32,
        /// Resume after this account key, as the progress lines print it.
        #[arg(long)]
        start_after: Option<String>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Print,
}

/// An error and the exit code it deserves.
struct Failure {
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

fn bad_input(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 2,
        error: e.into(),
    }
}

/// Store errors that mean "fix the configuration or environment".
fn store_failure(e: StoreError) -> Failure {
    let code = match e {
        StoreError::Credentials { .. } | StoreError::Unavailable { .. } => 2,
        _ => 1,
    };
    Failure {
        code,
        error: e.into(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let path = cli.config.as_deref();
    match cli.command {
        Command::Serve { listen, embedded } => serve(path, listen, embedded).await,
        Command::Tables { action } => {
            let mut config = Config::load(path).map_err(bad_input)?;
            telemetry::init_logging(config.server.log_format);
            let prefix = match &action {
                TablesCommand::Create { prefix, .. }
                | TablesCommand::Check { prefix }
                | TablesCommand::BackfillInitials { prefix, .. } => prefix.clone(),
            };
            if let Some(p) = prefix {
                config.dynamodb.table_name_prefix = p;
                config = config
                    .validate(&curity_dynamodb::config::process_env)
                    .map_err(bad_input)?;
            }
            let aws = Aws::connect(&config.aws).await.map_err(bad_input)?;
            match action {
                TablesCommand::Create { billing, .. } => tables(&aws, &config, billing, true).await,
                TablesCommand::Check { .. } => {
                    tables(&aws, &config, Billing::OnDemand, false).await
                }
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
            action: ConfigCommand::Print,
        } => {
            let config = Config::load(path).map_err(bad_input)?;
            print!("{}", config.to_redacted_toml().map_err(bad_input)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor {
            json,
            expect_role_arn,
            expect_subject,
            expect_audience,
        } => {
            let expect = curity_dynamodb::doctor::Expectations {
                role_arn: expect_role_arn,
                subject: expect_subject,
                audience: expect_audience,
            };
            let report =
                curity_dynamodb::doctor::run(path, &expect, &curity_dynamodb::config::process_env)
                    .await;
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
        Command::Policy {
            prefix,
            region,
            account,
            admin,
        } => {
            let prefix = match (prefix, path) {
                (Some(p), _) => p,
                (None, Some(_)) => {
                    Config::parse(path)
                        .map_err(bad_input)?
                        .dynamodb
                        .table_name_prefix
                }
                (None, None) => String::new(),
            };
            if !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            {
                return Err(bad_input(anyhow::anyhow!(
                    "--prefix: only [A-Za-z0-9_.-] may appear in table names"
                )));
            }
            if let Some(r) = &region
                && !curity_dynamodb::config::is_region_name(r)
            {
                return Err(bad_input(anyhow::anyhow!(
                    "--region: {r:?} is not an AWS region name"
                )));
            }
            if let Some(a) = &account
                && !(a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()))
            {
                return Err(bad_input(anyhow::anyhow!(
                    "--account: {a:?} is not a 12-digit AWS account id"
                )));
            }
            let doc = curity_dynamodb::aws::policy::document(
                &prefix,
                region.as_deref(),
                account.as_deref(),
                admin,
            );
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Whoami { json } => {
            let config = Config::load(path).map_err(bad_input)?;
            telemetry::init_logging(config.server.log_format);
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

async fn backfill_initials(
    aws: &Aws,
    config: &Config,
    options: &BackfillOptions,
) -> Result<ExitCode, Failure> {
    let pool = DynamoPool::new(
        aws.dynamodb_config().clone(),
        1,
        Duration::from_millis(config.pool.wait_timeout_ms),
    )
    .map_err(bad_input)?;
    let store = Store::new(pool, config.dynamodb.clone(), aws.method().as_str());
    let verb = if options.dry_run {
        "would update"
    } else {
        "updated"
    };
    let report = store
        .backfill_initials(options, |p| {
            let resume = p
                .resume_after
                .as_deref()
                .map(|k| format!("; resume with --start-after '{k}'"))
                .unwrap_or_default();
            eprintln!(
                "backfill-initials: {} lacking initials, {verb} {}, {} changed meanwhile (skipped){resume}",
                p.found,
                if options.dry_run { p.found } else { p.updated },
                p.skipped_changed
            );
        })
        .await
        .map_err(store_failure)?;
    println!(
        "done: {} accounts lacked initials, {verb} {}, {} skipped because they changed meanwhile (run again for those)",
        report.found,
        if options.dry_run {
            report.found
        } else {
            report.updated
        },
        report.skipped_changed
    );
    Ok(ExitCode::SUCCESS)
}

async fn tables(
    aws: &Aws,
    config: &Config,
    billing: Billing,
    create: bool,
) -> Result<ExitCode, Failure> {
    let client = aws.dynamodb_client();
    let admin = TableAdmin {
        client: &client,
        prefix: &config.dynamodb.table_name_prefix,
        method: aws.method().as_str(),
    };
    if create {
        let report = admin.create_all(billing).await.map_err(store_failure)?;
        for line in &report.lines {
            println!("{line}");
        }
        if report.changed_anything() {
            println!(
                "done: {} tables created, TTL enabled on {}",
                report.created, report.ttl_enabled
            );
        } else {
            println!("done: nothing to change, all tables already match");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let checks = admin.check_all().await.map_err(store_failure)?;
    let mut failed = 0;
    for c in &checks {
        if c.differences.is_empty() {
            println!("{}: ok", c.table);
        } else {
            failed += 1;
        }
        for d in &c.differences {
            println!("{}: DIFFERS: {d}", c.table);
        }
        for w in &c.warnings {
            println!("{}: warning: {w}", c.table);
        }
    }
    if failed == 0 {
        println!("check: {} tables match the layout", checks.len());
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "check: {failed} of {} tables differ from the layout",
            checks.len()
        );
        Ok(ExitCode::FAILURE)
    }
}

async fn serve(
    path: Option<&std::path::Path>,
    listen: Option<SocketAddr>,
    embedded: Option<Option<PathBuf>>,
) -> Result<ExitCode, Failure> {
    let mut config = Config::parse(path).map_err(bad_input)?;
    if let Some(addr) = listen {
        config.server.listen = addr;
    }
    telemetry::init_logging(config.server.log_format);

    #[cfg(feature = "embedded")]
    let embedded_store = match embedded {
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

    let config = config
        .validate(&curity_dynamodb::config::process_env)
        .map_err(bad_input)?;
    if let Some(addr) = config.server.metrics_listen {
        telemetry::init_metrics(addr).map_err(bad_input)?;
    }
    let aws = Aws::connect(&config.aws).await.map_err(bad_input)?;

    #[cfg(feature = "embedded")]
    if embedded_store.is_some() {
        tables(&aws, &config, Billing::OnDemand, true).await?;
    }

    let pool = DynamoPool::new(
        aws.dynamodb_config().clone(),
        config.pool.max_size,
        Duration::from_millis(config.pool.wait_timeout_ms),
    )
    .map_err(bad_input)?;
    let store = Store::new(pool, config.dynamodb.clone(), aws.method().as_str());
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("server.listen {}", config.server.listen))
        .map_err(bad_input)?;
    let local = listener
        .local_addr()
        .context("server.listen: no local address")?;
    tracing::info!(listen = %local, access_method = aws.method().as_str(), "serving gRPC");
    server::run(listener, store, &config.server, server::shutdown_signal()).await?;

    #[cfg(feature = "embedded")]
    if let Some(store) = embedded_store {
        store.stop().await;
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
