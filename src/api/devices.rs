//! `DeviceService` over `store::devices`.

use tonic::Request;

use super::{Reply, Tenanted, convert::tenant, rpc};
use crate::{
    proto::{self, device_service_server::DeviceService},
    store::{StoreError, delegations::OffsetPage, devices::Device},
};

super::service!(DeviceApi, devices);

/// A proto device and a stored one share these fields, by name; `$extra`
/// are the ones that differ (the JSON text of the other attributes).
macro_rules! device_fields {
    ($from:ident => $($to:ident)::+ { $($extra:tt)* }) => {
        $($to)::+ {
            id: $from.id,
            device_id: $from.device_id,
            account_id: $from.account_id,
            external_id: $from.external_id,
            alias: $from.alias,
            form_factor: $from.form_factor,
            device_type: $from.device_type,
            owner: $from.owner,
            expires_at: $from.expires_at,
            created: $from.created,
            updated: $from.updated,
            $($extra)*
        }
    };
}

fn device_from(d: Option<proto::Device>) -> Result<Device, StoreError> {
    let d = d.ok_or_else(|| StoreError::invalid("device", "required"))?;
    Ok(device_fields!(d => Device {
        attributes: Some(d.attributes_json),
    }))
}

fn device_to(d: Device) -> proto::Device {
    device_fields!(d => proto::Device {
        attributes_json: d.attributes.unwrap_or_default(),
    })
}

#[tonic::async_trait]
impl DeviceService for DeviceApi {
    async fn create(
        &self,
        request: Request<proto::CreateDeviceRequest>,
    ) -> Reply<proto::CreateDeviceResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = tenant(&req.tenant)?;
            let device = self
                .store
                .devices()
                .create(tenant, device_from(req.device)?)
                .await?;
            Ok(proto::CreateDeviceResponse {
                device: Some(device_to(device)),
            })
        })
        .await
    }

    async fn get_by_id(
        &self,
        request: Request<proto::GetDeviceByIdRequest>,
    ) -> Reply<proto::GetDeviceByIdResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let device = self.store.devices().get_by_id(tenant, &req.id).await?;
            Ok(proto::GetDeviceByIdResponse {
                device: device.map(device_to),
            })
        })
        .await
    }

    async fn get_by(
        &self,
        request: Request<proto::GetDeviceByRequest>,
    ) -> Reply<proto::GetDeviceByResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let device = self
                .store
                .devices()
                .get_by(tenant, &req.device_id, &req.account_id)
                .await?;
            Ok(proto::GetDeviceByResponse {
                device: device.map(device_to),
            })
        })
        .await
    }

    async fn list_by_account(
        &self,
        request: Request<proto::ListDevicesByAccountRequest>,
    ) -> Reply<proto::ListDevicesByAccountResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let devices = self
                .store
                .devices()
                .by_account(tenant, &req.account_id)
                .await?;
            Ok(proto::ListDevicesByAccountResponse {
                devices: devices.into_iter().map(device_to).collect(),
            })
        })
        .await
    }

    async fn get_by_device_id(
        &self,
        request: Request<proto::GetDevicesByDeviceIdRequest>,
    ) -> Reply<proto::GetDevicesByDeviceIdResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let devices = self
                .store
                .devices()
                .by_device_id(tenant, &req.device_id)
                .await?;
            Ok(proto::GetDevicesByDeviceIdResponse {
                devices: devices.into_iter().map(device_to).collect(),
            })
        })
        .await
    }

    async fn list(
        &self,
        request: Request<proto::ListDevicesRequest>,
    ) -> Reply<proto::ListDevicesResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let page = OffsetPage::new(req.start_index, req.count);
            let (devices, total_results, truncated) =
                self.store.devices().list(tenant, page).await?;
            Ok(proto::ListDevicesResponse {
                devices: devices.into_iter().map(device_to).collect(),
                total_results,
                truncated,
            })
        })
        .await
    }

    async fn update(
        &self,
        request: Request<proto::UpdateDeviceRequest>,
    ) -> Reply<proto::UpdateDeviceResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = tenant(&req.tenant)?;
            let device = self
                .store
                .devices()
                .update(
                    tenant,
                    device_from(req.device)?,
                    req.current_device_id.as_deref(),
                )
                .await?;
            Ok(proto::UpdateDeviceResponse {
                device: Some(device_to(device)),
            })
        })
        .await
    }

    async fn delete(
        &self,
        request: Request<proto::DeleteDeviceRequest>,
    ) -> Reply<proto::DeleteDeviceResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let deleted = self.store.devices().delete(tenant, &req.id).await?;
            Ok(proto::DeleteDeviceResponse { deleted })
        })
        .await
    }

    async fn delete_by(
        &self,
        request: Request<proto::DeleteDeviceByRequest>,
    ) -> Reply<proto::DeleteDeviceResponse> {
        rpc(&self.table, request, |req| async move {
            let tenant = req.tenant()?;
            let deleted = self
                .store
                .devices()
                .delete_by(tenant, &req.device_id, &req.account_id)
                .await?;
            Ok(proto::DeleteDeviceResponse { deleted })
        })
        .await
    }
}
