package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curitydynamodb.plugin.support.FakeExceptions;
import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import dev.curitydynamodb.plugin.support.TestConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.data.Session;
import se.curity.identityserver.sdk.errors.ExternalServiceException;

/** What Curity sees when the service is gone, silent, or refuses the plugin's credentials. */
@Order(70)
class FaultsIT {
    private static final long DEADLINE_MILLIS = 1500;

    @Test
    void a_stopped_service_fails_reads_and_writes_within_the_deadline() throws Exception {
        ServiceProcess service = ServiceProcess.start(Map.of());
        try (Plugin plugin = Plugin.connect(TestConfig.target(service.target())
                .with("getBearerToken", service.token())
                .with("getCallDeadlineMillis", DEADLINE_MILLIS))) {
            String id = Ids.fresh("s");
            plugin.sessions().insertSession(new Session(id, Instant.ofEpochSecond(1_900_000_000L), "before"));
            service.close();

            long read = millis(() -> plugin.sessions().getSessionById(id));
            long write =
                    millis(() -> plugin.sessions().insertSession(new Session(Ids.fresh("s"), Instant.now(), "after")));
            assertTrue(read <= DEADLINE_MILLIS + 1000, "read took " + read + " ms");
            assertTrue(write <= DEADLINE_MILLIS + 1000, "write took " + write + " ms");
        } finally {
            service.close();
        }
    }

    /** Runs a call that must fail as unavailable; answers how long it took. */
    private static long millis(Runnable call) {
        long start = System.nanoTime();
        assertThrows(ExternalServiceException.class, call::run);
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void a_service_that_never_answers_costs_no_more_than_the_deadline() throws Exception {
        // Accepts connections and never says a word: neither TLS nor HTTP/2 settings.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> held = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                    }
                } catch (IOException closed) {
                    // The test is over.
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            try (Plugin plugin = Plugin.connect(TestConfig.target("127.0.0.1:" + silent.getLocalPort())
                    .with("getCallDeadlineMillis", DEADLINE_MILLIS))) {
                long took = millis(() -> plugin.tokens().getStatus("hash"));
                assertTrue(took >= DEADLINE_MILLIS - 100 && took <= DEADLINE_MILLIS + 1000, "took " + took + " ms");
            }
        }
    }

    @Test
    void a_wrong_token_is_a_configuration_error_and_never_logged() throws Exception {
        try (ServiceProcess service = ServiceProcess.start(Map.of());
                Plugin plugin = Plugin.connect(TestConfig.target(service.target())
                        .with("getBearerToken", "not-the-token-0123456789abcdef")
                        .with("getReadAttempts", 5))) {
            // UNAUTHENTICATED is not among the retried codes (ReadRetriesTest), so the first
            // answer is the result, whatever read-attempts says.
            FakeExceptions.Raised e = assertThrows(
                    FakeExceptions.Raised.class, () -> plugin.sessions().getSessionById("x"));
            assertEquals("configuration", e.kind);
            assertTrue(service.log().stream().noneMatch(l -> l.contains("not-the-token")), "the token is never logged");
        }
    }
}
