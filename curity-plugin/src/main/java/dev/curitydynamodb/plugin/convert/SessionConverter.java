package dev.curitydynamodb.plugin.convert;

import java.time.Instant;
import se.curity.identityserver.sdk.data.Session;

/** {@link Session} and the service's {@code Session}: the expiry instant travels as epoch seconds. */
public final class SessionConverter {
    private SessionConverter() {}

    public static dev.curitydynamodb.grpc.v1.Session toProto(Session session) {
        return dev.curitydynamodb.grpc.v1.Session.newBuilder()
                .setId(session.getId())
                .setData(session.getData() == null ? "" : session.getData())
                .setExpiresAt(epochSeconds(session.getExpiresAt()))
                .build();
    }

    public static Session toSdk(dev.curitydynamodb.grpc.v1.Session session) {
        return new Session(session.getId(), Instant.ofEpochSecond(session.getExpiresAt()), session.getData());
    }

    /** The table stores whole seconds; a sub-second part is dropped, as the plugin drops it. */
    public static long epochSeconds(Instant instant) {
        return instant.getEpochSecond();
    }
}
