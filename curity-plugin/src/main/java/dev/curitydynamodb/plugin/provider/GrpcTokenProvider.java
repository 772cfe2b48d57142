package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.CreateTokenRequest;
import dev.curitydynamodb.grpc.v1.GetTokenByHashRequest;
import dev.curitydynamodb.grpc.v1.GetTokenByHashResponse;
import dev.curitydynamodb.grpc.v1.GetTokenStatusRequest;
import dev.curitydynamodb.grpc.v1.GetTokenStatusResponse;
import dev.curitydynamodb.grpc.v1.SetTokenStatusRequest;
import dev.curitydynamodb.grpc.v1.TokenServiceGrpc;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.client.ServiceConnection;
import dev.curitydynamodb.plugin.convert.TokenConverter;
import se.curity.identityserver.sdk.ThreadSafe;
import se.curity.identityserver.sdk.data.authorization.Token;
import se.curity.identityserver.sdk.data.authorization.TokenStatus;
import se.curity.identityserver.sdk.datasource.TokenDataAccessProvider;

/** Tokens ({@code TokenService}): keyed by hash, global. */
public final class GrpcTokenProvider implements TokenDataAccessProvider, ThreadSafe {
    private final Rpc rpc;

    public GrpcTokenProvider(ServiceConnection connection) {
        this.rpc = connection.rpc();
    }

    @Override
    public Token getByHash(String tokenHash) {
        GetTokenByHashResponse response = rpc.call(
                "TokenService/GetTokenByHash",
                TokenServiceGrpc::newBlockingStub,
                s -> s.getTokenByHash(GetTokenByHashRequest.newBuilder()
                        .setTokenHash(tokenHash)
                        .build()));
        return response.hasToken() ? TokenConverter.toSdk(response.getToken()) : null;
    }

    /** A taken hash is a {@code ConflictException}. */
    @Override
    public void create(Token token) {
        rpc.call(
                "TokenService/CreateToken",
                TokenServiceGrpc::newBlockingStub,
                s -> s.createToken(CreateTokenRequest.newBuilder()
                        .setToken(TokenConverter.toProto(token))
                        .build()));
    }

    /** The status name ({@code issued}, {@code used}, {@code revoked}), or null for an unknown hash. */
    @Override
    public String getStatus(String tokenHash) {
        GetTokenStatusResponse response = rpc.call(
                "TokenService/GetTokenStatus",
                TokenServiceGrpc::newBlockingStub,
                s -> s.getTokenStatus(GetTokenStatusRequest.newBuilder()
                        .setTokenHash(tokenHash)
                        .build()));
        return response.hasStatus() ? response.getStatus() : null;
    }

    /** 1 when the token exists and took the status, else 0. A revoked token stays revoked. */
    @Override
    public long setStatusByTokenHash(String tokenHash, TokenStatus newStatus) {
        return rpc.call(
                        "TokenService/SetTokenStatus",
                        TokenServiceGrpc::newBlockingStub,
                        s -> s.setTokenStatus(SetTokenStatusRequest.newBuilder()
                                .setTokenHash(tokenHash)
                                .setStatus(newStatus.name())
                                .build()))
                .getUpdated();
    }

    /**
     * Not served: {@code curity-tokens} has no index on the token id, so this would be a table scan
     * per call. Deprecated for removal since SDK 7.1, and Curity's own DynamoDB plugin refuses it
     * the same way.
     */
    @Override
    @Deprecated
    @SuppressWarnings("removal")
    public long setStatus(String tokenId, TokenStatus newStatus) {
        throw new UnsupportedOperationException(
                "setStatus by token id: curity-tokens has no index on the id; use setStatusByTokenHash");
    }
}
