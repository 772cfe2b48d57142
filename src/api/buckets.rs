//! `BucketService` over `store::buckets`.

use super::{
    Done, Tenanted,
    convert::{object_in, object_out, tenant},
};
use crate::{
    proto::{self, bucket_service_server::BucketService},
    store::{StoreError, buckets::Bucket},
};

super::service!(BucketApi, buckets: crate::store::buckets::Buckets<'_>);

fn key(k: &Option<proto::BucketKey>) -> Result<&proto::BucketKey, StoreError> {
    k.as_ref()
        .ok_or_else(|| StoreError::invalid("key", "required"))
}

super::serves!(BucketApi: BucketService {
    get_bucket(GetBucketRequest) -> GetBucketResponse;
    store_bucket(StoreBucketRequest) -> StoreBucketResponse;
    clear_bucket(ClearBucketRequest) -> ClearBucketResponse;
});

impl BucketApi {
    async fn get_bucket(&self, req: proto::GetBucketRequest) -> Done<proto::GetBucketResponse> {
        let k = key(&req.key)?;
        let bucket = self.db().get(req.tenant()?, &k.subject, &k.purpose).await?;
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

    async fn store_bucket(
        &self,
        req: proto::StoreBucketRequest,
    ) -> Done<proto::StoreBucketResponse> {
        let k = key(&req.key)?;
        let attributes =
            object_in("attributes_json", &req.attributes_json, req.attributes)?.unwrap_or_default();
        self.db()
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

    async fn clear_bucket(
        &self,
        req: proto::ClearBucketRequest,
    ) -> Done<proto::ClearBucketResponse> {
        let k = key(&req.key)?;
        let cleared = self
            .db()
            .clear(req.tenant()?, &k.subject, &k.purpose)
            .await?;
        Ok(proto::ClearBucketResponse { cleared })
    }
}
