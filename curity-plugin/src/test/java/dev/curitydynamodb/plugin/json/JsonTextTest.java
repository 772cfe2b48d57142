package dev.curitydynamodb.plugin.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTextTest {
    @Test
    void numbers_keep_their_kind_and_value() {
        Map<String, Object> read = JsonText.read(
                "{\"i\":3,\"l\":12345678901234567,\"b\":98765432109876543210,\"d\":2.0,\"n\":[1,{\"x\":2}]}");
        assertEquals(3L, read.get("i"));
        assertEquals(12345678901234567L, read.get("l"));
        assertEquals(new BigInteger("98765432109876543210"), read.get("b"));
        assertEquals(2.0, read.get("d"));
        assertEquals(List.of(1L, Map.of("x", 2L)), read.get("n"));
        assertEquals(read, JsonText.read(JsonText.write(read)));
    }

    @Test
    void empty_is_an_empty_object_and_anything_else_is_refused() {
        assertEquals(Map.of(), JsonText.read(""));
        assertEquals("{}", JsonText.write(null));
        assertThrows(IllegalStateException.class, () -> JsonText.read("[1]"));
        assertThrows(IllegalStateException.class, () -> JsonText.read("{"));
    }
}
