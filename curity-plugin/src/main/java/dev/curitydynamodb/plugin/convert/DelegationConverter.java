package dev.curitydynamodb.plugin.convert;

import dev.curitydynamodb.plugin.json.JsonText;
import java.util.Map;
import java.util.Set;
import se.curity.identityserver.sdk.attribute.AttributeValueException;
import se.curity.identityserver.sdk.attribute.Attributes;
import se.curity.identityserver.sdk.attribute.AuthenticationAttributes;
import se.curity.identityserver.sdk.data.authorization.Delegation;
import se.curity.identityserver.sdk.data.authorization.DelegationConsentResult;
import se.curity.identityserver.sdk.data.authorization.DelegationStatus;
import se.curity.identityserver.sdk.data.authorization.ScopeClaim;

/**
 * {@link Delegation} and the service's {@code Delegation}. The maps (authentication attributes,
 * consent result, claim map, custom claim values, claims) travel as JSON object text; times are
 * epoch seconds; the status is {@link DelegationStatus}'s constant name. Scope claims are not
 * stored (the SDK deprecates them; Curity's own plugin drops them too).
 */
public final class DelegationConverter {
    private DelegationConverter() {}

    public static dev.curitydynamodb.grpc.v1.Delegation toProto(Delegation d) {
        var b = dev.curitydynamodb.grpc.v1.Delegation.newBuilder()
                .setId(d.getId())
                .setStatus(d.getStatus().name())
                .setOwner(d.getOwner())
                .setCreated(d.getCreated())
                .setExpires(d.getExpires())
                .setClientId(d.getClientId())
                .setScope(d.getScope() == null ? "" : d.getScope())
                .setAuthenticationAttributesJson(
                        d.getAuthenticationAttributes() == null
                                ? "{}"
                                : JsonText.write(d.getAuthenticationAttributes().asMap()))
                .setConsentResultJson(
                        d.getConsentResult() == null
                                ? ""
                                : JsonText.write(d.getConsentResult().asMap()))
                .setClaimMapJson(JsonText.write(d.getClaimMap()))
                .setCustomClaimValuesJson(JsonText.write(d.getCustomClaimValues()))
                .setClaimsJson(JsonText.write(d.getClaims()));
        if (d.getRedirectUri() != null) {
            b.setRedirectUri(d.getRedirectUri());
        }
        if (d.getAuthorizationCodeHash() != null) {
            b.setAuthorizationCodeHash(d.getAuthorizationCodeHash());
        }
        if (d.getMtlsClientCertificate() != null) {
            b.setMtlsClientCertificate(d.getMtlsClientCertificate());
        }
        if (d.getMtlsClientCertificateX5TS256() != null) {
            b.setMtlsClientCertificateX5TS256(d.getMtlsClientCertificateX5TS256());
        }
        if (d.getMtlsClientCertificateDN() != null) {
            b.setMtlsClientCertificateDn(d.getMtlsClientCertificateDN());
        }
        return b.build();
    }

    public static Delegation toSdk(dev.curitydynamodb.grpc.v1.Delegation d) {
        AuthenticationAttributes authentication;
        try {
            authentication = AuthenticationAttributes.fromAttributes(
                    Attributes.fromMap(JsonText.read(d.getAuthenticationAttributesJson())));
        } catch (AttributeValueException e) {
            throw new IllegalStateException("delegation " + d.getId() + " has unreadable authentication attributes", e);
        }
        DelegationConsentResult consent = d.getConsentResultJson().isEmpty()
                ? null
                : DelegationConsentResult.fromMap(JsonText.read(d.getConsentResultJson()));
        return new StoredDelegation(
                d.getId(),
                DelegationStatus.valueOf(d.getStatus()),
                d.getOwner(),
                d.getCreated(),
                d.getExpires(),
                d.getClientId(),
                d.hasRedirectUri() ? d.getRedirectUri() : null,
                d.hasAuthorizationCodeHash() ? d.getAuthorizationCodeHash() : null,
                d.getScope(),
                authentication,
                consent,
                JsonText.read(d.getClaimMapJson()),
                JsonText.read(d.getCustomClaimValuesJson()),
                JsonText.read(d.getClaimsJson()),
                d.hasMtlsClientCertificate() ? d.getMtlsClientCertificate() : null,
                d.hasMtlsClientCertificateX5TS256() ? d.getMtlsClientCertificateX5TS256() : null,
                d.hasMtlsClientCertificateDn() ? d.getMtlsClientCertificateDn() : null);
    }

    /** A delegation as read from the service. */
    record StoredDelegation(
            String id,
            DelegationStatus status,
            String owner,
            long created,
            long expires,
            String clientId,
            String redirectUri,
            String authorizationCodeHash,
            String scope,
            AuthenticationAttributes authenticationAttributes,
            DelegationConsentResult consentResult,
            Map<String, Object> claimMap,
            Map<String, Object> customClaimValues,
            Map<String, Object> claims,
            String mtlsClientCertificate,
            String mtlsClientCertificateX5TS256,
            String mtlsClientCertificateDN)
            implements Delegation {
        @Override
        public String getId() {
            return id;
        }

        @Override
        public String getOwner() {
            return owner;
        }

        @Override
        public long getCreated() {
            return created;
        }

        @Override
        public String getScope() {
            return scope;
        }

        @Override
        @Deprecated
        public Set<ScopeClaim> getScopeClaims() {
            return Set.of();
        }

        @Override
        public Map<String, Object> getClaimMap() {
            return claimMap;
        }

        @Override
        public String getClientId() {
            return clientId;
        }

        @Override
        public String getRedirectUri() {
            return redirectUri;
        }

        @Override
        public String getAuthorizationCodeHash() {
            return authorizationCodeHash;
        }

        @Override
        public AuthenticationAttributes getAuthenticationAttributes() {
            return authenticationAttributes;
        }

        @Override
        public Map<String, Object> getCustomClaimValues() {
            return customClaimValues;
        }

        @Override
        public long getExpires() {
            return expires;
        }

        @Override
        public DelegationStatus getStatus() {
            return status;
        }

        @Override
        public DelegationStatus getEnumActiveStatus() {
            return DelegationStatus.issued;
        }

        @Override
        public String getMtlsClientCertificate() {
            return mtlsClientCertificate;
        }

        @Override
        public String getMtlsClientCertificateX5TS256() {
            return mtlsClientCertificateX5TS256;
        }

        @Override
        public String getMtlsClientCertificateDN() {
            return mtlsClientCertificateDN;
        }

        @Override
        public DelegationConsentResult getConsentResult() {
            return consentResult;
        }

        @Override
        public Map<String, Object> getClaims() {
            return claims;
        }
    }
}
