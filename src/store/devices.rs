//! `curity-devices`: two items per device holding the same attributes, the
//! main item (`pk` = `id#<id>`, `sk` = "sk") and the secondary item (`pk`
//! = `accountId#<accountId>`, `sk` = `<deviceId>`), with `id(<t>)#` /
//! `accountId(<t>)#` keys and `tenantId` in custom tenants. Every write
//! changes both in one transaction. Unlike the plugin, a refused update is
//! reported (not ignored), a device id change keeps `created`, and the
//! device-id lookup reads every page.

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

use super::{
    StoreError,
    codec::{self, Item, n, now_epoch, plus_retain, s},
    delegations::OffsetPage,
    expr::{Cond, Update},
    handle,
    keys::Tenant,
    query::run::{self, Step},
    table::OnConflict,
};
use crate::schema::TTL_ATTRIBUTE;

handle!(
    /// `store.devices()`.
    Devices
);

const PK: &str = "pk";
/// The main item's sort key, a literal.
const MAIN_SK: &str = "sk";
const ID_KIND: &str = "id";
const ACCOUNT_KIND: &str = "accountId";
const DEVICE_ID_INDEX: &str = "deviceId-index";
const TENANT_ID: &str = "tenantId";
/// Device attributes with fields of their own (the plugin keeps them out
/// of the `attributes` blob).
const DEVICE_FIELDS: &[&str] = &[
    "id",
    "meta",
    "deviceId",
    "accountId",
    "externalId",
    "alias",
    "formFactor",
    "deviceType",
    "owner",
    "expiresAt",
];

/// A device as both of its items hold it. `attributes` is JSON object text
/// of the device's other attributes, kept as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub id: String,
    pub device_id: String,
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_factor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(
        rename = "expires",
        default,
        skip_serializing_if = "Option::is_none",
        with = "codec::epoch::option"
    )]
    pub expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<String>,
    #[serde(default, with = "codec::epoch")]
    pub created: i64,
    #[serde(default, with = "codec::epoch")]
    pub updated: i64,
}

/// The optional string attributes an update sets or removes.
fn optional_strings(d: &Device) -> [(&'static str, &Option<String>); 6] {
    [
        ("externalId", &d.external_id),
        ("alias", &d.alias),
        ("formFactor", &d.form_factor),
        ("deviceType", &d.device_type),
        ("owner", &d.owner),
        ("attributes", &d.attributes),
    ]
}

fn check(d: &mut Device) -> Result<(), StoreError> {
    codec::check_keys(&[
        ("device.id", &d.id),
        ("device.device_id", &d.device_id),
        ("device.account_id", &d.account_id),
    ])?;
    // The secondary item's sort key: DynamoDB's limit for range keys.
    if d.device_id.len() > 1024 {
        return Err(StoreError::invalid(
            "device.device_id",
            "longer than 1024 bytes",
        ));
    }
    d.attributes = d.attributes.take().filter(|a| !a.trim().is_empty());
    if let Some(a) = &mut d.attributes {
        let blob = codec::object_text("device.attributes_json", a)?;
        // The plugin merges the blob over the mapped attributes on read.
        if let Some(k) = blob.keys().find(|k| DEVICE_FIELDS.contains(&k.as_str())) {
            return Err(StoreError::invalid(
                "device.attributes_json",
                format!("'{k}' is a field of its own, not part of the attributes"),
            ));
        }
    }
    if d.expires_at.is_some_and(|e| e < 0) {
        return Err(StoreError::invalid(
            "device.expires_at",
            "must be epoch seconds (not negative)",
        ));
    }
    Ok(())
}

impl Devices<'_> {
    fn main_key(&self, tenant: Tenant<'_>, id: &str) -> Item {
        self.0
            .key2(&format!("{}{id}", tenant.prefix(ID_KIND)), MAIN_SK)
    }

    fn secondary_key(&self, tenant: Tenant<'_>, account_id: &str, device_id: &str) -> Item {
        self.0.key2(
            &format!("{}{account_id}", tenant.prefix(ACCOUNT_KIND)),
            device_id,
        )
    }

    /// The attributes both items carry, without keys.
    fn body(&self, tenant: Tenant<'_>, d: &Device) -> Result<Item, StoreError> {
        let mut item = self.0.encode(d)?;
        if let Some(expires) = d.expires_at {
            let retain = self.0.settings().ttl.devices_retain_seconds;
            item.insert(TTL_ATTRIBUTE.into(), n(plus_retain(expires, retain)));
        }
        if let Some(t) = tenant.id() {
            item.insert(TENANT_ID.into(), s(t));
        }
        codec::check_item_size("device", &item)?;
        Ok(item)
    }

    /// A transaction `Put` of `body` at `key`, only where no item is.
    fn put_new(&self, key: Item, body: &Item) -> Result<TransactWriteItem, StoreError> {
        let mut item = body.clone();
        item.extend(key);
        self.0.tx_put(item, Some(&Cond::NotExists(PK)))
    }

    /// The secondary item's `Put`, refused where the account already has a
    /// device of that device id.
    fn put_secondary(
        &self,
        tenant: Tenant<'_>,
        d: &Device,
        body: &Item,
    ) -> Result<(TransactWriteItem, OnConflict), StoreError> {
        let key = self.secondary_key(tenant, &d.account_id, &d.device_id);
        Ok((
            self.put_new(key, body)?,
            OnConflict::Unique("device.device_id"),
        ))
    }

    /// Both items in one transaction, each only where its key is free.
    pub async fn create(&self, tenant: Tenant<'_>, mut d: Device) -> Result<Device, StoreError> {
        check(&mut d)?;
        let now = now_epoch();
        d.created = now;
        d.updated = now;
        let body = self.body(tenant, &d)?;
        let actions = vec![
            (
                self.put_new(self.main_key(tenant, &d.id), &body)?,
                OnConflict::Unique("device.id"),
            ),
            self.put_secondary(tenant, &d, &body)?,
        ];
        self.0.transact(actions, "device").await?;
        Ok(d)
    }

    pub async fn get_by_id(
        &self,
        tenant: Tenant<'_>,
        id: &str,
    ) -> Result<Option<Device>, StoreError> {
        codec::check_key("id", id)?;
        self.0.read(self.main_key(tenant, id)).await
    }

    pub async fn get_by(
        &self,
        tenant: Tenant<'_>,
        device_id: &str,
        account_id: &str,
    ) -> Result<Option<Device>, StoreError> {
        codec::check_keys(&[("device_id", device_id), ("account_id", account_id)])?;
        self.0
            .read(self.secondary_key(tenant, account_id, device_id))
            .await
    }

    /// The account's devices, ordered by device id (the secondary items'
    /// sort key).
    pub async fn by_account(
        &self,
        tenant: Tenant<'_>,
        account_id: &str,
    ) -> Result<Vec<Device>, StoreError> {
        codec::check_key("account_id", account_id)?;
        let pk = format!("{}{account_id}", tenant.prefix(ACCOUNT_KIND));
        self.0.query_decoded(None, &Cond::eq(PK, s(pk)), None).await
    }

    /// The tenant's devices with this device id, of any account: their
    /// main items in `deviceId-index`, every page.
    pub async fn by_device_id(
        &self,
        tenant: Tenant<'_>,
        device_id: &str,
    ) -> Result<Vec<Device>, StoreError> {
        codec::check_key("device_id", device_id)?;
        let main_items = Cond::BeginsWith(PK, s(tenant.prefix(ID_KIND)));
        let key = Cond::eq("deviceId", s(device_id));
        self.0
            .query_decoded(Some(DEVICE_ID_INDEX), &key, Some(&main_items))
            .await
    }

    /// The tenant's devices (main items): a scan with offset paging.
    pub async fn list(
        &self,
        tenant: Tenant<'_>,
        page: OffsetPage,
    ) -> Result<(Vec<Device>, u64, bool), StoreError> {
        if !self.0.settings().allow_table_scans {
            return Err(StoreError::NotSupportedByLayout(
                "listing devices needs a table scan, which is not allowed \
                 (dynamodb.allow_table_scans = false); list by account or device id instead"
                    .into(),
            ));
        }
        let scan = Step::scan(Some(&Cond::BeginsWith(PK, s(tenant.prefix(ID_KIND)))));
        let window = page.start.saturating_add(page.count);
        let mut total = 0u64;
        let mut kept = Vec::new();
        let truncated = run::walk(&self.0, &[scan], true, |_, item| {
            let at = total as usize;
            total += 1;
            if at >= page.start && at < window {
                kept.push(item);
            }
            std::ops::ControlFlow::Continue(())
        })
        .await?;
        let devices = kept
            .into_iter()
            .map(|i| self.0.decode(i))
            .collect::<Result<_, _>>()?;
        Ok((devices, total, truncated))
    }

    /// Replaces the device's attributes on both items. With
    /// `current_device_id` (a new device id), the secondary item moves:
    /// delete the old one, update the main item, put the new one, in one
    /// transaction. `NotFound` when no device has this id, account and
    /// current device id.
    pub async fn update(
        &self,
        tenant: Tenant<'_>,
        mut d: Device,
        current_device_id: Option<&str>,
    ) -> Result<Device, StoreError> {
        check(&mut d)?;
        let current = current_device_id
            .filter(|c| *c != d.device_id)
            .map(str::to_string);
        if let Some(c) = &current {
            codec::check_key("current_device_id", c)?;
        }
        let Some(stored) = self.get_by_id(tenant, &d.id).await? else {
            return Err(StoreError::NotFound { what: "device" });
        };
        d.created = stored.created;
        d.updated = now_epoch();
        let was = current.as_deref().unwrap_or(&d.device_id);
        let unchanged = Cond::eq("deviceId", s(was)).and(Cond::eq("accountId", s(&d.account_id)));
        let mut actions = vec![(
            self.update_action(self.main_key(tenant, &d.id), &d, &unchanged)?,
            OnConflict::Missing,
        )];
        match &current {
            None => actions.push((
                self.update_action(
                    self.secondary_key(tenant, &d.account_id, &d.device_id),
                    &d,
                    &unchanged,
                )?,
                OnConflict::Missing,
            )),
            Some(old) => {
                actions.push((
                    self.0.tx_delete(
                        self.secondary_key(tenant, &d.account_id, old),
                        Some(&Cond::eq("id", s(&d.id))),
                    )?,
                    OnConflict::Missing,
                ));
                let body = self.body(tenant, &d)?;
                actions.push(self.put_secondary(tenant, &d, &body)?);
            }
        }
        self.0.transact(actions, "device").await?;
        Ok(d)
    }

    fn update_action(
        &self,
        key: Item,
        d: &Device,
        condition: &Cond,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::new()
            .set("deviceId", s(&d.device_id))
            .set("accountId", s(&d.account_id))
            .set("updated", n(d.updated));
        for (attr, value) in optional_strings(d) {
            update = match value {
                Some(v) => update.set(attr, s(v)),
                None => update.remove(attr),
            };
        }
        update = match d.expires_at {
            Some(e) => {
                let retain = self.0.settings().ttl.devices_retain_seconds;
                update
                    .set("expires", n(e))
                    .set(TTL_ATTRIBUTE, n(plus_retain(e, retain)))
            }
            None => update.remove("expires").remove(TTL_ATTRIBUTE),
        };
        self.0.tx_update(key, &update, Some(condition))
    }

    pub async fn delete(&self, tenant: Tenant<'_>, id: &str) -> Result<bool, StoreError> {
        match self.get_by_id(tenant, id).await? {
            Some(d) => self.delete_both(tenant, &d).await,
            None => Ok(false),
        }
    }

    pub async fn delete_by(
        &self,
        tenant: Tenant<'_>,
        device_id: &str,
        account_id: &str,
    ) -> Result<bool, StoreError> {
        match self.get_by(tenant, device_id, account_id).await? {
            Some(d) => self.delete_both(tenant, &d).await,
            None => Ok(false),
        }
    }

    /// Both items; the secondary one only while it still belongs to this
    /// device (as the plugin).
    async fn delete_both(&self, tenant: Tenant<'_>, d: &Device) -> Result<bool, StoreError> {
        let actions = vec![
            (
                self.0.tx_delete(self.main_key(tenant, &d.id), None)?,
                OnConflict::Moved,
            ),
            (
                // Gone already is fine; another device's is not.
                self.0.tx_delete(
                    self.secondary_key(tenant, &d.account_id, &d.device_id),
                    Some(&Cond::NotExists(PK).or(Cond::eq("id", s(&d.id)))),
                )?,
                OnConflict::Moved,
            ),
        ];
        self.0.transact(actions, "device").await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_strings_cover_every_optional_text_attribute_of_the_layout() {
        let d = Device {
            id: "i".into(),
            device_id: "d".into(),
            account_id: "a".into(),
            external_id: None,
            alias: None,
            form_factor: None,
            device_type: None,
            owner: None,
            expires_at: None,
            attributes: None,
            created: 0,
            updated: 0,
        };
        let names: Vec<&str> = optional_strings(&d).iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "externalId",
                "alias",
                "formFactor",
                "deviceType",
                "owner",
                "attributes"
            ]
        );
    }
}
