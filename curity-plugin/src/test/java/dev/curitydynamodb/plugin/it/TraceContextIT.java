package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The span current on Curity's request thread reaches the service as the parent of its RPC span:
 * seen from outside through the audit trail, which records the trace id the call carried. (The
 * loading test covers the other case: a class loader without OpenTelemetry's API.)
 */
@Order(75)
class TraceContextIT {
    private static final SecureRandom RANDOM = new SecureRandom();

    private static ServiceProcess service;
    private static Plugin plugin;

    @BeforeAll
    static void start() throws Exception {
        service = ServiceProcess.start(Map.of());
        plugin = Plugin.connect(service);
    }

    @AfterAll
    static void stop() throws Exception {
        plugin.close();
        service.close();
    }

    @Test
    void a_write_inside_a_span_reaches_the_service_with_that_spans_trace_id() throws Exception {
        String traceId = hex(16);
        SpanContext curitySpan = SpanContext.create(traceId, hex(8), TraceFlags.getSampled(), TraceState.getDefault());
        String subject = Ids.fresh("traced");
        Scope current = Context.root().with(Span.wrap(curitySpan)).makeCurrent();
        try {
            plugin.buckets().storeAttributes(subject, "otp", Map.of("n", 1L));
        } finally {
            current.close();
        }

        String event = auditEventFor(subject);
        assertTrue(event.contains("\"trace_id\":\"" + traceId + "\""), event);
    }

    @Test
    void a_write_outside_any_span_carries_no_trace_id() throws Exception {
        String subject = Ids.fresh("untraced");
        plugin.buckets().storeAttributes(subject, "otp", Map.of("n", 1L));

        String event = auditEventFor(subject);
        assertTrue(event.contains("\"trace_id\":\"\""), event);
        assertFalse(event.contains("traceparent"), event);
    }

    /** The audit line of the bucket write for {@code subject}, once the service has logged it. */
    private static String auditEventFor(String subject) throws InterruptedException {
        String key = "\"key\":\"" + subject + "/otp\"";
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> line = service.log().stream()
                    .filter(l -> l.contains("\"target\":\"audit\"") && l.contains(key))
                    .findFirst();
            if (line.isPresent()) {
                return line.get();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no audit event for " + subject + " in:\n" + String.join("\n", service.log()));
    }

    private static String hex(int bytes) {
        byte[] raw = new byte[bytes];
        RANDOM.nextBytes(raw);
        return HexFormat.of().formatHex(raw);
    }
}
