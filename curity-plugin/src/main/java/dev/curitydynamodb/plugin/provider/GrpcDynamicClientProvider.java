package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.CountDynamicClientsRequest;
import dev.curitydynamodb.grpc.v1.CreateDynamicClientRequest;
import dev.curitydynamodb.grpc.v1.DeleteDynamicClientRequest;
import dev.curitydynamodb.grpc.v1.DynamicClientFilter;
import dev.curitydynamodb.grpc.v1.DynamicClientServiceGrpc;
import dev.curitydynamodb.grpc.v1.DynamicClientSort;
import dev.curitydynamodb.grpc.v1.GetDynamicClientRequest;
import dev.curitydynamodb.grpc.v1.ListDynamicClientsRequest;
import dev.curitydynamodb.grpc.v1.ListDynamicClientsResponse;
import dev.curitydynamodb.grpc.v1.PaginationRequest;
import dev.curitydynamodb.grpc.v1.UpdateDynamicClientRequest;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.client.ServiceConnection;
import dev.curitydynamodb.plugin.convert.DynamicClientConverter;
import java.util.ArrayList;
import java.util.List;
import se.curity.identityserver.sdk.ThreadSafe;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.DynamicallyRegisteredClientAttributes;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Sorting.SortOrder;
import se.curity.identityserver.sdk.datasource.DynamicallyRegisteredClientDataAccessProvider;
import se.curity.identityserver.sdk.datasource.pagination.PaginatedDataAccessResult;
import se.curity.identityserver.sdk.datasource.query.AttributesSorting;

/** Dynamically registered clients ({@code DynamicClientService}): global, as in Curity's own plugin. */
public final class GrpcDynamicClientProvider implements DynamicallyRegisteredClientDataAccessProvider, ThreadSafe {
    private final Rpc rpc;

    public GrpcDynamicClientProvider(ServiceConnection connection) {
        this.rpc = connection.rpc();
    }

    @Override
    public DynamicallyRegisteredClientAttributes getByClientId(String clientId) {
        var response = rpc.call(
                "DynamicClientService/Get",
                DynamicClientServiceGrpc::newBlockingStub,
                s -> s.get(GetDynamicClientRequest.newBuilder()
                        .setClientId(clientId)
                        .build()));
        return response.hasClient() ? DynamicClientConverter.toSdk(response.getClient()) : null;
    }

    /** A registered client id is a {@code ConflictException}; {@code meta.created}, when given, is kept. */
    @Override
    public void create(DynamicallyRegisteredClientAttributes client) {
        rpc.call(
                "DynamicClientService/Create",
                DynamicClientServiceGrpc::newBlockingStub,
                s -> s.create(CreateDynamicClientRequest.newBuilder()
                        .setClient(DynamicClientConverter.toProto(client))
                        .build()));
    }

    /**
     * Changes the secret (when given), status, attributes and lists; the template, initial client,
     * user and creation time stay. A client that does not exist is an error (never created).
     */
    @Override
    public void update(DynamicallyRegisteredClientAttributes client) {
        rpc.call(
                "DynamicClientService/Update",
                DynamicClientServiceGrpc::newBlockingStub,
                s -> s.update(UpdateDynamicClientRequest.newBuilder()
                        .setClient(DynamicClientConverter.toProto(client))
                        .build()));
    }

    @Override
    public void delete(String clientId) {
        rpc.call(
                "DynamicClientService/Delete",
                DynamicClientServiceGrpc::newBlockingStub,
                s -> s.delete(DeleteDynamicClientRequest.newBuilder()
                        .setClientId(clientId)
                        .build()));
    }

    /**
     * Clients of a template or of a user (their indexes, ordered by creation or last change), else
     * every client (a scan, needing {@code dynamodb.allow_table_scans}; unordered).
     */
    @Override
    public PaginatedDataAccessResult<DynamicallyRegisteredClientAttributes> getAllDcrClientsBy(
            String templateId,
            String username,
            se.curity.identityserver.sdk.datasource.pagination.PaginationRequest pagination,
            AttributesSorting sorting,
            boolean activeClientsOnly) {
        ListDynamicClientsRequest.Builder request = ListDynamicClientsRequest.newBuilder()
                .setFilter(filter(templateId, username, activeClientsOnly))
                .setSort(sort(sorting))
                .setDescending(sorting != null && sorting.getSortOrder() == SortOrder.DESCENDING);
        PaginationRequest.Builder page = PaginationRequest.newBuilder();
        if (pagination != null) {
            if (pagination.getCount() > 0) {
                page.setCount(pagination.getCount());
            }
            if (pagination.getCursor() != null) {
                page.setCursor(pagination.getCursor());
            }
        }
        request.setPage(page);
        ListDynamicClientsResponse response = rpc.call(
                "DynamicClientService/List", DynamicClientServiceGrpc::newBlockingStub, s -> s.list(request.build()));
        List<DynamicallyRegisteredClientAttributes> clients = new ArrayList<>();
        response.getClientsList().forEach(c -> clients.add(DynamicClientConverter.toSdk(c)));
        String cursor = response.getPage().getCursor();
        return new PaginatedDataAccessResult<>(clients, cursor.isEmpty() ? null : cursor);
    }

    @Override
    public long getDcrClientCountBy(String templateId, String username, boolean activeClientsOnly) {
        return rpc.call(
                        "DynamicClientService/Count",
                        DynamicClientServiceGrpc::newBlockingStub,
                        s -> s.count(CountDynamicClientsRequest.newBuilder()
                                .setFilter(filter(templateId, username, activeClientsOnly))
                                .build()))
                .getCount();
    }

    private static DynamicClientFilter filter(String templateId, String username, boolean activeOnly) {
        DynamicClientFilter.Builder f = DynamicClientFilter.newBuilder().setActiveOnly(activeOnly);
        if (templateId != null && !templateId.isEmpty()) {
            f.setTemplateId(templateId);
        }
        if (username != null && !username.isEmpty()) {
            f.setUserName(username);
        }
        return f.build();
    }

    /** The SDK's sort names: {@code created}, {@code lastModified}, {@code none}, else the default (by creation). */
    private static DynamicClientSort sort(AttributesSorting sorting) {
        String by = sorting == null ? null : sorting.getSortBy();
        if (AttributesSorting.ON_LAST_MODIFIED.equals(by)) {
            return DynamicClientSort.DYNAMIC_CLIENT_SORT_LAST_MODIFIED;
        }
        if (AttributesSorting.ON_CREATED.equals(by)) {
            return DynamicClientSort.DYNAMIC_CLIENT_SORT_CREATED;
        }
        if (AttributesSorting.DONT.equals(by)) {
            return DynamicClientSort.DYNAMIC_CLIENT_SORT_NONE;
        }
        return DynamicClientSort.DYNAMIC_CLIENT_SORT_DEFAULT;
    }
}
