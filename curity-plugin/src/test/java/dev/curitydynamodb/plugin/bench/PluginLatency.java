package dev.curitydynamodb.plugin.bench;

import dev.curitydynamodb.grpc.v1.AccountServiceGrpc;
import dev.curitydynamodb.grpc.v1.GetAccountByUserNameRequest;
import dev.curitydynamodb.grpc.v1.Tenant;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import se.curity.identityserver.sdk.attribute.AccountAttributes;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Exclusions;
import se.curity.identityserver.sdk.datasource.UserAccountDataAccessProvider;

/**
 * What the plugin adds to a cached account read: {@code getByUserName} through the provider
 * (deadline, credentials, status mapping, JSON and AccountAttributes conversion) against a plain
 * grpc-java blocking call of the same RPC on an equivalent channel, alternated in one run against
 * the same service. Reported, not gated: wall-clock figures on shared machines move ±20 %.
 *
 * <p>Run by {@code scripts/measure-plugin} (release binary, {@code -Dcurity.dynamodb.bin}).
 */
public final class PluginLatency {
    private static final int CALLS = Integer.getInteger("calls", 20_000);
    private static final int ROUNDS = 3;

    public static void main(String[] args) throws Exception {
        try (ServiceProcess service = ServiceProcess.start(Map.of());
                Plugin plugin = Plugin.connect(service)) {
            UserAccountDataAccessProvider accounts = plugin.accounts();
            accounts.create(AccountAttributes.fromMap(Map.of(
                    "userName",
                    "bench",
                    "active",
                    true,
                    "name",
                    Map.of("givenName", "Bench", "familyName", "Mark"),
                    "emails",
                    List.of(Map.of("value", "bench@example.com", "primary", true)))));

            ManagedChannel channel = Grpc.newChannelBuilder(service.target(), InsecureChannelCredentials.create())
                    .build();
            Metadata auth = new Metadata();
            auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + service.token());
            AccountServiceGrpc.AccountServiceBlockingStub raw = AccountServiceGrpc.newBlockingStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
            GetAccountByUserNameRequest request = GetAccountByUserNameRequest.newBuilder()
                    .setTenant(Tenant.getDefaultInstance())
                    .setUserName("bench")
                    .build();

            Supplier<Object> viaPlugin = () -> accounts.getByUserName("bench", Exclusions.none());
            Supplier<Object> viaGrpc =
                    () -> raw.withDeadlineAfter(5, TimeUnit.SECONDS).getByUserName(request);
            measure(viaPlugin, CALLS / 4);
            measure(viaGrpc, CALLS / 4);

            System.out.printf(
                    Locale.ROOT,
                    "%-6s %12s %12s %12s %12s %8s%n",
                    "run",
                    "grpc p50 µs",
                    "plugin p50",
                    "grpc mean",
                    "plugin mean",
                    "ratio");
            for (int run = 1; run <= ROUNDS; run++) {
                double[] grpc = measure(viaGrpc, CALLS);
                double[] pluginCalls = measure(viaPlugin, CALLS);
                System.out.printf(
                        Locale.ROOT,
                        "%-6d %12.1f %12.1f %12.1f %12.1f %8.2f%n",
                        run,
                        grpc[0],
                        pluginCalls[0],
                        grpc[1],
                        pluginCalls[1],
                        pluginCalls[1] / grpc[1]);
            }
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** p50 and mean latency in microseconds over {@code n} sequential calls. */
    private static double[] measure(Supplier<Object> call, int n) {
        long[] nanos = new long[n];
        long total = 0;
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            if (call.get() == null) {
                throw new IllegalStateException("no account");
            }
            nanos[i] = System.nanoTime() - start;
            total += nanos[i];
        }
        Arrays.sort(nanos);
        return new double[] {nanos[n / 2] / 1000.0, total / (double) n / 1000.0};
    }
}
