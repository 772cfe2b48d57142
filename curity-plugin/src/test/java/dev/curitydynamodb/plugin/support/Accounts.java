package dev.curitydynamodb.plugin.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import se.curity.identityserver.sdk.attribute.AccountAttributes;

/** Accounts as Curity's account manager hands them over, with the hard cases in them. */
public final class Accounts {
    private Accounts() {}

    /**
     * A new account with nested maps, exact numbers, multi-valued emails and phones, an extension.
     * (No integer past 64 bits: Curity's AccountAttributes cannot hold one.)
     */
    public static AccountAttributes rich(String userName) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("userName", userName);
        m.put("active", true);
        m.put("password", "$2a$10$0123456789012345678901u8qrJV8sI1Qvv3.4sC5lC0LoG9yM2y");
        m.put("name", Map.of("givenName", "Jane", "familyName", "Doe", "formatted", "Jane Doe"));
        m.put("displayName", "Jane");
        m.put("timezone", "Europe/Stockholm");
        m.put(
                "emails",
                List.of(
                        Map.of("value", userName + "@work.example", "primary", true, "type", "work"),
                        Map.of("value", userName + "@home.example", "type", "home")));
        m.put(
                "phoneNumbers",
                List.of(Map.of("value", "+4670" + Math.abs(userName.hashCode()), "primary", true, "type", "mobile")));
        Map<String, Object> extension = new LinkedHashMap<>();
        extension.put("big", 12345678901234567L);
        extension.put("double", 2.0);
        extension.put("third", 0.1 + 0.2);
        extension.put("deep", Map.of("list", List.of(1L, "two", Map.of("three", 3L))));
        m.put("urn:example:params:scim:schemas:extension:custom:1.0", extension);
        return AccountAttributes.fromMap(m);
    }

    /** What a read must give back of a written account: all but id, meta, password and schemas. */
    public static Map<String, Object> comparable(AccountAttributes account) {
        Map<String, Object> m = new LinkedHashMap<>(account.asMap());
        m.remove("id");
        m.remove("meta");
        m.remove("password");
        m.remove("schemas");
        return m;
    }

    public static void assertSameAttributes(AccountAttributes expected, AccountAttributes actual) {
        assertEquals(comparable(expected), comparable(actual));
    }
}
