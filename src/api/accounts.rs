//! `AccountService` over `store::accounts` and `store::accounts_list`.

use std::sync::Arc;

use super::{
    Done, Tenanted,
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

super::service!(AccountApi, accounts: crate::store::accounts::Accounts<'_>);

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

super::serves!(AccountApi: AccountService {
    get_by_id(GetAccountByIdRequest) -> AccountResponse;
    get_by_user_name(GetAccountByUserNameRequest) -> AccountResponse;
    get_by_email(GetAccountByEmailRequest) -> AccountResponse;
    get_by_phone(GetAccountByPhoneRequest) -> AccountResponse;
    create(CreateAccountRequest) -> CreateAccountResponse;
    update(UpdateAccountRequest) -> AccountResponse;
    patch(PatchAccountRequest) -> AccountResponse;
    delete(DeleteAccountRequest) -> DeleteAccountResponse;
    list(ListAccountsRequest) -> ListAccountsResponse;
    count(CountAccountsRequest) -> CountAccountsResponse;
});

impl AccountApi {
    async fn get_by_id(&self, req: proto::GetAccountByIdRequest) -> Done<proto::AccountResponse> {
        let tenant = req.tenant()?;
        Ok(found(self.db().get_by(tenant, Lookup::Id, &req.id).await?))
    }

    async fn get_by_user_name(
        &self,
        req: proto::GetAccountByUserNameRequest,
    ) -> Done<proto::AccountResponse> {
        let tenant = req.tenant()?;
        Ok(found(
            self.db()
                .get_by(tenant, Lookup::UserName, &req.user_name)
                .await?,
        ))
    }

    async fn get_by_email(
        &self,
        req: proto::GetAccountByEmailRequest,
    ) -> Done<proto::AccountResponse> {
        let tenant = req.tenant()?;
        Ok(found(
            self.db().get_by(tenant, Lookup::Email, &req.email).await?,
        ))
    }

    async fn get_by_phone(
        &self,
        req: proto::GetAccountByPhoneRequest,
    ) -> Done<proto::AccountResponse> {
        let tenant = req.tenant()?;
        Ok(found(
            self.db().get_by(tenant, Lookup::Phone, &req.phone).await?,
        ))
    }

    async fn create(&self, req: proto::CreateAccountRequest) -> Done<proto::CreateAccountResponse> {
        let tenant = tenant(&req.tenant)?;
        let account = self
            .db()
            .create(tenant, new_account(req.account)?, req.password_hash)
            .await?;
        Ok(proto::CreateAccountResponse {
            account: Some(account_to_proto(account)),
        })
    }

    async fn update(&self, req: proto::UpdateAccountRequest) -> Done<proto::AccountResponse> {
        let tenant = tenant(&req.tenant)?;
        let new = new_account(req.account)?;
        must_exist(
            self.db()
                .update(tenant, &req.id, new, req.expected_version)
                .await?,
        )
    }

    async fn patch(&self, req: proto::PatchAccountRequest) -> Done<proto::AccountResponse> {
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
        must_exist(self.db().patch(tenant, &req.id, &patch).await?)
    }

    async fn delete(&self, req: proto::DeleteAccountRequest) -> Done<proto::DeleteAccountResponse> {
        let tenant = req.tenant()?;
        let deleted = self.db().delete(tenant, &req.id).await?;
        Ok(proto::DeleteAccountResponse { deleted })
    }

    async fn list(&self, req: proto::ListAccountsRequest) -> Done<proto::ListAccountsResponse> {
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
            .db()
            .list(tenant, &req.filter, sort, count, cursor)
            .await?;
        Ok(proto::ListAccountsResponse {
            accounts: page.accounts.into_iter().map(account_to_proto).collect(),
            page: Some(proto::PaginationResponse {
                cursor: page.next.unwrap_or_default(),
            }),
        })
    }

    async fn count(&self, req: proto::CountAccountsRequest) -> Done<proto::CountAccountsResponse> {
        let tenant = req.tenant()?;
        let (count, truncated) = self.db().count(tenant, &req.filter).await?;
        Ok(proto::CountAccountsResponse { count, truncated })
    }
}
