package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.Credential;
import dev.curitydynamodb.grpc.v1.CredentialServiceGrpc;
import dev.curitydynamodb.grpc.v1.GetCredentialRequest;
import dev.curitydynamodb.grpc.v1.GetCredentialResponse;
import dev.curitydynamodb.grpc.v1.StoreCredentialRequest;
import dev.curitydynamodb.grpc.v1.Tenant;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.client.ServiceConnection;
import se.curity.identityserver.sdk.ThreadSafe;
import se.curity.identityserver.sdk.attribute.AccountAttributes;
import se.curity.identityserver.sdk.attribute.Attribute;
import se.curity.identityserver.sdk.attribute.Attributes;
import se.curity.identityserver.sdk.attribute.AuthenticationAttributes;
import se.curity.identityserver.sdk.attribute.ContextAttributes;
import se.curity.identityserver.sdk.attribute.SubjectAttributes;
import se.curity.identityserver.sdk.datasource.CredentialDataAccessProvider;

/**
 * Passwords on the account items ({@code CredentialService}). The service never verifies a
 * password: it returns the stored hash and Curity's credential manager checks it, as with Curity's
 * own DynamoDB plugin ({@link #customQueryVerifiesPassword()} is false).
 */
public final class GrpcCredentialProvider implements CredentialDataAccessProvider, ThreadSafe {
    private final Rpc rpc;
    private final Tenant tenant;

    public GrpcCredentialProvider(ServiceConnection connection) {
        this.rpc = connection.rpc();
        this.tenant = connection.tenant();
    }

    /** Stores the (already hashed) password of the account with that user name; no account: nothing. */
    @Override
    public void updatePassword(AccountAttributes account) {
        StoreCredentialRequest.Builder request =
                StoreCredentialRequest.newBuilder().setTenant(tenant).setSubject(account.getUserName());
        if (account.getPassword() != null) {
            request.setPasswordHash(account.getPassword());
        }
        rpc.callUnlessNotFound(
                "CredentialService/Store", CredentialServiceGrpc::newBlockingStub, s -> s.store(request.build()));
    }

    /**
     * The subject with its stored hash under {@value CredentialDataAccessProvider#CLAIM_PASSWORD},
     * its account id and user name; null when there is no such active account with a password.
     */
    @Override
    public AuthenticationAttributes verifyPassword(String userName, String password) {
        GetCredentialResponse response = rpc.call(
                "CredentialService/Get",
                CredentialServiceGrpc::newBlockingStub,
                s -> s.get(GetCredentialRequest.newBuilder()
                        .setTenant(tenant)
                        .setSubject(userName)
                        .build()));
        if (!response.hasCredential()) {
            return null;
        }
        Credential credential = response.getCredential();
        return AuthenticationAttributes.of(
                SubjectAttributes.of(
                        userName,
                        Attributes.of(
                                Attribute.of(CLAIM_PASSWORD, credential.getPasswordHash()),
                                Attribute.of("accountId", credential.getAccountId()),
                                Attribute.of("userName", credential.getUserName()))),
                ContextAttributes.empty());
    }

    @Override
    public boolean customQueryVerifiesPassword() {
        return false;
    }
}
