package dev.curitydynamodb.plugin.support;

import dev.curitydynamodb.plugin.client.ServiceConnection;
import dev.curitydynamodb.plugin.config.ServiceConfiguration;
import dev.curitydynamodb.plugin.provider.GrpcAttributeProvider;
import dev.curitydynamodb.plugin.provider.GrpcBucketProvider;
import dev.curitydynamodb.plugin.provider.GrpcCredentialProvider;
import dev.curitydynamodb.plugin.provider.GrpcDelegationProvider;
import dev.curitydynamodb.plugin.provider.GrpcDeviceProvider;
import dev.curitydynamodb.plugin.provider.GrpcDynamicClientProvider;
import dev.curitydynamodb.plugin.provider.GrpcNonceProvider;
import dev.curitydynamodb.plugin.provider.GrpcSessionProvider;
import dev.curitydynamodb.plugin.provider.GrpcTokenProvider;
import dev.curitydynamodb.plugin.provider.GrpcUserAccountProvider;
import se.curity.identityserver.sdk.datasource.AttributeDataAccessProvider;
import se.curity.identityserver.sdk.datasource.BucketDataAccessProvider;
import se.curity.identityserver.sdk.datasource.CredentialDataAccessProvider;
import se.curity.identityserver.sdk.datasource.DelegationDataAccessProvider;
import se.curity.identityserver.sdk.datasource.DeviceDataAccessProvider;
import se.curity.identityserver.sdk.datasource.DynamicallyRegisteredClientDataAccessProvider;
import se.curity.identityserver.sdk.datasource.NonceDataAccessProvider;
import se.curity.identityserver.sdk.datasource.PageableUserAccountDataAccessProvider;
import se.curity.identityserver.sdk.datasource.SessionDataAccessProvider;
import se.curity.identityserver.sdk.datasource.TokenDataAccessProvider;

/**
 * The plugin's providers for one configured data source, as Curity holds them: one {@link
 * ServiceConnection}, the providers built on it, each seen through its SDK interface (recorded).
 */
public final class Plugin implements AutoCloseable {
    private final ServiceConnection connection;

    private Plugin(ServiceConnection connection) {
        this.connection = connection;
    }

    /** A data source calling {@code service} with its bearer token. */
    public static Plugin connect(ServiceProcess service) {
        return connect(TestConfig.target(service.target()).with("getBearerToken", service.token()));
    }

    public static Plugin connect(TestConfig config) {
        return new Plugin(new ServiceConnection(config.build()));
    }

    public static Plugin connect(ServiceConfiguration config) {
        return new Plugin(new ServiceConnection(config));
    }

    public SessionDataAccessProvider sessions() {
        return Calls.recorded(SessionDataAccessProvider.class, new GrpcSessionProvider(connection));
    }

    public TokenDataAccessProvider tokens() {
        return Calls.recorded(TokenDataAccessProvider.class, new GrpcTokenProvider(connection));
    }

    public NonceDataAccessProvider nonces() {
        return Calls.recorded(NonceDataAccessProvider.class, new GrpcNonceProvider(connection));
    }

    public BucketDataAccessProvider buckets() {
        return Calls.recorded(BucketDataAccessProvider.class, new GrpcBucketProvider(connection));
    }

    public PageableUserAccountDataAccessProvider accounts() {
        return Calls.recorded(PageableUserAccountDataAccessProvider.class, new GrpcUserAccountProvider(connection));
    }

    public CredentialDataAccessProvider credentials() {
        return Calls.recorded(CredentialDataAccessProvider.class, new GrpcCredentialProvider(connection));
    }

    public AttributeDataAccessProvider attributes() {
        return Calls.recorded(AttributeDataAccessProvider.class, new GrpcAttributeProvider(connection));
    }

    public DelegationDataAccessProvider delegations() {
        return Calls.recorded(DelegationDataAccessProvider.class, new GrpcDelegationProvider(connection));
    }

    public DeviceDataAccessProvider devices() {
        return Calls.recorded(DeviceDataAccessProvider.class, new GrpcDeviceProvider(connection));
    }

    public DynamicallyRegisteredClientDataAccessProvider dynamicClients() {
        return Calls.recorded(
                DynamicallyRegisteredClientDataAccessProvider.class, new GrpcDynamicClientProvider(connection));
    }

    @Override
    public void close() {
        connection.close();
    }
}
