//! `curity-bucket` (singular): `subject` (hash; `s(<t>)#<subject>` for a
//! custom tenant) and `purpose` (range), the map as a JSON string,
//! `created` (set once), `updated`, optional `expires`, `tenantId`.

use aws_sdk_dynamodb::types::ReturnValue;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    StoreError,
    codec::{self, n, now_epoch, s},
    expr::Update,
    handle,
    keys::Tenant,
};
use crate::aws::error::SdkResultExt;

handle!(
    /// `store.buckets()`.
    Buckets
);

/// What a read needs of the item (`subject`, `purpose`, `created`,
/// `updated` and `tenantId` are written, never read back). `attributes` is
/// JSON object text, not a map.
#[derive(Debug, Deserialize)]
struct BucketItem {
    #[serde(with = "codec::json_text")]
    attributes: Map<String, Value>,
    #[serde(default, with = "codec::epoch::option")]
    expires: Option<i64>,
}

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

impl Buckets<'_> {
    /// The item key of (tenant, subject, purpose).
    fn bucket_key(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
        purpose: &str,
    ) -> Result<codec::Item, StoreError> {
        let key = subject_key(tenant, subject)?;
        codec::check_key("key.purpose", purpose)?;
        Ok(self.0.key2(&key, purpose))
    }

    /// Consistent read; an expired bucket is reported, not returned.
    pub async fn get(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
        purpose: &str,
    ) -> Result<Bucket, StoreError> {
        let key = self.bucket_key(tenant, subject, purpose)?;
        let Some(item) = self.0.read::<BucketItem>(key).await? else {
            return Ok(Bucket::NotFound);
        };
        match item.expires {
            Some(exp) if now_epoch() > exp => Ok(Bucket::Expired { expires: exp }),
            expires => Ok(Bucket::Found {
                attributes: item.attributes,
                expires,
            }),
        }
    }

    pub async fn store(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
        purpose: &str,
        attributes: &Map<String, Value>,
        expires: Option<i64>,
    ) -> Result<(), StoreError> {
        let key = self.bucket_key(tenant, subject, purpose)?;
        let json = Value::Object(attributes.clone()).to_string();
        let key_bytes: usize = key
            .values()
            .filter_map(|v| v.as_s().ok())
            .map(String::len)
            .sum();
        // DynamoDB's item limit, less room for the keys and timestamps.
        if json.len() + key_bytes > 400 * 1024 - 256 {
            return Err(StoreError::invalid(
                "attributes",
                "the bucket would exceed DynamoDB's 400 KB item size",
            ));
        }
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
        self.0.update(key, &update).await
    }

    pub async fn clear(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
        purpose: &str,
    ) -> Result<bool, StoreError> {
        let key = self.bucket_key(tenant, subject, purpose)?;
        let client = self.0.client().await?;
        let out = client
            .delete_item()
            .table_name(self.name())
            .set_key(Some(key))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .classify(self.0.at("dynamodb:DeleteItem"))?;
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
