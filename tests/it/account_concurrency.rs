//! Concurrent writers: uniqueness holds under a burst of creates, and
//! concurrent patches are never lost (each lands or is refused ABORTED).

use crate::support::{self, Answer};

use curity_dynamodb::{
    api::convert::{json_to_struct, struct_to_json},
    proto::{
        GetAccountByIdRequest, PatchAccountRequest, account_service_client::AccountServiceClient,
    },
};
use support::{app::TestApp, fixtures::new_account};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_creates_of_one_user_name_yield_exactly_one_account() {
    let mut app = TestApp::start().await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let mut c = AccountServiceClient::new(app.channel.clone());
        tasks.push(tokio::spawn(async move {
            let emails = serde_json::json!({"emails": [{"value": format!("u{i}@x.io")}]});
            c.create(new_account("", "popular", Some(emails))).await
        }));
    }
    let (mut ok, mut exists) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(e) if e.code() == Code::AlreadyExists => exists += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, exists), (1, 199));
    let items = app.raw_scan("curity-accounts").await;
    assert_eq!(items.len(), 3, "one main, one user-name and one email item");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_patches_are_each_applied_or_refused_never_lost() {
    let mut app = TestApp::start().await;
    let mut c = AccountServiceClient::new(app.channel.clone());
    let id = app.create_account("", "contended").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let mut c = AccountServiceClient::new(app.channel.clone());
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let set = serde_json::json!({ format!("k{i}"): i });
            let r = c
                .patch(PatchAccountRequest {
                    tenant: None,
                    id,
                    set_attributes: Some(json_to_struct(
                        set.as_object().cloned().unwrap_or_default(),
                    )),
                    ..Default::default()
                })
                .await;
            (i, r)
        }));
    }
    let mut applied = Vec::new();
    let mut aborted = 0;
    for t in tasks {
        let (i, r) = t.await.expect("task");
        match r {
            Ok(_) => applied.push(format!("k{i}")),
            Err(e) if e.code() == Code::Aborted => aborted += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(applied.len() + aborted, 50);
    assert!(!applied.is_empty());
    let a = c
        .get_by_id(GetAccountByIdRequest { tenant: None, id })
        .await
        .answer("get")
        .account
        .expect("account");
    let attrs = struct_to_json(a.attributes);
    let mut present: Vec<String> = attrs
        .keys()
        .filter(|k| k.starts_with('k'))
        .cloned()
        .collect();
    present.sort();
    applied.sort();
    assert_eq!(
        present, applied,
        "every successful patch is in the account, no refused one is"
    );
    assert_eq!(
        a.version as usize,
        applied.len(),
        "one version per applied patch"
    );
    app.shutdown().await;
}
