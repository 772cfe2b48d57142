package dev.curitydynamodb.plugin.support;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Waits for the service's readiness (health "" SERVING): an event, not a sleep of fixed length. */
final class Health {
    private Health() {}

    static void awaitServing(String target, Duration within) throws InterruptedException {
        ManagedChannel channel = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create())
                .build();
        try {
            long deadline = System.nanoTime() + within.toNanos();
            while (true) {
                try {
                    HealthCheckResponse response = HealthGrpc.newBlockingStub(channel)
                            .withDeadlineAfter(2, TimeUnit.SECONDS)
                            .withWaitForReady()
                            .check(HealthCheckRequest.getDefaultInstance());
                    if (response.getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
                        return;
                    }
                } catch (StatusRuntimeException e) {
                    // Not up yet.
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("not SERVING within " + within);
                }
                Thread.sleep(50);
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
