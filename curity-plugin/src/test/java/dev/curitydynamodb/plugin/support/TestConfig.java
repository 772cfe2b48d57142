package dev.curitydynamodb.plugin.support;

import dev.curitydynamodb.plugin.config.ServiceConfiguration;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import se.curity.identityserver.sdk.service.ExceptionFactory;

/**
 * A configuration instance built the way Curity builds one: each getter answers the value set
 * for it, else its {@code @Default*} annotation, else {@code Optional.empty()}; a required
 * setting left unset fails loudly, as Curity would refuse the configuration.
 */
public final class TestConfig {
    private final Map<String, Object> values = new HashMap<>();

    public static TestConfig target(String target) {
        TestConfig config = new TestConfig();
        config.values.put("getTarget", target);
        config.values.put("getExceptionFactory", new FakeExceptions());
        config.values.put("id", "test-data-source");
        return config;
    }

    /** Sets the setting a getter returns; Optional getters get the value wrapped. */
    public TestConfig with(String getter, Object value) {
        values.put(getter, value);
        return this;
    }

    public ServiceConfiguration build() {
        return build(ServiceConfiguration.class.getClassLoader(), ServiceConfiguration.class);
    }

    /** As Curity does for a plugin loaded in its own class loader. */
    @SuppressWarnings("unchecked")
    public <C> C build(ClassLoader loader, Class<C> type) {
        return (C) Proxy.newProxyInstance(loader, new Class<?>[] {type}, (proxy, method, args) -> answer(method));
    }

    private Object answer(Method method) {
        String name = method.getName();
        switch (name) {
            case "toString":
                return "TestConfig" + values.keySet();
            case "hashCode":
                return System.identityHashCode(this);
            case "equals":
                return false;
            default:
                break;
        }
        boolean optional = method.getReturnType() == Optional.class;
        if (values.containsKey(name)) {
            Object v = values.get(name);
            return optional ? Optional.ofNullable(v) : v;
        }
        if (optional) {
            return Optional.empty();
        }
        // By name: in a plugin's own class loader the annotations are that loader's classes.
        for (Annotation annotation : method.getAnnotations()) {
            String kind = annotation.annotationType().getSimpleName();
            if (DEFAULTS.contains(kind)) {
                Object value = defaultValue(annotation);
                return kind.equals("DefaultEnum") ? enumValue(method.getReturnType(), (String) value) : value;
            }
        }
        if (method.getReturnType() == ExceptionFactory.class) {
            return new FakeExceptions();
        }
        throw new IllegalStateException("required setting " + name + " not set");
    }

    private static final java.util.Set<String> DEFAULTS =
            java.util.Set.of("DefaultLong", "DefaultInteger", "DefaultBoolean", "DefaultEnum", "DefaultString");

    private static Object defaultValue(Annotation annotation) {
        try {
            Method value = annotation.annotationType().getMethod("value");
            value.setAccessible(true);
            return value.invoke(annotation);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumValue(Class<?> type, String name) {
        return Enum.valueOf((Class) type, name);
    }
}
