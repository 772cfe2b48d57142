package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.ConsumeNonceRequest;
import dev.curitydynamodb.grpc.v1.GetNonceRequest;
import dev.curitydynamodb.grpc.v1.GetNonceResponse;
import dev.curitydynamodb.grpc.v1.NonceServiceGrpc;
import dev.curitydynamodb.grpc.v1.NonceState;
import dev.curitydynamodb.grpc.v1.NonceStatus;
import dev.curitydynamodb.grpc.v1.SaveNonceRequest;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.client.ServiceConnection;
import java.time.Clock;
import se.curity.identityserver.sdk.ThreadSafe;
import se.curity.identityserver.sdk.datasource.NonceDataAccessProvider;

/** Nonces ({@code NonceService}): global; times are epoch seconds, as the SDK gives them. */
public final class GrpcNonceProvider implements NonceDataAccessProvider, ThreadSafe {
    private final Rpc rpc;
    private final Clock clock;

    public GrpcNonceProvider(ServiceConnection connection) {
        this(connection, Clock.systemUTC());
    }

    GrpcNonceProvider(ServiceConnection connection, Clock clock) {
        this.rpc = connection.rpc();
        this.clock = clock;
    }

    /**
     * The nonce's value only while it is valid: issued (not consumed) and not expired ({@code
     * createdAt + ttl} still ahead). The service marks an expired nonce {@code expired} on the way.
     */
    @Override
    public String get(String nonce) {
        GetNonceResponse response = rpc.call(
                "NonceService/GetNonce",
                NonceServiceGrpc::newBlockingStub,
                s -> s.getNonce(GetNonceRequest.newBuilder().setNonce(nonce).build()));
        if (!response.hasState()) {
            return null;
        }
        NonceState state = response.getState();
        boolean valid = state.getStatus() == NonceStatus.NONCE_STATUS_ISSUED
                && state.getExpiresAt() > clock.instant().getEpochSecond();
        return valid ? state.getValue() : null;
    }

    /** A nonce that exists already is a {@code ConflictException}. */
    @Override
    public void save(String nonce, String value, long createdAt, long ttl) {
        rpc.call(
                "NonceService/SaveNonce",
                NonceServiceGrpc::newBlockingStub,
                s -> s.saveNonce(SaveNonceRequest.newBuilder()
                        .setNonce(nonce)
                        .setValue(value)
                        .setCreatedAt(createdAt)
                        .setTtlSeconds(ttl)
                        .build()));
    }

    /** Consuming a missing, consumed or expired nonce changes nothing, as in the plugin. */
    @Override
    public void consume(String nonce, long consumedAt) {
        rpc.call(
                "NonceService/ConsumeNonce",
                NonceServiceGrpc::newBlockingStub,
                s -> s.consumeNonce(ConsumeNonceRequest.newBuilder()
                        .setNonce(nonce)
                        .setConsumedAt(consumedAt)
                        .build()));
    }
}
