//! Every RPC of every data type, once: for the least-privilege proof and
//! for running every write path on both servers.

use super::Answer;
use curity_dynamodb::{
    api::convert::json_to_struct,
    proto::{
        self, account_service_client::AccountServiceClient,
        attribute_service_client::AttributeServiceClient,
        bucket_service_client::BucketServiceClient,
        credential_service_client::CredentialServiceClient,
        database_client_service_client::DatabaseClientServiceClient,
        database_service_provider_service_client::DatabaseServiceProviderServiceClient,
        delegation_service_client::DelegationServiceClient,
        device_service_client::DeviceServiceClient,
        dynamic_client_service_client::DynamicClientServiceClient,
        link_service_client::LinkServiceClient, nonce_service_client::NonceServiceClient,
        session_service_client::SessionServiceClient, token_service_client::TokenServiceClient,
    },
};
use tonic::transport::Channel;

/// Values `every_rpc` sends that must never reach a log line or a status
/// message: a password hash, session state, a token hash and token data,
/// a nonce value.
pub const SECRETS: [&str; 5] = [
    "$argon2id$v=19$m=65536,t=3,p=4$PWHASHMARKER",
    "SESSIONSTATEMARKER",
    "TOKENHASHMARKER",
    "TOKENDATAMARKER",
    "NONCEVALUEMARKER",
];

/// Calls every RPC of every data type once, in an order in which each
/// succeeds (filtered listings need `dynamodb.allow_table_scans`), in
/// tenant `tenant`: every query, scan, condition and update shape the
/// service sends, on whatever server is behind `ch`.
pub async fn every_rpc(ch: Channel, tenant: &str) {
    let t = || Some(proto::Tenant { id: tenant.into() });
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
                ..Default::default()
            }),
            password_hash: None,
        })
        .await
        .answer("Accounts.Create")
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
                ..Default::default()
            }),
            // The version Create wrote: the conditioned form of Update.
            expected_version: Some(0),
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
            password_hash: Some(SECRETS[0].into()),
            credential_attributes: None,
            ..Default::default()
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
                token_hash: SECRETS[2].into(),
                status: "issued".into(),
                data_json: format!(r#"{{"claims":{{"x":"{}"}}}}"#, SECRETS[3]),
                ..Default::default()
            }),
        })
        .await
        .expect("CreateToken");
    tokens
        .get_token_by_hash(proto::GetTokenByHashRequest {
            token_hash: SECRETS[2].into(),
        })
        .await
        .expect("GetTokenByHash");
    tokens
        .get_token_status(proto::GetTokenStatusRequest {
            token_hash: SECRETS[2].into(),
        })
        .await
        .expect("GetTokenStatus");
    // "used" first: a status other than revoked is conditioned on the
    // token not being revoked.
    for status in ["used", "revoked"] {
        let updated = tokens
            .set_token_status(proto::SetTokenStatusRequest {
                token_hash: SECRETS[2].into(),
                status: status.into(),
            })
            .await
            .answer("SetTokenStatus")
            .updated;
        assert_eq!(updated, 1, "SetTokenStatus {status}");
    }
    let mut nonces = NonceServiceClient::new(ch.clone());
    nonces
        .save_nonce(proto::SaveNonceRequest {
            nonce: "n".into(),
            value: SECRETS[4].into(),
            created_at: 1,
            ttl_seconds: 1,
        })
        .await
        .expect("SaveNonce");
    // A fresh nonce: consuming it is conditioned on the createdAt and
    // nonceTtl its expiry was judged from.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    nonces
        .save_nonce(proto::SaveNonceRequest {
            nonce: "fresh".into(),
            value: SECRETS[4].into(),
            created_at: now,
            ttl_seconds: 600,
        })
        .await
        .expect("SaveNonce fresh");
    let consumed = nonces
        .consume_nonce(proto::ConsumeNonceRequest {
            nonce: "fresh".into(),
            consumed_at: now,
        })
        .await
        .answer("ConsumeNonce fresh")
        .consumed;
    assert!(consumed, "a fresh nonce is consumed");
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
            ..Default::default()
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

    let mut sessions = SessionServiceClient::new(ch.clone());
    let s = || {
        Some(proto::Session {
            id: "s".into(),
            data: SECRETS[1].into(),
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
    every_delegation_rpc(ch.clone(), tenant).await;
    every_device_rpc(ch.clone(), tenant).await;
    every_dynamic_client_rpc(ch.clone()).await;
    every_database_client_rpc(ch).await;
}

/// Every `DatabaseClientService` and `DatabaseServiceProviderService` RPC:
/// the tag transactions (create, a tag diff on update, delete) and each
/// listing partition (profile, tag, name) with a sort.
async fn every_database_client_rpc(ch: Channel) {
    let mut clients = DatabaseClientServiceClient::new(ch.clone());
    let client = |tags: &[&str]| proto::DatabaseClient {
        client_id: "db-least".into(),
        client_name: "Least".into(),
        status: "ACTIVE".into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        attributes_json: r#"{"secret":"CLIENTSECRETHASH"}"#.into(),
        configuration_references_json: r#"{"haapi_policy_id":"h"}"#.into(),
        ..Default::default()
    };
    let put = |c: proto::DatabaseClient| proto::PutDatabaseClientRequest {
        profile_id: "oauth".into(),
        client: Some(c),
    };
    clients
        .create(put(client(&["a"])))
        .await
        .expect("DatabaseClients.Create");
    clients
        .update(put(client(&["b"])))
        .await
        .expect("DatabaseClients.Update");
    let get = || proto::CatalogGetRequest {
        profile_id: "oauth".into(),
        id: "db-least".into(),
    };
    clients.get(get()).await.expect("DatabaseClients.Get");
    let filters = [
        (proto::CatalogFilter::default(), "created"),
        (
            proto::CatalogFilter {
                tags: Some(proto::TagFilter {
                    tags: vec!["b".into()],
                }),
                active_only: true,
                ..Default::default()
            },
            "",
        ),
        (
            proto::CatalogFilter {
                name: "Least".into(),
                ..Default::default()
            },
            "lastModified",
        ),
    ];
    for (filter, sort_by) in &filters {
        clients
            .list(proto::CatalogListRequest {
                profile_id: "oauth".into(),
                filter: Some(filter.clone()),
                sort_by: sort_by.to_string(),
                ..Default::default()
            })
            .await
            .expect("DatabaseClients.List");
        clients
            .count(proto::CatalogCountRequest {
                profile_id: "oauth".into(),
                filter: Some(filter.clone()),
            })
            .await
            .expect("DatabaseClients.Count");
    }
    clients
        .delete(proto::CatalogDeleteRequest {
            profile_id: "oauth".into(),
            id: "db-least".into(),
        })
        .await
        .expect("DatabaseClients.Delete");

    let mut providers = DatabaseServiceProviderServiceClient::new(ch);
    let provider = |tags: &[&str]| proto::DatabaseServiceProvider {
        id: "sp-least".into(),
        service_provider_name: "Least".into(),
        enabled: "ENABLED".into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    };
    let put = |p: proto::DatabaseServiceProvider| proto::PutDatabaseServiceProviderRequest {
        profile_id: "saml".into(),
        service_provider: Some(p),
    };
    providers
        .create(put(provider(&["a"])))
        .await
        .expect("DatabaseServiceProviders.Create");
    providers
        .update(put(provider(&["b"])))
        .await
        .expect("DatabaseServiceProviders.Update");
    providers
        .get(proto::CatalogGetRequest {
            profile_id: "saml".into(),
            id: "sp-least".into(),
        })
        .await
        .expect("DatabaseServiceProviders.Get");
    for (filter, sort_by) in filters {
        providers
            .list(proto::CatalogListRequest {
                profile_id: "saml".into(),
                filter: Some(filter.clone()),
                sort_by: sort_by.to_string(),
                ..Default::default()
            })
            .await
            .expect("DatabaseServiceProviders.List");
        providers
            .count(proto::CatalogCountRequest {
                profile_id: "saml".into(),
                filter: Some(filter),
            })
            .await
            .expect("DatabaseServiceProviders.Count");
    }
    providers
        .delete(proto::CatalogDeleteRequest {
            profile_id: "saml".into(),
            id: "sp-least".into(),
        })
        .await
        .expect("DatabaseServiceProviders.Delete");
}

/// Every `DynamicClientService` RPC, each index and the scan once.
async fn every_dynamic_client_rpc(ch: Channel) {
    let mut clients = DynamicClientServiceClient::new(ch);
    let client = || proto::DynamicClient {
        client_id: "dcr-least".into(),
        client_secret: Some("CLIENTSECRETHASH".into()),
        instance_of_client: Some("template".into()),
        authenticated_user: Some("least".into()),
        status: "ACTIVE".into(),
        scope: vec!["openid".into()],
        ..Default::default()
    };
    clients
        .create(proto::CreateDynamicClientRequest {
            client: Some(client()),
        })
        .await
        .expect("DynamicClients.Create");
    clients
        .get(proto::GetDynamicClientRequest {
            client_id: "dcr-least".into(),
        })
        .await
        .expect("DynamicClients.Get");
    clients
        .update(proto::UpdateDynamicClientRequest {
            client: Some(client()),
        })
        .await
        .expect("DynamicClients.Update");
    for (filter, sort) in [
        (
            proto::DynamicClientFilter {
                template_id: Some("template".into()),
                user_name: Some("least".into()),
                active_only: true,
            },
            proto::DynamicClientSort::Created,
        ),
        (
            proto::DynamicClientFilter {
                user_name: Some("least".into()),
                ..Default::default()
            },
            proto::DynamicClientSort::LastModified,
        ),
        (
            proto::DynamicClientFilter::default(),
            proto::DynamicClientSort::None,
        ),
    ] {
        clients
            .list(proto::ListDynamicClientsRequest {
                filter: Some(filter.clone()),
                sort: sort as i32,
                ..Default::default()
            })
            .await
            .expect("DynamicClients.List");
        clients
            .count(proto::CountDynamicClientsRequest {
                filter: Some(filter),
            })
            .await
            .expect("DynamicClients.Count");
    }
    clients
        .delete(proto::DeleteDynamicClientRequest {
            client_id: "dcr-least".into(),
        })
        .await
        .expect("DynamicClients.Delete");
}

/// Every `DeviceService` RPC: both-item transactions (create, update, a
/// device-id move, delete), both lookups, the account query, the
/// device-id index query and the listing scan.
async fn every_device_rpc(ch: Channel, tenant: &str) {
    let t = || Some(proto::Tenant { id: tenant.into() });
    let mut devices = DeviceServiceClient::new(ch);
    let device = |device_id: &str| proto::Device {
        id: "dev-1".into(),
        device_id: device_id.into(),
        account_id: "least".into(),
        expires_at: Some(2),
        attributes_json: r#"{"publicKey":"k"}"#.into(),
        ..Default::default()
    };
    devices
        .create(proto::CreateDeviceRequest {
            tenant: t(),
            device: Some(device("phone-1")),
        })
        .await
        .expect("Devices.Create");
    devices
        .get_by_id(proto::GetDeviceByIdRequest {
            tenant: t(),
            id: "dev-1".into(),
        })
        .await
        .expect("Devices.GetById");
    devices
        .get_by(proto::GetDeviceByRequest {
            tenant: t(),
            device_id: "phone-1".into(),
            account_id: "least".into(),
        })
        .await
        .expect("Devices.GetBy");
    devices
        .list_by_account(proto::ListDevicesByAccountRequest {
            tenant: t(),
            account_id: "least".into(),
        })
        .await
        .expect("Devices.ListByAccount");
    devices
        .get_by_device_id(proto::GetDevicesByDeviceIdRequest {
            tenant: t(),
            device_id: "phone-1".into(),
        })
        .await
        .expect("Devices.GetByDeviceId");
    devices
        .list(proto::ListDevicesRequest {
            tenant: t(),
            ..Default::default()
        })
        .await
        .expect("Devices.List");
    devices
        .update(proto::UpdateDeviceRequest {
            tenant: t(),
            device: Some(device("phone-1")),
            current_device_id: None,
        })
        .await
        .expect("Devices.Update");
    devices
        .update(proto::UpdateDeviceRequest {
            tenant: t(),
            device: Some(device("phone-2")),
            current_device_id: Some("phone-1".into()),
        })
        .await
        .expect("Devices.Update (device id move)");
    devices
        .delete_by(proto::DeleteDeviceByRequest {
            tenant: t(),
            device_id: "phone-2".into(),
            account_id: "least".into(),
        })
        .await
        .expect("Devices.DeleteBy");
    devices
        .delete(proto::DeleteDeviceRequest {
            tenant: t(),
            id: "dev-1".into(),
        })
        .await
        .expect("Devices.Delete");
}

/// Every `DelegationService` RPC, each query and scan shape once (a
/// filtered listing on an index, one with `ne` as two queries, a scan).
async fn every_delegation_rpc(ch: Channel, tenant: &str) {
    let t = || Some(proto::Tenant { id: tenant.into() });
    let mut delegations = DelegationServiceClient::new(ch);
    delegations
        .create(proto::CreateDelegationRequest {
            tenant: t(),
            delegation: Some(proto::Delegation {
                id: "del-1".into(),
                status: "issued".into(),
                owner: "least".into(),
                created: 1,
                expires: 2,
                client_id: "client-1".into(),
                authorization_code_hash: Some("CODEHASH".into()),
                scope: "openid".into(),
                authentication_attributes_json: r#"{"subject":{"subject":"least"}}"#.into(),
                ..Default::default()
            }),
        })
        .await
        .expect("Delegations.Create");
    delegations
        .get_by_id(proto::GetDelegationByIdRequest {
            tenant: t(),
            id: "del-1".into(),
        })
        .await
        .expect("Delegations.GetById");
    delegations
        .get_by_authorization_code_hash(proto::GetDelegationByAuthorizationCodeHashRequest {
            tenant: t(),
            authorization_code_hash: "CODEHASH".into(),
        })
        .await
        .expect("Delegations.GetByAuthorizationCodeHash");
    delegations
        .get_by_owner(proto::GetDelegationsByOwnerRequest {
            tenant: t(),
            owner: "least".into(),
            page: None,
        })
        .await
        .expect("Delegations.GetByOwner");
    delegations
        .count_by_owner(proto::CountDelegationsByOwnerRequest {
            tenant: t(),
            owner: "least".into(),
        })
        .await
        .expect("Delegations.CountByOwner");
    delegations
        .list_active(proto::ListActiveDelegationsRequest {
            tenant: t(),
            page: None,
        })
        .await
        .expect("Delegations.ListActive");
    delegations
        .count_active(proto::CountActiveDelegationsRequest { tenant: t() })
        .await
        .expect("Delegations.CountActive");
    for filter in [
        "client_id eq \"client-1\" and status ne \"revoked\"",
        "externalId eq \"del-1\"",
        "scope co \"openid\"",
    ] {
        delegations
            .list(proto::ListDelegationsRequest {
                tenant: t(),
                filter: filter.into(),
                sort_by: "expires".into(),
                ..Default::default()
            })
            .await
            .expect("Delegations.List");
    }
    delegations
        .set_status_by_owner_and_client(proto::SetDelegationStatusByOwnerAndClientRequest {
            tenant: t(),
            owner: "least".into(),
            client_id: "client-1".into(),
            status: "revoked".into(),
        })
        .await
        .expect("Delegations.SetStatusByOwnerAndClient");
    delegations
        .set_status_by_owner(proto::SetDelegationStatusByOwnerRequest {
            tenant: t(),
            owner: "least".into(),
            status: "issued".into(),
        })
        .await
        .expect("Delegations.SetStatusByOwner");
    delegations
        .set_status(proto::SetDelegationStatusRequest {
            tenant: t(),
            id: "del-1".into(),
            status: "revoked".into(),
        })
        .await
        .expect("Delegations.SetStatus");
}

/// Leaves items in every table, in tenant `tenant`, written through the
/// service (so in the plugin's layout): an account with password, e-mail
/// and phone (main and unique-constraint items), a link, a session, a
/// token, nonces, a bucket, a delegation, a device, a dynamic client, a
/// database client and a service provider with tags. `expired` items
/// have a `deletableAt` in the past: one nonce.
pub async fn seed_every_table(ch: Channel, tenant: &str) {
    let t = || Some(proto::Tenant { id: tenant.into() });
    // Ids unique across tenants (sessions, tokens, nonces, clients,
    // delegations, devices) carry the tenant.
    let g = |id: &str| format!("{id}{tenant}");
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
        + 3600;
    let attributes =
        serde_json::json!({"emails": [{"value": "seed@x.io"}], "phoneNumbers": [{"value": "+46"}]});
    let id = AccountServiceClient::new(ch.clone())
        .create(proto::CreateAccountRequest {
            tenant: t(),
            account: Some(proto::NewAccount {
                user_name: "seed".into(),
                active: true,
                attributes: Some(json_to_struct(
                    attributes.as_object().cloned().unwrap_or_default(),
                )),
                ..Default::default()
            }),
            password_hash: Some(SECRETS[0].into()),
        })
        .await
        .answer("seed account")
        .account
        .expect("account")
        .id;
    LinkServiceClient::new(ch.clone())
        .link(proto::LinkRequest {
            tenant: t(),
            linking_account_manager: "am".into(),
            local_account_id: id,
            foreign_domain: "d".into(),
            foreign_user_name: "f".into(),
        })
        .await
        .expect("seed link");
    SessionServiceClient::new(ch.clone())
        .insert_session(proto::InsertSessionRequest {
            session: Some(proto::Session {
                id: g("seed-session"),
                data: SECRETS[1].into(),
                expires_at: later,
            }),
        })
        .await
        .expect("seed session");
    TokenServiceClient::new(ch.clone())
        .create_token(proto::CreateTokenRequest {
            token: Some(proto::Token {
                token_hash: g("seed-token"),
                status: "issued".into(),
                expires: later,
                data_json: r#"{"claims":{"n":12345678901234567890}}"#.into(),
                ..Default::default()
            }),
        })
        .await
        .expect("seed token");
    let mut nonces = NonceServiceClient::new(ch.clone());
    for (nonce, created_at, ttl_seconds) in [("seed-nonce", later, 600), ("seed-expired", 1, 1)] {
        nonces
            .save_nonce(proto::SaveNonceRequest {
                nonce: g(nonce),
                value: SECRETS[4].into(),
                created_at,
                ttl_seconds,
            })
            .await
            .expect("seed nonce");
    }
    BucketServiceClient::new(ch.clone())
        .store_bucket(proto::StoreBucketRequest {
            key: Some(proto::BucketKey {
                tenant: t(),
                subject: "seed".into(),
                purpose: "p".into(),
            }),
            attributes: None,
            expires: Some(later),
            ..Default::default()
        })
        .await
        .expect("seed bucket");
    DelegationServiceClient::new(ch.clone())
        .create(proto::CreateDelegationRequest {
            tenant: t(),
            delegation: Some(proto::Delegation {
                id: g("seed-delegation"),
                status: "issued".into(),
                owner: "seed".into(),
                created: 1,
                expires: later,
                client_id: "client-1".into(),
                authorization_code_hash: Some(g("SEEDCODEHASH")),
                scope: "openid".into(),
                authentication_attributes_json: r#"{"subject":{"subject":"seed"}}"#.into(),
                ..Default::default()
            }),
        })
        .await
        .expect("seed delegation");
    DeviceServiceClient::new(ch.clone())
        .create(proto::CreateDeviceRequest {
            tenant: t(),
            device: Some(proto::Device {
                id: g("seed-device"),
                device_id: "phone".into(),
                account_id: "seed".into(),
                expires_at: Some(later),
                attributes_json: r#"{"publicKey":"k"}"#.into(),
                ..Default::default()
            }),
        })
        .await
        .expect("seed device");
    DynamicClientServiceClient::new(ch.clone())
        .create(proto::CreateDynamicClientRequest {
            client: Some(proto::DynamicClient {
                client_id: g("seed-dcr"),
                status: "ACTIVE".into(),
                scope: vec!["openid".into()],
                ..Default::default()
            }),
        })
        .await
        .expect("seed dynamic client");
    DatabaseClientServiceClient::new(ch.clone())
        .create(proto::PutDatabaseClientRequest {
            profile_id: "oauth".into(),
            client: Some(proto::DatabaseClient {
                client_id: g("seed-db"),
                client_name: "Seed".into(),
                status: "ACTIVE".into(),
                tags: vec!["a".into(), "b".into()],
                attributes_json: "{}".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("seed database client");
    DatabaseServiceProviderServiceClient::new(ch)
        .create(proto::PutDatabaseServiceProviderRequest {
            profile_id: "saml".into(),
            service_provider: Some(proto::DatabaseServiceProvider {
                id: g("seed-sp"),
                service_provider_name: "Seed".into(),
                enabled: "ENABLED".into(),
                tags: vec!["a".into()],
                ..Default::default()
            }),
        })
        .await
        .expect("seed service provider");
}
