//! The command line.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, Subcommand};
use curity_dynamodb::store::tables::Billing;

#[derive(Parser)]
#[command(
    name = "curity-dynamodb",
    version,
    about = "Curity data source on DynamoDB"
)]
pub struct Cli {
    /// TOML config file; `CURITY_DYNAMODB_*` variables override it.
    #[arg(
        long,
        global = true,
        env = "CURITY_DYNAMODB_CONFIG",
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the gRPC data source.
    Serve {
        /// Overrides `server.listen`.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Run against an embedded DynamoDB-compatible store (tables created
        /// first), persisted in DIR, or in memory without DIR.
        #[arg(long, value_name = "DIR", num_args = 0..=1)]
        embedded: Option<Option<PathBuf>>,
        /// Serve on a non-loopback address without caller authentication
        /// (sets `server.insecure`).
        #[arg(long)]
        insecure: bool,
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
        /// Also allow creating tables and managing TTL and streams
        /// (`tables create`).
        #[arg(long)]
        admin: bool,
        /// Also allow reading the cached tables' streams (`cache.streams`;
        /// default: as the config given says).
        #[arg(long)]
        streams: bool,
    },
    /// Show the AWS identity the configured credentials resolve to.
    Whoami {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum TablesCommand {
    /// Create missing tables (idempotent), wait for ACTIVE, enable TTL.
    Create {
        #[arg(long, value_enum, default_value = "on-demand")]
        billing: Billing,
        /// Overrides `dynamodb.table_name_prefix`.
        #[arg(long)]
        prefix: Option<String>,
        /// Give the cached tables a KEYS_ONLY stream (also on existing
        /// tables), for `cache.streams` (cross-replica invalidation).
        #[arg(long)]
        streams: bool,
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
pub enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Print,
}
