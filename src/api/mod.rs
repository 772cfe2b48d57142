//! One tonic service per data type: decode, validate, call the store,
//! encode. Knows protobuf, nothing about DynamoDB. `admission` is the layer
//! in front of every call, `glue` what every RPC shares; `services` the one
//! list of what `serve` registers.

pub mod accounts;
mod admission;
pub mod audit;
pub mod buckets;
pub mod convert;
pub mod credentials;
pub mod database_clients;
pub mod delegations;
pub mod devices;
pub mod dynamic_clients;
mod glue;
pub mod links;
pub mod sessions;
pub mod status;
pub mod tokens;

use tonic::{
    server::NamedService,
    service::{Routes, RoutesBuilder},
};

pub(crate) use self::glue::{Done, Reply, Tenanted, rpc};
use self::{
    accounts::AccountApi,
    buckets::BucketApi,
    credentials::CredentialApi,
    database_clients::{DatabaseClientApi, DatabaseServiceProviderApi},
    delegations::DelegationApi,
    devices::DeviceApi,
    dynamic_clients::DynamicClientApi,
    links::{AttributeApi, LinkApi},
    sessions::SessionApi,
    tokens::{NonceApi, TokenApi},
};
pub use self::{
    admission::Admission,
    glue::{RpcMethod, method_of},
};
use crate::{
    proto::{
        account_service_server::AccountServiceServer,
        attribute_service_server::AttributeServiceServer,
        bucket_service_server::BucketServiceServer,
        credential_service_server::CredentialServiceServer,
        database_client_service_server::DatabaseClientServiceServer,
        database_service_provider_service_server::DatabaseServiceProviderServiceServer,
        delegation_service_server::DelegationServiceServer,
        device_service_server::DeviceServiceServer,
        dynamic_client_service_server::DynamicClientServiceServer,
        link_service_server::LinkServiceServer, nonce_service_server::NonceServiceServer,
        session_service_server::SessionServiceServer, token_service_server::TokenServiceServer,
    },
    store::Store,
};

/// A service type over the store, labelled with the table its calls touch.
macro_rules! service {
    ($name:ident, $table:ident: $handle:ty) => {
        pub struct $name {
            store: $crate::store::Store,
            table: String,
        }

        impl $name {
            pub fn new(store: $crate::store::Store) -> Self {
                Self {
                    table: store.$table().name().to_string(),
                    store,
                }
            }

            /// The handle of the table this service serves.
            fn db(&self) -> $handle {
                self.store.$table()
            }
        }
    };
}
use service;

/// Implements tonic's trait for `$api` from a list of its methods: each
/// one runs the inherent method of the same name inside `rpc` (span,
/// metrics, audit, error mapping). Only the list is macro input; the bodies
/// are plain methods, which rustfmt and rust-analyzer see. A path call
/// `$api::m` picks the inherent method over the trait's.
macro_rules! serves {
    ($api:ident: $service:ident { $($method:ident($req:ident) -> $res:ident;)* }) => {
        #[tonic::async_trait]
        impl $service for $api {
            $(
                async fn $method(
                    &self,
                    request: tonic::Request<$crate::proto::$req>,
                ) -> $crate::api::Reply<$crate::proto::$res> {
                    $crate::api::rpc(&self.table, request, |req| $api::$method(self, req)).await
                }
            )*
        }
    };
}
use serves;

/// The one list of data services: `SERVICE_NAMES` (what health reports)
/// and `services` (what `serve` routes) come from the same entries, so a
/// service cannot be served without a health name or named without being
/// served.
macro_rules! registry {
    ($($server:ident($api:ident)),* $(,)?) => {
        /// The full proto name of every data service.
        pub const SERVICE_NAMES: &[&str] = &[$(<$server<$api> as NamedService>::NAME),*];

        /// The routes of every data service over `store` (`serve` puts
        /// them behind `auth::AuthLayer`).
        pub fn services(store: &Store) -> Routes {
            let mut routes = RoutesBuilder::default();
            $(routes.add_service($server::new($api::new(store.clone())));)*
            routes.routes()
        }
    };
}

registry!(
    AccountServiceServer(AccountApi),
    CredentialServiceServer(CredentialApi),
    LinkServiceServer(LinkApi),
    AttributeServiceServer(AttributeApi),
    SessionServiceServer(SessionApi),
    TokenServiceServer(TokenApi),
    NonceServiceServer(NonceApi),
    BucketServiceServer(BucketApi),
    DelegationServiceServer(DelegationApi),
    DeviceServiceServer(DeviceApi),
    DynamicClientServiceServer(DynamicClientApi),
    DatabaseClientServiceServer(DatabaseClientApi),
    DatabaseServiceProviderServiceServer(DatabaseServiceProviderApi),
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_of_the_protos_is_registered_with_a_health_name() {
        let mut in_protos = glue::service_paths();
        in_protos.sort_unstable();
        let mut registered: Vec<&str> = SERVICE_NAMES.to_vec();
        registered.sort_unstable();
        assert_eq!(registered, in_protos);
    }
}
