//! `BucketService` over `store::buckets`.

use tonic::{Request, Response, Status};

use super::{
    convert::{object_in, object_out, tenant},
    rpc,
};
use crate::{
    proto::{self, bucket_service_server::BucketService},
    store::{Store, StoreError, buckets::Bucket},
};

pub struct BucketApi {
    store: Store,
}

impl BucketApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn table(&self) -> &str {
        &self.store.tables().bucket
    }
}

fn key(k: &Option<proto::BucketKey>) -> Result<&proto::BucketKey, StoreError> {
    k.as_ref()
        .ok_or_else(|| StoreError::invalid("key", "required"))
}

fn tenant_id(k: &Option<proto::BucketKey>) -> Option<&str> {
    k.as_ref()
        .and_then(|k| k.tenant.as_ref())
        .map(|t| t.id.as_str())
}

#[tonic::async_trait]
impl BucketService for BucketApi {
    async fn get_bucket(
        &self,
        request: Request<proto::GetBucketRequest>,
    ) -> Result<Response<proto::GetBucketResponse>, Status> {
        let req = request.into_inner();
        rpc(
            "Buckets.GetBucket",
            self.table(),
            tenant_id(&req.key),
            async {
                let k = key(&req.key)?;
                let bucket = self
                    .store
                    .get_bucket(tenant(&k.tenant)?, &k.subject, &k.purpose)
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
            },
        )
        .await
    }

    async fn store_bucket(
        &self,
        request: Request<proto::StoreBucketRequest>,
    ) -> Result<Response<proto::StoreBucketResponse>, Status> {
        let req = request.into_inner();
        rpc(
            "Buckets.StoreBucket",
            self.table(),
            tenant_id(&req.key),
            async {
                let k = key(&req.key)?;
                let attributes =
                    object_in("attributes_json", &req.attributes_json, req.attributes)?
                        .unwrap_or_default();
                self.store
                    .store_bucket(
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
            },
        )
        .await
    }

    async fn clear_bucket(
        &self,
        request: Request<proto::ClearBucketRequest>,
    ) -> Result<Response<proto::ClearBucketResponse>, Status> {
        let req = request.into_inner();
        rpc(
            "Buckets.ClearBucket",
            self.table(),
            tenant_id(&req.key),
            async {
                let k = key(&req.key)?;
                let cleared = self
                    .store
                    .clear_bucket(tenant(&k.tenant)?, &k.subject, &k.purpose)
                    .await?;
                Ok(proto::ClearBucketResponse { cleared })
            },
        )
        .await
    }
}
