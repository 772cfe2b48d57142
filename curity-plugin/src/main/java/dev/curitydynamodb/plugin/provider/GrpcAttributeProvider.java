package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.AttributeServiceGrpc;
import dev.curitydynamodb.grpc.v1.GetAttributesRequest;
import dev.curitydynamodb.grpc.v1.GetAttributesResponse;
import dev.curitydynamodb.grpc.v1.Tenant;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.client.ServiceConnection;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import se.curity.identityserver.sdk.ThreadSafe;
import se.curity.identityserver.sdk.attribute.AttributeTableView;
import se.curity.identityserver.sdk.attribute.Attributes;
import se.curity.identityserver.sdk.datasource.AttributeDataAccessProvider;

/**
 * Attribute lookup ({@code AttributeService}): one row per account linked to the subject, with
 * the column names Curity's JDBC data source uses ({@code account_id}, {@code
 * linking_account_manager}, {@code linked_account_domain_name}, {@code linked_account_id}, ...).
 */
public final class GrpcAttributeProvider implements AttributeDataAccessProvider, ThreadSafe {
    private final Rpc rpc;
    private final Tenant tenant;

    public GrpcAttributeProvider(ServiceConnection connection) {
        this.rpc = connection.rpc();
        this.tenant = connection.tenant();
    }

    @Override
    public AttributeTableView getAttributes(String subject) {
        GetAttributesResponse response = rpc.call(
                "AttributeService/GetAttributes",
                AttributeServiceGrpc::newBlockingStub,
                s -> s.getAttributes(GetAttributesRequest.newBuilder()
                        .setTenant(tenant)
                        .setSubject(subject)
                        .build()));
        if (response.getRowsCount() == 0) {
            return AttributeTableView.empty();
        }
        List<Attributes> rows = new ArrayList<>();
        response.getRowsList()
                .forEach(r -> rows.add(Attributes.fromMap(new LinkedHashMap<String, Object>(r.getColumnsMap()))));
        return AttributeTableView.ofAttributes(rows);
    }
}
