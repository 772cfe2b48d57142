package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.CreateDeviceRequest;
import dev.curitydynamodb.grpc.v1.DeleteDeviceByRequest;
import dev.curitydynamodb.grpc.v1.DeleteDeviceRequest;
import dev.curitydynamodb.grpc.v1.Device;
import dev.curitydynamodb.grpc.v1.DeviceServiceGrpc;
import dev.curitydynamodb.grpc.v1.GetDeviceByIdRequest;
import dev.curitydynamodb.grpc.v1.GetDeviceByRequest;
import dev.curitydynamodb.grpc.v1.ListDevicesByAccountRequest;
import dev.curitydynamodb.grpc.v1.ListDevicesRequest;
import dev.curitydynamodb.grpc.v1.ListDevicesResponse;
import dev.curitydynamodb.grpc.v1.Tenant;
import dev.curitydynamodb.grpc.v1.UpdateDeviceRequest;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.client.ServiceConnection;
import dev.curitydynamodb.plugin.convert.DeviceConverter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import se.curity.identityserver.sdk.ThreadSafe;
import se.curity.identityserver.sdk.attribute.scim.v2.ResourceAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.DeviceAttributes;
import se.curity.identityserver.sdk.data.query.ResourceQuery.AttributesEnumeration;
import se.curity.identityserver.sdk.data.query.ResourceQueryResult;
import se.curity.identityserver.sdk.datasource.DeviceDataAccessProvider;

/** Devices ({@code DeviceService}) of the data source's tenant: both items of a device in one transaction. */
public final class GrpcDeviceProvider implements DeviceDataAccessProvider, ThreadSafe {
    private final Rpc rpc;
    private final Tenant tenant;

    public GrpcDeviceProvider(ServiceConnection connection) {
        this.rpc = connection.rpc();
        this.tenant = connection.tenant();
    }

    @Override
    public DeviceAttributes getBy(String deviceId, String accountId) {
        return by(deviceId, accountId).map(DeviceConverter::toSdk).orElse(null);
    }

    @Override
    public ResourceAttributes<?> getBy(String deviceId, String accountId, AttributesEnumeration attributes) {
        return by(deviceId, accountId)
                .map(d -> DeviceConverter.toSdk(d, attributes))
                .orElse(null);
    }

    @Override
    public DeviceAttributes getById(String id) {
        return byId(id).map(DeviceConverter::toSdk).orElse(null);
    }

    @Override
    public ResourceAttributes<?> getById(String id, AttributesEnumeration attributes) {
        return byId(id).map(d -> DeviceConverter.toSdk(d, attributes)).orElse(null);
    }

    /** The account's devices, ordered by device id. */
    @Override
    public List<DeviceAttributes> getByAccountId(String accountId) {
        List<DeviceAttributes> out = new ArrayList<>();
        byAccount(accountId).forEach(d -> out.add(DeviceConverter.toSdk(d)));
        return out;
    }

    @Override
    public List<? extends ResourceAttributes<?>> getByAccountId(String accountId, AttributesEnumeration attributes) {
        List<ResourceAttributes<?>> out = new ArrayList<>();
        byAccount(accountId).forEach(d -> out.add(DeviceConverter.toSdk(d, attributes)));
        return out;
    }

    /** A taken id, or a device id the account already has, is a {@code ConflictException}. */
    @Override
    public void create(DeviceAttributes device) {
        rpc.call(
                "DeviceService/Create",
                DeviceServiceGrpc::newBlockingStub,
                s -> s.create(CreateDeviceRequest.newBuilder()
                        .setTenant(tenant)
                        .setDevice(DeviceConverter.toProto(device))
                        .build()));
    }

    /** Replaces the device's fields; a device that does not exist (with that account) is left alone, as in the plugin. */
    @Override
    public void update(DeviceAttributes device) {
        rpc.callUnlessNotFound(
                "DeviceService/Update",
                DeviceServiceGrpc::newBlockingStub,
                s -> s.update(UpdateDeviceRequest.newBuilder()
                        .setTenant(tenant)
                        .setDevice(DeviceConverter.toProto(device))
                        .build()));
    }

    @Override
    public void delete(String id) {
        rpc.call(
                "DeviceService/Delete",
                DeviceServiceGrpc::newBlockingStub,
                s -> s.delete(DeleteDeviceRequest.newBuilder()
                        .setTenant(tenant)
                        .setId(id)
                        .build()));
    }

    @Override
    public void delete(String deviceId, String accountId) {
        rpc.call(
                "DeviceService/DeleteBy",
                DeviceServiceGrpc::newBlockingStub,
                s -> s.deleteBy(DeleteDeviceByRequest.newBuilder()
                        .setTenant(tenant)
                        .setDeviceId(deviceId)
                        .setAccountId(accountId)
                        .build()));
    }

    /**
     * Devices {@code startIndex} (0-based) to {@code startIndex + count} of the tenant and their
     * total: a scan, so the service needs {@code dynamodb.allow_table_scans}.
     */
    @Override
    public ResourceQueryResult getAll(long startIndex, long count) {
        long[] total = {0};
        List<DeviceAttributes> devices = OffsetPages.read(startIndex, count, page -> {
            ListDevicesResponse response = rpc.call(
                    "DeviceService/List",
                    DeviceServiceGrpc::newBlockingStub,
                    s -> s.list(ListDevicesRequest.newBuilder()
                            .setTenant(tenant)
                            .setStartIndex(page.getStartIndex())
                            .setCount(page.getCount())
                            .build()));
            total[0] = response.getTotalResults();
            List<DeviceAttributes> out = new ArrayList<>();
            response.getDevicesList().forEach(d -> out.add(DeviceConverter.toSdk(d)));
            return out;
        });
        if (count == 0) {
            total[0] = getAllTotal();
        }
        return new ResourceQueryResult(devices, total[0], startIndex, count);
    }

    private long getAllTotal() {
        return rpc.call(
                        "DeviceService/List",
                        DeviceServiceGrpc::newBlockingStub,
                        s -> s.list(ListDevicesRequest.newBuilder()
                                .setTenant(tenant)
                                .setCount(0)
                                .build()))
                .getTotalResults();
    }

    private Optional<Device> by(String deviceId, String accountId) {
        var response = rpc.call(
                "DeviceService/GetBy",
                DeviceServiceGrpc::newBlockingStub,
                s -> s.getBy(GetDeviceByRequest.newBuilder()
                        .setTenant(tenant)
                        .setDeviceId(deviceId)
                        .setAccountId(accountId)
                        .build()));
        return response.hasDevice() ? Optional.of(response.getDevice()) : Optional.empty();
    }

    private Optional<Device> byId(String id) {
        var response = rpc.call(
                "DeviceService/GetById",
                DeviceServiceGrpc::newBlockingStub,
                s -> s.getById(GetDeviceByIdRequest.newBuilder()
                        .setTenant(tenant)
                        .setId(id)
                        .build()));
        return response.hasDevice() ? Optional.of(response.getDevice()) : Optional.empty();
    }

    private List<Device> byAccount(String accountId) {
        if (accountId == null) {
            return List.of();
        }
        return rpc.call(
                        "DeviceService/ListByAccount",
                        DeviceServiceGrpc::newBlockingStub,
                        s -> s.listByAccount(ListDevicesByAccountRequest.newBuilder()
                                .setTenant(tenant)
                                .setAccountId(accountId)
                                .build()))
                .getDevicesList();
    }
}
