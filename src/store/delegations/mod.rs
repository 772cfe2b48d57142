//! `curity-delegations`: one item per delegation keyed by `id`, with the
//! plugin's format marker `version = "6.2"`, the JSON maps as JSON text,
//! `deletableAt` for TTL, `tenantId` in custom tenants, and the configured
//! `claims_<path>` / `customClaimValues_<path>` attributes (`claims.rs`).
//! Unlike the plugin, every read and status change is confined to the
//! request's tenant. Listing and bulk status changes: `list.rs`.

mod claims;
mod list;

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

pub use list::{DELEGATION_ATTRS, DelegationList, OffsetPage, SetStatusOutcome, SortBy};

use super::{
    StoreError,
    codec::{self, n, plus_retain, s},
    expr::{Cond, Update},
    handle,
    keys::Tenant,
    query::run::{self, Step},
};
use crate::schema::TTL_ATTRIBUTE;

handle!(
    /// `store.delegations()`.
    Delegations
);

/// The plugin's format marker, a string (not optimistic locking).
const FORMAT_VERSION: &str = "6.2";
pub const ISSUED: &str = "issued";
pub const REVOKED: &str = "revoked";
/// Curity's `DelegationStatus` names; the plugin reads any other value as
/// a schema error.
pub const STATUSES: &[&str] = &[ISSUED, REVOKED];
const TENANT_ID: &str = "tenantId";

/// A delegation and its item. The JSON maps are JSON object text, kept as
/// given (numbers and key order exactly). The plugin's reader needs every
/// attribute without `Option` here; ours reads a missing map as `{}` and a
/// missing scope as "".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delegation {
    pub id: String,
    pub status: String,
    pub owner: String,
    #[serde(with = "codec::epoch")]
    pub created: i64,
    #[serde(with = "codec::epoch")]
    pub expires: i64,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code_hash: Option<String>,
    #[serde(default)]
    pub scope: String,
    #[serde(default = "codec::empty_object")]
    pub authentication_attributes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_result: Option<String>,
    #[serde(default = "codec::empty_object")]
    pub claim_map: String,
    #[serde(default = "codec::empty_object")]
    pub custom_claim_values: String,
    #[serde(default = "codec::empty_object")]
    pub claims: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_client_certificate: Option<String>,
    #[serde(
        rename = "mtlsClientCertificateX5TS256",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub mtls_client_certificate_x5t_s256: Option<String>,
    #[serde(
        rename = "mtlsClientCertificateDN",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub mtls_client_certificate_dn: Option<String>,
}

pub fn check_status(field: &'static str, status: &str) -> Result<(), StoreError> {
    if !STATUSES.contains(&status) {
        return Err(StoreError::invalid(
            field,
            "issued or revoked (Curity's DelegationStatus)",
        ));
    }
    Ok(())
}

/// The condition "the item belongs to `tenant`": the default tenant's
/// items have no `tenantId` (as the plugin writes them).
pub(crate) fn in_tenant(tenant: Tenant<'_>) -> Cond {
    match tenant.id() {
        None => Cond::NotExists(TENANT_ID),
        Some(t) => Cond::eq(TENANT_ID, s(t)),
    }
}

fn item_tenant(item: &codec::Item) -> Option<&str> {
    item.get(TENANT_ID)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

impl Delegations<'_> {
    /// Writes the delegation, replacing one with the same id in this tenant
    /// (as the plugin); an id another tenant holds is `AlreadyExists`.
    pub async fn create(&self, tenant: Tenant<'_>, mut d: Delegation) -> Result<(), StoreError> {
        codec::check_keys(&[
            ("delegation.id", &d.id),
            ("delegation.owner", &d.owner),
            ("delegation.client_id", &d.client_id),
        ])?;
        check_status("delegation.status", &d.status)?;
        // Absent rather than empty, as the plugin writes them (and an index
        // key attribute cannot be an empty string).
        for optional in [
            &mut d.authorization_code_hash,
            &mut d.redirect_uri,
            &mut d.mtls_client_certificate,
            &mut d.mtls_client_certificate_x5t_s256,
            &mut d.mtls_client_certificate_dn,
        ] {
            *optional = optional.take().filter(|v| !v.is_empty());
        }
        // Curity rebuilds the authentication attributes (subject and
        // context) from this map: an empty one would not read back.
        if d.authentication_attributes.trim().is_empty() {
            return Err(StoreError::invalid(
                "delegation.authentication_attributes_json",
                "required: the authentication attributes (subject and context) as a JSON object",
            ));
        }
        if let Some(h) = &d.authorization_code_hash {
            codec::check_key("delegation.authorization_code_hash", h)?;
        }
        codec::object_text(
            "delegation.authentication_attributes_json",
            &mut d.authentication_attributes,
        )?;
        codec::object_text("delegation.claim_map_json", &mut d.claim_map)?;
        codec::object_text(
            "delegation.custom_claim_values_json",
            &mut d.custom_claim_values,
        )?;
        codec::object_text("delegation.claims_json", &mut d.claims)?;
        d.consent_result = d.consent_result.filter(|c| !c.trim().is_empty());
        if let Some(c) = &mut d.consent_result {
            codec::object_text("delegation.consent_result_json", c)?;
        }
        let mut item = self.0.encode(&d)?;
        let settings = self.0.settings();
        claims::add_attributes(&mut item, &d, &settings.delegations);
        item.insert("version".into(), s(FORMAT_VERSION));
        let retain = settings.ttl.delegations_retain_seconds;
        item.insert(TTL_ATTRIBUTE.into(), n(plus_retain(d.expires, retain)));
        if let Some(t) = tenant.id() {
            item.insert(TENANT_ID.into(), s(t));
        }
        codec::check_item_size("delegation", &item)?;
        let free = Cond::NotExists(self.0.def().hash.name).or(in_tenant(tenant));
        if self.0.put_if(item, &free).await? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists {
                what: "delegation",
                field: "delegation.id",
            })
        }
    }

    /// The delegation when it exists in this tenant, whatever its status.
    pub async fn get(
        &self,
        tenant: Tenant<'_>,
        id: &str,
    ) -> Result<Option<Delegation>, StoreError> {
        codec::check_key("id", id)?;
        match self.0.get(self.0.key(id)).await? {
            Some(item) if item_tenant(&item) == tenant.id() => self.decode_checked(item).map(Some),
            _ => Ok(None),
        }
    }

    /// As the plugin's `getById`: only an issued delegation.
    pub async fn get_issued(
        &self,
        tenant: Tenant<'_>,
        id: &str,
    ) -> Result<Option<Delegation>, StoreError> {
        Ok(self.get(tenant, id).await?.filter(|d| d.status == ISSUED))
    }

    /// Whatever its status. Every page of the index is read (the plugin
    /// reads one), and only this tenant's delegations count.
    pub async fn get_by_authorization_code_hash(
        &self,
        tenant: Tenant<'_>,
        hash: &str,
    ) -> Result<Option<Delegation>, StoreError> {
        codec::check_key("authorization_code_hash", hash)?;
        let step = Step::query(
            Some(AUTHORIZATION_HASH_INDEX),
            &Cond::eq("authorizationCodeHash", s(hash)),
            Some(&in_tenant(tenant)),
        );
        let mut found = None;
        run::walk(&self.0, &[step], true, |_, item| {
            found = Some(item);
            ControlFlow::Break(())
        })
        .await?;
        found.map(|i| self.decode_checked(i)).transpose()
    }

    /// 1 when the delegation exists in this tenant and took the status.
    pub async fn set_status(
        &self,
        tenant: Tenant<'_>,
        id: &str,
        status: &str,
    ) -> Result<u32, StoreError> {
        codec::check_key("id", id)?;
        check_status("status", status)?;
        let updated = self
            .0
            .update_if(
                self.0.key(id),
                &Update::new().set("status", s(status)),
                &self.0.exists().and(in_tenant(tenant)),
            )
            .await?;
        Ok(u32::from(updated))
    }

    /// Decodes an item; a status Curity cannot read is a malformed item.
    pub(crate) fn decode_checked(&self, item: codec::Item) -> Result<Delegation, StoreError> {
        let d: Delegation = self.0.decode(item)?;
        if !STATUSES.contains(&d.status.as_str()) {
            return Err(StoreError::MalformedItem {
                table: self.name().to_string(),
                reason: "status: not issued or revoked".into(),
            });
        }
        Ok(d)
    }
}

pub(crate) const OWNER_INDEX: &str = "owner-status-index";
pub(crate) const CLIENT_INDEX: &str = "clientId-status-index";
const AUTHORIZATION_HASH_INDEX: &str = "authorization-hash-index";
