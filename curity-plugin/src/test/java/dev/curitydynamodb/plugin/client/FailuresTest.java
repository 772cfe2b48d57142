package dev.curitydynamodb.plugin.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curitydynamodb.grpc.v1.ErrorDetail;
import dev.curitydynamodb.plugin.support.FakeExceptions;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.datasource.db.TableCapabilities.TableCapability;
import se.curity.identityserver.sdk.datasource.errors.DataSourceCapabilityException;
import se.curity.identityserver.sdk.errors.ConflictException;
import se.curity.identityserver.sdk.errors.ErrorCode;
import se.curity.identityserver.sdk.errors.ExternalServiceException;

class FailuresTest {
    private final Failures failures = new Failures(new FakeExceptions());

    private static StatusRuntimeException status(Status.Code code, String message, ErrorDetail.Reason reason) {
        Metadata trailers = new Metadata();
        if (reason != null) {
            trailers.put(
                    Metadata.Key.of("grpc-status-details-bin", Metadata.BINARY_BYTE_MARSHALLER),
                    ErrorDetail.newBuilder().setReason(reason).build().toByteArray());
        }
        return Status.fromCode(code).withDescription(message).asRuntimeException(trailers);
    }

    @Test
    void each_status_becomes_what_the_sdk_contract_expects() {
        assertInstanceOf(
                ConflictException.class, failures.toSdk("m", status(Status.Code.ALREADY_EXISTS, "taken", null)));
        assertInstanceOf(
                VersionConflictException.class, failures.toSdk("m", status(Status.Code.ABORTED, "moved", null)));
        FakeExceptions.Raised bad =
                (FakeExceptions.Raised) failures.toSdk("m", status(Status.Code.INVALID_ARGUMENT, "field x", null));
        assertEquals("badRequest", bad.kind);
        assertEquals(ErrorCode.INVALID_INPUT, bad.code);
        assertTrue(bad.getMessage().contains("field x"));
        assertEquals(
                "configuration",
                ((FakeExceptions.Raised) failures.toSdk("m", status(Status.Code.UNAUTHENTICATED, "no", null))).kind);
        for (Status.Code code : new Status.Code[] {
            Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED, Status.Code.DEADLINE_EXCEEDED
        }) {
            assertInstanceOf(ExternalServiceException.class, failures.toSdk("m", status(code, "down", null)));
        }
        assertInstanceOf(
                ExternalServiceException.class,
                failures.toSdk("m", status(Status.Code.PERMISSION_DENIED, "iam", null)));
        assertEquals(
                "internalServer",
                ((FakeExceptions.Raised) failures.toSdk("m", status(Status.Code.DATA_LOSS, "item", null))).kind);
    }

    @Test
    void a_query_the_layout_cannot_serve_is_a_capability_error() {
        DataSourceCapabilityException scan = (DataSourceCapabilityException) failures.toSdk(
                "m",
                status(Status.Code.FAILED_PRECONDITION, "needs a scan", ErrorDetail.Reason.NOT_SUPPORTED_BY_LAYOUT));
        assertEquals(TableCapability.FILTERING_ABSENT, scan.getUnsupportedCapability());
        DataSourceCapabilityException sort = (DataSourceCapabilityException) failures.toSdk(
                "m",
                status(
                        Status.Code.FAILED_PRECONDITION,
                        "cannot sort by x",
                        ErrorDetail.Reason.NOT_SUPPORTED_BY_LAYOUT));
        assertEquals(TableCapability.SORTING, sort.getUnsupportedCapability());
        assertInstanceOf(
                ExternalServiceException.class,
                failures.toSdk(
                        "m", status(Status.Code.FAILED_PRECONDITION, "table", ErrorDetail.Reason.TABLE_MISSING)));
    }
}
