package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.CountActiveDelegationsRequest;
import dev.curitydynamodb.grpc.v1.CountDelegationsByOwnerRequest;
import dev.curitydynamodb.grpc.v1.CreateDelegationRequest;
import dev.curitydynamodb.grpc.v1.DelegationList;
import dev.curitydynamodb.grpc.v1.DelegationServiceGrpc;
import dev.curitydynamodb.grpc.v1.GetDelegationByAuthorizationCodeHashRequest;
import dev.curitydynamodb.grpc.v1.GetDelegationByIdRequest;
import dev.curitydynamodb.grpc.v1.GetDelegationsByOwnerRequest;
import dev.curitydynamodb.grpc.v1.ListActiveDelegationsRequest;
import dev.curitydynamodb.grpc.v1.ListDelegationsRequest;
import dev.curitydynamodb.grpc.v1.SetDelegationStatusRequest;
import dev.curitydynamodb.grpc.v1.Tenant;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.client.ServiceConnection;
import dev.curitydynamodb.plugin.convert.DelegationConverter;
import dev.curitydynamodb.plugin.convert.ScimFilter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import se.curity.identityserver.sdk.ThreadSafe;
import se.curity.identityserver.sdk.data.authorization.Delegation;
import se.curity.identityserver.sdk.data.authorization.DelegationStatus;
import se.curity.identityserver.sdk.data.query.ResourceQuery;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Sorting.SortOrder;
import se.curity.identityserver.sdk.datasource.DelegationDataAccessProvider;
import se.curity.identityserver.sdk.datasource.errors.DataSourceCapabilityException;
import se.curity.identityserver.sdk.errors.ExternalServiceException;

/** Delegations ({@code DelegationService}) of the data source's tenant. */
public final class GrpcDelegationProvider implements DelegationDataAccessProvider, ThreadSafe {
    private final Rpc rpc;
    private final Tenant tenant;

    public GrpcDelegationProvider(ServiceConnection connection) {
        this.rpc = connection.rpc();
        this.tenant = connection.tenant();
    }

    /** An issued delegation with that id; null when missing or revoked (as the plugin). */
    @Override
    public Delegation getById(String id) {
        var response = rpc.call(
                "DelegationService/GetById",
                DelegationServiceGrpc::newBlockingStub,
                s -> s.getById(GetDelegationByIdRequest.newBuilder()
                        .setTenant(tenant)
                        .setId(id)
                        .build()));
        return response.hasDelegation() ? DelegationConverter.toSdk(response.getDelegation()) : null;
    }

    /** The delegation issued with that authorization code, whatever its status. */
    @Override
    public Delegation getByAuthorizationCodeHash(String authorizationCodeHash) {
        var response = rpc.call(
                "DelegationService/GetByAuthorizationCodeHash",
                DelegationServiceGrpc::newBlockingStub,
                s -> s.getByAuthorizationCodeHash(GetDelegationByAuthorizationCodeHashRequest.newBuilder()
                        .setTenant(tenant)
                        .setAuthorizationCodeHash(authorizationCodeHash)
                        .build()));
        return response.hasDelegation() ? DelegationConverter.toSdk(response.getDelegation()) : null;
    }

    /** Stores the delegation, replacing one with the same id (as the plugin). */
    @Override
    public void create(Delegation delegation) {
        rpc.call(
                "DelegationService/Create",
                DelegationServiceGrpc::newBlockingStub,
                s -> s.create(CreateDelegationRequest.newBuilder()
                        .setTenant(tenant)
                        .setDelegation(DelegationConverter.toProto(delegation))
                        .build()));
    }

    /** 1 when the delegation exists and took the status, else 0. */
    @Override
    public long setStatus(String id, DelegationStatus status) {
        return rpc.call(
                        "DelegationService/SetStatus",
                        DelegationServiceGrpc::newBlockingStub,
                        s -> s.setStatus(SetDelegationStatusRequest.newBuilder()
                                .setTenant(tenant)
                                .setId(id)
                                .setStatus(status.name())
                                .build()))
                .getUpdated();
    }

    /** The owner's issued delegations {@code startIndex} (0-based) to {@code startIndex + count}. */
    @Override
    public Collection<? extends Delegation> getByOwner(String owner, long startIndex, long count) {
        return OffsetPages.read(
                startIndex,
                count,
                page -> delegations(rpc.call(
                                "DelegationService/GetByOwner",
                                DelegationServiceGrpc::newBlockingStub,
                                s -> s.getByOwner(GetDelegationsByOwnerRequest.newBuilder()
                                        .setTenant(tenant)
                                        .setOwner(owner)
                                        .setPage(page)
                                        .build()))
                        .getList()));
    }

    @Override
    public long getCountByOwner(String owner) {
        return rpc.call(
                        "DelegationService/CountByOwner",
                        DelegationServiceGrpc::newBlockingStub,
                        s -> s.countByOwner(CountDelegationsByOwnerRequest.newBuilder()
                                .setTenant(tenant)
                                .setOwner(owner)
                                .build()))
                .getCount()
                .getCount();
    }

    /** Issued delegations of the tenant: a scan, so the service needs {@code dynamodb.allow_table_scans}. */
    @Override
    public Collection<? extends Delegation> getAllActive(long startIndex, long count) {
        return OffsetPages.read(
                startIndex,
                count,
                page -> delegations(rpc.call(
                                "DelegationService/ListActive",
                                DelegationServiceGrpc::newBlockingStub,
                                s -> s.listActive(ListActiveDelegationsRequest.newBuilder()
                                        .setTenant(tenant)
                                        .setPage(page)
                                        .build()))
                        .getList()));
    }

    @Override
    public long getCountAllActive() {
        return rpc.call(
                        "DelegationService/CountActive",
                        DelegationServiceGrpc::newBlockingStub,
                        s -> s.countActive(CountActiveDelegationsRequest.newBuilder()
                                .setTenant(tenant)
                                .build()))
                .getCount()
                .getCount();
    }

    /**
     * The SCIM filter planned over the table's indexes (else a scan where allowed), sorted by any
     * of the delegation's attributes, paged by offset. A query the layout cannot serve is an
     * {@code ExternalServiceException}, as with Curity's own plugin.
     */
    @Override
    public Collection<? extends Delegation> getAll(ResourceQuery query) {
        ListDelegationsRequest.Builder request =
                ListDelegationsRequest.newBuilder().setTenant(tenant).setFilter(ScimFilter.render(query.getFilter()));
        if (query.getSorting() != null && query.getSorting().getSortBy() != null) {
            request.setSortBy(query.getSorting().getSortBy())
                    .setDescending(query.getSorting().getSortOrder() == SortOrder.DESCENDING);
        }
        try {
            return OffsetPages.read(
                    query.getPagination().getStartIndex(),
                    query.getPagination().getCount(),
                    page -> delegations(rpc.call(
                                    "DelegationService/List",
                                    DelegationServiceGrpc::newBlockingStub,
                                    s -> s.list(request.setPage(page).build()))
                            .getList()));
        } catch (DataSourceCapabilityException e) {
            throw new ExternalServiceException(e.getMessage(), e);
        }
    }

    private static List<Delegation> delegations(DelegationList list) {
        List<Delegation> out = new ArrayList<>(list.getDelegationsCount());
        list.getDelegationsList().forEach(d -> out.add(DelegationConverter.toSdk(d)));
        return out;
    }
}
