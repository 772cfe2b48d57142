package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curitydynamodb.plugin.support.FakeExceptions;
import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.attribute.Attribute;
import se.curity.identityserver.sdk.attribute.Attributes;
import se.curity.identityserver.sdk.attribute.MapAttributeValue;
import se.curity.identityserver.sdk.attribute.scim.v2.Meta;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.DynamicallyRegisteredClientAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.DynamicallyRegisteredClientAttributes.Status;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Sorting.SortOrder;
import se.curity.identityserver.sdk.datasource.DynamicallyRegisteredClientDataAccessProvider;
import se.curity.identityserver.sdk.datasource.db.TableCapabilities.TableCapability;
import se.curity.identityserver.sdk.datasource.errors.DataSourceCapabilityException;
import se.curity.identityserver.sdk.datasource.pagination.PaginatedDataAccessResult;
import se.curity.identityserver.sdk.datasource.pagination.PaginationRequest;
import se.curity.identityserver.sdk.datasource.query.AttributesSorting;
import se.curity.identityserver.sdk.datasource.query.AttributesSorting.SortAttribute;
import se.curity.identityserver.sdk.errors.ConflictException;

/** DCR clients through the plugin; the service keeps scans off, as by default. */
@Order(32)
class DynamicClientsIT {
    private static ServiceProcess service;
    private static Plugin plugin;
    private static DynamicallyRegisteredClientDataAccessProvider clients;

    @BeforeAll
    static void start() throws Exception {
        service = ServiceProcess.start(Map.of());
        plugin = Plugin.connect(service);
        clients = plugin.dynamicClients();
    }

    @AfterAll
    static void stop() {
        plugin.close();
        service.close();
    }

    private static DynamicallyRegisteredClientAttributes client(
            String id, String template, String user, long created, Status status) {
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("client_name", "App " + id);
        attributes.put("access_token_ttl", 300L);
        attributes.put("software_statement_version", 12345678901234567L);
        attributes.put("ratio", 2.0);
        attributes.put("jwks", Map.of("keys", List.of(Map.of("kty", "EC", "crv", "P-256"))));
        List<Attribute> a = new ArrayList<>();
        a.add(Attribute.of("clientId", id));
        a.add(Attribute.of("clientSecret", "$2a$10$hashed-secret"));
        a.add(Attribute.of("status", status));
        a.add(Attribute.of("instanceOfClient", template));
        a.add(Attribute.of("initialClient", "initial"));
        a.add(Attribute.of("authenticatedUser", user));
        a.add(Attribute.of("attributes", MapAttributeValue.of(attributes)));
        a.add(Attribute.of("scope", List.of("openid", "read")));
        a.add(Attribute.of("redirectUris", List.of("https://app.example/cb")));
        a.add(Attribute.of("grantTypes", List.of("authorization_code", "refresh_token")));
        a.add(Attribute.of(
                "meta",
                Meta.of(DynamicallyRegisteredClientAttributes.RESOURCE_TYPE)
                        .withCreated(Instant.ofEpochSecond(created))));
        return DynamicallyRegisteredClientAttributes.of(Attributes.of(a));
    }

    private static Map<String, Object> comparable(DynamicallyRegisteredClientAttributes c) {
        Map<String, Object> m = new LinkedHashMap<>(c.asMap());
        m.remove("meta");
        return m;
    }

    @Test
    void client_reads_back_equal_with_exact_attributes() {
        String id = Ids.fresh("c");
        DynamicallyRegisteredClientAttributes written = client(id, "tpl", "jane", 1_800_000_000L, Status.ACTIVE);
        clients.create(written);
        DynamicallyRegisteredClientAttributes read = clients.getByClientId(id);
        assertEquals(comparable(written), comparable(read));
        assertEquals(Instant.ofEpochSecond(1_800_000_000L), read.getMeta().getCreated());
        assertEquals(
                12345678901234567L,
                read.asMap().get("attributes") instanceof Map<?, ?> m ? m.get("software_statement_version") : null);
        assertTrue(clients.canWrite());
    }

    @Test
    void unknown_client_is_null_and_a_taken_id_is_a_conflict() {
        assertNull(clients.getByClientId(Ids.fresh("missing")));
        String id = Ids.fresh("c");
        clients.create(client(id, "tpl", "jane", 0, Status.ACTIVE));
        assertThrows(ConflictException.class, () -> clients.create(client(id, "tpl", "jane", 0, Status.ACTIVE)));
    }

    @Test
    void update_changes_status_and_lists_and_a_missing_client_is_an_error() {
        String id = Ids.fresh("c");
        clients.create(client(id, "tpl", "jane", 1_800_000_000L, Status.ACTIVE));
        DynamicallyRegisteredClientAttributes revoked = DynamicallyRegisteredClientAttributes.of(Attributes.of(
                Attribute.of("clientId", id),
                Attribute.of("status", Status.REVOKED),
                Attribute.of("attributes", MapAttributeValue.of(Map.of("client_name", "Renamed"))),
                Attribute.of("scope", List.of("openid"))));
        clients.update(revoked);
        DynamicallyRegisteredClientAttributes read = clients.getByClientId(id);
        assertEquals(Status.REVOKED, read.getStatus());
        assertEquals(List.of("openid"), List.copyOf(read.getScope()));
        assertEquals("tpl", read.getInstanceOfClient());
        assertEquals("$2a$10$hashed-secret", read.getClientSecret());
        assertEquals(Instant.ofEpochSecond(1_800_000_000L), read.getMeta().getCreated());

        FakeExceptions.Raised missing = assertThrows(
                FakeExceptions.Raised.class,
                () -> clients.update(client(Ids.fresh("missing"), "t", "u", 0, Status.ACTIVE)));
        assertEquals("notFound", missing.kind);
    }

    @Test
    void delete_is_idempotent() {
        String id = Ids.fresh("c");
        clients.create(client(id, "tpl", "jane", 0, Status.ACTIVE));
        clients.delete(id);
        assertNull(clients.getByClientId(id));
        clients.delete(id);
    }

    @Test
    void listing_by_template_or_user_pages_sorts_and_counts() {
        String template = Ids.fresh("tpl");
        String user = Ids.fresh("user");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String id = Ids.fresh("c" + i);
            clients.create(client(id, template, user, 1_800_000_000L + i, i == 4 ? Status.INACTIVE : Status.ACTIVE));
            ids.add(id);
        }
        List<String> seen = new ArrayList<>();
        PaginationRequest page = new PaginationRequest(2);
        AttributesSorting byCreated = new AttributesSorting(SortAttribute.CREATED_TIMESTAMP, SortOrder.ASCENDING);
        while (true) {
            PaginatedDataAccessResult<DynamicallyRegisteredClientAttributes> result =
                    clients.getAllDcrClientsBy(template, null, page, byCreated, false);
            result.getItems().forEach(c -> seen.add(c.getClientId()));
            if (result.getCursor().isEmpty()) {
                break;
            }
            page = new PaginationRequest(result.getCursor().get(), 2);
        }
        assertEquals(ids, seen);

        List<String> newestFirst = new ArrayList<>();
        clients.getAllDcrClientsBy(
                        null,
                        user,
                        null,
                        new AttributesSorting(SortAttribute.CREATED_TIMESTAMP, SortOrder.DESCENDING),
                        true)
                .getItems()
                .forEach(c -> newestFirst.add(c.getClientId()));
        assertEquals(List.of(ids.get(3), ids.get(2), ids.get(1), ids.get(0)), newestFirst);
        assertEquals(
                4,
                clients.getAllDcrClientsBy(
                                template,
                                user,
                                null,
                                new AttributesSorting(SortAttribute.LAST_MODIFIED_TIMESTAMP, SortOrder.ASCENDING),
                                true)
                        .getItems()
                        .size());
        assertEquals(
                5,
                clients.getAllDcrClientsBy(template, null, null, null, false)
                        .getItems()
                        .size());

        assertEquals(5, clients.getDcrClientCountBy(template, null, false));
        assertEquals(4, clients.getDcrClientCountBy(null, user, true));
    }

    @Test
    void listing_every_client_needs_scans_and_says_so_as_curity_expects() {
        DataSourceCapabilityException list = assertThrows(
                DataSourceCapabilityException.class, () -> clients.getAllDcrClientsBy(null, null, null, null, false));
        assertEquals(TableCapability.FILTERING_ABSENT, list.getUnsupportedCapability());
        DataSourceCapabilityException count =
                assertThrows(DataSourceCapabilityException.class, () -> clients.getDcrClientCountBy(null, null, true));
        assertEquals(TableCapability.FILTERING_ABSENT, count.getUnsupportedCapability());
    }
}
