package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.Account;
import dev.curitydynamodb.grpc.v1.AccountServiceGrpc;
import dev.curitydynamodb.grpc.v1.AccountSort;
import dev.curitydynamodb.grpc.v1.CountAccountsRequest;
import dev.curitydynamodb.grpc.v1.ListAccountsRequest;
import dev.curitydynamodb.grpc.v1.ListAccountsResponse;
import dev.curitydynamodb.grpc.v1.PaginationRequest;
import dev.curitydynamodb.grpc.v1.Tenant;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.convert.AccountConverter;
import dev.curitydynamodb.plugin.json.JsonText;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import se.curity.identityserver.sdk.attribute.AccountAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.ResourceAttributes;
import se.curity.identityserver.sdk.data.query.ResourceQuery.AttributesEnumeration;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Sorting;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Sorting.SortOrder;
import se.curity.identityserver.sdk.data.query.ResourceQueryResult;
import se.curity.identityserver.sdk.datasource.db.TableCapabilities.TableCapability;
import se.curity.identityserver.sdk.datasource.errors.DataSourceCapabilityException;
import se.curity.identityserver.sdk.datasource.query.AttributesFiltering;
import se.curity.identityserver.sdk.datasource.query.AttributesSorting;
import se.curity.identityserver.sdk.errors.ExternalServiceException;

/**
 * The SDK's two listing shapes over the service's cursor-paged {@code List}: {@code getAllBy}'s
 * prefix filters (checked as Curity's own plugin checks them, so Curity gets the same capability
 * errors) and the offset pages of {@code getAll}.
 */
final class AccountListing {
    /** Most matches an in-memory sort reads; past it the caller must narrow the filter. */
    static final int MAX_SORTED = 10_000;
    /** The service's largest page. */
    private static final int PAGE = 100;
    /** The shortest prefix the initials indexes serve (their key is the first 3 characters). */
    private static final int INITIAL_LENGTH = 3;

    private final Rpc rpc;
    private final Tenant tenant;

    AccountListing(Rpc rpc, Tenant tenant) {
        this.rpc = rpc;
        this.tenant = tenant;
    }

    /** What {@code getAllBy} / {@code getCountBy} send: a SCIM filter and the index's order. */
    record Plan(String filter, AccountSort sort, boolean descending) {}

    static Plan plan(boolean activeOnly, AttributesSorting sorting, AttributesFiltering filtering) {
        if (filtering != null && filtering.getFilterType() == AttributesFiltering.FilterType.ENDS_WITH) {
            throw refused(TableCapability.FILTERING_ENDS_WITH);
        }
        boolean scan = filtering == null
                || isBlank(filtering.getFilterBy())
                || AttributesFiltering.DONT.equals(filtering.getFilterBy())
                || isBlank(filtering.getFilter());
        String active = activeOnly ? "active eq true" : "";
        if (scan) {
            // A scan has no order to give; the service refuses one, the plugin ignored it.
            return new Plan(active, AccountSort.ACCOUNT_SORT_NONE, false);
        }
        if (filtering.getFilter().length() < INITIAL_LENGTH) {
            throw refused(TableCapability.FILTERING_FILTER_TOO_SMALL);
        }
        if (sorting != null
                && !isBlank(sorting.getSortBy())
                && !AttributesSorting.DEFAULT.equals(sorting.getSortBy())
                && !AttributesSorting.DONT.equals(sorting.getSortBy())) {
            throw refused(TableCapability.SORTING);
        }
        String attribute;
        AccountSort sort;
        if (AttributesFiltering.ON_USER_NAME.equals(filtering.getFilterBy())) {
            attribute = "userName";
            sort = AccountSort.ACCOUNT_SORT_USER_NAME;
        } else if (AttributesFiltering.ON_EMAIL.equals(filtering.getFilterBy())) {
            attribute = "emails";
            sort = AccountSort.ACCOUNT_SORT_EMAIL;
        } else {
            throw new IllegalArgumentException(
                    "Filtering using the " + filtering.getFilterBy() + " attribute is not supported in DynamoDB.");
        }
        String filter = attribute + " sw " + JsonText.writeValue(filtering.getFilter());
        if (activeOnly) {
            filter = filter + " and " + active;
        }
        boolean descending = sorting != null && sorting.getSortOrder() == SortOrder.DESCENDING;
        return new Plan(filter, sort, descending);
    }

    ListAccountsResponse list(ListAccountsRequest request) {
        return rpc.call("AccountService/List", AccountServiceGrpc::newBlockingStub, s -> s.list(request));
    }

    /** The number of matches; a lower bound when the service's read budget ran out. */
    long count(CountAccountsRequest request) {
        return rpc.call("AccountService/Count", AccountServiceGrpc::newBlockingStub, s -> s.count(request))
                .getCount();
    }

    /**
     * Matches {@code start} (0-based) to {@code start + count}, with the total number of matches.
     * Unsorted, reading stops at the page's end; sorted, every match is read and sorted here.
     */
    ResourceQueryResult page(String filter, Sorting sorting, long start, long count, AttributesEnumeration attributes) {
        if (start < 0 || count < 0 || start > Integer.MAX_VALUE || count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("startIndex and count must be between 0 and " + Integer.MAX_VALUE);
        }
        boolean sorted = sorting != null && !isBlank(sorting.getSortBy());
        long wanted = sorted ? MAX_SORTED + 1L : start + count;
        List<Account> read = new ArrayList<>();
        String cursor = "";
        boolean more = true;
        while (more && read.size() < wanted) {
            ListAccountsResponse page = list(ListAccountsRequest.newBuilder()
                    .setTenant(tenant)
                    .setFilter(filter)
                    .setPage(PaginationRequest.newBuilder().setCount(PAGE).setCursor(cursor))
                    .build());
            read.addAll(page.getAccountsList());
            cursor = page.getPage().getCursor();
            more = !cursor.isEmpty();
        }
        if (sorted && read.size() > MAX_SORTED) {
            throw new ExternalServiceException(
                    "more than " + MAX_SORTED + " accounts match; narrow the filter to sort by " + sorting.getSortBy());
        }
        List<AccountAttributes> matches = new ArrayList<>(read.size());
        read.forEach(a -> matches.add(AccountConverter.toSdk(a)));
        long total;
        if (sorted) {
            Comparator<AccountAttributes> order = byAttribute(sorting.getSortBy());
            matches.sort(sorting.getSortOrder() == SortOrder.DESCENDING ? order.reversed() : order);
            total = matches.size();
        } else {
            total = more
                    ? count(CountAccountsRequest.newBuilder()
                            .setTenant(tenant)
                            .setFilter(filter)
                            .build())
                    : read.size();
        }
        List<ResourceAttributes<?>> resources = new ArrayList<>();
        for (int i = (int) Math.min(start, matches.size()); i < Math.min(start + count, matches.size()); i++) {
            AccountAttributes account = matches.get(i);
            resources.add(
                    attributes == null || attributes.isNeutral()
                            ? account
                            : AccountAttributes.of(account.filter(attributes)));
        }
        return new ResourceQueryResult(resources, total, start, count);
    }

    /** Orders by an attribute path (e.g. {@code name.familyName}); a multi-valued one by its primary, else first, value; absent last. */
    static Comparator<AccountAttributes> byAttribute(String path) {
        return Comparator.comparing((AccountAttributes a) -> sortValue(a.asMap(), path), AccountListing::compareValues);
    }

    private static Object sortValue(Map<String, Object> map, String path) {
        Object value = map;
        for (String part : path.split("\\.")) {
            value = single(value);
            if (!(value instanceof Map<?, ?> m)) {
                return null;
            }
            value = m.get(part);
        }
        value = single(value);
        if (value instanceof Map<?, ?> m) {
            value = m.get("value");
        }
        return value;
    }

    private static Object single(Object value) {
        if (value instanceof List<?> list) {
            for (Object item : list) {
                if (item instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("primary"))) {
                    return item;
                }
            }
            return list.isEmpty() ? null : list.get(0);
        }
        return value;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compareValues(Object a, Object b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : 1) : -1;
        }
        if (a instanceof Comparable && a.getClass() == b.getClass()) {
            return ((Comparable) a).compareTo(b);
        }
        return a.toString().compareTo(b.toString());
    }

    private static DataSourceCapabilityException refused(TableCapability capability) {
        return new DataSourceCapabilityException(capability, capability.getUnsupportedMessage());
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
