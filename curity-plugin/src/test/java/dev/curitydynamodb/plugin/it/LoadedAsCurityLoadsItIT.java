package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curitydynamodb.plugin.support.ServiceProcess;
import dev.curitydynamodb.plugin.support.TestConfig;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The plugin loaded as Curity loads a plugin group: a class loader of its own holding only the
 * built plugin folder, the SDK and the server-provided slf4j-api (nothing of this test's class
 * path), the descriptor found through {@link ServiceLoader}, the configuration built from its
 * interface, the managed object and every provider constructed by injection, and real calls. A
 * runtime jar missing from the folder fails here.
 */
@Order(50)
class LoadedAsCurityLoadsItIT {
    private static ServiceProcess service;
    private static URLClassLoader loader;

    @BeforeAll
    static void start() throws Exception {
        service = ServiceProcess.start(Map.of());
        List<URL> urls = new ArrayList<>();
        for (Path jar : folderJars()) {
            urls.add(jar.toUri().toURL());
        }
        urls.add(Path.of(System.getProperty("curity.sdk.jar")).toUri().toURL());
        urls.add(Path.of(System.getProperty("slf4j.api.jar")).toUri().toURL());
        loader = new URLClassLoader("plugin-group", urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
    }

    @AfterAll
    static void stop() throws IOException {
        loader.close();
        service.close();
    }

    static List<Path> folderJars() throws IOException {
        Path folder = Path.of(System.getProperty("plugin.folder"));
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> p.toString().endsWith(".jar"))
                    .sorted(Comparator.naturalOrder())
                    .toList();
        }
    }

    @Test
    void descriptor_is_found_and_every_provider_is_built_and_answers() throws Exception {
        Class<?> descriptorType =
                loader.loadClass("se.curity.identityserver.sdk.plugin.descriptor.DataAccessProviderPluginDescriptor");
        List<Object> found = new ArrayList<>();
        ServiceLoader.load(descriptorType, loader).forEach(found::add);
        assertEquals(1, found.size());
        Object descriptor = found.get(0);
        assertEquals(loader, descriptor.getClass().getClassLoader());
        assertEquals("curity-dynamodb", call(descriptor, "getPluginImplementationType"));

        Class<?> configType = (Class<?>) call(descriptor, "getConfigurationType");
        Object config = TestConfig.target(service.target())
                .with("getBearerToken", service.token())
                .with(
                        "getExceptionFactory",
                        exceptionsFor(loader.loadClass("se.curity.identityserver.sdk.service.ExceptionFactory")))
                .build(loader, configType);
        Object managed = ((Optional<?>) call(descriptor, "createManagedObject", config)).orElseThrow();

        Map<String, Object> providers = new HashMap<>();
        for (Method getter : descriptorType.getMethods()) {
            if (getter.getName().endsWith("DataAccessProvider") && getter.getParameterCount() == 0) {
                Class<?> type = (Class<?>) getter.invoke(descriptor);
                assertNotNull(type, getter.getName());
                providers.put(getter.getName(), inject(type, config, managed));
            }
        }
        assertEquals(10, providers.size());

        Object sessions = providers.get("getSessionDataAccessProvider");
        Class<?> sessionType = loader.loadClass("se.curity.identityserver.sdk.data.Session");
        Object session = sessionType
                .getConstructor(String.class, Instant.class, String.class)
                .newInstance("loaded-1", Instant.ofEpochSecond(1_900_000_000L), "state");
        call(sessions, "insertSession", session);
        assertEquals("state", call(call(sessions, "getSessionById", "loaded-1"), "getData"));

        assertNull(call(providers.get("getUserAccountDataAccessProvider"), "getByUserName", "nobody"));
        assertNull(call(providers.get("getCredentialDataAccessProvider"), "verifyPassword", "nobody", "pw"));
        assertEquals(
                0,
                call(call(providers.get("getAttributeDataAccessProvider"), "getAttributes", "nobody"), "getRowCount"));
        assertNull(call(providers.get("getTokenDataAccessProvider"), "getStatus", "no-hash"));
        assertNull(call(providers.get("getNonceDataAccessProvider"), "get", "no-nonce"));
        assertEquals(Map.of(), call(providers.get("getBucketDataAccessProvider"), "getAttributes", "s", "p"));
        assertNull(call(providers.get("getDelegationDataAccessProvider"), "getById", "no-delegation"));
        assertNull(call(providers.get("getDeviceDataAccessProvider"), "getById", "no-device"));
        assertNull(
                call(providers.get("getDynamicallyRegisteredClientDataAccessProvider"), "getByClientId", "no-client"));

        call(managed, "close");
        // After close the channel refuses calls at once, instead of hanging a request thread.
        Exception closed = assertThrows(Exception.class, () -> call(sessions, "getSessionById", "loaded-1"));
        assertTrue(closed.getCause() != null || closed.getMessage() != null);
    }

    /** Curity builds a plugin class by injecting the configuration and the managed object. */
    private static Object inject(Class<?> type, Object config, Object managed) throws Exception {
        Constructor<?>[] constructors = type.getConstructors();
        assertEquals(1, constructors.length, type + " has one public constructor");
        Constructor<?> constructor = constructors[0];
        Object[] args = new Object[constructor.getParameterCount()];
        Class<?>[] params = constructor.getParameterTypes();
        for (int i = 0; i < params.length; i++) {
            if (params[i].isInstance(managed)) {
                args[i] = managed;
            } else if (params[i].isInstance(config)) {
                args[i] = config;
            } else {
                throw new AssertionError(type + " wants a " + params[i] + " Curity does not inject");
            }
        }
        return constructor.newInstance(args);
    }

    /** A stand-in for Curity's exception factory in the plugin's class loader. */
    private static Object exceptionsFor(Class<?> factoryType) {
        return Proxy.newProxyInstance(
                factoryType.getClassLoader(),
                new Class<?>[] {factoryType},
                (proxy, method, args) -> new IllegalStateException(method.getName()));
    }

    private static Object call(Object target, String method, Object... args) throws Exception {
        for (Method m : target.getClass().getMethods()) {
            if (m.getName().equals(method)
                    && m.getParameterCount() == args.length
                    && matches(m.getParameterTypes(), args)) {
                m.setAccessible(true);
                try {
                    return m.invoke(target, args);
                } catch (java.lang.reflect.InvocationTargetException e) {
                    throw (e.getCause() instanceof Exception ex) ? ex : e;
                }
            }
        }
        throw new NoSuchMethodException(target.getClass() + "." + method);
    }

    private static boolean matches(Class<?>[] params, Object[] args) {
        for (int i = 0; i < params.length; i++) {
            if (args[i] != null && !wrap(params[i]).isInstance(args[i])) {
                return false;
            }
        }
        return true;
    }

    private static Class<?> wrap(Class<?> c) {
        return c == long.class ? Long.class : c == int.class ? Integer.class : c == boolean.class ? Boolean.class : c;
    }
}
