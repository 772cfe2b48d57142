//! The generated IAM policy is enough for every RPC of every data type and
//! nothing more: a role holding exactly `curity-dynamodb policy` runs them
//! all against MiniStack (AUTH=true), and is denied on other tables.

mod support;

use std::time::Duration;

use curity_dynamodb::{
    api::convert::json_to_struct,
    proto::{
        self, account_service_client::AccountServiceClient,
        attribute_service_client::AttributeServiceClient,
        bucket_service_client::BucketServiceClient,
        credential_service_client::CredentialServiceClient, link_service_client::LinkServiceClient,
        nonce_service_client::NonceServiceClient, session_service_client::SessionServiceClient,
        token_service_client::TokenServiceClient,
    },
};
use support::{
    ministack::Fixture,
    service::{Env, Service, run_cli, stderr, stdout},
};
use tonic::{Code, transport::Channel};

fn config(
    env: &Env,
    name: &str,
    endpoint: &str,
    key: &str,
    secret: &str,
    role: &str,
    prefix: &str,
) -> std::path::PathBuf {
    env.write(
        name,
        &format!(
            "[server]\nreadiness_retry_seconds = 1\n[aws]\nregion = \"us-east-1\"\nendpoint_url = \"{endpoint}\"\naccess_method = \"access_key\"\n[aws.access_key]\naccess_key_id = \"{key}\"\nsecret_access_key = \"{secret}\"\nrole_arn = \"{role}\"\n[dynamodb]\ntable_name_prefix = \"{prefix}\"\nallow_table_scans = true\n"
        ),
    )
}

async fn every_rpc(ch: Channel) {
    let t = || Some(proto::Tenant { id: "acme".into() });
    let mut accounts = AccountServiceClient::new(ch.clone());
    let emails =
        serde_json::json!({"emails": [{"value": "lp@x.io"}], "phoneNumbers": [{"value": "+1"}]});
    let id = accounts
        .create(proto::CreateAccountRequest {
            tenant: t(),
            account: Some(proto::NewAccount {
                user_name: "least".into(),
                active: true,
                attributes: Some(json_to_struct(
                    emails.as_object().cloned().unwrap_or_default(),
                )),
            }),
            password_hash: None,
        })
        .await
        .expect("Accounts.Create")
        .into_inner()
        .account
        .expect("account")
        .id;
    accounts
        .get_by_id(proto::GetAccountByIdRequest {
            tenant: t(),
            id: id.clone(),
        })
        .await
        .expect("GetById");
    accounts
        .get_by_user_name(proto::GetAccountByUserNameRequest {
            tenant: t(),
            user_name: "least".into(),
        })
        .await
        .expect("GetByUserName");
    accounts
        .get_by_email(proto::GetAccountByEmailRequest {
            tenant: t(),
            email: "lp@x.io".into(),
        })
        .await
        .expect("GetByEmail");
    accounts
        .get_by_phone(proto::GetAccountByPhoneRequest {
            tenant: t(),
            phone: "+1".into(),
        })
        .await
        .expect("GetByPhone");
    accounts
        .update(proto::UpdateAccountRequest {
            tenant: t(),
            id: id.clone(),
            account: Some(proto::NewAccount {
                user_name: "least".into(),
                active: true,
                attributes: None,
            }),
        })
        .await
        .expect("Update");
    accounts
        .patch(proto::PatchAccountRequest {
            tenant: t(),
            id: id.clone(),
            active: Some(true),
            ..Default::default()
        })
        .await
        .expect("Patch");
    for filter in ["", r#"userName sw "lea""#, r#"userName eq "least""#] {
        accounts
            .list(proto::ListAccountsRequest {
                tenant: t(),
                filter: filter.into(),
                page: None,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("List {filter:?}: {e:?}"));
        accounts
            .count(proto::CountAccountsRequest {
                tenant: t(),
                filter: filter.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("Count {filter:?}: {e:?}"));
    }

    let mut creds = CredentialServiceClient::new(ch.clone());
    creds
        .store(proto::StoreCredentialRequest {
            tenant: t(),
            subject: "least".into(),
            password_hash: Some("h".into()),
            credential_attributes: None,
        })
        .await
        .expect("Credentials.Store");
    creds
        .get(proto::GetCredentialRequest {
            tenant: t(),
            subject: "least".into(),
        })
        .await
        .expect("Credentials.Get");
    creds
        .delete(proto::DeleteCredentialRequest {
            tenant: t(),
            subject: "least".into(),
        })
        .await
        .expect("Credentials.Delete");
    creds
        .update_subject(proto::UpdateSubjectRequest {
            tenant: t(),
            subject: "least".into(),
            new_subject: "least2".into(),
        })
        .await
        .expect("Credentials.UpdateSubject");

    let mut links = LinkServiceClient::new(ch.clone());
    links
        .link(proto::LinkRequest {
            tenant: t(),
            linking_account_manager: "am".into(),
            local_account_id: id.clone(),
            foreign_domain: "d".into(),
            foreign_user_name: "f".into(),
        })
        .await
        .expect("Links.Link");
    links
        .list_links(proto::ListLinksRequest {
            tenant: t(),
            linking_account_manager: "am".into(),
            local_account_id: id.clone(),
        })
        .await
        .expect("Links.ListLinks");
    links
        .resolve_link(proto::ResolveLinkRequest {
            tenant: t(),
            linking_account_manager: "am".into(),
            foreign_domain: "d".into(),
            foreign_account_id: "f".into(),
        })
        .await
        .expect("Links.ResolveLink");
    let mut attrs = AttributeServiceClient::new(ch.clone());
    attrs
        .get_attributes(proto::GetAttributesRequest {
            tenant: t(),
            subject: "least2".into(),
        })
        .await
        .expect("Attributes.GetAttributes");
    links
        .delete_link(proto::DeleteLinkRequest {
            tenant: t(),
            linking_account_manager: "am".into(),
            local_account_id: id.clone(),
            foreign_domain: "d".into(),
            foreign_account_id: "f".into(),
        })
        .await
        .expect("Links.DeleteLink");
    accounts
        .delete(proto::DeleteAccountRequest { tenant: t(), id })
        .await
        .expect("Accounts.Delete");

    let mut tokens = TokenServiceClient::new(ch.clone());
    tokens
        .create_token(proto::CreateTokenRequest {
            token: Some(proto::Token {
                token_hash: "th".into(),
                status: "issued".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("CreateToken");
    tokens
        .get_token_by_hash(proto::GetTokenByHashRequest {
            token_hash: "th".into(),
        })
        .await
        .expect("GetTokenByHash");
    tokens
        .get_token_status(proto::GetTokenStatusRequest {
            token_hash: "th".into(),
        })
        .await
        .expect("GetTokenStatus");
    tokens
        .set_token_status(proto::SetTokenStatusRequest {
            token_hash: "th".into(),
            status: "revoked".into(),
        })
        .await
        .expect("SetTokenStatus");
    let mut nonces = NonceServiceClient::new(ch.clone());
    nonces
        .save_nonce(proto::SaveNonceRequest {
            nonce: "n".into(),
            value: "v".into(),
            created_at: 1,
            ttl_seconds: 1,
        })
        .await
        .expect("SaveNonce");
    nonces
        .get_nonce(proto::GetNonceRequest { nonce: "n".into() })
        .await
        .expect("GetNonce (marks expired)");
    nonces
        .consume_nonce(proto::ConsumeNonceRequest {
            nonce: "n".into(),
            consumed_at: 2,
        })
        .await
        .expect("ConsumeNonce");

    let mut buckets = BucketServiceClient::new(ch.clone());
    let bkey = || {
        Some(proto::BucketKey {
            tenant: t(),
            subject: "least".into(),
            purpose: "p".into(),
        })
    };
    buckets
        .store_bucket(proto::StoreBucketRequest {
            key: bkey(),
            attributes: None,
            expires: Some(1),
        })
        .await
        .expect("StoreBucket");
    buckets
        .get_bucket(proto::GetBucketRequest { key: bkey() })
        .await
        .expect("GetBucket");
    buckets
        .clear_bucket(proto::ClearBucketRequest { key: bkey() })
        .await
        .expect("ClearBucket");

    let mut sessions = SessionServiceClient::new(ch);
    let s = || {
        Some(proto::Session {
            id: "s".into(),
            data: "d".into(),
            expires_at: 5,
        })
    };
    sessions
        .insert_session(proto::InsertSessionRequest { session: s() })
        .await
        .expect("InsertSession");
    sessions
        .get_session(proto::GetSessionRequest { id: "s".into() })
        .await
        .expect("GetSession");
    sessions
        .update_session(proto::UpdateSessionRequest { session: s() })
        .await
        .expect("UpdateSession");
    sessions
        .update_session_expiration(proto::UpdateSessionExpirationRequest {
            id: "s".into(),
            expires_at: 9,
        })
        .await
        .expect("UpdateSessionExpiration");
    sessions
        .delete_session(proto::DeleteSessionRequest { id: "s".into() })
        .await
        .expect("DeleteSession");
}

#[tokio::test]
async fn a_role_with_exactly_the_generated_policy_runs_every_rpc_and_nothing_else() {
    let Fixture { ms, iam, env } = Fixture::start(&["", "other-"]).await;
    let out = run_cli(
        &env,
        None,
        &["policy", "--region", "us-east-1", "--account", &iam.account],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let policy = stdout(&out);
    let role = ms
        .create_role_with_policy(&iam, "curity-least", &policy)
        .await;

    let cfg = config(
        &env,
        "ok.toml",
        &ms.endpoint,
        &iam.app_key_id,
        &iam.app_secret,
        &role,
        "",
    );
    let svc = Service::start(&env, &cfg, &[]).await;
    let ch = support::channel(svc.addr).await;
    assert!(
        support::wait_serving(&ch, Duration::from_secs(20)).await,
        "DescribeTable must be allowed:\n{}",
        svc.logs().join("\n")
    );
    every_rpc(ch).await;

    let denied = config(
        &env,
        "denied.toml",
        &ms.endpoint,
        &iam.app_key_id,
        &iam.app_secret,
        &role,
        "other-",
    );
    let svc2 = Service::start(&env, &denied, &[]).await;
    let ch2 = support::channel(svc2.addr).await;
    let err = AccountServiceClient::new(ch2.clone())
        .create(proto::CreateAccountRequest {
            tenant: None,
            account: Some(proto::NewAccount {
                user_name: "x".into(),
                active: true,
                attributes: None,
            }),
            password_hash: None,
        })
        .await
        .expect_err("other-curity-accounts is outside the policy");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = SessionServiceClient::new(ch2)
        .get_session(proto::GetSessionRequest { id: "s".into() })
        .await
        .expect_err("other-curity-sessions is outside the policy");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(
        err.message().contains("dynamodb:GetItem"),
        "{}",
        err.message()
    );
}

/// MiniStack authorises index queries against the table ARN (real AWS
/// wants `table/.../index/*`, which the policy grants), so what can be
/// proven here is that each action of the policy is needed: without
/// `dynamodb:Query` the same role cannot list links.
#[tokio::test]
async fn each_action_of_the_policy_is_needed_query_for_example() {
    let Fixture { ms, iam, env } = Fixture::start(&[""]).await;
    let mut policy: serde_json::Value =
        serde_json::from_str(&stdout(&run_cli(&env, None, &["policy"]).await))
            .expect("policy json");
    let actions = policy["Statement"][0]["Action"]
        .as_array_mut()
        .expect("actions");
    actions.retain(|a| a != "dynamodb:Query");
    let role = ms
        .create_role_with_policy(&iam, "no-query", &policy.to_string())
        .await;
    let cfg = config(
        &env,
        "c.toml",
        &ms.endpoint,
        &iam.app_key_id,
        &iam.app_secret,
        &role,
        "",
    );
    let svc = Service::start(&env, &cfg, &[]).await;
    let ch = support::channel(svc.addr).await;
    SessionServiceClient::new(ch.clone())
        .get_session(proto::GetSessionRequest { id: "s".into() })
        .await
        .expect("GetItem is still allowed");
    let err = LinkServiceClient::new(ch)
        .list_links(proto::ListLinksRequest {
            tenant: None,
            linking_account_manager: "am".into(),
            local_account_id: "a".into(),
        })
        .await
        .expect_err("listing links needs dynamodb:Query");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(
        err.message().contains("dynamodb:Query"),
        "{}",
        err.message()
    );
}
