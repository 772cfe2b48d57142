package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.curitydynamodb.plugin.support.FakeExceptions;
import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Pki;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import dev.curitydynamodb.plugin.support.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.data.Session;
import se.curity.identityserver.sdk.errors.ExternalServiceException;
import se.curity.identityserver.sdk.service.crypto.ClientKeyCryptoStore;
import se.curity.identityserver.sdk.service.crypto.ServerTrustCryptoStore;

/**
 * The service on TLS with mutual TLS as its only caller authentication; the plugin presents a
 * client certificate from PEM files or from Curity's crypto stores.
 */
@Order(60)
class MutualTlsIT {
    private static Pki pki;
    private static Pki stranger;
    private static ServiceProcess service;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("pki");
        pki = Pki.create(dir.resolve("ours"));
        stranger = Pki.create(dir.resolve("theirs"), false);
        service = ServiceProcess.start(
                Map.of(
                        "CURITY_DYNAMODB_SERVER__TLS__CERT_FILE",
                                pki.certPem("server").toString(),
                        "CURITY_DYNAMODB_SERVER__TLS__KEY_FILE",
                                pki.keyPem("server").toString(),
                        "CURITY_DYNAMODB_SERVER__TLS__CLIENT_CA_FILE",
                                pki.caPem().toString()),
                false);
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    private static TestConfig tls() {
        return TestConfig.target(service.target()).with("isTls", true);
    }

    private static void roundTrip(Plugin plugin) {
        String id = Ids.fresh("s");
        plugin.sessions().insertSession(new Session(id, Instant.ofEpochSecond(1_900_000_000L), "over mTLS"));
        assertEquals("over mTLS", plugin.sessions().getSessionById(id).getData());
    }

    @Test
    void client_certificate_from_pem_files_authenticates() {
        try (Plugin plugin = Plugin.connect(tls().with(
                        "getServerCaPemFile", pki.caPem().toString())
                .with("getClientCertificatePemFile", pki.certPem("client").toString())
                .with("getClientKeyPemFile", pki.keyPem("client").toString()))) {
            roundTrip(plugin);
        }
    }

    @Test
    void client_key_and_trust_from_curity_crypto_stores_authenticate() throws Exception {
        KeyStore client = pki.loadKeyStore("client");
        KeyStore trust = pki.trustStore();
        try (Plugin plugin = Plugin.connect(tls().with("getServerTrustStore", new TrustStore(trust))
                .with("getClientKey", new ClientKey(client, pki.password())))) {
            roundTrip(plugin);
        }
    }

    @Test
    void without_a_client_certificate_the_call_is_a_configuration_error() {
        try (Plugin plugin =
                Plugin.connect(tls().with("getServerCaPemFile", pki.caPem().toString()))) {
            FakeExceptions.Raised e = assertThrows(
                    FakeExceptions.Raised.class, () -> plugin.sessions().getSessionById("x"));
            assertEquals("configuration", e.kind);
        }
    }

    @Test
    void a_certificate_of_another_ca_is_refused_either_way() {
        try (Plugin untrusting = Plugin.connect(tls().with(
                        "getServerCaPemFile", stranger.caPem().toString())
                .with("getClientCertificatePemFile", pki.certPem("client").toString())
                .with("getClientKeyPemFile", pki.keyPem("client").toString()))) {
            assertThrows(
                    ExternalServiceException.class, () -> untrusting.sessions().getSessionById("x"));
        }
        try (Plugin foreignClient = Plugin.connect(tls().with(
                        "getServerCaPemFile", pki.caPem().toString())
                .with("getClientCertificatePemFile", stranger.certPem("client").toString())
                .with("getClientKeyPemFile", stranger.keyPem("client").toString()))) {
            FakeExceptions.Raised e = assertThrows(
                    FakeExceptions.Raised.class, () -> foreignClient.sessions().getSessionById("x"));
            assertEquals("configuration", e.kind);
        }
    }

    @Test
    void plaintext_to_a_tls_port_fails_within_the_deadline() {
        try (Plugin plugin = Plugin.connect(TestConfig.target(service.target()).with("getCallDeadlineMillis", 1000L))) {
            long start = System.nanoTime();
            assertThrows(
                    RuntimeException.class, () -> assertNull(plugin.sessions().getSessionById("x")));
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(true, tookMillis < 3000, "took " + tookMillis + " ms");
        }
    }

    @Test
    void inconsistent_tls_settings_are_configuration_errors_at_creation() {
        List<TestConfig> wrong = List.of(
                TestConfig.target("127.0.0.1:1")
                        .with("getServerCaPemFile", pki.caPem().toString()),
                tls().with("getClientCertificatePemFile", pki.certPem("client").toString()),
                tls().with("getServerCaPemFile", pki.caPem().toString())
                        .with("getServerTrustStore", new TrustStore(null)),
                tls().with("getServerCaPemFile", "/no/such/ca.pem"),
                TestConfig.target("127.0.0.1:1").with("getBearerToken", "a").with("getBearerTokenFile", "/tmp/b"),
                TestConfig.target("127.0.0.1:1").with("getBearerTokenFile", "/no/such/token"));
        for (TestConfig config : wrong) {
            FakeExceptions.Raised e = assertThrows(
                    FakeExceptions.Raised.class, () -> Plugin.connect(config).close());
            assertEquals("configuration", e.kind, e.getMessage());
        }
    }

    /** Curity's server trust store facility, as the plugin sees it. */
    record TrustStore(KeyStore store) implements ServerTrustCryptoStore {
        @Override
        public X509Certificate getCertificate() {
            throw new UnsupportedOperationException();
        }

        @Override
        public String getKeyStoreAlias() {
            return "ca";
        }

        @Override
        public char[] getKeyStorePassword() {
            return new char[0];
        }

        @Override
        public KeyStore getAsKeyStore() {
            return store;
        }
    }

    /** Curity's client key facility, as the plugin sees it. */
    record ClientKey(KeyStore store, char[] password) implements ClientKeyCryptoStore {
        @Override
        public PrivateKey getPrivateKey() {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<X509Certificate> getCertificates() {
            throw new UnsupportedOperationException();
        }

        @Override
        public String getKeyStoreAlias() {
            return "client";
        }

        @Override
        public char[] getKeyStorePassword() {
            return password;
        }

        @Override
        public KeyStore getAsKeyStore() {
            return store;
        }
    }
}
