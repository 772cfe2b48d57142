package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import dev.curitydynamodb.plugin.support.TestConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.attribute.Attribute;
import se.curity.identityserver.sdk.attribute.MapAttributeValue;
import se.curity.identityserver.sdk.attribute.scim.v2.Meta;
import se.curity.identityserver.sdk.attribute.scim.v2.ResourceAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.DeviceAttributes;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Exclusions;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Inclusions;
import se.curity.identityserver.sdk.data.query.ResourceQueryBuilder;
import se.curity.identityserver.sdk.data.query.ResourceQueryResult;
import se.curity.identityserver.sdk.datasource.DeviceDataAccessProvider;
import se.curity.identityserver.sdk.errors.ConflictException;

@Order(31)
class DevicesIT {
    private static ServiceProcess service;

    @BeforeAll
    static void start() throws Exception {
        service = ServiceProcess.start(Map.of("CURITY_DYNAMODB_DYNAMODB__ALLOW_TABLE_SCANS", "true"));
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    private static Plugin tenant() {
        return Plugin.connect(TestConfig.target(service.target())
                .with("getBearerToken", service.token())
                .with("getTenantId", Ids.fresh("t")));
    }

    /** A device as Curity's device management hands one over, its free-form map with exact numbers. */
    private static DeviceAttributes device(String id, String deviceId, String accountId) {
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("publicKey", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE");
        extra.put("counter", 12345678901234567L);
        extra.put("ratio", 2.0);
        extra.put("nested", Map.of("list", List.of(1L, "x")));
        return DeviceAttributes.createDevice(
                        id,
                        deviceId,
                        accountId,
                        "ext-" + deviceId,
                        "Jane's phone",
                        "mobile",
                        "ios",
                        "jane",
                        Instant.ofEpochSecond(1_900_000_000L),
                        null)
                .with(Attribute.of(DeviceAttributes.ATTRIBUTES, MapAttributeValue.of(extra)));
    }

    private static Map<String, Object> comparable(ResourceAttributes<?> device) {
        Map<String, Object> m = new LinkedHashMap<>(device.asMap());
        m.remove("meta");
        return m;
    }

    @Test
    void device_reads_back_equal_by_id_pair_and_account() {
        try (Plugin plugin = tenant()) {
            DeviceDataAccessProvider devices = plugin.devices();
            String account = Ids.fresh("acc");
            DeviceAttributes written = device(Ids.fresh("id"), "dev-1", account);
            devices.create(written);

            DeviceAttributes byId = devices.getById(written.getId());
            assertEquals(comparable(written), comparable(byId));
            assertEquals(Instant.ofEpochSecond(1_900_000_000L), byId.getExpiresAt());
            assertNotNull(byId.getMeta().getCreated());
            assertEquals(12345678901234567L, ((Map<?, ?>) byId.asMap().get("attributes")).get("counter"));
            assertEquals(comparable(written), comparable(devices.getBy("dev-1", account)));
            assertEquals(List.of(comparable(written)), comparableAll(devices.getByAccountId(account)));

            ResourceAttributes<?> only = devices.getById(written.getId(), Inclusions.of(Set.of("alias")));
            assertTrue(only.contains("alias"));
            assertFalse(only.contains("owner"));
            assertFalse(devices.getBy("dev-1", account, Exclusions.of(Set.of("alias")))
                    .contains("alias"));
            assertEquals(1, devices.getByAccountId(account, Exclusions.none()).size());
        }
    }

    @Test
    void unknown_devices_are_null_or_empty() {
        try (Plugin plugin = tenant()) {
            DeviceDataAccessProvider devices = plugin.devices();
            assertNull(devices.getById(Ids.fresh("missing")));
            assertNull(devices.getById(Ids.fresh("missing"), Exclusions.none()));
            assertNull(devices.getBy("dev", Ids.fresh("acc")));
            assertNull(devices.getBy("dev", Ids.fresh("acc"), Exclusions.none()));
            assertEquals(List.of(), devices.getByAccountId(Ids.fresh("acc")));
        }
    }

    @Test
    void taken_id_or_device_id_of_the_account_is_a_conflict() {
        try (Plugin plugin = tenant()) {
            DeviceDataAccessProvider devices = plugin.devices();
            String account = Ids.fresh("acc");
            DeviceAttributes first = device(Ids.fresh("id"), "dev-1", account);
            devices.create(first);
            assertThrows(ConflictException.class, () -> devices.create(device(first.getId(), "dev-2", account)));
            assertThrows(ConflictException.class, () -> devices.create(device(Ids.fresh("id"), "dev-1", account)));
        }
    }

    @Test
    void device_without_an_id_gets_one() {
        try (Plugin plugin = tenant()) {
            DeviceDataAccessProvider devices = plugin.devices();
            String account = Ids.fresh("acc");
            devices.create(device(null, "dev-1", account));
            DeviceAttributes read = devices.getBy("dev-1", account);
            assertNotNull(read.getId());
            assertEquals(comparable(read), comparable(devices.getById(read.getId())));
        }
    }

    @Test
    void update_replaces_fields_and_a_missing_device_stays_missing() {
        try (Plugin plugin = tenant()) {
            DeviceDataAccessProvider devices = plugin.devices();
            String account = Ids.fresh("acc");
            DeviceAttributes written = device(Ids.fresh("id"), "dev-1", account);
            devices.create(written);
            devices.update(DeviceAttributes.createDevice(
                    written.getId(), "dev-1", account, null, "Renamed", "mobile", "ios", "jane", null, null));
            DeviceAttributes read = devices.getById(written.getId());
            assertEquals("Renamed", read.getAlias());
            assertNull(read.getExpiresAt());
            assertNull(read.getExternalId());
            assertFalse(read.contains("attributes"), "the update replaced the free-form map too");

            DeviceAttributes ghost = device(Ids.fresh("id"), "dev-9", account);
            devices.update(ghost);
            assertNull(devices.getById(ghost.getId()));
        }
    }

    @Test
    void delete_by_id_and_by_pair() {
        try (Plugin plugin = tenant()) {
            DeviceDataAccessProvider devices = plugin.devices();
            String account = Ids.fresh("acc");
            DeviceAttributes one = device(Ids.fresh("id"), "dev-1", account);
            DeviceAttributes two = device(Ids.fresh("id"), "dev-2", account);
            devices.create(one);
            devices.create(two);
            devices.delete(one.getId());
            assertNull(devices.getById(one.getId()));
            assertNull(devices.getBy("dev-1", account));
            devices.delete("dev-2", account);
            assertNull(devices.getById(two.getId()));
            devices.delete(one.getId());
            devices.delete("dev-2", account);
        }
    }

    @Test
    void get_all_offset_pages_with_total() {
        try (Plugin plugin = tenant()) {
            DeviceDataAccessProvider devices = plugin.devices();
            for (int i = 0; i < 5; i++) {
                devices.create(device(Ids.fresh("id"), "dev-" + i, Ids.fresh("acc")));
            }
            ResourceQueryResult all = devices.getAll(0, 100);
            assertEquals(5, all.getResources().size());
            assertEquals(5, all.getTotalResults());
            ResourceQueryResult page = devices.getAll(1, 2);
            assertEquals(2, page.getResources().size());
            assertEquals(5, page.getTotalResults());
            assertEquals(0, devices.getAll(0, 0).getResources().size());
            assertEquals(5, devices.getAll(0, 0).getTotalResults());

            ResourceQueryResult viaQuery = devices.getAll(new ResourceQueryBuilder()
                    .withPagination(0, 3)
                    .withAttributeInclusions(Set.of("deviceId"))
                    .build());
            assertEquals(3, viaQuery.getResources().size());
            assertFalse(viaQuery.getResources().get(0).contains("alias"));

            DeviceAttributes fromAttributes = devices.fromAttributes(List.of(
                    Attribute.of("id", "x"), Attribute.of("deviceId", "d"), Attribute.of("meta", Meta.of("Device"))));
            assertEquals("d", fromAttributes.getDeviceId());
        }
    }

    private static List<Map<String, Object>> comparableAll(List<DeviceAttributes> devices) {
        List<Map<String, Object>> out = new ArrayList<>();
        devices.forEach(d -> out.add(comparable(d)));
        return out;
    }
}
