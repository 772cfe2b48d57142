package dev.curitydynamodb.plugin.client;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.curitydynamodb.grpc.v1.ErrorDetail;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import se.curity.identityserver.sdk.datasource.db.TableCapabilities.TableCapability;
import se.curity.identityserver.sdk.datasource.errors.DataSourceCapabilityException;
import se.curity.identityserver.sdk.errors.ConflictException;
import se.curity.identityserver.sdk.errors.ErrorCode;
import se.curity.identityserver.sdk.errors.ExternalServiceException;
import se.curity.identityserver.sdk.service.ExceptionFactory;

/**
 * The one place a gRPC status becomes what the SDK's contracts expect. Messages carry the method
 * and the service's own words (which never include AWS text), never request values.
 */
public final class Failures {
    private static final Logger LOG = LoggerFactory.getLogger(Failures.class);
    private static final Metadata.Key<byte[]> DETAILS =
            Metadata.Key.of("grpc-status-details-bin", Metadata.BINARY_BYTE_MARSHALLER);

    private final ExceptionFactory exceptions;

    public Failures(ExceptionFactory exceptions) {
        this.exceptions = exceptions;
    }

    /** The {@code ErrorDetail} the service attaches to every failure, when there is one. */
    public static Optional<ErrorDetail> detail(StatusRuntimeException e) {
        Metadata trailers = e.getTrailers();
        byte[] bytes = trailers == null ? null : trailers.get(DETAILS);
        if (bytes == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(ErrorDetail.parseFrom(bytes));
        } catch (InvalidProtocolBufferException ignored) {
            return Optional.empty();
        }
    }

    RuntimeException toSdk(String method, StatusRuntimeException e) {
        Status status = e.getStatus();
        String said = status.getDescription() == null ? "" : ": " + status.getDescription();
        Optional<ErrorDetail> detail = detail(e);
        LOG.debug("curity-dynamodb {} failed with {}", method, status.getCode());
        switch (status.getCode()) {
            case INVALID_ARGUMENT:
                return exceptions.badRequestException(ErrorCode.INVALID_INPUT, "invalid input" + said);
            case ALREADY_EXISTS:
                return new ConflictException("already exists" + said);
            case ABORTED:
                return new VersionConflictException("changed concurrently, retry" + said);
            case FAILED_PRECONDITION:
                if (detail.map(d -> d.getReason() == ErrorDetail.Reason.NOT_SUPPORTED_BY_LAYOUT)
                        .orElse(false)) {
                    TableCapability capability =
                            said.contains("sort") ? TableCapability.SORTING : TableCapability.FILTERING_ABSENT;
                    return new DataSourceCapabilityException(capability, "not supported by the DynamoDB layout" + said);
                }
                return new ExternalServiceException("curity-dynamodb cannot serve " + method + said);
            case UNAUTHENTICATED:
                LOG.warn(
                        "curity-dynamodb refused the plugin's credentials on {}: check bearer-token,"
                                + " bearer-token-file or the client key",
                        method);
                return exceptions.configurationException(
                        "curity-dynamodb refused the data source's credentials (bearer-token,"
                                + " bearer-token-file or client key)");
            case NOT_FOUND:
                return exceptions.notFoundException(ErrorCode.RESOURCE_DOES_NOT_EXIST, "not found" + said);
            case UNAVAILABLE:
            case RESOURCE_EXHAUSTED:
            case DEADLINE_EXCEEDED:
            case CANCELLED:
                return new ExternalServiceException(
                        "curity-dynamodb unavailable (" + status.getCode() + ") on " + method + said, e);
            case PERMISSION_DENIED:
                return new ExternalServiceException(
                        "curity-dynamodb's AWS identity lacks a permission on " + method + said, e);
            default:
                return exceptions.internalServerException(
                        ErrorCode.EXTERNAL_SERVICE_ERROR,
                        "curity-dynamodb failed (" + status.getCode() + ") on " + method + said);
        }
    }
}
