package dev.curitydynamodb.plugin.client;

import se.curity.identityserver.sdk.errors.ConflictException;

/**
 * The service's ABORTED (VERSION_CONFLICT): another writer changed the item first. A conflict
 * to Curity; a read-modify-write of the plugin's own reads again and retries.
 */
public final class VersionConflictException extends ConflictException {
    private static final long serialVersionUID = 1L;

    public VersionConflictException(String message) {
        super(message);
    }
}
