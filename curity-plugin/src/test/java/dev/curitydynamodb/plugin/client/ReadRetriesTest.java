package dev.curitydynamodb.plugin.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.curitydynamodb.grpc.v1.AccountServiceGrpc;
import dev.curitydynamodb.grpc.v1.DelegationServiceGrpc;
import dev.curitydynamodb.grpc.v1.NonceServiceGrpc;
import dev.curitydynamodb.grpc.v1.TokenServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ReadRetriesTest {
    private static Set<String> reads(ServiceDescriptor service) {
        Set<String> names = new TreeSet<>();
        for (MethodDescriptor<?, ?> m : service.getMethods()) {
            if (ReadRetries.isRead(m)) {
                names.add(m.getBareMethodName());
            }
        }
        return names;
    }

    @Test
    void only_reads_are_retried() {
        assertEquals(
                Set.of("Count", "GetByEmail", "GetById", "GetByPhone", "GetByUserName", "List"),
                reads(AccountServiceGrpc.getServiceDescriptor()));
        assertEquals(Set.of("GetTokenByHash", "GetTokenStatus"), reads(TokenServiceGrpc.getServiceDescriptor()));
        // GetNonce marks an expired nonce expired: doing that twice changes nothing more.
        assertEquals(Set.of("GetNonce"), reads(NonceServiceGrpc.getServiceDescriptor()));
        assertEquals(
                Set.of(
                        "CountActive",
                        "CountByOwner",
                        "GetByAuthorizationCodeHash",
                        "GetById",
                        "GetByOwner",
                        "List",
                        "ListActive"),
                reads(DelegationServiceGrpc.getServiceDescriptor()));
    }

    @Test
    @SuppressWarnings("unchecked")
    void retries_only_unavailable_and_resource_exhausted_never_an_authentication_failure() {
        Map<String, Object> config = ReadRetries.serviceConfig(List.of(TokenServiceGrpc.getServiceDescriptor()), 3);
        Map<String, Object> methodConfig = ((List<Map<String, Object>>) config.get("methodConfig")).get(0);
        Map<String, Object> policy = (Map<String, Object>) methodConfig.get("retryPolicy");
        assertEquals(List.of("UNAVAILABLE", "RESOURCE_EXHAUSTED"), policy.get("retryableStatusCodes"));
        assertEquals(3.0, policy.get("maxAttempts"));
        assertEquals(2, ((List<?>) methodConfig.get("name")).size());
    }

    @Test
    void one_attempt_means_no_retry_policy() {
        assertEquals(Map.of(), ReadRetries.serviceConfig(List.of(TokenServiceGrpc.getServiceDescriptor()), 1));
    }
}
