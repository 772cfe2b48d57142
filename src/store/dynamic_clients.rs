//! `curity-dynamic-clients` (DCR): one item per dynamically registered
//! client keyed by `clientId`, global (no tenant, as the plugin). Lists are
//! L of S, `attributes` JSON text, `status` the upper-case enum name.
//! Listing queries the `instanceOfClient-*` / `authenticatedUser-*`
//! indexes as the plugin chooses them, and scans only when allowed.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{
    StoreError,
    codec::{self, n, now_epoch, s},
    expr::{Cond, Update},
    handle,
    query::run::{self, PageRequest, Step},
};

handle!(
    /// `store.dynamic_clients()`.
    DynamicClients
);

/// The status names Curity's DCR client status enum has (stored with
/// `name()`); the plugin reads any other value as a schema error.
pub const STATUSES: &[&str] = &["ACTIVE", "INACTIVE", "REVOKED"];
const ACTIVE: &str = "ACTIVE";

pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicClient {
    /// The API's rendering of this client, once per cached read.
    #[serde(skip)]
    pub rendered: crate::rendered::Rendered,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_of_client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated_user: Option<String>,
    #[serde(default, with = "codec::epoch")]
    pub created: i64,
    #[serde(default, with = "codec::epoch")]
    pub updated: i64,
    pub status: String,
    /// JSON object text of the client's attributes.
    #[serde(default = "codec::empty_object")]
    pub attributes: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_types: Vec<String>,
}

/// How a listing is ordered: by the range key of the index it queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Created,
    Updated,
    /// The plugin's NAME / default sort: no index orders by client id, so
    /// the `created` index serves it (as the plugin).
    ClientId,
}

#[derive(Debug, Clone, Default)]
pub struct Listing<'a> {
    pub template_id: Option<&'a str>,
    pub user_name: Option<&'a str>,
    pub active_only: bool,
    /// `None`: the order of the index (or the scan).
    pub sort: Option<SortBy>,
    pub descending: bool,
}

pub struct ClientPage {
    pub clients: Vec<DynamicClient>,
    pub next: Option<String>,
    pub truncated: bool,
}

fn check(c: &mut DynamicClient) -> Result<(), StoreError> {
    codec::check_key("client.client_id", &c.client_id)?;
    if !STATUSES.contains(&c.status.as_str()) {
        return Err(StoreError::invalid(
            "client.status",
            "ACTIVE, INACTIVE or REVOKED (Curity's DCR client status)",
        ));
    }
    codec::object_text("client.attributes_json", &mut c.attributes)?;
    // Index keys cannot be empty strings; the plugin never writes empty
    // ones.
    for (field, value) in [
        ("client.instance_of_client", &mut c.instance_of_client),
        ("client.authenticated_user", &mut c.authenticated_user),
        ("client.initial_client", &mut c.initial_client),
        ("client.client_secret", &mut c.client_secret),
    ] {
        *value = value.take().filter(|v| !v.is_empty());
        if let Some(v) = value {
            codec::check_key(field, v)?;
        }
    }
    Ok(())
}

impl DynamicClients<'_> {
    pub async fn get(&self, client_id: &str) -> Result<Option<Arc<DynamicClient>>, StoreError> {
        codec::check_key("client_id", client_id)?;
        self.0.read_cached(self.0.key(client_id)).await
    }

    /// `created` is kept when given (Curity's `meta.created`), else now.
    pub async fn create(&self, mut c: DynamicClient) -> Result<DynamicClient, StoreError> {
        check(&mut c)?;
        let now = now_epoch();
        if c.created <= 0 {
            c.created = now;
        }
        c.updated = now;
        let item = self.0.encode(&c)?;
        codec::check_item_size("client", &item)?;
        self.0
            .put_if_absent(item, "client", "client.client_id")
            .await?;
        Ok(c)
    }

    /// As the plugin: the secret only when one is given; status,
    /// attributes and the three lists replaced (an empty list removed);
    /// template, initial client, user and `created` never change.
    /// `NotFound` when the client does not exist.
    pub async fn update(&self, mut c: DynamicClient) -> Result<DynamicClient, StoreError> {
        check(&mut c)?;
        let mut update = Update::new()
            .set("updated", n(now_epoch()))
            .set("status", s(&c.status))
            .set("attributes", s(&c.attributes));
        if let Some(secret) = &c.client_secret {
            update = update.set("clientSecret", s(secret));
        }
        for (attr, list) in [
            ("scope", &c.scope),
            ("redirectUris", &c.redirect_uris),
            ("grantTypes", &c.grant_types),
        ] {
            update = if list.is_empty() {
                update.remove(attr)
            } else {
                update.set(attr, codec::string_list(list))
            };
        }
        if !self
            .0
            .update_if(self.0.key(&c.client_id), &update, &self.0.exists())
            .await?
        {
            return Err(StoreError::NotFound { what: "client" });
        }
        self.get(&c.client_id)
            .await?
            .map(Arc::unwrap_or_clone)
            .ok_or(StoreError::NotFound { what: "client" })
    }

    pub async fn delete(&self, client_id: &str) -> Result<(), StoreError> {
        codec::check_key("client_id", client_id)?;
        self.0.delete(self.0.key(client_id)).await
    }

    /// A page of the listing, from the cursor a previous page returned.
    pub async fn list(
        &self,
        listing: &Listing<'_>,
        count: Option<usize>,
        cursor_text: &str,
    ) -> Result<ClientPage, StoreError> {
        let size = run::page_size(count, DEFAULT_PAGE, MAX_PAGE);
        let (step, position) = self.plan(listing)?;
        let binding = format!("dynamic-clients|{listing:?}");
        let page = run::cursor_page(
            &self.0,
            &step,
            PageRequest {
                cursor: cursor_text,
                binding: &binding,
                size,
                forward: !listing.descending,
                position: &position,
            },
            |_| true,
        )
        .await?;
        let clients = page
            .items
            .into_iter()
            .map(|i| self.0.decode(i))
            .collect::<Result<_, _>>()?;
        Ok(ClientPage {
            clients,
            next: page.next,
            truncated: page.truncated,
        })
    }

    /// The listing's matches, counted by DynamoDB: `(count, truncated)`.
    pub async fn count(&self, listing: &Listing<'_>) -> Result<(u64, bool), StoreError> {
        let (step, _) = self.plan(listing)?;
        run::count(&self.0, &step).await
    }

    /// The plugin's index choice: the template's indexes when a template is
    /// given, else the user's; among the two, the one whose range key is
    /// the sort attribute, else the `created` one. The unused candidate
    /// and `active_only` become filters. Neither: a scan, unsorted.
    fn plan(&self, l: &Listing<'_>) -> Result<(Step, Vec<&'static str>), StoreError> {
        let template = l.template_id.filter(|t| !t.is_empty());
        let user = l.user_name.filter(|u| !u.is_empty());
        let mut filters = Vec::new();
        if l.active_only {
            filters.push(Cond::eq("status", s(ACTIVE)));
        }
        let (hash_attr, value) = match (template, user) {
            (Some(t), user) => {
                if let Some(u) = user {
                    filters.push(Cond::eq("authenticatedUser", s(u)));
                }
                ("instanceOfClient", t)
            }
            (None, Some(u)) => ("authenticatedUser", u),
            (None, None) => {
                if !self.0.settings().allow_table_scans {
                    return Err(StoreError::NotSupportedByLayout(
                        "listing dynamic clients without a template or user needs a table \
                         scan, which is not allowed (dynamodb.allow_table_scans = false)"
                            .into(),
                    ));
                }
                return Ok((Step::scan(Cond::all(filters).as_ref()), vec!["clientId"]));
            }
        };
        codec::check_key(
            if hash_attr == "instanceOfClient" {
                "template_id"
            } else {
                "user_name"
            },
            value,
        )?;
        let range = match l.sort {
            Some(SortBy::Updated) => "updated",
            _ => "created",
        };
        let index = self
            .0
            .def()
            .global_indexes
            .iter()
            .find(|ix| {
                ix.hash.name == hash_attr && ix.range.as_ref().is_some_and(|r| r.name == range)
            })
            .map(|ix| ix.name)
            .ok_or_else(|| StoreError::NotSupportedByLayout(format!("no {hash_attr} index")))?;
        let step = Step::query(
            Some(index),
            &Cond::eq(hash_attr, s(value)),
            Cond::all(filters).as_ref(),
        );
        Ok((step, vec!["clientId", hash_attr, range]))
    }
}
