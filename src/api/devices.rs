//! `DeviceService` over `store::devices`.

use super::{Tenanted, convert::tenant};
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

super::rpcs! {
    DeviceService for DeviceApi;

    create(CreateDeviceRequest) -> CreateDeviceResponse, |api, req| {
        let tenant = tenant(&req.tenant)?;
        let device = api.store.devices().create(tenant, device_from(req.device)?).await?;
        Ok(proto::CreateDeviceResponse {
            device: Some(device_to(device)),
        })
    }

    get_by_id(GetDeviceByIdRequest) -> GetDeviceByIdResponse, |api, req| {
        let tenant = req.tenant()?;
        let device = api.store.devices().get_by_id(tenant, &req.id).await?;
        Ok(proto::GetDeviceByIdResponse {
            device: device.map(device_to),
        })
    }

    get_by(GetDeviceByRequest) -> GetDeviceByResponse, |api, req| {
        let tenant = req.tenant()?;
        let device = api
            .store
            .devices()
            .get_by(tenant, &req.device_id, &req.account_id)
            .await?;
        Ok(proto::GetDeviceByResponse {
            device: device.map(device_to),
        })
    }

    list_by_account(ListDevicesByAccountRequest) -> ListDevicesByAccountResponse, |api, req| {
        let tenant = req.tenant()?;
        let devices = api.store.devices().by_account(tenant, &req.account_id).await?;
        Ok(proto::ListDevicesByAccountResponse {
            devices: devices.into_iter().map(device_to).collect(),
        })
    }

    get_by_device_id(GetDevicesByDeviceIdRequest) -> GetDevicesByDeviceIdResponse, |api, req| {
        let tenant = req.tenant()?;
        let devices = api.store.devices().by_device_id(tenant, &req.device_id).await?;
        Ok(proto::GetDevicesByDeviceIdResponse {
            devices: devices.into_iter().map(device_to).collect(),
        })
    }

    list(ListDevicesRequest) -> ListDevicesResponse, |api, req| {
        let tenant = req.tenant()?;
        let page = OffsetPage::new(req.start_index, req.count);
        let (devices, total_results, truncated) = api.store.devices().list(tenant, page).await?;
        Ok(proto::ListDevicesResponse {
            devices: devices.into_iter().map(device_to).collect(),
            total_results,
            truncated,
        })
    }

    update(UpdateDeviceRequest) -> UpdateDeviceResponse, |api, req| {
        let tenant = tenant(&req.tenant)?;
        let device = api
            .store
            .devices()
            .update(tenant, device_from(req.device)?, req.current_device_id.as_deref())
            .await?;
        Ok(proto::UpdateDeviceResponse {
            device: Some(device_to(device)),
        })
    }

    delete(DeleteDeviceRequest) -> DeleteDeviceResponse, |api, req| {
        let tenant = req.tenant()?;
        let deleted = api.store.devices().delete(tenant, &req.id).await?;
        Ok(proto::DeleteDeviceResponse { deleted })
    }

    delete_by(DeleteDeviceByRequest) -> DeleteDeviceResponse, |api, req| {
        let tenant = req.tenant()?;
        let deleted = api
            .store
            .devices()
            .delete_by(tenant, &req.device_id, &req.account_id)
            .await?;
        Ok(proto::DeleteDeviceResponse { deleted })
    }
}
