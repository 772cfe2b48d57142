package dev.curitydynamodb.plugin.client;

import io.grpc.CallCredentials;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Runs one call: a fresh stub with the caller's credentials and the configured deadline (so no
 * Curity request thread waits longer), and a failure turned into the SDK's exception by {@link
 * Failures}.
 */
public final class Rpc {
    private final Channel channel;
    private final CallCredentials credentials;
    private final long deadlineMillis;
    private final Failures failures;

    Rpc(Channel channel, CallCredentials credentials, long deadlineMillis, Failures failures) {
        this.channel = channel;
        this.credentials = credentials;
        this.deadlineMillis = deadlineMillis;
        this.failures = failures;
    }

    /** Calls {@code method} on a stub {@code newStub} makes; any failure is thrown as the SDK's. */
    public <S extends AbstractStub<S>, R> R call(String name, Function<Channel, S> newStub, Function<S, R> method) {
        try {
            return method.apply(stub(newStub));
        } catch (StatusRuntimeException e) {
            throw failures.toSdk(name, e);
        }
    }

    /** As {@link #call}, with NOT_FOUND as an empty result (the SDK's "null when missing"). */
    public <S extends AbstractStub<S>, R> Optional<R> callUnlessNotFound(
            String name, Function<Channel, S> newStub, Function<S, R> method) {
        try {
            return Optional.of(method.apply(stub(newStub)));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return Optional.empty();
            }
            throw failures.toSdk(name, e);
        }
    }

    private <S extends AbstractStub<S>> S stub(Function<Channel, S> newStub) {
        S stub = newStub.apply(channel).withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
        return credentials == null ? stub : stub.withCallCredentials(credentials);
    }
}
