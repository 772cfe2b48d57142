package dev.curitydynamodb.plugin.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.curitydynamodb.grpc.v1.AccountSort;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.attribute.AccountAttributes;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Sorting.SortOrder;
import se.curity.identityserver.sdk.datasource.db.TableCapabilities.TableCapability;
import se.curity.identityserver.sdk.datasource.errors.DataSourceCapabilityException;
import se.curity.identityserver.sdk.datasource.query.AttributesFiltering;
import se.curity.identityserver.sdk.datasource.query.AttributesFiltering.FilterAttribute;
import se.curity.identityserver.sdk.datasource.query.AttributesFiltering.FilterType;
import se.curity.identityserver.sdk.datasource.query.AttributesSorting;

class AccountListingTest {
    @Test
    void prefix_filters_become_scim_on_the_initials_indexes() {
        AccountListing.Plan user = AccountListing.plan(
                true,
                new AttributesSorting(SortOrder.DESCENDING),
                new AttributesFiltering(FilterAttribute.USER_NAME, FilterType.BEGINS_WITH, "ja\"n"));
        assertEquals("userName sw \"ja\\\"n\" and active eq true", user.filter());
        assertEquals(AccountSort.ACCOUNT_SORT_USER_NAME, user.sort());
        assertEquals(true, user.descending());
        AccountListing.Plan email = AccountListing.plan(
                false, null, new AttributesFiltering(FilterAttribute.EMAIL, FilterType.BEGINS_WITH, "jan"));
        assertEquals("emails sw \"jan\"", email.filter());
        assertEquals(false, email.descending());
        AccountListing.Plan scan = AccountListing.plan(true, new AttributesSorting(SortOrder.DESCENDING), null);
        assertEquals("active eq true", scan.filter());
        assertEquals(AccountSort.ACCOUNT_SORT_NONE, scan.sort());
    }

    @Test
    void what_the_layout_cannot_serve_fails_before_any_call() {
        DataSourceCapabilityException e = assertThrows(
                DataSourceCapabilityException.class,
                () -> AccountListing.plan(
                        false, null, new AttributesFiltering(FilterAttribute.EMAIL, FilterType.ENDS_WITH, "abc")));
        assertEquals(TableCapability.FILTERING_ENDS_WITH, e.getUnsupportedCapability());
    }

    @Test
    void sorting_by_a_path_puts_absent_last_and_uses_the_primary_value() {
        List<AccountAttributes> accounts = new ArrayList<>();
        accounts.add(AccountAttributes.fromMap(Map.of("userName", "c")));
        accounts.add(AccountAttributes.fromMap(Map.of(
                "userName", "b", "emails", List.of(Map.of("value", "z@x"), Map.of("value", "a@x", "primary", true)))));
        accounts.add(AccountAttributes.fromMap(Map.of("userName", "a", "emails", List.of(Map.of("value", "m@x")))));
        accounts.sort(AccountListing.byAttribute("emails"));
        List<String> order = new ArrayList<>();
        accounts.forEach(a -> order.add(a.getUserName()));
        assertEquals(List.of("b", "a", "c"), order);
    }
}
