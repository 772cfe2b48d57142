package dev.curitydynamodb.plugin.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real curity-dynamodb binary ({@code serve --embedded}) on a port of its own, with a bearer
 * token; stopped by {@link #close}. Its log is kept for assertions and shown when start fails.
 */
public final class ServiceProcess implements AutoCloseable {
    private static final Pattern LISTEN = Pattern.compile("\"listen\":\"([^\"]+)\"");

    private final Process process;
    private final String target;
    private final String token;
    private final Path dir;
    private final ConcurrentLinkedQueue<String> log;

    private ServiceProcess(Process process, String target, String token, Path dir, ConcurrentLinkedQueue<String> log) {
        this.process = process;
        this.target = target;
        this.token = token;
        this.dir = dir;
        this.log = log;
    }

    public static Path binary() {
        String bin = System.getProperty("curity.dynamodb.bin", "../target/debug/curity-dynamodb");
        Path path = Path.of(bin).toAbsolutePath().normalize();
        if (!Files.isExecutable(path)) {
            throw new IllegalStateException(
                    "no service binary at " + path + " (cargo build, or -Dcurity.dynamodb.bin)");
        }
        return path;
    }

    /** Starts the service with a fresh bearer token, plus any extra {@code CURITY_DYNAMODB_*} settings. */
    public static ServiceProcess start(Map<String, String> settings) throws IOException, InterruptedException {
        return start(settings, true);
    }

    /**
     * Starts the service, with a bearer token or without (when mutual TLS authenticates callers);
     * over TLS the caller waits for readiness itself, as the health check here is plaintext.
     */
    public static ServiceProcess start(Map<String, String> settings, boolean bearer)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("curity-dynamodb-it");
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String token = HexFormat.of().formatHex(secret);
        Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, token);

        List<String> command =
                new ArrayList<>(List.of(binary().toString(), "serve", "--embedded", "--listen", "127.0.0.1:0"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("CURITY_DYNAMODB_") || k.startsWith("AWS_"));
        env.put("RUST_LOG", "info");
        env.put("CURITY_DYNAMODB_SERVER__LOG_FORMAT", "json");
        if (bearer) {
            env.put("CURITY_DYNAMODB_SERVER__AUTH__BEARER_TOKEN_FILE", tokenFile.toString());
        }
        env.put("CURITY_DYNAMODB_SERVER__SHUTDOWN_DELAY_SECONDS", "0");
        env.put("AWS_EC2_METADATA_DISABLED", "true");
        env.put("AWS_CONFIG_FILE", dir.resolve("aws-config").toString());
        env.put("AWS_SHARED_CREDENTIALS_FILE", dir.resolve("aws-credentials").toString());
        env.put("HOME", dir.toString());
        env.putAll(settings);
        Process process = builder.start();

        ConcurrentLinkedQueue<String> log = new ConcurrentLinkedQueue<>();
        CompletableFuture<String> listening = new CompletableFuture<>();
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader r = new BufferedReader(
                            new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = r.readLine()) != null) {
                            log.add(line);
                            if (line.contains("serving gRPC")) {
                                Matcher m = LISTEN.matcher(line);
                                if (m.find()) {
                                    listening.complete(m.group(1));
                                }
                            }
                        }
                    } catch (IOException ignored) {
                        // The process ended.
                    }
                    listening.completeExceptionally(new IllegalStateException("service exited"));
                },
                "curity-dynamodb-log");
        reader.setDaemon(true);
        reader.start();
        try {
            String target = listening.get(60, TimeUnit.SECONDS);
            ServiceProcess service = new ServiceProcess(process, target, token, dir, log);
            if (!settings.containsKey("CURITY_DYNAMODB_SERVER__TLS__CERT_FILE")) {
                Health.awaitServing(target, Duration.ofSeconds(30));
            }
            return service;
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IllegalStateException("curity-dynamodb did not start:\n" + String.join("\n", log), e);
        }
    }

    /** {@code host:port} of the gRPC port. */
    public String target() {
        return target;
    }

    public String token() {
        return token;
    }

    public Path directory() {
        return dir;
    }

    /** Every log line so far. */
    public List<String> log() {
        return List.copyOf(log);
    }

    /** Stops the service as Kubernetes would (SIGTERM), then forcibly after 10 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
