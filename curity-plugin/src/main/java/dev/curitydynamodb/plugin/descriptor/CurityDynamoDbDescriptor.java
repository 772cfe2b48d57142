package dev.curitydynamodb.plugin.descriptor;

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
import java.util.Optional;
import se.curity.identityserver.sdk.datasource.AttributeDataAccessProvider;
import se.curity.identityserver.sdk.datasource.BucketDataAccessProvider;
import se.curity.identityserver.sdk.datasource.CredentialDataAccessProvider;
import se.curity.identityserver.sdk.datasource.DelegationDataAccessProvider;
import se.curity.identityserver.sdk.datasource.DeviceDataAccessProvider;
import se.curity.identityserver.sdk.datasource.DynamicallyRegisteredClientDataAccessProvider;
import se.curity.identityserver.sdk.datasource.NonceDataAccessProvider;
import se.curity.identityserver.sdk.datasource.SessionDataAccessProvider;
import se.curity.identityserver.sdk.datasource.TokenDataAccessProvider;
import se.curity.identityserver.sdk.datasource.UserAccountDataAccessProvider;
import se.curity.identityserver.sdk.plugin.descriptor.DataAccessProviderPluginDescriptor;

/**
 * The data source Curity lists as {@code curity-dynamodb}: every provider SDK 8.0 defines, each
 * calling the curity-dynamodb service over the data source's one gRPC channel.
 */
public final class CurityDynamoDbDescriptor implements DataAccessProviderPluginDescriptor<ServiceConfiguration> {
    /** The implementation type operators pick in Curity's data source configuration. */
    public static final String TYPE = "curity-dynamodb";

    @Override
    public String getPluginImplementationType() {
        return TYPE;
    }

    @Override
    public Class<? extends ServiceConfiguration> getConfigurationType() {
        return ServiceConfiguration.class;
    }

    /** The channel, created when Curity creates the data source and closed when it drops it. */
    @Override
    public Optional<ServiceConnection> createManagedObject(ServiceConfiguration configuration) {
        return Optional.of(new ServiceConnection(configuration));
    }

    @Override
    public Class<? extends UserAccountDataAccessProvider> getUserAccountDataAccessProvider() {
        return GrpcUserAccountProvider.class;
    }

    @Override
    public Class<? extends CredentialDataAccessProvider> getCredentialDataAccessProvider() {
        return GrpcCredentialProvider.class;
    }

    @Override
    public Class<? extends AttributeDataAccessProvider> getAttributeDataAccessProvider() {
        return GrpcAttributeProvider.class;
    }

    @Override
    public Class<? extends SessionDataAccessProvider> getSessionDataAccessProvider() {
        return GrpcSessionProvider.class;
    }

    @Override
    public Class<? extends TokenDataAccessProvider> getTokenDataAccessProvider() {
        return GrpcTokenProvider.class;
    }

    @Override
    public Class<? extends NonceDataAccessProvider> getNonceDataAccessProvider() {
        return GrpcNonceProvider.class;
    }

    @Override
    public Class<? extends DelegationDataAccessProvider> getDelegationDataAccessProvider() {
        return GrpcDelegationProvider.class;
    }

    @Override
    public Class<? extends DeviceDataAccessProvider> getDeviceDataAccessProvider() {
        return GrpcDeviceProvider.class;
    }

    @Override
    public Class<? extends DynamicallyRegisteredClientDataAccessProvider>
            getDynamicallyRegisteredClientDataAccessProvider() {
        return GrpcDynamicClientProvider.class;
    }

    @Override
    public Class<? extends BucketDataAccessProvider> getBucketDataAccessProvider() {
        return GrpcBucketProvider.class;
    }
}
