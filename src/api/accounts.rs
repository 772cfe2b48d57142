//! `AccountService` over `store::accounts` and `store::accounts_list`.

use std::sync::Arc;

use tonic::Request;

use super::{
    Reply, Tenanted,
    convert::{object_in, object_out, tenant},
    rpc,
};
use crate::{
    proto::{self, account_service_server::AccountService},
    store::{
        StoreError,
        accounts::{Account, AccountPatch, Lookup, NewAccount},
        accounts::{Sort, SortKey},
    },
};

super::service!(AccountApi, accounts);

pub fn account_to_proto(a: Account) -> proto::Account {
    let (attributes, attributes_json) = object_out(a.attributes);
    proto::Account {
        id: a.id,
        user_name: a.user_name,
        active: a.active,
        attributes,
        created: a.created,
        updated: a.updated,
        version: a.version,
        attributes_json,
    }
}

fn new_account(a: Option<proto::NewAccount>) -> Result<NewAccount, StoreError> {
    let a = a.ok_or_else(|| StoreError::invalid("account", "required"))?;
    Ok(NewAccount {
        user_name: a.user_name,
        active: a.active,
        attributes: object_in("account.attributes_json", &a.attributes_json, a.attributes)?
            .unwrap_or_default(),
    })
}

/// A read's answer: rendered once per cached account, sent as is by every
/// hit after.
fn found(a: Option<Arc<Account>>) -> proto::AccountResponse {
    proto::AccountResponse::rendered(
        a,
        |a| &a.rendered,
        |a| account_to_proto(Arc::unwrap_or_clone(a)),
    )
}

fn must_exist(a: Option<Account>) -> Result<proto::AccountResponse, StoreError> {
    match a {
        Some(a) => Ok(proto::AccountResponse::new(Some(account_to_proto(a)))),
        None => Err(StoreError::NotFound { what: "account" }),
    }
}

#[tonic::async_trait]
impl AccountService for AccountApi {
    async fn get_by_id(
        &self,
        request: Request<proto::GetAccountByIdRequest>,
    ) -> Reply<proto::AccountResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            Ok(found(
                self.store
                    .accounts()
                    .get_by(tenant, Lookup::Id, &req.id)
                    .await?,
            ))
        })
        .await
    }

    async fn get_by_user_name(
        &self,
        request: Request<proto::GetAccountByUserNameRequest>,
    ) -> Reply<proto::AccountResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            Ok(found(
                self.store
                    .accounts()
                    .get_by(tenant, Lookup::UserName, &req.user_name)
                    .await?,
            ))
        })
        .await
    }

    async fn get_by_email(
        &self,
        request: Request<proto::GetAccountByEmailRequest>,
    ) -> Reply<proto::AccountResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            Ok(found(
                self.store
                    .accounts()
                    .get_by(tenant, Lookup::Email, &req.email)
                    .await?,
            ))
        })
        .await
    }

    async fn get_by_phone(
        &self,
        request: Request<proto::GetAccountByPhoneRequest>,
    ) -> Reply<proto::AccountResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            Ok(found(
                self.store
                    .accounts()
                    .get_by(tenant, Lookup::Phone, &req.phone)
                    .await?,
            ))
        })
        .await
    }

    async fn create(
        &self,
        request: Request<proto::CreateAccountRequest>,
    ) -> Reply<proto::CreateAccountResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = tenant(&req.tenant)?;
            let account = self
                .store
                .accounts()
                .create(tenant, new_account(req.account)?, req.password_hash)
                .await?;
            Ok(proto::CreateAccountResponse {
                account: Some(account_to_proto(account)),
            })
        })
        .await
    }

    async fn update(
        &self,
        request: Request<proto::UpdateAccountRequest>,
    ) -> Reply<proto::AccountResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = tenant(&req.tenant)?;
            let new = new_account(req.account)?;
            must_exist(
                self.store
                    .accounts()
                    .update(tenant, &req.id, new, req.expected_version)
                    .await?,
            )
        })
        .await
    }

    async fn patch(
        &self,
        request: Request<proto::PatchAccountRequest>,
    ) -> Reply<proto::AccountResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = tenant(&req.tenant)?;
            let patch = AccountPatch {
                user_name: req.user_name,
                active: req.active,
                set: object_in(
                    "set_attributes_json",
                    &req.set_attributes_json,
                    req.set_attributes,
                )?
                .unwrap_or_default(),
                remove: req.remove_attributes,
            };
            must_exist(self.store.accounts().patch(tenant, &req.id, &patch).await?)
        })
        .await
    }

    async fn delete(
        &self,
        request: Request<proto::DeleteAccountRequest>,
    ) -> Reply<proto::DeleteAccountResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let deleted = self.store.accounts().delete(tenant, &req.id).await?;
            Ok(proto::DeleteAccountResponse { deleted })
        })
        .await
    }

    async fn list(
        &self,
        request: Request<proto::ListAccountsRequest>,
    ) -> Reply<proto::ListAccountsResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let (count, cursor) = match &req.page {
                Some(p) => (p.count.map(|c| c as usize), p.cursor.as_str()),
                None => (None, ""),
            };
            let sort = match req.sort_by() {
                proto::AccountSort::None => None,
                proto::AccountSort::UserName => Some(SortKey::UserName),
                proto::AccountSort::Email => Some(SortKey::Email),
            }
            .map(|key| Sort {
                key,
                descending: req.descending,
            });
            let page = self
                .store
                .accounts()
                .list(tenant, &req.filter, sort, count, cursor)
                .await?;
            Ok(proto::ListAccountsResponse {
                accounts: page.accounts.into_iter().map(account_to_proto).collect(),
                page: Some(proto::PaginationResponse {
                    cursor: page.next.unwrap_or_default(),
                }),
            })
        })
        .await
    }

    async fn count(
        &self,
        request: Request<proto::CountAccountsRequest>,
    ) -> Reply<proto::CountAccountsResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let (count, truncated) = self.store.accounts().count(tenant, &req.filter).await?;
            Ok(proto::CountAccountsResponse { count, truncated })
        })
        .await
    }
}
