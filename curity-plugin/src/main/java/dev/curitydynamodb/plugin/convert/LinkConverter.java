package dev.curitydynamodb.plugin.convert;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.LinkedAccount;

/** The service's {@code LinkedAccount} as the SDK's: {@code created} as an ISO instant, absent when 0. */
public final class LinkConverter {
    private LinkConverter() {}

    public static LinkedAccount toSdk(dev.curitydynamodb.grpc.v1.LinkedAccount link) {
        String created = link.getCreated() == 0
                ? null
                : DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(link.getCreated()));
        return LinkedAccount.of(link.getDomain(), link.getId(), null, created);
    }
}
