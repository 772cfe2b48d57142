//! `BucketService` over `store::buckets`.

use super::{
    Tenanted,
    convert::{object_in, object_out, tenant},
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

super::rpcs! {
    BucketService for BucketApi;

    get_bucket(GetBucketRequest) -> GetBucketResponse, |api, req| {
        let k = key(&req.key)?;
        let bucket = api
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
    }

    store_bucket(StoreBucketRequest) -> StoreBucketResponse, |api, req| {
        let k = key(&req.key)?;
        let attributes = object_in("attributes_json", &req.attributes_json, req.attributes)?
            .unwrap_or_default();
        api.store
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
    }

    clear_bucket(ClearBucketRequest) -> ClearBucketResponse, |api, req| {
        let k = key(&req.key)?;
        let cleared = api
            .store
            .buckets()
            .clear(req.tenant()?, &k.subject, &k.purpose)
            .await?;
        Ok(proto::ClearBucketResponse { cleared })
    }
}
