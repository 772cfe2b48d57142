//! `BucketService` over `store::buckets`.

use tonic::Request;

use super::{
    Reply, Tenanted,
    convert::{object_in, object_out, tenant},
    rpc,
};
use crate::{
    proto::{self, bucket_service_server::BucketService},
    store::{StoreError, buckets::Bucket},
};

super::service!(BucketApi, buckets);

fn key(k: &Option<proto::BucketKey>) -> Result<&proto::BucketKey, StoreError> {
    k.as_ref()
        .ok_or_else(|| StoreError::invalid("key", "required"))
}

#[tonic::async_trait]
impl BucketService for BucketApi {
    async fn get_bucket(
        &self,
        request: Request<proto::GetBucketRequest>,
    ) -> Reply<proto::GetBucketResponse> {
        rpc(&self.table, request, |req| async move {
            let k = key(&req.key)?;
            let bucket = self
                .store
                .buckets()
                .get(req.tenant()?, &k.subject, &k.purpose)
                .await?;
            Ok(match bucket {
                Bucket::NotFound => proto::GetBucketResponse {
                    state: proto::BucketState::NotFound as i32,
                    ..Default::default()
                },
                Bucket::Expired { expires } => proto::GetBucketResponse {
                    state: proto::BucketState::Expired as i32,
                    expires: Some(expires),
                    ..Default::default()
                },
                Bucket::Found {
                    attributes,
                    expires,
                } => {
                    let (attributes, attributes_json) = object_out(attributes);
                    proto::GetBucketResponse {
                        state: proto::BucketState::Found as i32,
                        attributes,
                        expires,
                        attributes_json,
                    }
                }
            })
        })
        .await
    }

    async fn store_bucket(
        &self,
        request: Request<proto::StoreBucketRequest>,
    ) -> Reply<proto::StoreBucketResponse> {
        rpc(&self.table, request, |req| async move {
            let k = key(&req.key)?;
            let attributes = object_in("attributes_json", &req.attributes_json, req.attributes)?
                .unwrap_or_default();
            self.store
                .buckets()
                .store(
                    tenant(&k.tenant)?,
                    &k.subject,
                    &k.purpose,
                    &attributes,
                    req.expires,
                )
                .await?;
            let (attributes, attributes_json) = object_out(attributes);
            Ok(proto::StoreBucketResponse {
                attributes,
                attributes_json,
            })
        })
        .await
    }

    async fn clear_bucket(
        &self,
        request: Request<proto::ClearBucketRequest>,
    ) -> Reply<proto::ClearBucketResponse> {
        rpc(&self.table, request, |req| async move {
            let k = key(&req.key)?;
            let cleared = self
                .store
                .buckets()
                .clear(req.tenant()?, &k.subject, &k.purpose)
                .await?;
            Ok(proto::ClearBucketResponse { cleared })
        })
        .await
    }
}
