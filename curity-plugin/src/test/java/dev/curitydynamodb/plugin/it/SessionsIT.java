package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.data.Session;
import se.curity.identityserver.sdk.datasource.SessionDataAccessProvider;
import se.curity.identityserver.sdk.errors.ConflictException;

@Order(10)
class SessionsIT {
    private static ServiceProcess service;
    private static Plugin plugin;
    private static SessionDataAccessProvider sessions;

    @BeforeAll
    static void start() throws Exception {
        service = ServiceProcess.start(Map.of());
        plugin = Plugin.connect(service);
        sessions = plugin.sessions();
    }

    @AfterAll
    static void stop() throws Exception {
        plugin.close();
        service.close();
    }

    @Test
    void inserted_session_reads_back_with_its_data_and_expiry_second() {
        String id = Ids.fresh("s");
        Instant expires = Instant.ofEpochSecond(1_900_000_000L, 999_000_000);
        sessions.insertSession(new Session(id, expires, "{\"opaque\":\"state\"}"));

        Session read = sessions.getSessionById(id);
        assertEquals(id, read.getId());
        assertEquals("{\"opaque\":\"state\"}", read.getData());
        // The table keeps whole seconds.
        assertEquals(Instant.ofEpochSecond(1_900_000_000L), read.getExpiresAt());
    }

    @Test
    void unknown_session_is_null() {
        assertNull(sessions.getSessionById(Ids.fresh("missing")));
    }

    @Test
    void inserting_a_taken_id_is_a_conflict_and_keeps_the_first() {
        String id = Ids.fresh("s");
        sessions.insertSession(new Session(id, Instant.ofEpochSecond(1_900_000_000L), "first"));
        assertThrows(
                ConflictException.class,
                () -> sessions.insertSession(new Session(id, Instant.ofEpochSecond(1_900_000_001L), "second")));
        assertEquals("first", sessions.getSessionById(id).getData());
    }

    @Test
    void update_replaces_the_session_and_creates_a_missing_one() {
        String id = Ids.fresh("s");
        sessions.updateSession(new Session(id, Instant.ofEpochSecond(1_900_000_000L), "created-by-update"));
        assertEquals("created-by-update", sessions.getSessionById(id).getData());
        sessions.updateSession(new Session(id, Instant.ofEpochSecond(1_900_000_100L), "replaced"));
        Session read = sessions.getSessionById(id);
        assertEquals("replaced", read.getData());
        assertEquals(1_900_000_100L, read.getExpiresAt().getEpochSecond());
    }

    @Test
    void expiration_update_moves_the_expiry_and_leaves_a_missing_session_missing() {
        String id = Ids.fresh("s");
        sessions.insertSession(new Session(id, Instant.ofEpochSecond(1_900_000_000L), "data"));
        sessions.updateSessionExpiration(id, Instant.ofEpochSecond(1_950_000_000L));
        Session read = sessions.getSessionById(id);
        assertEquals(1_950_000_000L, read.getExpiresAt().getEpochSecond());
        assertEquals("data", read.getData());

        String missing = Ids.fresh("missing");
        sessions.updateSessionExpiration(missing, Instant.ofEpochSecond(1_950_000_000L));
        assertNull(sessions.getSessionById(missing));
    }

    @Test
    void delete_removes_the_session_and_is_idempotent() {
        String id = Ids.fresh("s");
        sessions.insertSession(new Session(id, Instant.ofEpochSecond(1_900_000_000L), "data"));
        sessions.deleteSessionState(id);
        assertNull(sessions.getSessionById(id));
        sessions.deleteSessionState(id);
    }
}
