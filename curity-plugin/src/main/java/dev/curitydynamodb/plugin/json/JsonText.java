package dev.curitydynamodb.plugin.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON object text, the form the service stores free-form maps in (every {@code *_json} field).
 * Numbers keep their kind: integers read back as {@code Long} (or {@code BigInteger} past 64
 * bits), everything else as {@code Double}, so a value Curity wrote reads back equal.
 */
public final class JsonText {
    private static final ObjectMapper MAPPER = JsonMapper.builder().build();

    private JsonText() {}

    /** The map as JSON object text; {@code null} or empty is {@code "{}"}. */
    public static String write(Map<String, ?> map) {
        if (map == null || map.isEmpty()) {
            return "{}";
        }
        return writeValue(map);
    }

    /** Any value (map, list, string, number) as JSON text. */
    public static String writeValue(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not representable as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** JSON object text as a mutable map in document order; empty text is an empty map. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> read(String text) {
        if (text == null || text.isBlank()) {
            return new LinkedHashMap<>();
        }
        Object value = parse(text);
        if (!(value instanceof Map)) {
            throw new IllegalStateException("curity-dynamodb returned JSON that is not an object");
        }
        return (Map<String, Object>) value;
    }

    private static Object parse(String text) {
        try {
            return widen(MAPPER.readValue(text, Object.class));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("curity-dynamodb returned text that is not JSON", e);
        }
    }

    /**
     * Jackson reads small integers as {@code Integer}; Curity's maps hold {@code Long}, and the two
     * are never {@code equals}: every integer that fits 64 bits becomes a {@code Long}.
     */
    private static Object widen(Object value) {
        if (value instanceof Integer i) {
            return i.longValue();
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put((String) k, widen(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(v -> out.add(widen(v)));
            return out;
        }
        return value;
    }
}
