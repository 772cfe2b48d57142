package dev.curitydynamodb.plugin.support;

import java.util.UUID;

/** Fresh names, so tests sharing one service never see each other's data. */
public final class Ids {
    private Ids() {}

    public static String fresh(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    /** Three random letters: accounts whose names start with them share no initials-index partition with others. */
    public static String initials() {
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        return "" + (char) ('a' + r.nextInt(26)) + (char) ('a' + r.nextInt(26)) + (char) ('a' + r.nextInt(26));
    }
}
