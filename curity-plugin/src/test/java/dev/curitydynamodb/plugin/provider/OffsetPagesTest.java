package dev.curitydynamodb.plugin.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class OffsetPagesTest {
    /** A source of {@code total} numbered items served in pages of at most 1000. */
    private static List<Long> read(long start, long count, long total, List<String> calls) {
        return OffsetPages.read(start, count, page -> {
            calls.add(page.getStartIndex() + "+" + page.getCount());
            long from = Math.min(page.getStartIndex(), total);
            long to = Math.min(page.getStartIndex() + (long) page.getCount(), total);
            return LongStream.range(from, to).boxed().toList();
        });
    }

    @Test
    void counts_past_a_page_are_several_calls_that_stop_at_a_short_page() {
        List<String> calls = new ArrayList<>();
        List<Long> items = read(10, 2500, 2100, calls);
        assertEquals(2090, items.size());
        assertEquals(10L, items.get(0));
        assertEquals(List.of("10+1000", "1010+1000", "2010+500"), calls);
    }

    @Test
    void zero_count_makes_no_call_and_negative_input_is_refused() {
        List<String> calls = new ArrayList<>();
        assertEquals(List.of(), read(0, 0, 10, calls));
        assertEquals(List.of(), calls);
        assertThrows(IllegalArgumentException.class, () -> read(-1, 5, 10, new ArrayList<>()));
    }
}
