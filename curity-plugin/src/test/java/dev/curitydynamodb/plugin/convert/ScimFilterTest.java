package dev.curitydynamodb.plugin.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.data.query.Filter;
import se.curity.identityserver.sdk.data.query.Filter.AttributeExpression;
import se.curity.identityserver.sdk.data.query.Filter.AttributeOperator;
import se.curity.identityserver.sdk.data.query.Filter.LogicalExpression;
import se.curity.identityserver.sdk.data.query.Filter.LogicalOperator;
import se.curity.identityserver.sdk.data.query.Filter.NotExpression;

class ScimFilterTest {
    @Test
    void renders_every_node_as_scim_text() {
        Filter f = new LogicalExpression(
                LogicalOperator.OR,
                new AttributeExpression(AttributeOperator.EQ, "userName", "ja\"ne\\"),
                new NotExpression(new LogicalExpression(
                        LogicalOperator.AND,
                        new AttributeExpression(AttributeOperator.PR, "emails"),
                        new AttributeExpression(AttributeOperator.GE, "expires", 1_900_000_000L))));
        assertEquals(
                "(userName eq \"ja\\\"ne\\\\\") or (not ((emails pr) and (expires ge 1900000000)))",
                ScimFilter.render(f));
        assertEquals(
                "active eq true", ScimFilter.render(new AttributeExpression(AttributeOperator.EQ, "active", true)));
        assertEquals("", ScimFilter.render(null));
    }
}
