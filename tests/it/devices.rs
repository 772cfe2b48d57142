//! DeviceService on both backends: both items of a device in the plugin's
//! layout (written by us, compared raw; written as the plugin writes them,
//! read through gRPC), uniqueness of id and of (account, device id),
//! updates and device-id moves in one transaction, deletes, tenants.

use crate::support::{self, Answer, Refused};

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::proto::{
    CreateDeviceRequest, DeleteDeviceByRequest, DeleteDeviceRequest, Device, GetDeviceByIdRequest,
    GetDeviceByRequest, GetDevicesByDeviceIdRequest, ListDevicesByAccountRequest,
    ListDevicesRequest, Tenant, UpdateDeviceRequest, device_service_client::DeviceServiceClient,
};
use support::app::{Backend, RawItem, TestApp};
use tonic::{Code, transport::Channel};

type Client = DeviceServiceClient<Channel>;

fn tenant(t: &str) -> Option<Tenant> {
    (!t.is_empty()).then(|| Tenant { id: t.into() })
}

fn device(id: &str, device_id: &str, account: &str) -> Device {
    Device {
        id: id.into(),
        device_id: device_id.into(),
        account_id: account.into(),
        external_id: Some("ext".into()),
        alias: Some("Jane's phone".into()),
        form_factor: Some("phone".into()),
        device_type: Some("passkey".into()),
        owner: Some("jane".into()),
        expires_at: Some(1_900_000_000),
        attributes_json: r#"{"publicKey":"pk-1","signCount":3}"#.into(),
        ..Default::default()
    }
}

async fn create(c: &mut Client, t: &str, d: Device) -> Result<Device, tonic::Status> {
    c.create(CreateDeviceRequest {
        tenant: tenant(t),
        device: Some(d),
    })
    .await
    .map(|r| r.into_inner().device.expect("device"))
}

async fn by_id(c: &mut Client, t: &str, id: &str) -> Option<Device> {
    c.get_by_id(GetDeviceByIdRequest {
        tenant: tenant(t),
        id: id.into(),
    })
    .await
    .answer("get by id")
    .device
}

async fn by(c: &mut Client, t: &str, device_id: &str, account: &str) -> Option<Device> {
    c.get_by(GetDeviceByRequest {
        tenant: tenant(t),
        device_id: device_id.into(),
        account_id: account.into(),
    })
    .await
    .answer("get by")
    .device
}

async fn raw(app: &TestApp, pk: &str, sk: &str) -> Option<RawItem> {
    app.raw_get("curity-devices", &[("pk", pk), ("sk", sk)])
        .await
}

/// The attributes both items of a device must hold alike.
fn without_keys(mut item: RawItem) -> RawItem {
    item.remove("pk");
    item.remove("sk");
    item
}

fn start(backend: Backend) -> impl Future<Output = TestApp> {
    TestApp::start_backend(backend, |c| c.dynamodb.allow_table_scans = true)
}

#[tokio::test]
async fn a_device_is_stored_as_two_identical_items_in_the_plugin_layout() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DeviceServiceClient::new(app.channel.clone());
        let created = create(&mut c, "", device("d-1", "dev-1", "acc-1"))
            .await
            .expect("create");
        assert!(created.created > 0 && created.created == created.updated);
        let main = raw(&app, "id#d-1", "sk").await.expect("main item");
        let secondary = raw(&app, "accountId#acc-1", "dev-1")
            .await
            .expect("secondary item");
        let s = |k: &str| main.get(k).and_then(|v| v.as_s().ok()).map(String::as_str);
        assert_eq!(s("id"), Some("d-1"));
        assert_eq!(s("deviceId"), Some("dev-1"));
        assert_eq!(s("accountId"), Some("acc-1"));
        assert_eq!(s("formFactor"), Some("phone"));
        assert_eq!(s("deviceType"), Some("passkey"));
        assert_eq!(
            s("attributes"),
            Some(r#"{"publicKey":"pk-1","signCount":3}"#)
        );
        assert_eq!(
            main.get("expires"),
            Some(&AttributeValue::N("1900000000".into()))
        );
        // expires + dynamodb.ttl.devices_retain_seconds (30 days).
        assert_eq!(
            main.get("deletableAt"),
            Some(&AttributeValue::N("1902592000".into()))
        );
        assert!(main.contains_key("created") && main.contains_key("updated"));
        assert!(!main.contains_key("tenantId"));
        assert_eq!(without_keys(main), without_keys(secondary), "{backend:?}");

        assert_eq!(by_id(&mut c, "", "d-1").await, Some(created.clone()));
        assert_eq!(
            by(&mut c, "", "dev-1", "acc-1").await,
            Some(created.clone())
        );

        create(&mut c, "acme", device("d-1", "dev-1", "acc-1"))
            .await
            .expect("other tenant");
        let main = raw(&app, "id(acme)#d-1", "sk")
            .await
            .expect("tenant main item");
        assert_eq!(
            main.get("tenantId"),
            Some(&AttributeValue::S("acme".into()))
        );
        assert!(raw(&app, "accountId(acme)#acc-1", "dev-1").await.is_some());
        app.shutdown().await;
    }
}

/// Both items of a device as the plugin writes them.
fn plugin_items(id: &str, device_id: &str, account: &str) -> [HashMap<String, AttributeValue>; 2] {
    let s = |v: &str| AttributeValue::S(v.into());
    let n = |v: i64| AttributeValue::N(v.to_string());
    let body = HashMap::from([
        ("id".to_string(), s(id)),
        ("deviceId".to_string(), s(device_id)),
        ("accountId".to_string(), s(account)),
        ("alias".to_string(), s("plugin")),
        ("expires".to_string(), n(1_800_000_000)),
        ("deletableAt".to_string(), n(1_802_592_000)),
        ("attributes".to_string(), s(r#"{"credentialId":"c-1"}"#)),
        ("created".to_string(), n(1_700_000_000)),
        ("updated".to_string(), n(1_700_000_100)),
    ]);
    let mut main = body.clone();
    main.insert("pk".into(), s(&format!("id#{id}")));
    main.insert("sk".into(), s("sk"));
    let mut secondary = body;
    secondary.insert("pk".into(), s(&format!("accountId#{account}")));
    secondary.insert("sk".into(), s(device_id));
    [main, secondary]
}

#[tokio::test]
async fn devices_the_plugin_wrote_read_through_every_lookup() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        for (id, dev) in [("p-1", "shared"), ("p-2", "dev-b")] {
            for item in plugin_items(id, dev, "acc-p") {
                app.raw_put("curity-devices", item).await;
            }
        }
        for item in plugin_items("p-3", "shared", "acc-q") {
            app.raw_put("curity-devices", item).await;
        }
        let mut c = DeviceServiceClient::new(app.channel.clone());
        let d = by_id(&mut c, "", "p-1").await.expect("by id");
        assert_eq!(d.alias.as_deref(), Some("plugin"));
        assert_eq!(d.expires_at, Some(1_800_000_000));
        assert_eq!(d.attributes_json, r#"{"credentialId":"c-1"}"#);
        assert_eq!((d.created, d.updated), (1_700_000_000, 1_700_000_100));
        assert_eq!(by(&mut c, "", "shared", "acc-p").await, Some(d));
        let listed: Vec<String> = c
            .list_by_account(ListDevicesByAccountRequest {
                tenant: None,
                account_id: "acc-p".into(),
            })
            .await
            .answer("by account")
            .devices
            .into_iter()
            .map(|d| d.device_id)
            .collect();
        assert_eq!(
            listed,
            ["dev-b", "shared"],
            "{backend:?}: ordered by device id"
        );
        let mut shared: Vec<String> = c
            .get_by_device_id(GetDevicesByDeviceIdRequest {
                tenant: None,
                device_id: "shared".into(),
            })
            .await
            .answer("by device id")
            .devices
            .into_iter()
            .map(|d| d.id)
            .collect();
        shared.sort();
        assert_eq!(
            shared,
            ["p-1", "p-3"],
            "{backend:?}: main items of both accounts, once each"
        );
        app.shutdown().await;
    }
}

#[tokio::test]
async fn an_id_or_an_account_device_pair_already_taken_is_refused_and_nothing_is_written() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DeviceServiceClient::new(app.channel.clone());
        create(&mut c, "", device("d-1", "dev-1", "acc-1"))
            .await
            .expect("create");
        let err = create(&mut c, "", device("d-1", "dev-2", "acc-1"))
            .await
            .expect_err("same id");
        assert_eq!(err.code(), Code::AlreadyExists, "{backend:?}");
        let detail = curity_dynamodb::api::status::detail(&err).expect("detail");
        assert_eq!(detail.field, "device.id");
        assert!(
            raw(&app, "accountId#acc-1", "dev-2").await.is_none(),
            "{backend:?}"
        );

        let err = create(&mut c, "", device("d-2", "dev-1", "acc-1"))
            .await
            .expect_err("same pair");
        assert_eq!(err.code(), Code::AlreadyExists, "{backend:?}");
        let detail = curity_dynamodb::api::status::detail(&err).expect("detail");
        assert_eq!(detail.field, "device.device_id");
        assert!(raw(&app, "id#d-2", "sk").await.is_none(), "{backend:?}");
        // Another account may use the same device id.
        create(&mut c, "", device("d-3", "dev-1", "acc-2"))
            .await
            .expect("other account");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn an_update_rewrites_both_items_and_a_missing_or_foreign_device_is_not_found() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DeviceServiceClient::new(app.channel.clone());
        let created = create(&mut c, "", device("d-1", "dev-1", "acc-1"))
            .await
            .expect("create");
        let mut changed = device("d-1", "dev-1", "acc-1");
        changed.alias = Some("renamed".into());
        changed.owner = None;
        changed.expires_at = None;
        changed.attributes_json = String::new();
        let updated = c
            .update(UpdateDeviceRequest {
                tenant: None,
                device: Some(changed.clone()),
                current_device_id: None,
            })
            .await
            .answer("update")
            .device
            .expect("device");
        assert_eq!(
            updated.created, created.created,
            "{backend:?}: created kept"
        );
        for (pk, sk) in [("id#d-1", "sk"), ("accountId#acc-1", "dev-1")] {
            let item = raw(&app, pk, sk).await.expect("item");
            assert_eq!(
                item.get("alias"),
                Some(&AttributeValue::S("renamed".into())),
                "{pk}"
            );
            for gone in ["owner", "expires", "deletableAt", "attributes"] {
                assert!(!item.contains_key(gone), "{backend:?} {pk}: {gone} kept");
            }
            assert_eq!(item.get("id"), Some(&AttributeValue::S("d-1".into())));
        }
        assert_eq!(by_id(&mut c, "", "d-1").await, Some(updated));

        for (what, d) in [
            ("another account", device("d-1", "dev-1", "acc-9")),
            ("no such device", device("d-9", "dev-1", "acc-1")),
        ] {
            let err = c
                .update(UpdateDeviceRequest {
                    tenant: None,
                    device: Some(d),
                    current_device_id: None,
                })
                .await
                .expect_err(what);
            assert_eq!(err.code(), Code::NotFound, "{backend:?}: {what}");
        }
        assert!(
            raw(&app, "accountId#acc-9", "dev-1").await.is_none(),
            "{backend:?}"
        );
        app.shutdown().await;
    }
}

#[tokio::test]
async fn a_device_id_change_moves_the_secondary_item_in_one_transaction() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DeviceServiceClient::new(app.channel.clone());
        let created = create(&mut c, "", device("d-1", "dev-1", "acc-1"))
            .await
            .expect("create");
        create(&mut c, "", device("d-2", "dev-2", "acc-1"))
            .await
            .expect("create");
        // A device id the account already uses: refused, nothing moves.
        let err = c
            .update(UpdateDeviceRequest {
                tenant: None,
                device: Some(device("d-1", "dev-2", "acc-1")),
                current_device_id: Some("dev-1".into()),
            })
            .await
            .expect_err("taken");
        assert_eq!(err.code(), Code::AlreadyExists, "{backend:?}");
        assert!(
            raw(&app, "accountId#acc-1", "dev-1").await.is_some(),
            "{backend:?}"
        );
        assert_eq!(
            by_id(&mut c, "", "d-1").await.expect("kept").device_id,
            "dev-1"
        );

        let moved = c
            .update(UpdateDeviceRequest {
                tenant: None,
                device: Some(device("d-1", "dev-new", "acc-1")),
                current_device_id: Some("dev-1".into()),
            })
            .await
            .answer("move")
            .device
            .expect("device");
        assert!(
            raw(&app, "accountId#acc-1", "dev-1").await.is_none(),
            "{backend:?}: old secondary"
        );
        let new = raw(&app, "accountId#acc-1", "dev-new")
            .await
            .expect("new secondary");
        let main = raw(&app, "id#d-1", "sk").await.expect("main");
        assert_eq!(without_keys(new), without_keys(main), "{backend:?}");
        assert_eq!(
            moved.created, created.created,
            "{backend:?}: created kept on the move"
        );
        assert_eq!(by(&mut c, "", "dev-new", "acc-1").await, Some(moved));
        assert_eq!(by(&mut c, "", "dev-1", "acc-1").await, None);
        // The old device id is no longer the device's.
        let err = c
            .update(UpdateDeviceRequest {
                tenant: None,
                device: Some(device("d-1", "dev-3", "acc-1")),
                current_device_id: Some("dev-1".into()),
            })
            .await
            .expect_err("stale current device id");
        assert_eq!(err.code(), Code::NotFound, "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn deletes_remove_both_items_and_report_whether_there_was_a_device() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DeviceServiceClient::new(app.channel.clone());
        create(&mut c, "", device("d-1", "dev-1", "acc-1"))
            .await
            .expect("create");
        create(&mut c, "", device("d-2", "dev-2", "acc-1"))
            .await
            .expect("create");
        let deleted = c
            .delete(DeleteDeviceRequest {
                tenant: None,
                id: "d-1".into(),
            })
            .await
            .answer("delete")
            .deleted;
        assert!(deleted);
        let deleted = c
            .delete_by(DeleteDeviceByRequest {
                tenant: None,
                device_id: "dev-2".into(),
                account_id: "acc-1".into(),
            })
            .await
            .answer("delete by")
            .deleted;
        assert!(deleted);
        for (pk, sk) in [
            ("id#d-1", "sk"),
            ("accountId#acc-1", "dev-1"),
            ("id#d-2", "sk"),
            ("accountId#acc-1", "dev-2"),
        ] {
            assert!(
                raw(&app, pk, sk).await.is_none(),
                "{backend:?}: {pk} {sk} left"
            );
        }
        let again = c
            .delete(DeleteDeviceRequest {
                tenant: None,
                id: "d-1".into(),
            })
            .await
            .answer("delete again")
            .deleted;
        assert!(!again);
        app.shutdown().await;
    }
}

#[tokio::test]
async fn tenants_see_only_their_own_devices_and_the_listing_pages_by_offset() {
    for backend in Backend::ALL {
        let mut app = start(backend).await;
        let mut c = DeviceServiceClient::new(app.channel.clone());
        for i in 0..5 {
            create(
                &mut c,
                "acme",
                device(&format!("d-{i}"), &format!("dev-{i}"), "acc-1"),
            )
            .await
            .expect("create");
        }
        create(&mut c, "", device("d-0", "dev-0", "acc-1"))
            .await
            .expect("default tenant");
        assert_eq!(by_id(&mut c, "globex", "d-0").await, None);
        assert_eq!(by(&mut c, "globex", "dev-0", "acc-1").await, None);
        let shared = c
            .get_by_device_id(GetDevicesByDeviceIdRequest {
                tenant: tenant("acme"),
                device_id: "dev-0".into(),
            })
            .await
            .answer("by device id")
            .devices;
        assert_eq!(shared.len(), 1, "{backend:?}: only acme's");
        let mut seen = Vec::new();
        for start_index in [0, 2, 4] {
            let page = c
                .list(ListDevicesRequest {
                    tenant: tenant("acme"),
                    start_index,
                    count: Some(2),
                })
                .await
                .answer("list");
            assert_eq!(
                (page.total_results, page.truncated),
                (5, false),
                "{backend:?}"
            );
            seen.extend(page.devices.into_iter().map(|d| d.id));
        }
        seen.sort();
        assert_eq!(seen, ["d-0", "d-1", "d-2", "d-3", "d-4"], "{backend:?}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn invalid_devices_are_refused_naming_the_field_and_listing_needs_scans() {
    let mut app = TestApp::start().await;
    let mut c = DeviceServiceClient::new(app.channel.clone());
    type Spoil = Box<dyn Fn(&mut Device)>;
    let cases: Vec<(&str, Spoil)> = vec![
        ("device.id", Box::new(|d| d.id.clear())),
        ("device.device_id", Box::new(|d| d.device_id.clear())),
        ("device.account_id", Box::new(|d| d.account_id.clear())),
        (
            "device.device_id",
            Box::new(|d| d.device_id = "x".repeat(1025)),
        ),
        (
            "device.attributes_json",
            Box::new(|d| d.attributes_json = "[]".into()),
        ),
        (
            "device.attributes_json",
            Box::new(|d| d.attributes_json = r#"{"deviceId":"other"}"#.into()),
        ),
        ("device.expires_at", Box::new(|d| d.expires_at = Some(-1))),
        (
            "device",
            Box::new(|d| d.attributes_json = format!(r#"{{"x":"{}"}}"#, "y".repeat(420_000))),
        ),
    ];
    for (field, spoil) in cases {
        let mut d = device("bad", "dev-bad", "acc-1");
        spoil(&mut d);
        let err = create(&mut c, "", d).await.expect_err(field);
        assert_eq!(err.code(), Code::InvalidArgument, "{field}");
        let detail = curity_dynamodb::api::status::detail(&err).expect("detail");
        assert_eq!(detail.field, field);
    }
    assert!(raw(&app, "id#bad", "sk").await.is_none());
    c.list(ListDevicesRequest::default())
        .await
        .refused(Code::FailedPrecondition, "scans not allowed");
    app.shutdown().await;
}
