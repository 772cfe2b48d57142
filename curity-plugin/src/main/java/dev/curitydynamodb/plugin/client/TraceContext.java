package dev.curitydynamodb.plugin.client;

import io.grpc.ClientInterceptor;
import java.util.Optional;

/**
 * Whether calls can carry the caller's trace context. OpenTelemetry's API is not shipped in the
 * plugin folder: the context worth forwarding is the one Curity (10.0 and later, with tracing on)
 * makes current on its request thread, which the plugin sees only when the class loader Curity
 * gives it can see Curity's copy of the API. Where it cannot (older servers, a loader that hides
 * it), calls go out without trace headers, as before.
 */
final class TraceContext {
    private TraceContext() {}

    static Optional<ClientInterceptor> interceptor() {
        ClassLoader loader = TraceContext.class.getClassLoader();
        try {
            // Probe before touching W3cTraceHeaders, whose linking needs these classes.
            Class.forName("io.opentelemetry.context.Context", false, loader);
            Class.forName("io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator", false, loader);
            return Optional.of(new W3cTraceHeaders());
        } catch (ClassNotFoundException | LinkageError e) {
            return Optional.empty();
        }
    }
}
