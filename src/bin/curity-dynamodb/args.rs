//! The command line.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, Subcommand};
use curity_dynamodb::store::tables::{Billing, KmsKeyArn, Tag};

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
        /// Overrides `server.listen` (an IP address and port).
        #[arg(long, value_name = "ADDR", value_parser = socket_addr)]
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
        #[command(flatten)]
        local: Local,
    },
    /// Print the least-privilege IAM policy for the `curity-*` tables.
    Policy(PolicyArgs),
    /// Write tables to DIR as NDJSON files (DynamoDB JSON, one item a line)
    /// by a parallel scan, each with a manifest of its item count.
    Export {
        #[command(flatten)]
        on: Transfer,
        /// The directory to write (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Parallel scan segments per table.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
        segments: u32,
    },
    /// Write an export's items into the tables by conditional puts, never
    /// over a newer item; idempotent.
    Import {
        #[command(flatten)]
        on: Transfer,
        /// The directory an export wrote.
        #[arg(long = "in", value_name = "DIR")]
        input: PathBuf,
        /// Puts in flight at once.
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: u16,
    },
    /// Show the AWS identity the configured credentials resolve to.
    Whoami {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        local: Local,
    },
    /// Call a running service: one gRPC method, the request as JSON, the
    /// answer printed as JSON (exit 1 with the status when it fails).
    Call(CallOptions),
}

#[derive(clap::Args)]
pub struct CallOptions {
    /// SERVICE/METHOD, e.g. `AccountService/GetByUserName` (the package may
    /// be left out); `--list` lists them.
    #[arg(required_unless_present = "list")]
    pub method: Option<String>,
    /// The request as proto3 JSON (default `{}`; `-` reads it from stdin).
    pub request: Option<String>,
    /// List every method with its request message, then exit.
    #[arg(long, conflicts_with = "method")]
    pub list: bool,
    /// The service's address (HOST:PORT).
    #[arg(
        long,
        value_name = "ADDR",
        env = "CURITY_DYNAMODB_ADDR",
        default_value = "127.0.0.1:50051"
    )]
    pub addr: String,
    /// Call the running `serve --embedded [DIR]`, wherever it listens
    /// (`--embedded=DIR` reads DIR/embedded.json; bare, the in-memory
    /// one's).
    #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true)]
    pub embedded: Option<Option<PathBuf>>,
    /// Send `authorization: Bearer <the file's content>`.
    #[arg(long, value_name = "PATH", env = "CURITY_DYNAMODB_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// Connect with TLS, trusting this CA (PEM).
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate for mutual TLS (PEM, with `--key-file`).
    #[arg(long, value_name = "PATH", requires = "key_file")]
    pub cert_file: Option<PathBuf>,
    /// The client certificate's key (PEM).
    #[arg(long, value_name = "PATH", requires = "cert_file")]
    pub key_file: Option<PathBuf>,
    /// The name the server's certificate must carry (default: the host of
    /// `--addr`).
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
    /// Deadline of the call, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
}

/// Aims an admin command at a local store instead of AWS.
#[derive(clap::Args, Default, Clone)]
pub struct Local {
    /// Use the store of a running `serve --embedded [DIR]` (found through
    /// DIR/embedded.json; without DIR, the in-memory one's).
    #[arg(long, value_name = "DIR", num_args = 0..=1, conflicts_with = "endpoint")]
    pub embedded: Option<Option<PathBuf>>,
    /// Use a DynamoDB-compatible endpoint that checks no signatures
    /// (DynamoDB Local, MiniStack without auth), with placeholder
    /// credentials.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

/// What `policy` is asked for.
#[derive(clap::Args)]
pub struct PolicyArgs {
    /// Table name prefix (default: `dynamodb.table_name_prefix` when a
    /// config is given, else none).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Narrow the resources to one region.
    #[arg(long)]
    pub region: Option<String>,
    /// Narrow the resources to one AWS account (12 digits).
    #[arg(long)]
    pub account: Option<String>,
    /// Also allow creating tables and managing TTL, streams,
    /// point-in-time recovery, deletion protection, encryption and tags
    /// (`tables create`, `tables check`).
    #[arg(long)]
    pub admin: bool,
    /// With --admin: what DynamoDB needs of this KMS key to encrypt
    /// tables under it (`tables create --sse-kms-key`).
    #[arg(long, value_name = "ARN", requires = "admin")]
    pub sse_kms_key: Option<KmsKeyArn>,
    /// Also allow reading the cached tables' streams (`cache.streams`;
    /// default: as the config given says).
    #[arg(long)]
    pub streams: bool,
}

/// What `export` and `import` share: which tables, where, how fast.
#[derive(clap::Args)]
pub struct Transfer {
    #[command(flatten)]
    pub which: Which,
    /// Most capacity units per second: read by `export`, written by
    /// `import` (default: no limit).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: Option<u32>,
    /// Continue an interrupted run; tables done whole by an earlier run
    /// are kept as they are.
    #[arg(long)]
    pub resume: bool,
    /// Overrides `dynamodb.table_name_prefix` (the tables read or written).
    #[arg(long)]
    pub prefix: Option<String>,
    #[command(flatten)]
    pub local: Local,
}

/// Which tables `export` and `import` handle.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub struct Which {
    /// One table, named without the prefix.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(
        curity_dynamodb::schema::ALL.iter().map(|d| d.suffix)
    ))]
    pub table: Option<String>,
    /// All eleven tables.
    #[arg(long)]
    pub all: bool,
}

impl Which {
    pub fn tables(&self) -> Vec<&'static str> {
        curity_dynamodb::schema::ALL
            .iter()
            .map(|d| d.suffix)
            .filter(|t| self.all || self.table.as_deref() == Some(*t))
            .collect()
    }
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
        /// Turn point-in-time recovery on (UpdateContinuousBackups): restore
        /// to any second of the last 35 days.
        #[arg(long)]
        pitr: bool,
        /// Encrypt at rest under this customer managed KMS key (its ARN,
        /// not an alias); existing tables are switched to it.
        #[arg(long, value_name = "ARN")]
        sse_kms_key: Option<KmsKeyArn>,
        /// Refuse DeleteTable until turned off again.
        #[arg(long)]
        deletion_protection: bool,
        /// Tag every table (repeatable); existing tables get the missing
        /// ones, other tags are left alone.
        #[arg(long = "tag", value_name = "KEY=VALUE")]
        tags: Vec<Tag>,
        #[command(flatten)]
        local: Local,
    },
    /// Compare live tables with the layout; exit 1 naming each difference.
    /// Also reports each table's point-in-time recovery, deletion
    /// protection, encryption key and tags.
    Check {
        /// Overrides `dynamodb.table_name_prefix`.
        #[arg(long)]
        prefix: Option<String>,
        #[command(flatten)]
        local: Local,
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
        #[command(flatten)]
        local: Local,
    },
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Print {
        #[command(flatten)]
        local: Local,
    },
}

/// A listen address, with the fix for the usual mistake (a host name).
fn socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!(
            "{text:?} is not an IP address and port; use an IP address, e.g. 127.0.0.1:50051 \
             (host names are not resolved)"
        )
    })
}

/// Advice clap cannot give: flags other tools use for what is ours.
pub fn hint(error: &clap::Error) -> Option<&'static str> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let flag = arg.split('=').next().unwrap_or_default();
    match flag {
        "--port" | "--bind" | "--host" | "--address" | "-p" => Some(
            "`serve` takes the address and port together: --listen 127.0.0.1:50051 \
             (`call` aims with --addr)",
        ),
        "--endpoint-url" | "--dynamodb-endpoint" => {
            Some("point at a DynamoDB-compatible store with --endpoint URL or --embedded DIR")
        }
        _ => None,
    }
}
