//! `curity-links`: one item per linked (foreign) account, keyed
//! `<foreignId>@<domain>[.<tenant>]`, listed through `list-links-index`
//! (`accountId` / `linkingAccountManager`).

use std::{borrow::Cow, collections::BTreeMap};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{
    StoreError,
    accounts::{Account, Lookup},
    codec::{self, Item, now_epoch, s},
    expr::Cond,
    handle,
    keys::{self, Tenant},
};

handle!(
    /// `store.links()`.
    Links
);

pub const LINKS_INDEX: &str = "list-links-index";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedAccount {
    pub domain: String,
    pub id: String,
    /// Epoch seconds; 0 when the item has none.
    pub created: i64,
}

/// The item as the plugin writes it. Reads need only what they use: a
/// missing `created` is 0, a missing `tenantId` the default tenant.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkItem<'a> {
    #[serde(rename = "linkedAccountId_linkedAccountDomainName")]
    key: Cow<'a, str>,
    account_id: Cow<'a, str>,
    linked_account_id: Cow<'a, str>,
    linked_account_domain_name: Cow<'a, str>,
    linking_account_manager: Cow<'a, str>,
    #[serde(default, with = "codec::epoch")]
    created: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant_id: Option<Cow<'a, str>>,
}

impl LinkItem<'_> {
    /// `same_link`, checked on an item read.
    fn is(&self, tenant: Tenant<'_>, foreign_domain: &str, foreign_id: &str) -> bool {
        self.tenant_id.as_deref() == tenant.id()
            && self.linked_account_domain_name == foreign_domain
            && self.linked_account_id == foreign_id
    }
}

/// One attribute row per link (the attribute provider's table).
pub type AttributeRow = BTreeMap<String, String>;

impl Links<'_> {
    /// Links (or re-links, overwriting) a foreign account to a local one.
    pub async fn link(
        &self,
        tenant: Tenant<'_>,
        manager: &str,
        local_account_id: &str,
        foreign_domain: &str,
        foreign_id: &str,
    ) -> Result<(), StoreError> {
        codec::check_keys(&[
            ("linking_account_manager", manager),
            ("local_account_id", local_account_id),
            ("foreign_domain", foreign_domain),
            ("foreign_user_name", foreign_id),
        ])?;
        let key = keys::link_key(tenant, foreign_id, foreign_domain);
        codec::check_key("foreign_user_name", &key)?;
        let item = self.0.encode(&LinkItem {
            key: Cow::Owned(key),
            account_id: Cow::Borrowed(local_account_id),
            linked_account_id: Cow::Borrowed(foreign_id),
            linked_account_domain_name: Cow::Borrowed(foreign_domain),
            linking_account_manager: Cow::Borrowed(manager),
            created: now_epoch(),
            tenant_id: tenant.id().map(Cow::Borrowed),
        })?;
        // Re-linking overwrites (as the plugin); a key another tenant or
        // another (id, domain) pair already holds is never overwritten.
        let free = Cond::NotExists(self.0.def().hash.name);
        let written = self
            .0
            .put_if(
                item,
                &free.or(same_link(tenant, foreign_domain, foreign_id)),
            )
            .await?;
        written.then_some(()).ok_or(StoreError::AlreadyExists {
            what: "link",
            field: "foreign_domain",
        })
    }

    /// Every page of `list-links-index` for one account, with the tenant
    /// filter (`manager` narrows to one account manager when given).
    async fn query_links(
        &self,
        tenant: Tenant<'_>,
        account_id: &str,
        manager: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut key = Cond::eq("accountId", s(account_id));
        if let Some(m) = manager {
            key = key.and(Cond::eq("linkingAccountManager", s(m)));
        }
        self.0
            .query_all(Some(LINKS_INDEX), &key, Some(&tenant_cond(tenant)))
            .await
    }

    pub async fn list(
        &self,
        tenant: Tenant<'_>,
        manager: &str,
        local_account_id: &str,
    ) -> Result<Vec<LinkedAccount>, StoreError> {
        codec::check_keys(&[
            ("linking_account_manager", manager),
            ("local_account_id", local_account_id),
        ])?;
        self.query_links(tenant, local_account_id, Some(manager))
            .await?
            .into_iter()
            .map(|item| {
                let link: LinkItem = self.0.decode(item)?;
                Ok(LinkedAccount {
                    created: link.created,
                    domain: link.linked_account_domain_name.into_owned(),
                    id: link.linked_account_id.into_owned(),
                })
            })
            .collect()
    }

    /// The local account a foreign account is linked to by `manager`.
    pub async fn resolve(
        &self,
        tenant: Tenant<'_>,
        manager: &str,
        foreign_domain: &str,
        foreign_id: &str,
    ) -> Result<Option<std::sync::Arc<Account>>, StoreError> {
        codec::check_keys(&[
            ("linking_account_manager", manager),
            ("foreign_domain", foreign_domain),
            ("foreign_account_id", foreign_id),
        ])?;
        let key = keys::link_key(tenant, foreign_id, foreign_domain);
        let Some(link) = self.0.read::<LinkItem>(self.0.key(&key)).await? else {
            return Ok(None);
        };
        if link.linking_account_manager != manager || !link.is(tenant, foreign_domain, foreign_id) {
            return Ok(None);
        }
        self.0
            .tables()
            .accounts()
            .get_by(tenant, Lookup::Id, &link.account_id)
            .await
    }

    /// `true` when the link existed for that account and manager.
    pub async fn delete(
        &self,
        tenant: Tenant<'_>,
        manager: &str,
        local_account_id: &str,
        foreign_domain: &str,
        foreign_id: &str,
    ) -> Result<bool, StoreError> {
        codec::check_keys(&[
            ("linking_account_manager", manager),
            ("local_account_id", local_account_id),
            ("foreign_domain", foreign_domain),
            ("foreign_account_id", foreign_id),
        ])?;
        let key = keys::link_key(tenant, foreign_id, foreign_domain);
        let condition = Cond::eq("accountId", s(local_account_id))
            .and(Cond::eq("linkingAccountManager", s(manager)))
            .and(same_link(tenant, foreign_domain, foreign_id));
        self.0.delete_if(self.0.key(&key), &condition).await
    }

    /// The attribute provider: the subject's links as rows, columns renamed
    /// as the plugin does. Unlike the plugin, links of other tenants are
    /// filtered out and `created` keeps its value.
    pub async fn get_attributes(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
    ) -> Result<Vec<AttributeRow>, StoreError> {
        codec::check_key("subject", subject)?;
        let key = keys::account_key(tenant, keys::USER_NAME, subject);
        let Some(stored) = self.0.tables().accounts().read_stored(&key).await? else {
            return Ok(Vec::new());
        };
        let items = self.query_links(tenant, &stored.account.id, None).await?;
        Ok(items
            .into_iter()
            .map(|item| {
                item.into_iter()
                    .filter_map(|(k, v)| {
                        let name = match k.as_str() {
                            "accountId" => "account_id".to_string(),
                            "linkingAccountManager" => "linking_account_manager".to_string(),
                            "linkedAccountDomainName" => "linked_account_domain_name".to_string(),
                            "linkedAccountId" => "linked_account_id".to_string(),
                            _ => k,
                        };
                        match v {
                            AttributeValue::S(v) | AttributeValue::N(v) => Some((name, v)),
                            _ => None,
                        }
                    })
                    .collect()
            })
            .collect())
    }
}

/// The items of one tenant: the default tenant's carry no `tenantId`.
fn tenant_cond(tenant: Tenant<'_>) -> Cond {
    match tenant.id() {
        None => Cond::NotExists("tenantId"),
        Some(t) => Cond::eq("tenantId", s(t)),
    }
}

/// The stored item is the link of this tenant, foreign domain and id, not
/// another one sharing its key: `u1@idp.acme` is both the default tenant's
/// `u1` at `idp.acme` and tenant `acme`'s `u1` at `idp`.
fn same_link(tenant: Tenant<'_>, foreign_domain: &str, foreign_id: &str) -> Cond {
    tenant_cond(tenant)
        .and(Cond::eq("linkedAccountDomainName", s(foreign_domain)))
        .and(Cond::eq("linkedAccountId", s(foreign_id)))
}
