package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.TestConfig;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Every provider declares itself thread safe, so Curity may share one instance between request
 * threads: they hold only the channel (thread safe) and immutable settings.
 */
@Order(40)
class ThreadSafeIT {
    @Test
    @SuppressWarnings("deprecation")
    void every_provider_is_thread_safe() {
        // Building providers needs no running service: the channel connects on first call.
        try (Plugin plugin = Plugin.connect(TestConfig.target("127.0.0.1:1"))) {
            assertTrue(plugin.accounts().isThreadSafe());
            assertTrue(plugin.credentials().isThreadSafe());
            assertTrue(plugin.attributes().isThreadSafe());
            assertTrue(plugin.sessions().isThreadSafe());
            assertTrue(plugin.tokens().isThreadSafe());
            assertTrue(plugin.nonces().isThreadSafe());
            assertTrue(plugin.buckets().isThreadSafe());
            assertTrue(plugin.delegations().isThreadSafe());
            assertTrue(plugin.devices().isThreadSafe());
            assertTrue(plugin.dynamicClients().isThreadSafe());
        }
    }
}
