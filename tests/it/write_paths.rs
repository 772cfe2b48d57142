//! Every write path's expressions (conditions, updates, key conditions) on
//! both servers: the embedded Dynoxide and MiniStack validate expressions
//! independently, and each rejects what DynamoDB rejects (redundant
//! parentheses, unused or missing names and values, reserved words).

use crate::support::{self, Answer};

use curity_dynamodb::proto::{
    self, BucketState, account_service_client::AccountServiceClient,
    bucket_service_client::BucketServiceClient, nonce_service_client::NonceServiceClient,
    session_service_client::SessionServiceClient, token_service_client::TokenServiceClient,
};
use support::{
    app::{Backend, TestApp},
    rpcs::every_rpc,
};

async fn app(backend: Backend) -> TestApp {
    TestApp::start_backend(backend, |c| c.dynamodb.allow_table_scans = true).await
}

#[tokio::test]
async fn every_rpc_runs_on_both_servers_in_the_default_and_a_custom_tenant() {
    for backend in Backend::ALL {
        for tenant in ["", "acme"] {
            let mut app = app(backend).await;
            every_rpc(app.channel.clone(), tenant).await;
            app.shutdown().await;
        }
    }
}

#[tokio::test]
async fn conditional_writes_report_their_outcome_on_both_servers() {
    for backend in Backend::ALL {
        let mut app = app(backend).await;
        let ch = app.channel.clone();
        let at = |what: &str| format!("{backend:?}: {what}");

        let mut nonces = NonceServiceClient::new(ch.clone());
        nonces
            .save_nonce(proto::SaveNonceRequest {
                nonce: "n1".into(),
                value: "v".into(),
                created_at: 4_000_000_000,
                ttl_seconds: 60,
            })
            .await
            .expect("save");
        for expected in [true, false] {
            let consumed = nonces
                .consume_nonce(proto::ConsumeNonceRequest {
                    nonce: "n1".into(),
                    consumed_at: 4_000_000_001,
                })
                .await
                .answer("consume")
                .consumed;
            assert_eq!(consumed, expected, "{}", at("consume"));
        }

        let mut sessions = SessionServiceClient::new(ch.clone());
        let updated = sessions
            .update_session_expiration(proto::UpdateSessionExpirationRequest {
                id: "missing".into(),
                expires_at: 9,
            })
            .await
            .answer("update expiration")
            .updated;
        assert!(!updated, "{}", at("expiration of a missing session"));

        let mut tokens = TokenServiceClient::new(ch.clone());
        let n = tokens
            .set_token_status(proto::SetTokenStatusRequest {
                token_hash: "missing".into(),
                status: "revoked".into(),
            })
            .await
            .answer("set status")
            .updated;
        assert_eq!(n, 0, "{}", at("status of a missing token"));

        // Store with an expiry, then without: SET and REMOVE in one update.
        let mut buckets = BucketServiceClient::new(ch.clone());
        let key = || {
            Some(proto::BucketKey {
                tenant: Some(proto::Tenant { id: "acme".into() }),
                subject: "s".into(),
                purpose: "p".into(),
            })
        };
        for expires in [Some(4_000_000_000), None] {
            buckets
                .store_bucket(proto::StoreBucketRequest {
                    key: key(),
                    attributes: None,
                    expires,
                    ..Default::default()
                })
                .await
                .expect("store");
            let got = buckets
                .get_bucket(proto::GetBucketRequest { key: key() })
                .await
                .answer("get");
            assert_eq!(got.state(), BucketState::Found, "{}", at("bucket"));
            assert_eq!(got.expires, expires, "{}", at("bucket expiry"));
        }

        let mut accounts = AccountServiceClient::new(ch.clone());
        let id = app.create_account("", "w").await;
        for expected in [true, false] {
            let deleted = accounts
                .delete(proto::DeleteAccountRequest {
                    tenant: None,
                    id: id.clone(),
                })
                .await
                .answer("delete")
                .deleted;
            assert_eq!(deleted, expected, "{}", at("account delete"));
        }
        app.shutdown().await;
    }
}
