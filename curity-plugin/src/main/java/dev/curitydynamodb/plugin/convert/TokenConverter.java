package dev.curitydynamodb.plugin.convert;

import dev.curitydynamodb.plugin.json.JsonText;
import java.util.List;
import java.util.Map;
import se.curity.identityserver.sdk.data.StringOrArray;
import se.curity.identityserver.sdk.data.authorization.Token;
import se.curity.identityserver.sdk.data.authorization.TokenStatus;
import se.curity.identityserver.sdk.data.tokens.DefaultStringOrArray;

/**
 * {@link Token} and the service's {@code Token}. The data map travels as JSON text (exact numbers);
 * times are epoch seconds on both sides; the status is {@link TokenStatus}'s constant name.
 */
public final class TokenConverter {
    private TokenConverter() {}

    public static dev.curitydynamodb.grpc.v1.Token toProto(Token token) {
        var builder = dev.curitydynamodb.grpc.v1.Token.newBuilder()
                .setTokenHash(token.getTokenHash())
                .setDelegationsId(orEmpty(token.getDelegationsId()))
                .setPurpose(orEmpty(token.getPurpose()))
                .setUsage(orEmpty(token.getUsage()))
                .setFormat(orEmpty(token.getFormat()))
                .setStatus(token.getStatus().name())
                .setIssuer(orEmpty(token.getIssuer()))
                .setSubject(orEmpty(token.getSubject()))
                .setCreated(token.getCreated())
                .setExpires(token.getExpires())
                .setNotBefore(token.getNotBefore())
                .setDataJson(JsonText.write(token.getData()));
        if (token.getId() != null) {
            builder.setId(token.getId());
        }
        if (token.getScope() != null) {
            builder.setScope(token.getScope());
        }
        StringOrArray audience = token.getAudience();
        if (audience != null) {
            builder.addAllAudience(audience.getValues());
        }
        return builder.build();
    }

    public static Token toSdk(dev.curitydynamodb.grpc.v1.Token token) {
        return new StoredToken(
                token.getTokenHash(),
                token.hasId() ? token.getId() : null,
                token.hasScope() ? token.getScope() : null,
                token.getDelegationsId(),
                token.getPurpose(),
                token.getUsage(),
                token.getFormat(),
                TokenStatus.valueOf(token.getStatus()),
                token.getIssuer(),
                token.getSubject(),
                token.getCreated(),
                token.getExpires(),
                token.getNotBefore(),
                DefaultStringOrArray.of(List.copyOf(token.getAudienceList())),
                JsonText.read(token.getDataJson()));
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    /** A token as read from the service. */
    record StoredToken(
            String tokenHash,
            String id,
            String scope,
            String delegationsId,
            String purpose,
            String usage,
            String format,
            TokenStatus status,
            String issuer,
            String subject,
            long created,
            long expires,
            long notBefore,
            StringOrArray audience,
            Map<String, Object> data)
            implements Token {
        @Override
        public String getTokenHash() {
            return tokenHash;
        }

        @Override
        public String getId() {
            return id;
        }

        @Override
        public String getDelegationsId() {
            return delegationsId;
        }

        @Override
        public String getPurpose() {
            return purpose;
        }

        @Override
        public String getUsage() {
            return usage;
        }

        @Override
        public String getFormat() {
            return format;
        }

        @Override
        public String getScope() {
            return scope;
        }

        @Override
        public long getCreated() {
            return created;
        }

        @Override
        public long getExpires() {
            return expires;
        }

        @Override
        public TokenStatus getStatus() {
            return status;
        }

        @Override
        public TokenStatus getEnumActiveStatus() {
            return TokenStatus.issued;
        }

        @Override
        public String getIssuer() {
            return issuer;
        }

        @Override
        public String getSubject() {
            return subject;
        }

        @Override
        public StringOrArray getAudience() {
            return audience;
        }

        @Override
        public long getNotBefore() {
            return notBefore;
        }

        @Override
        public Map<String, Object> getData() {
            return data;
        }
    }
}
