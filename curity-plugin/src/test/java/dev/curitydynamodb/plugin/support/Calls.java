package dev.curitydynamodb.plugin.support;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records which SDK interface methods the tests call, through a proxy in front of each provider,
 * so the last test class can prove every method of every provider the descriptor returns ran.
 */
public final class Calls {
    private static final Set<String> CALLED = ConcurrentHashMap.newKeySet();

    private Calls() {}

    /** {@code provider} seen through {@code sdkInterface}, each call recorded. */
    @SuppressWarnings("unchecked")
    public static <T> T recorded(Class<T> sdkInterface, T provider) {
        return (T) Proxy.newProxyInstance(
                sdkInterface.getClassLoader(), new Class<?>[] {sdkInterface}, (proxy, method, args) -> {
                    if (method.getDeclaringClass() != Object.class) {
                        CALLED.add(signature(sdkInterface, method));
                    }
                    try {
                        return method.invoke(provider, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** Every public instance method of the interface (inherited ones included) no test called. */
    public static Set<String> notCalled(Class<?> sdkInterface) {
        Set<String> missing = new TreeSet<>();
        for (Method method : sdkInterface.getMethods()) {
            if (Modifier.isStatic(method.getModifiers()) || method.isBridge() || method.isSynthetic()) {
                continue;
            }
            String signature = signature(sdkInterface, method);
            if (!CALLED.contains(signature)) {
                missing.add(signature);
            }
        }
        return missing;
    }

    private static String signature(Class<?> sdkInterface, Method method) {
        StringBuilder s = new StringBuilder(sdkInterface.getSimpleName())
                .append('#')
                .append(method.getName())
                .append('(');
        Class<?>[] params = method.getParameterTypes();
        for (int i = 0; i < params.length; i++) {
            s.append(i == 0 ? "" : ",").append(params[i].getSimpleName());
        }
        return s.append(')').toString();
    }
}
