package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import java.math.BigInteger;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.data.StringOrArray;
import se.curity.identityserver.sdk.data.authorization.Token;
import se.curity.identityserver.sdk.data.authorization.TokenStatus;
import se.curity.identityserver.sdk.data.tokens.DefaultStringOrArray;
import se.curity.identityserver.sdk.datasource.NonceDataAccessProvider;
import se.curity.identityserver.sdk.datasource.TokenDataAccessProvider;
import se.curity.identityserver.sdk.errors.ConflictException;

@Order(11)
class TokensNoncesIT {
    private static ServiceProcess service;
    private static Plugin plugin;
    private static TokenDataAccessProvider tokens;
    private static NonceDataAccessProvider nonces;

    @BeforeAll
    static void start() throws Exception {
        service = ServiceProcess.start(Map.of());
        plugin = Plugin.connect(service);
        tokens = plugin.tokens();
        nonces = plugin.nonces();
    }

    @AfterAll
    static void stop() throws Exception {
        plugin.close();
        service.close();
    }

    @Test
    void token_reads_back_equal_including_exact_numbers_in_its_data() {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("big", 12345678901234567L);
        data.put("beyond64", new BigInteger("123456789012345678901234567890"));
        data.put("float", 2.0);
        data.put("third", 0.1 + 0.2);
        data.put("nested", Map.of("list", List.of(1L, "two", Map.of("three", true))));
        TestToken written = TestToken.issued(Ids.fresh("hash"), data, List.of("api", "web"));
        tokens.create(written);

        Token read = tokens.getByHash(written.getTokenHash());
        Map<String, Object> expected = new LinkedHashMap<>(data);
        // The service stores token data as its own JSON (64-bit integers and doubles exact);
        // an integer past 64 bits comes back as the nearest double, as README's "Exact numbers" says.
        expected.put("beyond64", 1.2345678901234568E29);
        TestToken.assertSame(written.withData(expected), read);
        assertEquals(12345678901234567L, read.getData().get("big"));
        assertEquals(Double.class, read.getData().get("float").getClass());
        assertEquals(0.1 + 0.2, read.getData().get("third"));
    }

    @Test
    void token_without_id_and_scope_reads_back_with_nulls_and_one_audience() {
        TestToken written =
                TestToken.issued(Ids.fresh("hash"), Map.of(), List.of("only")).withoutIdAndScope();
        tokens.create(written);
        Token read = tokens.getByHash(written.getTokenHash());
        assertNull(read.getId());
        assertNull(read.getScope());
        StringOrArray audience = read.getAudience();
        assertEquals(List.of("only"), audience.getValues());
    }

    @Test
    @SuppressWarnings("removal")
    void unknown_hash_reads_null_and_has_no_status() {
        String hash = Ids.fresh("missing");
        assertNull(tokens.getByHash(hash));
        assertNull(tokens.getStatus(hash));
        assertNull(tokens.getById(hash));
        assertEquals(0, tokens.setStatusByTokenHash(hash, TokenStatus.revoked));
    }

    @Test
    void creating_a_taken_hash_is_a_conflict() {
        TestToken written = TestToken.issued(Ids.fresh("hash"), Map.of(), List.of("api"));
        tokens.create(written);
        assertThrows(ConflictException.class, () -> tokens.create(written));
    }

    @Test
    void status_changes_and_a_revoked_token_stays_revoked() {
        TestToken written = TestToken.issued(Ids.fresh("hash"), Map.of(), List.of("api"));
        tokens.create(written);
        assertEquals("issued", tokens.getStatus(written.getTokenHash()));
        assertEquals(1, tokens.setStatusByTokenHash(written.getTokenHash(), TokenStatus.used));
        assertEquals("used", tokens.getStatus(written.getTokenHash()));
        assertEquals(1, tokens.setStatusByTokenHash(written.getTokenHash(), TokenStatus.revoked));
        assertEquals(0, tokens.setStatusByTokenHash(written.getTokenHash(), TokenStatus.issued));
        assertEquals(
                TokenStatus.revoked, tokens.getByHash(written.getTokenHash()).getStatus());
    }

    @Test
    @SuppressWarnings("removal")
    void status_by_token_id_is_refused_as_the_layout_has_no_id_index() {
        assertThrows(UnsupportedOperationException.class, () -> tokens.setStatus("some-id", TokenStatus.revoked));
    }

    @Test
    void saved_nonce_is_valid_until_consumed() {
        String nonce = Ids.fresh("n");
        long now = Instant.now().getEpochSecond();
        nonces.save(nonce, "value-1", now, 300);
        assertEquals("value-1", nonces.get(nonce));
        nonces.consume(nonce, now + 1);
        assertNull(nonces.get(nonce));
        // Consuming again changes nothing and fails nothing.
        nonces.consume(nonce, now + 2);
        assertNull(nonces.get(nonce));
    }

    @Test
    void expired_nonce_is_not_returned_and_cannot_be_consumed_into_validity() {
        String nonce = Ids.fresh("n");
        long created = Instant.now().getEpochSecond() - 600;
        nonces.save(nonce, "old", created, 60);
        assertNull(nonces.get(nonce));
        nonces.consume(nonce, created + 700);
        assertNull(nonces.get(nonce));
    }

    @Test
    void unknown_nonce_is_null_and_consuming_it_is_harmless() {
        String nonce = Ids.fresh("missing");
        assertNull(nonces.get(nonce));
        nonces.consume(nonce, Instant.now().getEpochSecond());
    }

    @Test
    void saving_a_taken_nonce_is_a_conflict_and_keeps_the_first_value() {
        String nonce = Ids.fresh("n");
        long now = Instant.now().getEpochSecond();
        nonces.save(nonce, "first", now, 300);
        assertThrows(ConflictException.class, () -> nonces.save(nonce, "second", now, 300));
        assertEquals("first", nonces.get(nonce));
    }

    /** A token as Curity would hand one to the provider. */
    record TestToken(String tokenHash, String id, String scope, Map<String, Object> data, List<String> audience)
            implements Token {
        static TestToken issued(String hash, Map<String, Object> data, List<String> audience) {
            return new TestToken(hash, "id-" + hash, "openid read", data, audience);
        }

        TestToken withData(Map<String, Object> other) {
            return new TestToken(tokenHash, id, scope, other, audience);
        }

        TestToken withoutIdAndScope() {
            return new TestToken(tokenHash, null, null, data, audience);
        }

        static void assertSame(Token expected, Token actual) {
            assertEquals(expected.getTokenHash(), actual.getTokenHash());
            assertEquals(expected.getId(), actual.getId());
            assertEquals(expected.getScope(), actual.getScope());
            assertEquals(expected.getDelegationsId(), actual.getDelegationsId());
            assertEquals(expected.getPurpose(), actual.getPurpose());
            assertEquals(expected.getUsage(), actual.getUsage());
            assertEquals(expected.getFormat(), actual.getFormat());
            assertEquals(expected.getStatus(), actual.getStatus());
            assertEquals(expected.getIssuer(), actual.getIssuer());
            assertEquals(expected.getSubject(), actual.getSubject());
            assertEquals(expected.getCreated(), actual.getCreated());
            assertEquals(expected.getExpires(), actual.getExpires());
            assertEquals(expected.getNotBefore(), actual.getNotBefore());
            assertEquals(
                    expected.getAudience().getValues(), actual.getAudience().getValues());
            assertEquals(expected.getData(), actual.getData());
        }

        @Override
        public String getTokenHash() {
            return tokenHash;
        }

        @Override
        public String getId() {
            return id;
        }

        @Override
        public String getDelegationsId() {
            return "delegation-1";
        }

        @Override
        public String getPurpose() {
            return "access_token";
        }

        @Override
        public String getUsage() {
            return "bearer";
        }

        @Override
        public String getFormat() {
            return "opaque";
        }

        @Override
        public String getScope() {
            return scope;
        }

        @Override
        public long getCreated() {
            return 1_800_000_000L;
        }

        @Override
        public long getExpires() {
            return 1_900_000_000L;
        }

        @Override
        public TokenStatus getStatus() {
            return TokenStatus.issued;
        }

        @Override
        public TokenStatus getEnumActiveStatus() {
            return TokenStatus.issued;
        }

        @Override
        public String getIssuer() {
            return "https://idsvr.example/oauth";
        }

        @Override
        public String getSubject() {
            return "jane";
        }

        @Override
        public StringOrArray getAudience() {
            return DefaultStringOrArray.of(audience);
        }

        @Override
        public long getNotBefore() {
            return 1_800_000_000L;
        }

        @Override
        public Map<String, Object> getData() {
            return data;
        }
    }
}
