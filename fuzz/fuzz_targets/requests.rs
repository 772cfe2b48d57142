//! Request decoding: any bytes are refused or decoded into a request, and
//! the JSON attribute text beside a `Struct` is refused or read, never a
//! panic.
#![no_main]

use curity_dynamodb::{api::convert::object_in, proto};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = proto::CreateAccountRequest::decode(data)
        && let Some(account) = req.account
    {
        let _ = object_in(
            "account.attributes_json",
            &account.attributes_json,
            account.attributes,
        );
    }
    if let Ok(req) = proto::PatchAccountRequest::decode(data) {
        let _ = object_in(
            "set_attributes_json",
            &req.set_attributes_json,
            req.set_attributes,
        );
    }
    let _ = proto::ListAccountsRequest::decode(data);
    let _ = proto::StoreCredentialRequest::decode(data);
    if let Ok(req) = proto::CreateTokenRequest::decode(data)
        && let Some(t) = req.token
    {
        let _ = object_in("token.data_json", &t.data_json, t.data);
    }
    let _ = proto::StoreBucketRequest::decode(data);
    let _ = proto::InsertSessionRequest::decode(data);
    let _ = proto::CreateDelegationRequest::decode(data);
    let _ = proto::ListDelegationsRequest::decode(data);
    let _ = proto::CreateDeviceRequest::decode(data);
    let _ = proto::UpdateDeviceRequest::decode(data);
    let _ = proto::CreateDynamicClientRequest::decode(data);
    let _ = proto::ListDynamicClientsRequest::decode(data);
    let _ = proto::PutDatabaseClientRequest::decode(data);
    let _ = proto::PutDatabaseServiceProviderRequest::decode(data);
    let _ = proto::CatalogListRequest::decode(data);
});
