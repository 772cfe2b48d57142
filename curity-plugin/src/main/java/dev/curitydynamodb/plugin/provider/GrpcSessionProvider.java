package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.DeleteSessionRequest;
import dev.curitydynamodb.grpc.v1.GetSessionRequest;
import dev.curitydynamodb.grpc.v1.GetSessionResponse;
import dev.curitydynamodb.grpc.v1.InsertSessionRequest;
import dev.curitydynamodb.grpc.v1.SessionServiceGrpc;
import dev.curitydynamodb.grpc.v1.UpdateSessionExpirationRequest;
import dev.curitydynamodb.grpc.v1.UpdateSessionRequest;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.client.ServiceConnection;
import dev.curitydynamodb.plugin.convert.SessionConverter;
import java.time.Instant;
import se.curity.identityserver.sdk.ThreadSafe;
import se.curity.identityserver.sdk.data.Session;
import se.curity.identityserver.sdk.datasource.SessionDataAccessProvider;

/** Sessions ({@code SessionService}): global, as in Curity's own DynamoDB plugin. */
public final class GrpcSessionProvider implements SessionDataAccessProvider, ThreadSafe {
    private final Rpc rpc;

    public GrpcSessionProvider(ServiceConnection connection) {
        this.rpc = connection.rpc();
    }

    /** The session as stored, expired or not (the caller judges expiry, as the plugin leaves it). */
    @Override
    public Session getSessionById(String id) {
        GetSessionResponse response = rpc.call(
                "SessionService/GetSession",
                SessionServiceGrpc::newBlockingStub,
                s -> s.getSession(GetSessionRequest.newBuilder().setId(id).build()));
        return response.hasSession() ? SessionConverter.toSdk(response.getSession()) : null;
    }

    /** A taken id is a {@code ConflictException}. */
    @Override
    public void insertSession(Session session) {
        rpc.call(
                "SessionService/InsertSession",
                SessionServiceGrpc::newBlockingStub,
                s -> s.insertSession(InsertSessionRequest.newBuilder()
                        .setSession(SessionConverter.toProto(session))
                        .build()));
    }

    @Override
    public void updateSession(Session session) {
        rpc.call(
                "SessionService/UpdateSession",
                SessionServiceGrpc::newBlockingStub,
                s -> s.updateSession(UpdateSessionRequest.newBuilder()
                        .setSession(SessionConverter.toProto(session))
                        .build()));
    }

    /** A missing session is left missing (nothing is written), as in the plugin. */
    @Override
    public void updateSessionExpiration(String id, Instant expiresAt) {
        rpc.call(
                "SessionService/UpdateSessionExpiration",
                SessionServiceGrpc::newBlockingStub,
                s -> s.updateSessionExpiration(UpdateSessionExpirationRequest.newBuilder()
                        .setId(id)
                        .setExpiresAt(SessionConverter.epochSeconds(expiresAt))
                        .build()));
    }

    @Override
    public void deleteSessionState(String id) {
        rpc.call(
                "SessionService/DeleteSession",
                SessionServiceGrpc::newBlockingStub,
                s -> s.deleteSession(DeleteSessionRequest.newBuilder().setId(id).build()));
    }
}
