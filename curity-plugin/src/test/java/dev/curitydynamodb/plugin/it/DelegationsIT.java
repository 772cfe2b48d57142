package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.curitydynamodb.plugin.support.FakeExceptions;
import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import dev.curitydynamodb.plugin.support.TestConfig;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.attribute.Attribute;
import se.curity.identityserver.sdk.attribute.Attributes;
import se.curity.identityserver.sdk.attribute.AuthenticationAttributes;
import se.curity.identityserver.sdk.attribute.ContextAttributes;
import se.curity.identityserver.sdk.attribute.SubjectAttributes;
import se.curity.identityserver.sdk.data.authorization.Delegation;
import se.curity.identityserver.sdk.data.authorization.DelegationConsentResult;
import se.curity.identityserver.sdk.data.authorization.DelegationStatus;
import se.curity.identityserver.sdk.data.authorization.ScopeClaim;
import se.curity.identityserver.sdk.data.query.Filter;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Sorting.SortOrder;
import se.curity.identityserver.sdk.data.query.ResourceQueryBuilder;
import se.curity.identityserver.sdk.datasource.DelegationDataAccessProvider;
import se.curity.identityserver.sdk.oauth.consent.ConsentorResultAttributes;

@Order(30)
class DelegationsIT {
    private static ServiceProcess service;

    @BeforeAll
    static void start() throws Exception {
        service = ServiceProcess.start(Map.of("CURITY_DYNAMODB_DYNAMODB__ALLOW_TABLE_SCANS", "true"));
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    /** A data source of a fresh tenant, so listings and scans see only this test's delegations. */
    private static Plugin tenant() {
        return Plugin.connect(TestConfig.target(service.target())
                .with("getBearerToken", service.token())
                .with("getTenantId", Ids.fresh("t")));
    }

    @Test
    @SuppressWarnings("deprecation")
    void delegation_reads_back_equal_with_every_map_and_optional_field() {
        try (Plugin plugin = tenant()) {
            DelegationDataAccessProvider delegations = plugin.delegations();
            TestDelegation written = TestDelegation.issued(Ids.fresh("d"), "jane", "web", 1_900_000_000L)
                    .withEverything();
            delegations.create(written);
            Delegation read = delegations.getById(written.id());
            TestDelegation.assertSame(written, read);
            assertEquals(
                    12345678901234567L,
                    ((Map<?, ?>) read.getCustomClaimValues().get("exact")).get("big"),
                    "a 64-bit integer inside a claim value");
            assertEquals(Set.of(), read.getScopeClaims());
            TestDelegation.assertSame(written, delegations.getByAuthorizationCodeHash(written.authorizationCodeHash()));
        }
    }

    @Test
    void minimal_delegation_reads_back_with_nulls() {
        try (Plugin plugin = tenant()) {
            DelegationDataAccessProvider delegations = plugin.delegations();
            TestDelegation written = TestDelegation.issued(Ids.fresh("d"), "jane", "web", 1_900_000_000L);
            delegations.create(written);
            Delegation read = delegations.getById(written.id());
            TestDelegation.assertSame(written, read);
            assertNull(read.getConsentResult());
            assertNull(read.getRedirectUri());
            assertNull(read.getMtlsClientCertificate());
        }
    }

    @Test
    void revoked_delegation_is_not_found_by_id_but_by_code_hash() {
        try (Plugin plugin = tenant()) {
            DelegationDataAccessProvider delegations = plugin.delegations();
            TestDelegation written = TestDelegation.issued(Ids.fresh("d"), "jane", "web", 1_900_000_000L)
                    .withEverything();
            delegations.create(written);
            assertEquals(1, delegations.setStatus(written.id(), DelegationStatus.revoked));
            assertNull(delegations.getById(written.id()));
            assertEquals(
                    DelegationStatus.revoked,
                    delegations
                            .getByAuthorizationCodeHash(written.authorizationCodeHash())
                            .getStatus());
            assertEquals(0, delegations.setStatus(Ids.fresh("missing"), DelegationStatus.revoked));
            assertNull(delegations.getByAuthorizationCodeHash(Ids.fresh("no-code")));
        }
    }

    @Test
    void owner_listing_pages_by_offset_and_counts_issued_ones() {
        try (Plugin plugin = tenant()) {
            DelegationDataAccessProvider delegations = plugin.delegations();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                TestDelegation d = TestDelegation.issued(Ids.fresh("d"), "owner", "web", 1_900_000_000L + i);
                delegations.create(d);
                ids.add(d.id());
            }
            delegations.create(TestDelegation.issued(Ids.fresh("d"), "someone-else", "web", 1_900_000_000L));
            delegations.setStatus(ids.get(4), DelegationStatus.revoked);

            assertEquals(4, delegations.getCountByOwner("owner"));
            List<String> all = idsOf(delegations.getByOwner("owner", 0, 100));
            assertEquals(Set.copyOf(ids.subList(0, 4)), Set.copyOf(all));
            assertEquals(all.subList(1, 3), idsOf(delegations.getByOwner("owner", 1, 2)));
            assertEquals(List.of(), idsOf(delegations.getByOwner("owner", 4, 10)));

            assertEquals(5, delegations.getCountAllActive());
            assertEquals(5, delegations.getAllActive(0, 100).size());
            assertEquals(2, delegations.getAllActive(3, 10).size());
        }
    }

    @Test
    void scim_query_filters_sorts_and_pages() {
        try (Plugin plugin = tenant()) {
            DelegationDataAccessProvider delegations = plugin.delegations();
            List<String> webIds = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                TestDelegation d = TestDelegation.issued(Ids.fresh("d"), "jane", "web", 1_900_000_000L + i);
                delegations.create(d);
                webIds.add(d.id());
            }
            delegations.create(TestDelegation.issued(Ids.fresh("d"), "jane", "mobile", 1_900_000_000L));
            Filter webIssued = new Filter.LogicalExpression(
                    Filter.LogicalOperator.AND,
                    new Filter.AttributeExpression(Filter.AttributeOperator.EQ, "client_id", "web"),
                    new Filter.AttributeExpression(Filter.AttributeOperator.EQ, "status", "issued"));
            Collection<? extends Delegation> page = delegations.getAll(new ResourceQueryBuilder()
                    .withFilter(webIssued)
                    .withSortBy("expires")
                    .withSortOrder(SortOrder.DESCENDING)
                    .withPagination(1, 2)
                    .build());
            assertEquals(List.of(webIds.get(2), webIds.get(1)), idsOf(page));

            FakeExceptions.Raised bad = assertThrows(
                    FakeExceptions.Raised.class,
                    () -> delegations.getAll(new ResourceQueryBuilder()
                            .withFilter(
                                    new Filter.AttributeExpression(Filter.AttributeOperator.EQ, "noSuchAttribute", "x"))
                            .build()));
            assertEquals("badRequest", bad.kind);
        }
    }

    private static List<String> idsOf(Collection<? extends Delegation> delegations) {
        List<String> ids = new ArrayList<>();
        delegations.forEach(d -> ids.add(d.getId()));
        return ids;
    }

    /** A delegation as Curity's token service hands one over. */
    record TestDelegation(
            String id,
            String owner,
            String clientId,
            long expires,
            String redirectUri,
            String authorizationCodeHash,
            DelegationConsentResult consentResult,
            Map<String, Object> claimMap,
            Map<String, Object> customClaimValues,
            Map<String, Object> claims,
            String mtls)
            implements Delegation {
        static TestDelegation issued(String id, String owner, String clientId, long expires) {
            return new TestDelegation(
                    id, owner, clientId, expires, null, Ids.fresh("code"), null, Map.of(), Map.of(), Map.of(), null);
        }

        TestDelegation withEverything() {
            Map<String, Object> exact = new LinkedHashMap<>();
            exact.put("big", 12345678901234567L);
            exact.put("huge", new BigInteger("98765432109876543210"));
            exact.put("double", 2.0);
            return new TestDelegation(
                    id,
                    owner,
                    clientId,
                    expires,
                    "https://app.example/callback",
                    authorizationCodeHash,
                    new DelegationConsentResult(
                            "consentor-1", ConsentorResultAttributes.of(Attribute.of("approved", true))),
                    Map.of("email", Map.of("essential", true), "given_name", Map.of()),
                    Map.of("exact", exact, "list", List.of("a", 1L)),
                    Map.of("department", "R&D", "level", 3L),
                    "-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----");
        }

        static void assertSame(TestDelegation expected, Delegation actual) {
            assertNotNull(actual);
            assertEquals(expected.getId(), actual.getId());
            assertEquals(expected.getStatus(), actual.getStatus());
            assertEquals(expected.getOwner(), actual.getOwner());
            assertEquals(expected.getCreated(), actual.getCreated());
            assertEquals(expected.getExpires(), actual.getExpires());
            assertEquals(expected.getClientId(), actual.getClientId());
            assertEquals(expected.getScope(), actual.getScope());
            assertEquals(expected.getRedirectUri(), actual.getRedirectUri());
            assertEquals(expected.getAuthorizationCodeHash(), actual.getAuthorizationCodeHash());
            assertEquals(
                    expected.getAuthenticationAttributes().asMap(),
                    actual.getAuthenticationAttributes().asMap());
            assertEquals(expected.getConsentResult(), actual.getConsentResult());
            assertEquals(expected.getClaimMap(), actual.getClaimMap());
            assertEquals(expected.getCustomClaimValues(), actual.getCustomClaimValues());
            assertEquals(expected.getClaims(), actual.getClaims());
            assertEquals(expected.getMtlsClientCertificate(), actual.getMtlsClientCertificate());
            assertEquals(expected.getMtlsClientCertificateX5TS256(), actual.getMtlsClientCertificateX5TS256());
            assertEquals(expected.getMtlsClientCertificateDN(), actual.getMtlsClientCertificateDN());
        }

        @Override
        public String getId() {
            return id;
        }

        @Override
        public String getOwner() {
            return owner;
        }

        @Override
        public long getCreated() {
            return 1_800_000_000L;
        }

        @Override
        public String getScope() {
            return "openid email";
        }

        @Override
        @Deprecated
        public Set<ScopeClaim> getScopeClaims() {
            return Set.of();
        }

        @Override
        public Map<String, Object> getClaimMap() {
            return claimMap;
        }

        @Override
        public String getClientId() {
            return clientId;
        }

        @Override
        public String getRedirectUri() {
            return redirectUri;
        }

        @Override
        public String getAuthorizationCodeHash() {
            return authorizationCodeHash;
        }

        @Override
        public AuthenticationAttributes getAuthenticationAttributes() {
            return AuthenticationAttributes.of(
                    SubjectAttributes.of(owner, Attributes.of(Attribute.of("department", "R&D"))),
                    ContextAttributes.of(Attributes.of(
                            Attribute.of("acr", "urn:se:curity:authentication:html-form:pw"),
                            Attribute.of("auth_time", 1_800_000_000L))));
        }

        @Override
        public Map<String, Object> getCustomClaimValues() {
            return customClaimValues;
        }

        @Override
        public long getExpires() {
            return expires;
        }

        @Override
        public DelegationStatus getStatus() {
            return DelegationStatus.issued;
        }

        @Override
        public DelegationStatus getEnumActiveStatus() {
            return DelegationStatus.issued;
        }

        @Override
        public String getMtlsClientCertificate() {
            return mtls;
        }

        @Override
        public String getMtlsClientCertificateX5TS256() {
            return mtls == null ? null : "x5t";
        }

        @Override
        public String getMtlsClientCertificateDN() {
            return mtls == null ? null : "CN=client";
        }

        @Override
        public DelegationConsentResult getConsentResult() {
            return consentResult;
        }

        @Override
        public Map<String, Object> getClaims() {
            return claims;
        }
    }
}
