package dev.curitydynamodb.plugin.support;

import java.net.URI;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import se.curity.identityserver.sdk.authorization.AuthorizationErrorMessage;
import se.curity.identityserver.sdk.errors.ErrorCode;
import se.curity.identityserver.sdk.http.RedirectStatusCode;
import se.curity.identityserver.sdk.service.ExceptionFactory;
import se.curity.identityserver.sdk.web.alerts.ErrorMessage;

/**
 * Curity's {@link ExceptionFactory} is the server's own; this stand-in raises a {@link Raised}
 * that says which factory method made it, so tests assert the kind of failure Curity would see.
 */
public final class FakeExceptions implements ExceptionFactory {

    /** What the plugin asked the factory for. */
    public static final class Raised extends RuntimeException {
        private static final long serialVersionUID = 1L;
        public final String kind;
        public final ErrorCode code;

        Raised(String kind, ErrorCode code, String message) {
            super(kind + (code == null ? "" : "/" + code) + ": " + message);
            this.kind = kind;
            this.code = code;
        }
    }

    @Override
    public RuntimeException forbiddenException(ErrorCode code) {
        return new Raised("forbidden", code, "");
    }

    @Override
    public RuntimeException forbiddenException(ErrorCode code, String message) {
        return new Raised("forbidden", code, message);
    }

    @Override
    public RuntimeException authorizationException(Set<AuthorizationErrorMessage> messages) {
        return new Raised("authorization", null, String.valueOf(messages));
    }

    @Override
    public RuntimeException unauthorizedException(ErrorCode code) {
        return new Raised("unauthorized", code, "");
    }

    @Override
    public RuntimeException unauthorizedException(ErrorCode code, String message) {
        return new Raised("unauthorized", code, message);
    }

    @Override
    public RuntimeException unauthorizedException(ErrorCode code, String message, String description) {
        return new Raised("unauthorized", code, message);
    }

    @Override
    public RuntimeException unauthorizedException(ErrorCode code, String message, String description, String uri) {
        return new Raised("unauthorized", code, message);
    }

    @Override
    public RuntimeException badRequestException(ErrorCode code) {
        return new Raised("badRequest", code, "");
    }

    @Override
    public RuntimeException badRequestException(ErrorCode code, String message) {
        return new Raised("badRequest", code, message);
    }

    @Override
    public RuntimeException internalServerException(ErrorCode code) {
        return new Raised("internalServer", code, "");
    }

    @Override
    public RuntimeException internalServerException(ErrorCode code, String message) {
        return new Raised("internalServer", code, message);
    }

    @Override
    public RuntimeException configurationException(String message) {
        return new Raised("configuration", null, message);
    }

    @Override
    public RuntimeException redirectException(String location) {
        return new Raised("redirect", null, location);
    }

    @Override
    public RuntimeException redirectException(String location, RedirectStatusCode code) {
        return new Raised("redirect", null, location);
    }

    @Override
    public RuntimeException redirectException(
            String location, RedirectStatusCode code, Map<String, Collection<String>> query, boolean fragment) {
        return new Raised("redirect", null, location);
    }

    @Override
    public RuntimeException redirectException(
            URI location, RedirectStatusCode code, Map<String, Collection<String>> query, boolean fragment) {
        return new Raised("redirect", null, String.valueOf(location));
    }

    @Override
    public RuntimeException notFoundException() {
        return new Raised("notFound", null, "");
    }

    @Override
    public RuntimeException notFoundException(ErrorCode code, String message) {
        return new Raised("notFound", code, message);
    }

    @Override
    public RuntimeException methodNotAllowed() {
        return new Raised("methodNotAllowed", null, "");
    }

    @Override
    public RuntimeException methodNotAllowed(String message) {
        return new Raised("methodNotAllowed", null, message);
    }

    @Override
    public RuntimeException contentTypeNotAcceptable(Collection<String> types) {
        return new Raised("contentTypeNotAcceptable", null, String.valueOf(types));
    }

    @Override
    public RuntimeException serviceUnavailable() {
        return new Raised("serviceUnavailable", null, "");
    }

    @Override
    public RuntimeException requestValidationException(Set<ErrorMessage> messages) {
        return new Raised("requestValidation", null, String.valueOf(messages));
    }

    @Override
    public RuntimeException templateNotFoundException(String template) {
        return new Raised("templateNotFound", null, template);
    }

    @Override
    public RuntimeException externalServiceException(String message) {
        return new Raised("externalService", null, message);
    }

    @Override
    public RuntimeException credentialManagerException(String message) {
        return new Raised("credentialManager", null, message);
    }
}
