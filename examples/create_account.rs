//! Creates an account through the gRPC API, for trying the service out
//! against `serve --embedded` (README: the JSON data source's curls):
//!
//! ```sh
//! cargo run --example create_account -- --addr 127.0.0.1:50051 \
//!     --user-name alice --email alice@example.com --password-hash '$2b$10$...'
//! ```
//!
//! Prints the new account's id.

use clap::Parser;
use curity_dynamodb::proto::{
    CreateAccountRequest, NewAccount, Tenant, account_service_client::AccountServiceClient,
};

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: String,
    #[arg(long)]
    user_name: String,
    #[arg(long)]
    email: Option<String>,
    /// Stored as is (a BCrypt, SHA-crypt, PBKDF2 or Argon2 hash).
    #[arg(long)]
    password_hash: Option<String>,
    #[arg(long)]
    tenant: Option<String>,
    /// `authorization: Bearer <token>` when the server asks for one.
    #[arg(long)]
    bearer_token: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", args.addr))?
        .connect()
        .await?;
    let token = args.bearer_token.clone();
    let mut client =
        AccountServiceClient::with_interceptor(channel, move |mut req: tonic::Request<()>| {
            if let Some(t) = &token {
                let value = format!("Bearer {t}")
                    .parse()
                    .map_err(|_| tonic::Status::invalid_argument("--bearer-token"))?;
                req.metadata_mut().insert("authorization", value);
            }
            Ok(req)
        });
    let attributes = match &args.email {
        Some(e) => serde_json::json!({"emails": [{"value": e, "primary": true}]}).to_string(),
        None => String::new(),
    };
    let created = client
        .create(CreateAccountRequest {
            tenant: args.tenant.map(|id| Tenant { id }),
            account: Some(NewAccount {
                user_name: args.user_name,
                active: true,
                attributes_json: attributes,
                ..Default::default()
            }),
            password_hash: args.password_hash,
        })
        .await?
        .into_inner();
    println!("{}", created.account.map(|a| a.id).unwrap_or_default());
    Ok(())
}
