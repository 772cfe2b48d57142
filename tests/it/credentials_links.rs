//! Credentials (on the account items), linked accounts (`curity-links`)
//! and the attribute provider, over gRPC against an embedded store.

use crate::support::{self, Answer, Refused};

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::{
    api::{
        convert::{json_to_struct, struct_to_json},
        status::detail,
    },
    proto::{
        DeleteCredentialRequest, DeleteLinkRequest, GetAccountByIdRequest, GetAttributesRequest,
        GetCredentialRequest, LinkRequest, ListLinksRequest, PatchAccountRequest,
        ResolveLinkRequest, StoreCredentialRequest, Tenant, UpdateSubjectRequest,
        account_service_client::AccountServiceClient,
        attribute_service_client::AttributeServiceClient,
        credential_service_client::CredentialServiceClient, link_service_client::LinkServiceClient,
    },
};
use serde_json::json;
use support::app::TestApp;
use tonic::Code;

fn tenant(t: &str) -> Option<Tenant> {
    (!t.is_empty()).then(|| Tenant { id: t.into() })
}

#[tokio::test]
async fn stored_password_is_returned_only_by_the_credential_service() {
    let mut app = TestApp::start().await;
    let id = app.create_account("", "alice").await;
    let mut creds = CredentialServiceClient::new(app.channel.clone());
    let none = creds
        .get(GetCredentialRequest {
            tenant: None,
            subject: "alice".into(),
        })
        .await
        .answer("call");
    assert!(none.credential.is_none(), "no password yet");
    let serde_json::Value::Object(ca) = json!({"failedLogins": 0}) else {
        panic!()
    };
    creds
        .store(StoreCredentialRequest {
            tenant: None,
            subject: "alice".into(),
            password_hash: Some("$argon2id$v=19$hash".into()),
            credential_attributes: Some(json_to_struct(ca)),
            ..Default::default()
        })
        .await
        .expect("store");
    let c = creds
        .get(GetCredentialRequest {
            tenant: None,
            subject: "alice".into(),
        })
        .await
        .answer("call")
        .credential
        .expect("credential");
    assert_eq!(c.account_id, id);
    assert_eq!(c.password_hash, "$argon2id$v=19$hash");
    assert_eq!(struct_to_json(c.credential_attributes)["failedLogins"], 0);

    // Stored on every item of the account, version bumped, never shown as
    // an account attribute.
    for pk in [format!("ai#{id}"), "un#alice".into()] {
        let item = app
            .raw_get("curity-accounts", &[("pk", &pk)])
            .await
            .expect("account item");
        assert_eq!(
            item["password"],
            AttributeValue::S("$argon2id$v=19$hash".into())
        );
        assert_eq!(item["version"], AttributeValue::N("1".into()));
    }
    let mut accounts = AccountServiceClient::new(app.channel.clone());
    let a = accounts
        .get_by_id(GetAccountByIdRequest {
            tenant: None,
            id: id.clone(),
        })
        .await
        .answer("call")
        .account
        .unwrap();
    let attrs = struct_to_json(a.attributes);
    assert!(
        attrs.get("password").is_none() && attrs.get("credentialAttributes").is_none(),
        "{attrs:?}"
    );

    // An inactive account has no usable credential.
    accounts
        .patch(PatchAccountRequest {
            tenant: None,
            id: id.clone(),
            active: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    let c = creds
        .get(GetCredentialRequest {
            tenant: None,
            subject: "alice".into(),
        })
        .await
        .answer("call");
    assert!(c.credential.is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn credential_store_on_a_missing_subject_is_not_found_and_delete_removes_the_hash() {
    let mut app = TestApp::start().await;
    app.create_account("", "bob").await;
    let mut creds = CredentialServiceClient::new(app.channel.clone());
    creds
        .store(StoreCredentialRequest {
            tenant: None,
            subject: "nobody".into(),
            password_hash: Some("h".into()),
            credential_attributes: None,
            ..Default::default()
        })
        .await
        .refused(Code::NotFound, "missing");
    let err = creds
        .store(StoreCredentialRequest {
            tenant: None,
            subject: "bob".into(),
            password_hash: None,
            credential_attributes: None,
            ..Default::default()
        })
        .await
        .refused(Code::InvalidArgument, "nothing to store");
    assert_eq!(detail(&err).unwrap().field, "password_hash");

    creds
        .store(StoreCredentialRequest {
            tenant: None,
            subject: "bob".into(),
            password_hash: Some("h1".into()),
            credential_attributes: None,
            ..Default::default()
        })
        .await
        .unwrap();
    let d = creds
        .delete(DeleteCredentialRequest {
            tenant: None,
            subject: "bob".into(),
        })
        .await
        .answer("call");
    assert!(d.deleted);
    let c = creds
        .get(GetCredentialRequest {
            tenant: None,
            subject: "bob".into(),
        })
        .await
        .answer("call");
    assert!(c.credential.is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn update_subject_renames_the_user_and_refuses_a_taken_name() {
    let mut app = TestApp::start().await;
    app.create_account("", "carol").await;
    app.create_account("", "dave").await;
    let mut creds = CredentialServiceClient::new(app.channel.clone());
    let r = creds
        .update_subject(UpdateSubjectRequest {
            tenant: None,
            subject: "carol".into(),
            new_subject: "caroline".into(),
        })
        .await
        .answer("call");
    assert!(r.updated);
    creds
        .update_subject(UpdateSubjectRequest {
            tenant: None,
            subject: "caroline".into(),
            new_subject: "dave".into(),
        })
        .await
        .refused(Code::AlreadyExists, "taken");
    let r = creds
        .update_subject(UpdateSubjectRequest {
            tenant: None,
            subject: "carol".into(),
            new_subject: "x".into(),
        })
        .await
        .answer("call");
    assert!(!r.updated, "old subject no longer exists");
    app.shutdown().await;
}

/// A link by account manager `am1`.
fn link_request(t: &str, local: &str, domain: &str, foreign: &str) -> LinkRequest {
    LinkRequest {
        tenant: tenant(t),
        linking_account_manager: "am1".into(),
        local_account_id: local.into(),
        foreign_domain: domain.into(),
        foreign_user_name: foreign.into(),
    }
}

fn resolve_request(t: &str, domain: &str, foreign: &str) -> ResolveLinkRequest {
    ResolveLinkRequest {
        tenant: tenant(t),
        linking_account_manager: "am1".into(),
        foreign_domain: domain.into(),
        foreign_account_id: foreign.into(),
    }
}

fn delete_request(t: &str, local: &str, domain: &str, foreign: &str) -> DeleteLinkRequest {
    DeleteLinkRequest {
        tenant: tenant(t),
        linking_account_manager: "am1".into(),
        local_account_id: local.into(),
        foreign_domain: domain.into(),
        foreign_account_id: foreign.into(),
    }
}

#[tokio::test]
async fn links_are_listed_resolved_and_deleted_per_manager_and_tenant() {
    let mut app = TestApp::start().await;
    let local = app.create_account("", "erin").await;
    let tenant_local = app.create_account("acme", "erin").await;
    let mut links = LinkServiceClient::new(app.channel.clone());
    let link = link_request;
    links
        .link(link("", &local, "google", "g-123"))
        .await
        .unwrap();
    links
        .link(link("", &local, "github", "gh-9"))
        .await
        .unwrap();
    links
        .link(link("acme", &tenant_local, "google", "g-123"))
        .await
        .unwrap();

    let item = app
        .raw_get(
            "curity-links",
            &[(
                "linkedAccountId_linkedAccountDomainName",
                "g-123@google.acme",
            )],
        )
        .await
        .expect("tenant link item");
    assert_eq!(item["tenantId"], AttributeValue::S("acme".into()));
    assert_eq!(
        item["linkingAccountManager"],
        AttributeValue::S("am1".into())
    );

    let listed = links
        .list_links(ListLinksRequest {
            tenant: None,
            linking_account_manager: "am1".into(),
            local_account_id: local.clone(),
        })
        .await
        .answer("call")
        .links;
    let mut domains: Vec<_> = listed
        .iter()
        .map(|l| (l.domain.as_str(), l.id.as_str()))
        .collect();
    domains.sort();
    assert_eq!(domains, [("github", "gh-9"), ("google", "g-123")]);
    assert!(listed.iter().all(|l| l.created > 0));

    let resolved = links
        .resolve_link(ResolveLinkRequest {
            tenant: tenant("acme"),
            linking_account_manager: "am1".into(),
            foreign_domain: "google".into(),
            foreign_account_id: "g-123".into(),
        })
        .await
        .answer("call")
        .account
        .expect("resolved");
    assert_eq!(resolved.id, tenant_local);
    let other_manager = links
        .resolve_link(ResolveLinkRequest {
            tenant: None,
            linking_account_manager: "am2".into(),
            foreign_domain: "google".into(),
            foreign_account_id: "g-123".into(),
        })
        .await
        .answer("call");
    assert!(other_manager.account.is_none());

    let mut attrs = AttributeServiceClient::new(app.channel.clone());
    let rows = attrs
        .get_attributes(GetAttributesRequest {
            tenant: None,
            subject: "erin".into(),
        })
        .await
        .answer("call")
        .rows;
    assert_eq!(rows.len(), 2, "only the default tenant's links");
    for r in &rows {
        assert_eq!(r.columns["account_id"], local);
        assert_eq!(r.columns["linking_account_manager"], "am1");
        assert!(r.columns.contains_key("linked_account_domain_name"));
        assert!(r.columns.contains_key("linked_account_id"));
        assert!(r.columns["created"].parse::<i64>().is_ok());
    }

    let del = |manager: &str| DeleteLinkRequest {
        tenant: None,
        linking_account_manager: manager.into(),
        local_account_id: local.clone(),
        foreign_domain: "github".into(),
        foreign_account_id: "gh-9".into(),
    };
    assert!(!links.delete_link(del("am2")).await.answer("call").deleted);
    assert!(links.delete_link(del("am1")).await.answer("call").deleted);
    assert!(!links.delete_link(del("am1")).await.answer("call").deleted);
    app.shutdown().await;
}

#[tokio::test]
async fn link_keys_shared_across_tenants_never_overwrite_or_reveal_the_other_tenants_link() {
    let mut app = TestApp::start().await;
    let default_local = app.create_account("", "frank").await;
    let acme_local = app.create_account("acme", "frank").await;
    let mut links = LinkServiceClient::new(app.channel.clone());
    // The default tenant's link, written raw as the plugin writes it:
    // key `u1@idp.acme`, no tenantId.
    app.raw
        .put_item()
        .table_name("curity-links")
        .item(
            "linkedAccountId_linkedAccountDomainName",
            AttributeValue::S("u1@idp.acme".into()),
        )
        .item("accountId", AttributeValue::S(default_local.clone()))
        .item("linkedAccountId", AttributeValue::S("u1".into()))
        .item(
            "linkedAccountDomainName",
            AttributeValue::S("idp.acme".into()),
        )
        .item("linkingAccountManager", AttributeValue::S("am1".into()))
        .item("created", AttributeValue::N("1700000000".into()))
        .send()
        .await
        .expect("raw put");
    // Tenant acme, domain `idp`, same foreign id: the same key.
    let err = links
        .link(link_request("acme", &acme_local, "idp", "u1"))
        .await
        .refused(Code::AlreadyExists, "key held by the default tenant");
    assert_eq!(detail(&err).expect("detail").field, "foreign_domain");
    // Neither resolve nor delete from acme reaches the default tenant's link.
    let resolved = links
        .resolve_link(resolve_request("acme", "idp", "u1"))
        .await
        .answer("resolve");
    assert!(resolved.account.is_none());
    let deleted = links
        .delete_link(delete_request("acme", &default_local, "idp", "u1"))
        .await
        .answer("delete");
    assert!(!deleted.deleted);
    // The default tenant still resolves it, and may re-link (overwrite)
    // its own link.
    let resolved = links
        .resolve_link(resolve_request("", "idp.acme", "u1"))
        .await
        .answer("resolve");
    assert_eq!(resolved.account.expect("linked").id, default_local);
    links
        .link(link_request("", &default_local, "idp.acme", "u1"))
        .await
        .expect("re-link by the owner");
    // The reverse: acme's link written through gRPC first, then the
    // default tenant's colliding link is refused; the stored item stays
    // acme's, in the plugin's layout.
    links
        .link(link_request("acme", &acme_local, "idp", "u2"))
        .await
        .expect("acme link");
    links
        .link(link_request("", &default_local, "idp.acme", "u2"))
        .await
        .refused(Code::AlreadyExists, "key held by acme");
    let item = app
        .raw_get(
            "curity-links",
            &[("linkedAccountId_linkedAccountDomainName", "u2@idp.acme")],
        )
        .await
        .expect("acme's link");
    assert_eq!(item["tenantId"], AttributeValue::S("acme".into()));
    assert_eq!(item["accountId"], AttributeValue::S(acme_local));
    assert_eq!(
        item["linkedAccountDomainName"],
        AttributeValue::S("idp".into())
    );
    app.shutdown().await;
}

#[tokio::test]
async fn in_curitys_order_account_first_the_credential_calls_succeed_on_a_missing_subject() {
    let mut app = TestApp::start().await;
    let id = app.create_account("", "gail").await;
    let mut accounts = AccountServiceClient::new(app.channel.clone());
    let mut creds = CredentialServiceClient::new(app.channel.clone());
    // Rename: the account update runs first, then UpdateSubject(old, new).
    accounts
        .patch(PatchAccountRequest {
            tenant: None,
            id: id.clone(),
            user_name: Some("gale".into()),
            ..Default::default()
        })
        .await
        .expect("rename");
    let r = creds
        .update_subject(UpdateSubjectRequest {
            tenant: None,
            subject: "gail".into(),
            new_subject: "gale".into(),
        })
        .await
        .answer("UpdateSubject after the rename is OK, not a failure");
    assert!(!r.updated);
    // Delete: the account first, then the credential.
    accounts
        .delete(curity_dynamodb::proto::DeleteAccountRequest { tenant: None, id })
        .await
        .expect("delete account");
    let r = creds
        .delete(DeleteCredentialRequest {
            tenant: None,
            subject: "gale".into(),
        })
        .await
        .answer("Delete after the account is gone is OK, not a failure");
    assert!(!r.deleted);
    app.shutdown().await;
}
