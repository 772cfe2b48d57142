package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.BucketKey;
import dev.curitydynamodb.grpc.v1.BucketServiceGrpc;
import dev.curitydynamodb.grpc.v1.BucketState;
import dev.curitydynamodb.grpc.v1.ClearBucketRequest;
import dev.curitydynamodb.grpc.v1.GetBucketRequest;
import dev.curitydynamodb.grpc.v1.GetBucketResponse;
import dev.curitydynamodb.grpc.v1.StoreBucketRequest;
import dev.curitydynamodb.grpc.v1.Tenant;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.client.ServiceConnection;
import dev.curitydynamodb.plugin.json.JsonText;
import java.util.Map;
import se.curity.identityserver.sdk.ThreadSafe;
import se.curity.identityserver.sdk.datasource.BucketDataAccessProvider;

/** Buckets ({@code BucketService}) of the data source's tenant; the map travels as JSON text. */
public final class GrpcBucketProvider implements BucketDataAccessProvider, ThreadSafe {
    private final Rpc rpc;
    private final Tenant tenant;

    public GrpcBucketProvider(ServiceConnection connection) {
        this.rpc = connection.rpc();
        this.tenant = connection.tenant();
    }

    /** The stored map; empty when there is none (or it expired: SDK 8 buckets never expire). */
    @Override
    public Map<String, Object> getAttributes(String subject, String purpose) {
        GetBucketResponse response = rpc.call(
                "BucketService/GetBucket",
                BucketServiceGrpc::newBlockingStub,
                s -> s.getBucket(GetBucketRequest.newBuilder()
                        .setKey(key(subject, purpose))
                        .build()));
        if (response.getState() != BucketState.BUCKET_STATE_FOUND) {
            return new java.util.LinkedHashMap<>();
        }
        return JsonText.read(response.getAttributesJson());
    }

    /** Replaces the map (keeping the bucket's {@code created}) and returns what was stored. */
    @Override
    public Map<String, Object> storeAttributes(String subject, String purpose, Map<String, Object> attributes) {
        var response = rpc.call(
                "BucketService/StoreBucket",
                BucketServiceGrpc::newBlockingStub,
                s -> s.storeBucket(StoreBucketRequest.newBuilder()
                        .setKey(key(subject, purpose))
                        .setAttributesJson(JsonText.write(attributes))
                        .build()));
        return JsonText.read(response.getAttributesJson());
    }

    @Override
    public boolean clearBucket(String subject, String purpose) {
        return rpc.call(
                        "BucketService/ClearBucket",
                        BucketServiceGrpc::newBlockingStub,
                        s -> s.clearBucket(ClearBucketRequest.newBuilder()
                                .setKey(key(subject, purpose))
                                .build()))
                .getCleared();
    }

    private BucketKey key(String subject, String purpose) {
        return BucketKey.newBuilder()
                .setTenant(tenant)
                .setSubject(subject)
                .setPurpose(purpose)
                .build();
    }
}
