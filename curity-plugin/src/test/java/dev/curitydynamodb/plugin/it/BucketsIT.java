package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import dev.curitydynamodb.plugin.support.TestConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.datasource.BucketDataAccessProvider;

@Order(12)
class BucketsIT {
    private static ServiceProcess service;
    private static Plugin plugin;
    private static Plugin acme;
    private static BucketDataAccessProvider buckets;

    @BeforeAll
    static void start() throws Exception {
        service = ServiceProcess.start(Map.of());
        plugin = Plugin.connect(service);
        acme = Plugin.connect(TestConfig.target(service.target())
                .with("getBearerToken", service.token())
                .with("getTenantId", "acme"));
        buckets = plugin.buckets();
    }

    @AfterAll
    static void stop() throws Exception {
        acme.close();
        plugin.close();
        service.close();
    }

    @Test
    void stored_map_reads_back_equal_with_exact_numbers() {
        String subject = Ids.fresh("jane");
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("attempts", 3L);
        attributes.put("big", 9_007_199_254_740_993L);
        attributes.put("ratio", 2.0);
        attributes.put("codes", List.of("a", "b"));
        attributes.put("nested", Map.of("deep", Map.of("n", 1L)));

        assertEquals(attributes, buckets.storeAttributes(subject, "otp", attributes));
        assertEquals(attributes, buckets.getAttributes(subject, "otp"));
    }

    @Test
    void missing_bucket_is_an_empty_map_and_clearing_it_reports_false() {
        String subject = Ids.fresh("nobody");
        assertEquals(Map.of(), buckets.getAttributes(subject, "otp"));
        assertFalse(buckets.clearBucket(subject, "otp"));
    }

    @Test
    void store_replaces_the_map_and_clear_removes_it() {
        String subject = Ids.fresh("jane");
        buckets.storeAttributes(subject, "otp", Map.of("a", 1L, "b", 2L));
        buckets.storeAttributes(subject, "otp", Map.of("c", 3L));
        assertEquals(Map.of("c", 3L), buckets.getAttributes(subject, "otp"));
        assertTrue(buckets.clearBucket(subject, "otp"));
        assertEquals(Map.of(), buckets.getAttributes(subject, "otp"));
    }

    @Test
    void a_tenant_data_source_has_buckets_of_its_own() {
        String subject = Ids.fresh("jane");
        BucketDataAccessProvider acmeBuckets = acme.buckets();
        acmeBuckets.storeAttributes(subject, "otp", Map.of("tenant", "acme"));
        buckets.storeAttributes(subject, "otp", Map.of("tenant", "default"));
        assertEquals(Map.of("tenant", "acme"), acmeBuckets.getAttributes(subject, "otp"));
        assertEquals(Map.of("tenant", "default"), buckets.getAttributes(subject, "otp"));
    }
}
