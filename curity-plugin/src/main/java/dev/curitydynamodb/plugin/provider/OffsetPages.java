package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.OffsetPage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The SDK's (startIndex, count) pages over the service's offset pages, which hold at most 1000
 * items: a larger count is several calls, stopping at the first short page.
 */
final class OffsetPages {
    static final int MAX_PAGE = 1000;

    private OffsetPages() {}

    static <T> List<T> read(long startIndex, long count, Function<OffsetPage, List<T>> fetch) {
        if (startIndex < 0 || count < 0 || startIndex > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("startIndex and count must not be negative; startIndex fits 32 bits");
        }
        List<T> out = new ArrayList<>();
        long index = startIndex;
        long remaining = count;
        while (remaining > 0 && index <= 0xFFFF_FFFFL) {
            int size = (int) Math.min(remaining, MAX_PAGE);
            List<T> page = fetch.apply(OffsetPage.newBuilder()
                    .setStartIndex((int) index)
                    .setCount(size)
                    .build());
            out.addAll(page);
            if (page.size() < size) {
                break;
            }
            index += size;
            remaining -= size;
        }
        return out;
    }
}
