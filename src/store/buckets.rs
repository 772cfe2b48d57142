//! `curity-bucket` (singular): `subject` (hash; `s(<t>)#<subject>` for a
//! custom tenant) and `purpose` (range), the map as a JSON string,
//! `created` (set once), `updated`, optional `expires`, `tenantId`.

use aws_sdk_dynamodb::types::ReturnValue;
use serde_json::{Map, Value};

use super::{
    Store, StoreError,
    accounts::now_epoch,
    codec::{self, n, s},
    expr::{Expr, Update},
    keys::Tenant,
};
use crate::aws::error::classify;

#[derive(Debug, Clone, PartialEq)]
pub enum Bucket {
    NotFound,
    Expired {
        expires: i64,
    },
    Found {
        attributes: Map<String, Value>,
        expires: Option<i64>,
    },
}

/// The stored `subject`: raw for the default tenant, `s(t)#subject` else.
fn subject_key(tenant: Tenant<'_>, subject: &str) -> Result<String, StoreError> {
    codec::check_key("key.subject", subject)?;
    Ok(match tenant {
        // The plugin stores default-tenant subjects raw, so one shaped like
        // a tenant key would read and overwrite that tenant's bucket.
        Tenant::Default if subject.starts_with("s(") && subject.contains(")#") => {
            return Err(StoreError::invalid(
                "key.subject",
                "a default-tenant subject may not look like a tenant key (s(<tenant>)#...)",
            ));
        }
        Tenant::Default => subject.to_string(),
        Tenant::Custom(_) => format!("{}{subject}", tenant.prefix("s")),
    })
}

impl Store {
    /// Consistent read; an expired bucket is reported, not returned.
    pub async fn get_bucket(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
        purpose: &str,
    ) -> Result<Bucket, StoreError> {
        let key = subject_key(tenant, subject)?;
        codec::check_key("key.purpose", purpose)?;
        let table = &self.tables().bucket;
        let client = self.client().await?;
        let out = client
            .get_item()
            .table_name(table)
            .key("subject", s(&key))
            .key("purpose", s(purpose))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(&e, self.at("dynamodb:GetItem", table)))?;
        let Some(mut item) = out.item else {
            return Ok(Bucket::NotFound);
        };
        let expires = codec::get_n(&item, table, "expires").ok();
        if let Some(exp) = expires
            && now_epoch() > exp
        {
            return Ok(Bucket::Expired { expires: exp });
        }
        let json = codec::get_s(&mut item, table, "attributes")?;
        let attributes = match serde_json::from_str(&json) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(StoreError::MalformedItem {
                    table: table.clone(),
                    reason: "attributes is not a JSON object".into(),
                });
            }
        };
        Ok(Bucket::Found {
            attributes,
            expires,
        })
    }

    /// Upsert: replaces the map, sets `updated`, keeps `created` (and
    /// `tenantId`), sets or removes `expires`.
    pub async fn store_bucket(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
        purpose: &str,
        attributes: &Map<String, Value>,
        expires: Option<i64>,
    ) -> Result<(), StoreError> {
        let key = subject_key(tenant, subject)?;
        codec::check_key("key.purpose", purpose)?;
        let json = Value::Object(attributes.clone()).to_string();
        // DynamoDB's item limit, less room for the keys and timestamps.
        if json.len() + key.len() + purpose.len() > 400 * 1024 - 256 {
            return Err(StoreError::invalid(
                "attributes",
                "the bucket would exceed DynamoDB's 400 KB item size",
            ));
        }
        let table = &self.tables().bucket;
        let now = now_epoch();
        let mut update = Update::new()
            .set("attributes", s(json))
            .set("updated", n(now))
            .set_if_absent("created", n(now));
        if let Some(t) = tenant.id() {
            update = update.set_if_absent("tenantId", s(t));
        }
        update = match expires {
            Some(at) => update.set("expires", n(at)),
            None => update.remove("expires"),
        };
        let mut e = Expr::new();
        let update = e.update(&update);
        let (names, values) = e.into_parts();
        let client = self.client().await?;
        client
            .update_item()
            .table_name(table)
            .key("subject", s(&key))
            .key("purpose", s(purpose))
            .update_expression(update)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await
            .map_err(|e| classify(&e, self.at("dynamodb:UpdateItem", table)))?;
        Ok(())
    }

    /// `true` when a bucket was removed.
    pub async fn clear_bucket(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
        purpose: &str,
    ) -> Result<bool, StoreError> {
        let key = subject_key(tenant, subject)?;
        codec::check_key("key.purpose", purpose)?;
        let table = &self.tables().bucket;
        let client = self.client().await?;
        let out = client
            .delete_item()
            .table_name(table)
            .key("subject", s(&key))
            .key("purpose", s(purpose))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| classify(&e, self.at("dynamodb:DeleteItem", table)))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_raw_for_the_default_tenant_and_prefixed_otherwise() {
        assert_eq!(subject_key(Tenant::Default, "jane").unwrap(), "jane");
        assert_eq!(
            subject_key(Tenant::Custom("t"), "jane").unwrap(),
            "s(t)#jane"
        );
        assert!(subject_key(Tenant::Default, "s(t)#jane").is_err());
        assert!(subject_key(Tenant::Default, "").is_err());
    }
}
