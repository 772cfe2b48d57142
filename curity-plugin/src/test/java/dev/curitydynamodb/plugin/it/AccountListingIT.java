package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import dev.curitydynamodb.plugin.support.TestConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.attribute.AccountAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.ResourceAttributes;
import se.curity.identityserver.sdk.data.query.Filter;
import se.curity.identityserver.sdk.data.query.ResourceQuery;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Sorting.SortOrder;
import se.curity.identityserver.sdk.data.query.ResourceQueryBuilder;
import se.curity.identityserver.sdk.data.query.ResourceQueryResult;
import se.curity.identityserver.sdk.datasource.PageableUserAccountDataAccessProvider;
import se.curity.identityserver.sdk.datasource.db.TableCapabilities.TableCapability;
import se.curity.identityserver.sdk.datasource.errors.DataSourceCapabilityException;
import se.curity.identityserver.sdk.datasource.pagination.PaginatedDataAccessResult;
import se.curity.identityserver.sdk.datasource.pagination.PaginationRequest;
import se.curity.identityserver.sdk.datasource.query.AttributesFiltering;
import se.curity.identityserver.sdk.datasource.query.AttributesFiltering.FilterAttribute;
import se.curity.identityserver.sdk.datasource.query.AttributesFiltering.FilterType;
import se.curity.identityserver.sdk.datasource.query.AttributesSorting;
import se.curity.identityserver.sdk.datasource.query.AttributesSorting.SortAttribute;

/**
 * Account listings as Curity asks for them: getAllBy / getCountBy (cursor pages, prefix filters
 * on the initials indexes) and getAll (offset pages, SCIM filters, any sort). Scans are allowed
 * on this service; each test lists in a tenant of its own, so a scan sees only its accounts.
 */
@Order(21)
class AccountListingIT {
    private static ServiceProcess service;

    @BeforeAll
    static void start() throws Exception {
        service = ServiceProcess.start(Map.of("CURITY_DYNAMODB_DYNAMODB__ALLOW_TABLE_SCANS", "true"));
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    /** A data source of a fresh tenant. */
    private static Plugin tenant() {
        return Plugin.connect(TestConfig.target(service.target())
                .with("getBearerToken", service.token())
                .with("getTenantId", Ids.fresh("t")));
    }

    /** Accounts {@code <prefix>-0} .. {@code <prefix>-(n-1)}, emails {@code e<prefix>-i@x.example}; the last one inactive. */
    private static List<String> create(PageableUserAccountDataAccessProvider accounts, String prefix, int n) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = prefix + "-" + i;
            accounts.create(AccountAttributes.fromMap(Map.of(
                    "userName",
                    name,
                    "active",
                    i < n - 1,
                    "name",
                    Map.of("familyName", "F" + (n - i)),
                    "emails",
                    List.of(Map.of("value", "e" + name + "@x.example", "primary", true)))));
            names.add(name);
        }
        return names;
    }

    private static List<String> userNames(Iterable<? extends ResourceAttributes<?>> page) {
        List<String> names = new ArrayList<>();
        page.forEach(a -> names.add((String) a.get("userName").getValue()));
        return names;
    }

    private static AttributesFiltering startsWith(FilterAttribute attribute, String prefix) {
        return new AttributesFiltering(attribute, FilterType.BEGINS_WITH, prefix);
    }

    @Test
    void get_all_by_user_name_prefix_pages_with_cursors_in_user_name_order() {
        try (Plugin plugin = tenant()) {
            PageableUserAccountDataAccessProvider accounts = plugin.accounts();
            String prefix = Ids.initials();
            List<String> names = create(accounts, prefix, 5);
            List<String> seen = new ArrayList<>();
            PaginationRequest page = new PaginationRequest(2);
            int pages = 0;
            while (true) {
                PaginatedDataAccessResult<AccountAttributes> result =
                        accounts.getAllBy(false, page, null, startsWith(FilterAttribute.USER_NAME, prefix));
                seen.addAll(userNames(result.getItems()));
                pages++;
                if (result.getCursor().isEmpty()) {
                    break;
                }
                page = new PaginationRequest(result.getCursor().get(), 2);
            }
            assertEquals(names, seen);
            assertTrue(pages >= 3);

            List<String> active = userNames(accounts.getAllBy(
                            true, new PaginationRequest(50), null, startsWith(FilterAttribute.USER_NAME, prefix))
                    .getItems());
            assertEquals(names.subList(0, 4), active);

            List<String> descending = userNames(accounts.getAllBy(
                            false,
                            null,
                            new AttributesSorting(SortOrder.DESCENDING),
                            startsWith(FilterAttribute.USER_NAME, prefix))
                    .getItems());
            assertEquals(reversed(names), descending);
        }
    }

    @Test
    void get_all_by_email_prefix_and_counts() {
        try (Plugin plugin = tenant()) {
            PageableUserAccountDataAccessProvider accounts = plugin.accounts();
            String prefix = Ids.initials();
            List<String> names = create(accounts, prefix, 4);
            AttributesFiltering byEmail = startsWith(FilterAttribute.EMAIL, "e" + prefix);
            assertEquals(
                    names,
                    userNames(accounts.getAllBy(false, null, null, byEmail).getItems()));
            assertEquals(4, accounts.getCountBy(false, byEmail));
            assertEquals(3, accounts.getCountBy(true, byEmail));
            assertEquals(4, accounts.getCountBy(false, startsWith(FilterAttribute.USER_NAME, prefix)));
            // Without a filter: every account of the tenant (a scan).
            assertEquals(4, accounts.getCountBy(false));
            assertEquals(3, accounts.getCountBy(true));
            assertEquals(
                    names, sorted(userNames(accounts.getAllBy(false, null, null).getItems())));
        }
    }

    @Test
    void filters_the_layout_cannot_serve_are_capability_errors_as_curity_expects() {
        try (Plugin plugin = tenant()) {
            PageableUserAccountDataAccessProvider accounts = plugin.accounts();
            assertCapability(
                    TableCapability.FILTERING_ENDS_WITH,
                    () -> accounts.getAllBy(
                            false,
                            null,
                            null,
                            new AttributesFiltering(FilterAttribute.USER_NAME, FilterType.ENDS_WITH, "abc")));
            assertCapability(
                    TableCapability.FILTERING_FILTER_TOO_SMALL,
                    () -> accounts.getAllBy(false, null, null, startsWith(FilterAttribute.USER_NAME, "ab")));
            assertCapability(
                    TableCapability.FILTERING_FILTER_TOO_SMALL,
                    () -> accounts.getCountBy(false, startsWith(FilterAttribute.EMAIL, "a")));
            assertCapability(
                    TableCapability.SORTING,
                    () -> accounts.getAllBy(
                            false,
                            null,
                            new AttributesSorting(SortAttribute.CREATED_TIMESTAMP, SortOrder.ASCENDING),
                            startsWith(FilterAttribute.USER_NAME, "abc")));
        }
    }

    private static void assertCapability(TableCapability expected, Runnable call) {
        DataSourceCapabilityException e = assertThrows(DataSourceCapabilityException.class, call::run);
        assertEquals(expected, e.getUnsupportedCapability());
    }

    @Test
    void get_all_offset_pages_over_every_account_of_the_tenant() {
        try (Plugin plugin = tenant()) {
            PageableUserAccountDataAccessProvider accounts = plugin.accounts();
            List<String> names = create(accounts, Ids.initials(), 7);
            ResourceQueryResult all = accounts.getAll(0, 100);
            assertEquals(7, all.getTotalResults());
            assertEquals(names, sorted(userNames(all.getResources())));
            ResourceQueryResult middle = accounts.getAll(2, 3);
            assertEquals(3, middle.getResources().size());
            assertEquals(7, middle.getTotalResults());
            assertEquals(2, middle.getStartIndex());
            assertEquals(userNames(all.getResources()).subList(2, 5), userNames(middle.getResources()));
            assertEquals(0, accounts.getAll(7, 5).getResources().size());
        }
    }

    @Test
    void get_all_with_a_scim_filter_sorts_and_slices() {
        try (Plugin plugin = tenant()) {
            PageableUserAccountDataAccessProvider accounts = plugin.accounts();
            String prefix = Ids.initials();
            List<String> names = create(accounts, prefix, 6);
            ResourceQuery query = new ResourceQueryBuilder()
                    .withFilter(new Filter.AttributeExpression(Filter.AttributeOperator.SW, "userName", prefix))
                    .withSortBy("userName")
                    .withSortOrder(SortOrder.DESCENDING)
                    .withPagination(1, 2)
                    .build();
            ResourceQueryResult result = accounts.getAll(query);
            assertEquals(6, result.getTotalResults());
            assertEquals(List.of(names.get(4), names.get(3)), userNames(result.getResources()));

            // By a nested attribute: familyName F6 .. F1 runs opposite to the user names.
            ResourceQuery byFamilyName = new ResourceQueryBuilder()
                    .withFilter(new Filter.LogicalExpression(
                            Filter.LogicalOperator.AND,
                            new Filter.AttributeExpression(Filter.AttributeOperator.SW, "userName", prefix),
                            new Filter.AttributeExpression(Filter.AttributeOperator.EQ, "active", true)))
                    .withSortBy("name.familyName")
                    .withSortOrder(SortOrder.ASCENDING)
                    .withPagination(0, 10)
                    .build();
            assertEquals(
                    reversed(names.subList(0, 5)),
                    userNames(accounts.getAll(byFamilyName).getResources()));

            ResourceQuery byEmail = new ResourceQueryBuilder()
                    .withFilter(new Filter.AttributeExpression(
                            Filter.AttributeOperator.EQ, "emails", "e" + names.get(2) + "@x.example"))
                    .withPagination(0, 10)
                    .withAttributeInclusions(java.util.Set.of("userName"))
                    .build();
            ResourceQueryResult one = accounts.getAll(byEmail);
            assertEquals(1, one.getTotalResults());
            assertEquals(List.of(names.get(2)), userNames(one.getResources()));
            assertTrue(!one.getResources().get(0).contains("emails"));
        }
    }

    private static List<String> reversed(List<String> names) {
        List<String> copy = new ArrayList<>(names);
        java.util.Collections.reverse(copy);
        return copy;
    }

    private static List<String> sorted(List<String> names) {
        List<String> copy = new ArrayList<>(names);
        copy.sort(null);
        return copy;
    }
}
