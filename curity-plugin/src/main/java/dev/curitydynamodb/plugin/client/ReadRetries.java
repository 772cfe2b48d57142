package dev.curitydynamodb.plugin.client;

import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The channel's service config: grpc-java's own retry for the service's reads, so an idempotent
 * call that met UNAVAILABLE or RESOURCE_EXHAUSTED is tried again with backoff, always within the
 * call's deadline. Writes are never retried: a write that timed out may have landed.
 */
final class ReadRetries {
    /** Every read of the API is named Get..., List..., Count... or Resolve...; nothing else is. */
    private static final Pattern READ = Pattern.compile("(Get|List|Count|Resolve).*");

    private ReadRetries() {}

    static boolean isRead(MethodDescriptor<?, ?> method) {
        return READ.matcher(method.getBareMethodName()).matches();
    }

    static Map<String, Object> serviceConfig(List<ServiceDescriptor> services, int attempts) {
        List<Object> names = new ArrayList<>();
        for (ServiceDescriptor service : services) {
            for (MethodDescriptor<?, ?> method : service.getMethods()) {
                if (isRead(method)) {
                    names.add(Map.of("service", service.getName(), "method", method.getBareMethodName()));
                }
            }
        }
        if (attempts < 2 || names.isEmpty()) {
            return Map.of();
        }
        // The JSON form grpc-java parses: numbers are doubles, durations strings.
        Map<String, Object> retryPolicy = Map.of(
                "maxAttempts",
                (double) attempts,
                "initialBackoff",
                "0.05s",
                "maxBackoff",
                "0.5s",
                "backoffMultiplier",
                2.0,
                "retryableStatusCodes",
                List.of("UNAVAILABLE", "RESOURCE_EXHAUSTED"));
        return Map.of("methodConfig", List.of(Map.of("name", names, "retryPolicy", retryPolicy)));
    }
}
