package dev.curitydynamodb.plugin.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;

/**
 * Puts {@code traceparent} (and {@code tracestate}) of the span current on the calling thread on
 * each call, so the service's span for it is that span's child. Always W3C, whatever propagators
 * the host configured: it is the format the service reads. Nothing is added when no span is
 * current. Loaded only through {@link TraceContext#interceptor}.
 */
final class W3cTraceHeaders implements ClientInterceptor {
    private static final TextMapSetter<Metadata> SETTER =
            (headers, key, value) -> headers.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);

    @Override
    public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
        // Blocking stubs open the call on Curity's request thread: the context is read there.
        Context context = Context.current();
        return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<A> listener, Metadata headers) {
                W3CTraceContextPropagator.getInstance().inject(context, headers, SETTER);
                super.start(listener, headers);
            }
        };
    }
}
