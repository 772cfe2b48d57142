//! `AccountService` over `store::accounts` and `store::accounts_list`.

use std::sync::Arc;

use super::{
    Tenanted,
    convert::{object_in, object_out, tenant},
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

super::rpcs! {
    AccountService for AccountApi;

    get_by_id(GetAccountByIdRequest) -> AccountResponse, |api, req| {
        let tenant = req.tenant()?;
        Ok(found(
            api.store.accounts().get_by(tenant, Lookup::Id, &req.id).await?,
        ))
    }

    get_by_user_name(GetAccountByUserNameRequest) -> AccountResponse, |api, req| {
        let tenant = req.tenant()?;
        Ok(found(
            api.store
                .accounts()
                .get_by(tenant, Lookup::UserName, &req.user_name)
                .await?,
        ))
    }

    get_by_email(GetAccountByEmailRequest) -> AccountResponse, |api, req| {
        let tenant = req.tenant()?;
        Ok(found(
            api.store
                .accounts()
                .get_by(tenant, Lookup::Email, &req.email)
                .await?,
        ))
    }

    get_by_phone(GetAccountByPhoneRequest) -> AccountResponse, |api, req| {
        let tenant = req.tenant()?;
        Ok(found(
            api.store
                .accounts()
                .get_by(tenant, Lookup::Phone, &req.phone)
                .await?,
        ))
    }

    create(CreateAccountRequest) -> CreateAccountResponse, |api, req| {
        let tenant = tenant(&req.tenant)?;
        let account = api
            .store
            .accounts()
            .create(tenant, new_account(req.account)?, req.password_hash)
            .await?;
        Ok(proto::CreateAccountResponse {
            account: Some(account_to_proto(account)),
        })
    }

    update(UpdateAccountRequest) -> AccountResponse, |api, req| {
        let tenant = tenant(&req.tenant)?;
        let new = new_account(req.account)?;
        must_exist(
            api.store
                .accounts()
                .update(tenant, &req.id, new, req.expected_version)
                .await?,
        )
    }

    patch(PatchAccountRequest) -> AccountResponse, |api, req| {
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
        must_exist(api.store.accounts().patch(tenant, &req.id, &patch).await?)
    }

    delete(DeleteAccountRequest) -> DeleteAccountResponse, |api, req| {
        let tenant = req.tenant()?;
        let deleted = api.store.accounts().delete(tenant, &req.id).await?;
        Ok(proto::DeleteAccountResponse { deleted })
    }

    list(ListAccountsRequest) -> ListAccountsResponse, |api, req| {
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
        let page = api
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
    }

    count(CountAccountsRequest) -> CountAccountsResponse, |api, req| {
        let tenant = req.tenant()?;
        let (count, truncated) = api.store.accounts().count(tenant, &req.filter).await?;
        Ok(proto::CountAccountsResponse { count, truncated })
    }
}
