//! The service in-process against its own embedded Dynoxide on
//! `127.0.0.1:0`, tables created: for data-behaviour tests.

use super::Answer;
use std::net::SocketAddr;

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use curity_dynamodb::{
    app::App,
    aws::Aws,
    config::{AccessMethod, Config, Secret, ServerConfig},
    embedded::Embedded,
    proto::account_service_client::AccountServiceClient,
    store::tables::{Billing, TableAdmin},
};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::transport::Channel;

/// Which DynamoDB-compatible server a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Dynoxide, in-process, one per test.
    Embedded,
    /// MiniStack, one process per test binary, one table prefix per test.
    MiniStack,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Embedded, Backend::MiniStack];
}

/// An item as the SDK returns it.
pub type RawItem = std::collections::HashMap<String, AttributeValue>;

/// An item from (attribute, value) pairs.
pub fn item_from<const N: usize>(pairs: [(&str, AttributeValue); N]) -> RawItem {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

static PREFIXES: AtomicUsize = AtomicUsize::new(0);

pub struct TestApp {
    pub addr: SocketAddr,
    pub channel: Channel,
    /// A raw SDK client on the same store, for checking items as stored.
    pub raw: aws_sdk_dynamodb::Client,
    pub config: Config,
    /// The JSON data source port, when `json_ds.listen` was set (bound on
    /// port 0 of its address).
    pub json_addr: Option<SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    embedded: Option<Embedded>,
}

fn no_env(_: &str) -> Option<String> {
    None
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(|_| {}).await
    }

    /// `adjust` may change the config before it is validated.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        Self::start_opts(adjust, true).await
    }

    /// Without tables: the server must stay NOT_SERVING until they exist.
    pub async fn start_without_tables() -> TestApp {
        Self::start_opts(|_| {}, false).await
    }

    /// Creates the `curity-*` tables under the app's prefix.
    pub async fn create_tables(&self) {
        create_tables(&self.raw, &self.config).await;
    }

    /// Against the binary's shared MiniStack (a second, independent
    /// implementation of DynamoDB's validation), on tables of a prefix of
    /// its own.
    pub async fn start_on_ministack(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let ms = super::ministack::MiniStack::shared().await;
        let n = PREFIXES.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("t{}-{n}-", std::process::id());
        let endpoint = ms.endpoint.clone();
        Self::start_on(
            Backend::MiniStack,
            move |config| {
                let aws = &mut config.aws;
                aws.endpoint_url = Some(endpoint);
                aws.region = Some(super::REGION.into());
                aws.access_method = AccessMethod::AccessKey;
                aws.access_key.access_key_id = Some("test".into());
                aws.access_key.secret_access_key = Some(Secret::new("test"));
                config.dynamodb.table_name_prefix = prefix;
                adjust(config);
            },
            true,
        )
        .await
    }

    /// On the store `backend` names.
    pub async fn start_backend(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        match backend {
            Backend::Embedded => Self::start_with(adjust).await,
            Backend::MiniStack => Self::start_on_ministack(adjust).await,
        }
    }

    /// Creates an active account with no attributes over gRPC; its id.
    pub async fn create_account(&self, tenant: &str, user_name: &str) -> String {
        let mut c = AccountServiceClient::new(self.channel.clone());
        c.create(super::fixtures::new_account(tenant, user_name, None))
            .await
            .answer("create account")
            .account
            .expect("created account")
            .id
    }

    /// The item of table `name` (under this app's prefix) whose key
    /// attributes have these string values, read consistently: what a test
    /// checks items as stored with.
    pub async fn raw_get(&self, name: &str, key: &[(&str, &str)]) -> Option<RawItem> {
        let key = key
            .iter()
            .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
            .collect();
        self.raw
            .get_item()
            .table_name(self.table(name))
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .expect("raw get")
            .item
    }

    /// Writes `item` to table `name` (under this app's prefix) as it is,
    /// past the service: an item as another writer (the plugin) left it.
    pub async fn raw_put(&self, name: &str, item: RawItem) {
        self.raw
            .put_item()
            .table_name(self.table(name))
            .set_item(Some(item))
            .send()
            .await
            .expect("raw put");
    }

    /// Every item of table `name`, read consistently past the service.
    pub async fn raw_scan(&self, name: &str) -> Vec<RawItem> {
        let (mut items, mut start) = (Vec::new(), None);
        loop {
            let page = self
                .raw
                .scan()
                .table_name(self.table(name))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("raw scan");
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }

    /// Deletes the item at `key` of table `name`, past the service; the
    /// item deleted, if there was one.
    pub async fn raw_delete(&self, name: &str, key: RawItem) -> Option<RawItem> {
        self.raw
            .delete_item()
            .table_name(self.table(name))
            .set_key(Some(key))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .expect("raw delete")
            .attributes
    }

    /// The table name under this app's prefix.
    pub fn table(&self, name: &str) -> String {
        format!("{}{name}", self.config.dynamodb.table_name_prefix)
    }

    async fn start_opts(adjust: impl FnOnce(&mut Config), create_tables: bool) -> TestApp {
        Self::start_on(Backend::Embedded, adjust, create_tables).await
    }

    async fn start_on(
        backend: Backend,
        adjust: impl FnOnce(&mut Config),
        create_tables: bool,
    ) -> TestApp {
        let mut config = Config::default();
        let embedded = match backend {
            Backend::Embedded => {
                let embedded = Embedded::start(None).await.expect("embedded store");
                embedded.configure(&mut config);
                Some(embedded)
            }
            Backend::MiniStack => None,
        };
        config.server = ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            readiness_retry_seconds: 1,
            shutdown_grace_seconds: 5,
            shutdown_delay_seconds: 0,
            ..ServerConfig::default()
        };
        adjust(&mut config);
        Self::launch(config, embedded, create_tables).await
    }

    /// A second replica of this app: its own server (and cache) on the
    /// same store and tables.
    pub async fn replica(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = self.config.clone();
        adjust(&mut config);
        Self::launch(config, None, false).await
    }

    async fn launch(config: Config, embedded: Option<Embedded>, create_tables: bool) -> TestApp {
        let config = config.validate(&no_env).expect("valid test config");
        let aws = Aws::connect(&config.aws).await.expect("aws setup");
        let raw = aws.dynamodb_client();
        if create_tables {
            self::create_tables(&raw, &config).await;
        }
        let app = App::build(config.clone(), &aws).await.expect("app");
        let (addr, json_addr) = (app.grpc_addr(), app.json_addr());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run(async move {
                let _ = rx.await;
            })
            .await
            .expect("server run");
        });
        // A TLS server speaks no plain HTTP/2: its tests bring their own
        // channels, and this one is never connected.
        let channel = if config.server.tls.enabled() {
            Channel::from_shared(format!("http://{addr}"))
                .expect("valid uri")
                .connect_lazy()
        } else {
            super::channel(addr).await
        };
        TestApp {
            addr,
            channel,
            raw,
            config,
            json_addr,
            shutdown: Some(tx),
            task: Some(task),
            embedded,
        }
    }

    /// Signals shutdown and waits for the server to finish draining.
    pub async fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
        if let Some(e) = self.embedded.take() {
            e.stop().await;
        }
    }

    /// Triggers shutdown without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Stops a test's server (and its embedded store) when the test ends
/// without `shutdown`, even by a failed assertion.
impl Drop for TestApp {
    fn drop(&mut self) {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn create_tables(raw: &aws_sdk_dynamodb::Client, config: &Config) {
    TableAdmin {
        client: raw,
        prefix: &config.dynamodb.table_name_prefix,
        method: "access_key",
    }
    .create_all(
        Billing::OnDemand,
        config.cache.enabled && config.cache.streams.enabled,
    )
    .await
    .expect("create tables");
}
