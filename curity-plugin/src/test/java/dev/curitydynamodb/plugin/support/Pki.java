package dev.curitydynamodb.plugin.support;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A throw-away certificate authority made with the JDK's own keytool: a CA, a server certificate
 * for 127.0.0.1 and a client certificate, each as PEM files and as a PKCS#12 key store.
 */
public final class Pki {
    private static final String PASSWORD = "changeit";

    public final Path dir;

    private Pki(Path dir) {
        this.dir = dir;
    }

    public static Pki create(Path dir) throws IOException, InterruptedException {
        return create(dir, true);
    }

    /** Without the server certificate when only the CA and a client are needed (keytool is slow to start). */
    public static Pki create(Path dir, boolean server) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Pki pki = new Pki(dir);
        pki.keypair("ca", "CN=curity-dynamodb test CA", "bc:c");
        pki.pem("ca", "ca.pem");
        if (server) {
            pki.issue("server", "CN=localhost", "san=ip:127.0.0.1,dns:localhost", "eku=serverAuth");
        }
        pki.issue("client", "CN=curity", "san=dns:curity", "eku=clientAuth");
        return pki;
    }

    public Path caPem() {
        return dir.resolve("ca.pem");
    }

    public Path certPem(String name) {
        return dir.resolve(name + ".crt");
    }

    public Path keyPem(String name) {
        return dir.resolve(name + ".key");
    }

    public Path keyStore(String name) {
        return dir.resolve(name + ".p12");
    }

    public char[] password() {
        return PASSWORD.toCharArray();
    }

    /** The key store of {@code name} (its key and its certificate chain ending at the CA). */
    public KeyStore loadKeyStore(String name) throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore(name))) {
            ks.load(in, password());
        }
        return ks;
    }

    /** A store trusting only this CA. */
    public KeyStore trustStore() throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(caPem())) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        return ks;
    }

    private void issue(String name, String dname, String san, String eku) throws IOException, InterruptedException {
        keypair(name, dname, null);
        keytool(
                "-certreq",
                "-alias",
                name,
                "-keystore",
                keyStore(name).toString(),
                "-file",
                dir.resolve(name + ".csr").toString());
        keytool(
                "-gencert",
                "-alias",
                "ca",
                "-keystore",
                keyStore("ca").toString(),
                "-infile",
                dir.resolve(name + ".csr").toString(),
                "-outfile",
                certPem(name).toString(),
                "-rfc",
                "-validity",
                "2",
                "-ext",
                san,
                "-ext",
                eku);
        // The signed certificate back into the key store, chained to the CA.
        keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                "ca",
                "-keystore",
                keyStore(name).toString(),
                "-file",
                caPem().toString());
        keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                name,
                "-keystore",
                keyStore(name).toString(),
                "-file",
                certPem(name).toString());
        try {
            KeyStore ks = loadKeyStore(name);
            Key key = ks.getKey(name, password());
            Files.writeString(
                    keyPem(name),
                    "-----BEGIN PRIVATE KEY-----\n"
                            + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                                    .encodeToString(key.getEncoded())
                            + "\n-----END PRIVATE KEY-----\n");
            List<Certificate> chain = new ArrayList<>(List.of(ks.getCertificateChain(name)));
            if (chain.size() < 2) {
                throw new IllegalStateException(name + " is not chained to the CA");
            }
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    private void keypair(String name, String dname, String extension) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of(
                "-genkeypair",
                "-alias",
                name,
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                dname,
                "-validity",
                "2",
                "-keystore",
                keyStore(name).toString()));
        if (extension != null) {
            args.add("-ext");
            args.add(extension);
        }
        keytool(args.toArray(String[]::new));
    }

    private void pem(String alias, String file) throws IOException, InterruptedException {
        keytool(
                "-exportcert",
                "-rfc",
                "-alias",
                alias,
                "-keystore",
                keyStore(alias).toString(),
                "-file",
                dir.resolve(file).toString());
    }

    private void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        command.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("keytool " + String.join(" ", args) + " failed: " + out);
        }
    }
}
