package dev.curitydynamodb.plugin.config;

import java.util.Optional;
import se.curity.identityserver.sdk.config.Configuration;
import se.curity.identityserver.sdk.config.annotation.DefaultBoolean;
import se.curity.identityserver.sdk.config.annotation.DefaultEnum;
import se.curity.identityserver.sdk.config.annotation.DefaultInteger;
import se.curity.identityserver.sdk.config.annotation.DefaultLong;
import se.curity.identityserver.sdk.config.annotation.Description;
import se.curity.identityserver.sdk.config.annotation.RangeConstraint;
import se.curity.identityserver.sdk.service.ExceptionFactory;
import se.curity.identityserver.sdk.service.crypto.ClientKeyCryptoStore;
import se.curity.identityserver.sdk.service.crypto.ServerTrustCryptoStore;

/**
 * The data source's configuration, as an operator sets it in Curity's admin UI, CLI or XML. Curity
 * names each setting after its getter: {@code getCallDeadlineMillis} is {@code
 * call-deadline-millis}.
 */
public interface ServiceConfiguration extends Configuration {

    @Description("The curity-dynamodb service: host:port (e.g. curity-dynamodb.curity.svc:50051), or a gRPC"
            + " target such as dns:///curity-dynamodb-headless.curity.svc:50051 to spread calls over"
            + " every address the name resolves to")
    String getTarget();

    @Description("How calls are spread over the addresses the target resolves to")
    @DefaultEnum("ROUND_ROBIN")
    LoadBalancing getLoadBalancing();

    enum LoadBalancing {
        ROUND_ROBIN,
        PICK_FIRST
    }

    @Description("Encrypt the connection with TLS. The service's certificate is checked against the server"
            + " trust store or CA file below, else against the JVM's default trust")
    @DefaultBoolean(false)
    boolean isTls();

    @Description("Trust store (from Curity's facilities) holding the CA that issued the service's certificate")
    Optional<ServerTrustCryptoStore> getServerTrustStore();

    @Description(
            "Instead of a trust store: a PEM file with the CA certificate(s) that issued the service's certificate")
    Optional<String> getServerCaPemFile();

    @Description("Client key (from Curity's facilities) presented for mutual TLS")
    Optional<ClientKeyCryptoStore> getClientKey();

    @Description("Instead of a client key: a PEM file with the client certificate chain for mutual TLS")
    Optional<String> getClientCertificatePemFile();

    @Description("With client-certificate-pem-file: the PEM file holding its private key (PKCS#8)")
    Optional<String> getClientKeyPemFile();

    @Description("The bearer token the service expects (server.auth.bearer_token_file on the service);"
            + " stored in Curity's configuration, encrypted when Curity encrypts secrets")
    Optional<String> getBearerToken();

    @Description("Instead of bearer-token: a file holding it (e.g. a mounted Kubernetes Secret), re-read"
            + " when it changes so a rotated token needs no restart")
    Optional<String> getBearerTokenFile();

    @Description("Longest time a call may take, retries included: a Curity request thread never waits"
            + " longer for the service")
    @DefaultLong(5000)
    @RangeConstraint(min = 50, max = 120000)
    long getCallDeadlineMillis();

    @Description("Attempts of an idempotent read that met UNAVAILABLE or RESOURCE_EXHAUSTED, all within"
            + " the call deadline (1: no retry). Writes are never retried")
    @DefaultInteger(3)
    @RangeConstraint(min = 1, max = 5)
    int getReadAttempts();

    @Description("The Curity tenant this data source stores data for (empty: the default tenant). SDK 8"
            + " passes no tenant, so one data source serves one tenant")
    Optional<String> getTenantId();

    ExceptionFactory getExceptionFactory();
}
