package dev.curitydynamodb.plugin.convert;

import dev.curitydynamodb.grpc.v1.DynamicClient;
import dev.curitydynamodb.plugin.json.JsonText;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import se.curity.identityserver.sdk.attribute.Attribute;
import se.curity.identityserver.sdk.attribute.Attributes;
import se.curity.identityserver.sdk.attribute.MapAttributeValue;
import se.curity.identityserver.sdk.attribute.scim.v2.Meta;
import se.curity.identityserver.sdk.attribute.scim.v2.ResourceAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.DynamicallyRegisteredClientAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.DynamicallyRegisteredClientAttributes.Status;

/**
 * {@link DynamicallyRegisteredClientAttributes} and the service's {@code DynamicClient}: the
 * client's {@code attributes} map as JSON object text, scope, redirect URIs and grant types as
 * lists, the status by name, times as epoch seconds ({@code meta}).
 */
public final class DynamicClientConverter {
    private DynamicClientConverter() {}

    public static DynamicClient toProto(DynamicallyRegisteredClientAttributes client) {
        DynamicClient.Builder b = DynamicClient.newBuilder()
                .setClientId(client.getClientId())
                .setStatus((client.getStatus() == null ? Status.ACTIVE : client.getStatus()).name())
                .setAttributesJson(JsonText.write(attributes(client)));
        if (client.getClientSecret() != null) {
            b.setClientSecret(client.getClientSecret());
        }
        if (client.getInstanceOfClient() != null) {
            b.setInstanceOfClient(client.getInstanceOfClient());
        }
        if (client.getInitialClient() != null) {
            b.setInitialClient(client.getInitialClient());
        }
        if (client.getAuthenticatedUser() != null) {
            b.setAuthenticatedUser(client.getAuthenticatedUser());
        }
        Meta meta = client.getMeta();
        if (meta != null && meta.getCreated() != null) {
            b.setCreated(meta.getCreated().getEpochSecond());
        }
        addAll(client.getScope(), b::addScope);
        addAll(client.getRedirectUris(), b::addRedirectUris);
        addAll(client.getGrantTypes(), b::addGrantTypes);
        return b.build();
    }

    public static DynamicallyRegisteredClientAttributes toSdk(DynamicClient client) {
        List<Attribute> a = new ArrayList<>();
        a.add(Attribute.of(DynamicallyRegisteredClientAttributes.CLIENT_ID, client.getClientId()));
        a.add(Attribute.of(
                ResourceAttributes.META,
                Meta.of(DynamicallyRegisteredClientAttributes.RESOURCE_TYPE)
                        .withCreated(Instant.ofEpochSecond(client.getCreated()))
                        .withLastModified(Instant.ofEpochSecond(client.getUpdated()))));
        a.add(Attribute.of(DynamicallyRegisteredClientAttributes.STATUS, Status.valueOf(client.getStatus())));
        a.add(Attribute.of(
                DynamicallyRegisteredClientAttributes.ATTRIBUTES,
                MapAttributeValue.of(Attributes.fromMap(JsonText.read(client.getAttributesJson())))));
        if (client.hasClientSecret()) {
            a.add(Attribute.of(DynamicallyRegisteredClientAttributes.CLIENT_SECRET, client.getClientSecret()));
        }
        if (client.hasInstanceOfClient()) {
            a.add(Attribute.of(DynamicallyRegisteredClientAttributes.INSTANCE_OF_CLIENT, client.getInstanceOfClient()));
        }
        if (client.hasInitialClient()) {
            a.add(Attribute.of(DynamicallyRegisteredClientAttributes.INITIAL_CLIENT, client.getInitialClient()));
        }
        if (client.hasAuthenticatedUser()) {
            a.add(Attribute.of(
                    DynamicallyRegisteredClientAttributes.AUTHENTICATED_USER, client.getAuthenticatedUser()));
        }
        if (client.getScopeCount() > 0) {
            a.add(Attribute.of(DynamicallyRegisteredClientAttributes.SCOPE, List.copyOf(client.getScopeList())));
        }
        if (client.getRedirectUrisCount() > 0) {
            a.add(Attribute.of(
                    DynamicallyRegisteredClientAttributes.REDIRECT_URIS, List.copyOf(client.getRedirectUrisList())));
        }
        if (client.getGrantTypesCount() > 0) {
            a.add(Attribute.of(
                    DynamicallyRegisteredClientAttributes.GRANT_TYPES, List.copyOf(client.getGrantTypesList())));
        }
        return DynamicallyRegisteredClientAttributes.of(Attributes.of(a));
    }

    /** The client's {@code attributes} map as plain values (the SDK's own map form). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> attributes(DynamicallyRegisteredClientAttributes client) {
        Object map = client.asMap().get(DynamicallyRegisteredClientAttributes.ATTRIBUTES);
        return map instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static void addAll(Collection<String> values, java.util.function.Consumer<String> add) {
        if (values != null) {
            values.forEach(add);
        }
    }
}
