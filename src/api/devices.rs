//! `DeviceService` over `store::devices`.

use super::{Done, Tenanted, convert::tenant};
use crate::{
    proto::{self, device_service_server::DeviceService},
    store::{StoreError, delegations::OffsetPage, devices::Device},
};

super::service!(DeviceApi, devices: crate::store::devices::Devices<'_>);

/// A proto device and a stored one share these fields, by name; `$extra`
/// are the ones that differ (the JSON text of the other attributes).
macro_rules! device_fields {
    ($($a:tt)*) => {
        super::convert::same_fields!([
            id device_id account_id external_id alias form_factor device_type owner
            expires_at created updated
        ] $($a)*)
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

super::serves!(DeviceApi: DeviceService {
    create(CreateDeviceRequest) -> CreateDeviceResponse;
    get_by_id(GetDeviceByIdRequest) -> GetDeviceByIdResponse;
    get_by(GetDeviceByRequest) -> GetDeviceByResponse;
    list_by_account(ListDevicesByAccountRequest) -> ListDevicesByAccountResponse;
    get_by_device_id(GetDevicesByDeviceIdRequest) -> GetDevicesByDeviceIdResponse;
    list(ListDevicesRequest) -> ListDevicesResponse;
    update(UpdateDeviceRequest) -> UpdateDeviceResponse;
    delete(DeleteDeviceRequest) -> DeleteDeviceResponse;
    delete_by(DeleteDeviceByRequest) -> DeleteDeviceResponse;
});

impl DeviceApi {
    async fn create(&self, req: proto::CreateDeviceRequest) -> Done<proto::CreateDeviceResponse> {
        let tenant = tenant(&req.tenant)?;
        let device = self.db().create(tenant, device_from(req.device)?).await?;
        Ok(proto::CreateDeviceResponse {
            device: Some(device_to(device)),
        })
    }

    async fn get_by_id(
        &self,
        req: proto::GetDeviceByIdRequest,
    ) -> Done<proto::GetDeviceByIdResponse> {
        let tenant = req.tenant()?;
        let device = self.db().get_by_id(tenant, &req.id).await?;
        Ok(proto::GetDeviceByIdResponse {
            device: device.map(device_to),
        })
    }

    async fn get_by(&self, req: proto::GetDeviceByRequest) -> Done<proto::GetDeviceByResponse> {
        let tenant = req.tenant()?;
        let device = self
            .db()
            .get_by(tenant, &req.device_id, &req.account_id)
            .await?;
        Ok(proto::GetDeviceByResponse {
            device: device.map(device_to),
        })
    }

    async fn list_by_account(
        &self,
        req: proto::ListDevicesByAccountRequest,
    ) -> Done<proto::ListDevicesByAccountResponse> {
        let tenant = req.tenant()?;
        let devices = self.db().by_account(tenant, &req.account_id).await?;
        Ok(proto::ListDevicesByAccountResponse {
            devices: devices.into_iter().map(device_to).collect(),
        })
    }

    async fn get_by_device_id(
        &self,
        req: proto::GetDevicesByDeviceIdRequest,
    ) -> Done<proto::GetDevicesByDeviceIdResponse> {
        let tenant = req.tenant()?;
        let devices = self.db().by_device_id(tenant, &req.device_id).await?;
        Ok(proto::GetDevicesByDeviceIdResponse {
            devices: devices.into_iter().map(device_to).collect(),
        })
    }

    async fn list(&self, req: proto::ListDevicesRequest) -> Done<proto::ListDevicesResponse> {
        let tenant = req.tenant()?;
        let page = OffsetPage::new(req.start_index, req.count);
        let (devices, total_results, truncated) = self.db().list(tenant, page).await?;
        Ok(proto::ListDevicesResponse {
            devices: devices.into_iter().map(device_to).collect(),
            total_results,
            truncated,
        })
    }

    async fn update(&self, req: proto::UpdateDeviceRequest) -> Done<proto::UpdateDeviceResponse> {
        let tenant = tenant(&req.tenant)?;
        let device = self
            .db()
            .update(
                tenant,
                device_from(req.device)?,
                req.current_device_id.as_deref(),
            )
            .await?;
        Ok(proto::UpdateDeviceResponse {
            device: Some(device_to(device)),
        })
    }

    async fn delete(&self, req: proto::DeleteDeviceRequest) -> Done<proto::DeleteDeviceResponse> {
        let tenant = req.tenant()?;
        let deleted = self.db().delete(tenant, &req.id).await?;
        Ok(proto::DeleteDeviceResponse { deleted })
    }

    async fn delete_by(
        &self,
        req: proto::DeleteDeviceByRequest,
    ) -> Done<proto::DeleteDeviceResponse> {
        let tenant = req.tenant()?;
        let deleted = self
            .db()
            .delete_by(tenant, &req.device_id, &req.account_id)
            .await?;
        Ok(proto::DeleteDeviceResponse { deleted })
    }
}
