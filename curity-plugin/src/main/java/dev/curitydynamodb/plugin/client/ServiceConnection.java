package dev.curitydynamodb.plugin.client;

import dev.curitydynamodb.grpc.v1.AccountServiceGrpc;
import dev.curitydynamodb.grpc.v1.AttributeServiceGrpc;
import dev.curitydynamodb.grpc.v1.BucketServiceGrpc;
import dev.curitydynamodb.grpc.v1.CredentialServiceGrpc;
import dev.curitydynamodb.grpc.v1.DelegationServiceGrpc;
import dev.curitydynamodb.grpc.v1.DeviceServiceGrpc;
import dev.curitydynamodb.grpc.v1.DynamicClientServiceGrpc;
import dev.curitydynamodb.grpc.v1.LinkServiceGrpc;
import dev.curitydynamodb.grpc.v1.NonceServiceGrpc;
import dev.curitydynamodb.grpc.v1.SessionServiceGrpc;
import dev.curitydynamodb.grpc.v1.Tenant;
import dev.curitydynamodb.grpc.v1.TokenServiceGrpc;
import dev.curitydynamodb.plugin.config.ServiceConfiguration;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.TlsChannelCredentials;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import se.curity.identityserver.sdk.plugin.ManagedObject;
import se.curity.identityserver.sdk.service.ExceptionFactory;
import se.curity.identityserver.sdk.service.crypto.ClientKeyCryptoStore;
import se.curity.identityserver.sdk.service.crypto.ServerTrustCryptoStore;

/**
 * One gRPC channel per configured data source: created when Curity creates the data source,
 * closed when Curity drops it (a configuration change, or shutdown). Every provider of the data
 * source calls through it.
 */
public final class ServiceConnection extends ManagedObject<ServiceConfiguration> {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceConnection.class);

    private final ManagedChannel channel;
    private final Rpc rpc;
    private final Tenant tenant;

    public ServiceConnection(ServiceConfiguration config) {
        super(config);
        ExceptionFactory exceptions = config.getExceptionFactory();
        this.tenant = Tenant.newBuilder().setId(config.getTenantId().orElse("")).build();
        CallCredentials credentials = bearer(config, exceptions);
        Map<String, Object> serviceConfig = ReadRetries.serviceConfig(
                List.of(
                        AccountServiceGrpc.getServiceDescriptor(),
                        CredentialServiceGrpc.getServiceDescriptor(),
                        LinkServiceGrpc.getServiceDescriptor(),
                        AttributeServiceGrpc.getServiceDescriptor(),
                        SessionServiceGrpc.getServiceDescriptor(),
                        TokenServiceGrpc.getServiceDescriptor(),
                        NonceServiceGrpc.getServiceDescriptor(),
                        BucketServiceGrpc.getServiceDescriptor(),
                        DelegationServiceGrpc.getServiceDescriptor(),
                        DeviceServiceGrpc.getServiceDescriptor(),
                        DynamicClientServiceGrpc.getServiceDescriptor()),
                config.getReadAttempts());
        ManagedChannelBuilder<?> builder = Grpc.newChannelBuilder(
                        config.getTarget(), channelCredentials(config, exceptions))
                .defaultLoadBalancingPolicy(config.getLoadBalancing().name().toLowerCase(Locale.ROOT))
                .defaultServiceConfig(serviceConfig)
                .enableRetry()
                .userAgent("curity-dynamodb-plugin");
        TraceContext.interceptor().ifPresent(builder::intercept);
        this.channel = builder.build();
        this.rpc = new Rpc(channel, credentials, config.getCallDeadlineMillis(), new Failures(exceptions));
        LOG.info("curity-dynamodb data source {} calls {}", config.id(), config.getTarget());
    }

    public Rpc rpc() {
        return rpc;
    }

    /** The tenant every tenant-aware request carries. */
    public Tenant tenant() {
        return tenant;
    }

    @Override
    public void close() {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private static CallCredentials bearer(ServiceConfiguration config, ExceptionFactory exceptions) {
        if (config.getBearerToken().isPresent() && config.getBearerTokenFile().isPresent()) {
            throw exceptions.configurationException("set bearer-token or bearer-token-file, not both");
        }
        if (config.getBearerToken().isPresent()) {
            return BearerToken.ofValue(config.getBearerToken().get().strip());
        }
        if (config.getBearerTokenFile().isPresent()) {
            try {
                return BearerToken.ofFile(Path.of(config.getBearerTokenFile().get()));
            } catch (IOException | RuntimeException e) {
                throw exceptions.configurationException("bearer-token-file cannot be read: " + e.getMessage());
            }
        }
        return null;
    }

    private static ChannelCredentials channelCredentials(ServiceConfiguration config, ExceptionFactory exceptions) {
        boolean anyTls = config.getServerTrustStore().isPresent()
                || config.getServerCaPemFile().isPresent()
                || config.getClientKey().isPresent()
                || config.getClientCertificatePemFile().isPresent()
                || config.getClientKeyPemFile().isPresent();
        if (!config.isTls()) {
            if (anyTls) {
                throw exceptions.configurationException(
                        "server-trust-store, server-ca-pem-file and the client key settings need tls = true");
            }
            return InsecureChannelCredentials.create();
        }
        TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
        try {
            trust(config, tls, exceptions);
            clientKey(config, tls, exceptions);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            if (e instanceof RuntimeException && !(e instanceof IllegalArgumentException)) {
                throw (RuntimeException) e;
            }
            throw exceptions.configurationException("TLS settings cannot be used: " + e.getMessage());
        }
        return tls.build();
    }

    private static void trust(
            ServiceConfiguration config, TlsChannelCredentials.Builder tls, ExceptionFactory exceptions)
            throws IOException, GeneralSecurityException {
        if (config.getServerTrustStore().isPresent()
                && config.getServerCaPemFile().isPresent()) {
            throw exceptions.configurationException("set server-trust-store or server-ca-pem-file, not both");
        }
        if (config.getServerTrustStore().isPresent()) {
            ServerTrustCryptoStore store = config.getServerTrustStore().get();
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store.getAsKeyStore());
            tls.trustManager(factory.getTrustManagers());
        } else if (config.getServerCaPemFile().isPresent()) {
            tls.trustManager(new File(config.getServerCaPemFile().get()));
        }
    }

    private static void clientKey(
            ServiceConfiguration config, TlsChannelCredentials.Builder tls, ExceptionFactory exceptions)
            throws IOException, GeneralSecurityException {
        boolean pemCert = config.getClientCertificatePemFile().isPresent();
        boolean pemKey = config.getClientKeyPemFile().isPresent();
        if (config.getClientKey().isPresent() && (pemCert || pemKey)) {
            throw exceptions.configurationException(
                    "set client-key or client-certificate-pem-file with client-key-pem-file, not both");
        }
        if (pemCert != pemKey) {
            throw exceptions.configurationException("client-certificate-pem-file and client-key-pem-file go together");
        }
        if (config.getClientKey().isPresent()) {
            ClientKeyCryptoStore key = config.getClientKey().get();
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(key.getAsKeyStore(), key.getKeyStorePassword());
            tls.keyManager(factory.getKeyManagers());
        } else if (pemCert) {
            tls.keyManager(
                    new File(config.getClientCertificatePemFile().get()),
                    new File(config.getClientKeyPemFile().get()));
        }
    }
}
