//! Credentials live on the account items (`password`, the JSON
//! `credentialAttributes`); the subject is the user name. Every write goes
//! through the account's versioned multi-item update.

use serde_json::{Map, Value};

use super::{
    StoreError,
    accounts::{Accounts, Stored},
    codec::json_object,
    handle,
    keys::{self, Tenant},
};

handle!(
    /// `store.credentials()`: on the account items of `curity-accounts`.
    Credentials
);

#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub account_id: String,
    pub user_name: String,
    pub password_hash: String,
    pub attributes: Map<String, Value>,
}

fn subject_key(tenant: Tenant<'_>, subject: &str) -> Result<String, StoreError> {
    super::codec::check_key("subject", subject)?;
    Ok(keys::account_key(tenant, keys::USER_NAME, subject))
}

impl Credentials<'_> {
    fn accounts(&self) -> Accounts<'_> {
        self.0.tables().accounts()
    }

    /// `None` when the account is missing, inactive, or has no password.
    /// A consistent read (the plugin's is not, so a password just changed
    /// could be missed).
    pub async fn get(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
    ) -> Result<Option<Credential>, StoreError> {
        let key = subject_key(tenant, subject)?;
        let Some(stored) = self.accounts().read_stored(&key).await? else {
            return Ok(None);
        };
        let Stored {
            account,
            password,
            credential_attributes,
            ..
        } = stored;
        let Some(password_hash) = password.filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        if !account.active {
            return Ok(None);
        }
        let attributes = match credential_attributes {
            None => Map::new(),
            Some(json) => json_object(&json).ok_or_else(|| StoreError::MalformedItem {
                table: self.name().to_string(),
                reason: "credentialAttributes is not a JSON object".into(),
            })?,
        };
        Ok(Some(Credential {
            account_id: account.id,
            user_name: account.user_name,
            password_hash,
            attributes,
        }))
    }

    /// Sets the password hash and/or the credential attributes. `false`
    /// when no account has that subject.
    pub async fn store(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
        password_hash: Option<&str>,
        attributes: Option<&Map<String, Value>>,
    ) -> Result<bool, StoreError> {
        if password_hash.is_none() && attributes.is_none() {
            return Err(StoreError::invalid(
                "password_hash",
                "give a password hash, credential attributes, or both",
            ));
        }
        if password_hash.is_some_and(str::is_empty) {
            return Err(StoreError::invalid("password_hash", "must not be empty"));
        }
        let key = subject_key(tenant, subject)?;
        let attrs_json = attributes.map(|a| Value::Object(a.clone()).to_string());
        let done = self
            .accounts()
            .modify(tenant, &key, &|s: &mut Stored| {
                if let Some(p) = password_hash {
                    s.password = Some(p.to_string());
                }
                if let Some(j) = &attrs_json {
                    s.credential_attributes = Some(j.clone());
                }
                Ok(())
            })
            .await?;
        Ok(done.is_some())
    }

    /// Removes the password hash and credential attributes (the plugin's
    /// delete does nothing, which leaves a "deleted" credential usable).
    pub async fn delete(&self, tenant: Tenant<'_>, subject: &str) -> Result<bool, StoreError> {
        let key = subject_key(tenant, subject)?;
        let done = self
            .accounts()
            .modify(tenant, &key, &|s: &mut Stored| {
                s.password = None;
                s.credential_attributes = None;
                Ok(())
            })
            .await?;
        Ok(done.is_some())
    }

    /// Renames the account's user name. `false` when no account has the old
    /// subject (an account update may have renamed it already).
    pub async fn update_subject(
        &self,
        tenant: Tenant<'_>,
        subject: &str,
        new_subject: &str,
    ) -> Result<bool, StoreError> {
        let key = subject_key(tenant, subject)?;
        super::codec::check_key("new_subject", new_subject)?;
        let done = self
            .accounts()
            .modify(tenant, &key, &|s: &mut Stored| {
                s.account.user_name = new_subject.to_string();
                Ok(())
            })
            .await?;
        Ok(done.is_some())
    }
}
