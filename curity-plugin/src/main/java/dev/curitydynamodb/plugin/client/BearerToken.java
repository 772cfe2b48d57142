package dev.curitydynamodb.plugin.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.Executor;

/**
 * Puts {@code authorization: Bearer <token>} on every call. A token file is re-read when its
 * modification time changes (checked at most once a second), so a rotated Kubernetes Secret takes
 * effect without restarting Curity; an unreadable or empty replacement keeps the last good token.
 */
final class BearerToken extends CallCredentials {
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final long RECHECK_NANOS = 1_000_000_000L;

    private final Path file;
    private volatile Loaded loaded;

    private record Loaded(String header, FileTime modified, long checkedAt) {}

    private BearerToken(Path file, Loaded initial) {
        this.file = file;
        this.loaded = initial;
    }

    static BearerToken ofValue(String token) {
        return new BearerToken(null, new Loaded(header(token), null, 0));
    }

    /** Reads the file once now, so a missing file is a configuration error at start. */
    static BearerToken ofFile(Path file) throws IOException {
        FileTime modified = Files.getLastModifiedTime(file);
        String token = read(file);
        if (token.isEmpty()) {
            throw new IOException("the file is empty");
        }
        return new BearerToken(file, new Loaded(header(token), modified, System.nanoTime()));
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        try {
            Metadata headers = new Metadata();
            headers.put(AUTHORIZATION, current());
            applier.apply(headers);
        } catch (RuntimeException e) {
            applier.fail(Status.UNAUTHENTICATED
                    .withDescription("bearer token unavailable")
                    .withCause(e));
        }
    }

    private String current() {
        Loaded now = loaded;
        if (file == null || System.nanoTime() - now.checkedAt() < RECHECK_NANOS) {
            return now.header();
        }
        Loaded next = new Loaded(now.header(), now.modified(), System.nanoTime());
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            if (!modified.equals(now.modified())) {
                String token = read(file);
                if (!token.isEmpty()) {
                    next = new Loaded(header(token), modified, next.checkedAt());
                }
            }
        } catch (IOException e) {
            // Keep the last good token: a Secret being swapped is briefly absent.
        }
        loaded = next;
        return next.header();
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8).strip();
    }

    private static String header(String token) {
        return "Bearer " + token;
    }
}
