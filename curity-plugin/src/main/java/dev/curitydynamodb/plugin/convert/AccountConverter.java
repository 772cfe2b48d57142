package dev.curitydynamodb.plugin.convert;

import dev.curitydynamodb.grpc.v1.Account;
import dev.curitydynamodb.grpc.v1.NewAccount;
import dev.curitydynamodb.plugin.json.JsonText;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import se.curity.identityserver.sdk.attribute.AccountAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.Meta;
import se.curity.identityserver.sdk.attribute.scim.v2.ResourceAttributes;
import se.curity.identityserver.sdk.data.query.ResourceQuery.AttributesEnumeration;

/**
 * {@link AccountAttributes} and the service's {@code Account}. Every SCIM attribute but the ones
 * the account item holds in columns travels as JSON object text, so nested maps, multi-valued
 * emails and phones and exact numbers come back as they went in.
 */
public final class AccountConverter {
    /**
     * Never part of the stored attributes: columns of their own (id, userName, active), the password
     * (only credentials carry it), derived values (schemas, meta) and linked accounts, which live
     * in {@code curity-links}.
     */
    private static final Set<String> NOT_STORED = Set.of(
            ResourceAttributes.ID,
            AccountAttributes.USER_NAME,
            AccountAttributes.ACTIVE,
            AccountAttributes.PASSWORD,
            ResourceAttributes.SCHEMAS,
            ResourceAttributes.META,
            AccountAttributes.LINKED_ACCOUNTS,
            "linkedAccounts");

    private AccountConverter() {}

    public static NewAccount toProto(AccountAttributes account) {
        Map<String, Object> attributes = new LinkedHashMap<>(account.asMap());
        attributes.keySet().removeAll(NOT_STORED);
        return NewAccount.newBuilder()
                .setUserName(account.getUserName() == null ? "" : account.getUserName())
                .setActive(account.isActive())
                .setAttributesJson(JsonText.write(attributes))
                .build();
    }

    /** The password Curity hands over (already hashed by Curity), if any. */
    public static String passwordHash(AccountAttributes account) {
        String password = account.getPassword();
        return password == null || password.isEmpty() ? null : password;
    }

    public static AccountAttributes toSdk(Account account) {
        Map<String, Object> map = JsonText.read(account.getAttributesJson());
        map.put(ResourceAttributes.ID, account.getId());
        map.put(AccountAttributes.USER_NAME, account.getUserName());
        map.put(AccountAttributes.ACTIVE, account.getActive());
        ZoneId zone = zone(map.get(AccountAttributes.TIMEZONE));
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put(Meta.RESOURCE_TYPE, AccountAttributes.RESOURCE_TYPE);
        meta.put(Meta.CREATED, instant(account.getCreated(), zone));
        meta.put(Meta.LAST_MODIFIED, instant(account.getUpdated(), zone));
        map.put(ResourceAttributes.META, meta);
        return AccountAttributes.fromMap(map);
    }

    /** As {@link #toSdk(Account)}, keeping what {@code attributes} asks for. */
    public static ResourceAttributes<?> toSdk(Account account, AttributesEnumeration attributes) {
        AccountAttributes full = toSdk(account);
        if (attributes == null || attributes.isNeutral()) {
            return full;
        }
        return AccountAttributes.of(full.filter(attributes));
    }

    /** Meta times as Curity shows them: in the account's own time zone, else UTC. */
    private static String instant(long epochSeconds, ZoneId zone) {
        return ZonedDateTime.ofInstant(Instant.ofEpochSecond(epochSeconds), zone)
                .toString();
    }

    private static ZoneId zone(Object timezone) {
        if (timezone == null) {
            return ZoneOffset.UTC;
        }
        try {
            return ZoneId.of(timezone.toString());
        } catch (DateTimeException e) {
            return ZoneOffset.UTC;
        }
    }
}
