package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.curitydynamodb.plugin.descriptor.CurityDynamoDbDescriptor;
import dev.curitydynamodb.plugin.support.Calls;
import java.lang.reflect.Method;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.datasource.DataAccessProvider;
import se.curity.identityserver.sdk.datasource.PageableUserAccountDataAccessProvider;
import se.curity.identityserver.sdk.datasource.UserAccountDataAccessProvider;

/**
 * Runs last (the IT classes share one JVM): every method of every SDK interface the descriptor
 * returns a provider for was called by some test above, through the recording proxies.
 */
@Order(Integer.MAX_VALUE)
class EveryMethodCalledIT {
    @Test
    void every_provider_method_of_every_interface_the_descriptor_returns_was_called() throws Exception {
        Set<String> missing = new TreeSet<>();
        for (Method getter : CurityDynamoDbDescriptor.class.getDeclaredMethods()) {
            if (!getter.getName().endsWith("DataAccessProvider") || getter.getParameterCount() != 0) {
                continue;
            }
            Class<?> sdkInterface = sdkInterface(getter.getReturnType(), getter.invoke(new CurityDynamoDbDescriptor()));
            missing.addAll(Calls.notCalled(sdkInterface));
        }
        assertEquals(Set.of(), missing);
    }

    /** The SDK interface a getter names; accounts are served as the pageable kind, which extends it. */
    private static Class<?> sdkInterface(Class<?> declared, Object provider) {
        Class<?> returned = (Class<?>) provider;
        if (declared.getTypeName().equals(Class.class.getName())
                && UserAccountDataAccessProvider.class.isAssignableFrom(returned)) {
            return PageableUserAccountDataAccessProvider.class;
        }
        for (Class<?> i : returned.getInterfaces()) {
            if (DataAccessProvider.class.isAssignableFrom(i)) {
                return i;
            }
        }
        throw new IllegalStateException(returned + " implements no SDK provider interface");
    }
}
