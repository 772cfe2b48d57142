package dev.curitydynamodb.plugin.convert;

import dev.curitydynamodb.plugin.json.JsonText;
import se.curity.identityserver.sdk.data.query.Filter;

/**
 * The SDK's parsed SCIM filter back as SCIM filter text, the form the service's {@code List}
 * RPCs take (the SDK's {@code toString()} is a debug format, not SCIM).
 */
public final class ScimFilter {
    private ScimFilter() {}

    /** SCIM text for {@code filter}; {@code null} is the empty filter (everything). */
    public static String render(Filter filter) {
        if (filter == null) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        write(filter, out);
        return out.toString();
    }

    private static void write(Filter filter, StringBuilder out) {
        if (filter instanceof Filter.AttributeExpression e) {
            out.append(e.getAttributeName())
                    .append(' ')
                    .append(e.getOperator().name().toLowerCase(java.util.Locale.ROOT));
            if (e.getOperator() != Filter.AttributeOperator.PR) {
                out.append(' ').append(value(e.getValue()));
            }
        } else if (filter instanceof Filter.LogicalExpression e) {
            out.append('(');
            write(e.getLeftHandFilter(), out);
            out.append(") ")
                    .append(e.getOperator().name().toLowerCase(java.util.Locale.ROOT))
                    .append(" (");
            write(e.getRightHandFilter(), out);
            out.append(')');
        } else if (filter instanceof Filter.NotExpression e) {
            out.append("not (");
            write(e.getFilter(), out);
            out.append(')');
        } else {
            throw new IllegalArgumentException(
                    "unknown filter node " + filter.getClass().getName());
        }
    }

    private static String value(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Boolean || value instanceof Number) {
            return value.toString();
        }
        return JsonText.writeValue(value.toString());
    }
}
