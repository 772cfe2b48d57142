package dev.curitydynamodb.plugin.provider;

import dev.curitydynamodb.grpc.v1.Account;
import dev.curitydynamodb.grpc.v1.AccountResponse;
import dev.curitydynamodb.grpc.v1.AccountServiceGrpc;
import dev.curitydynamodb.grpc.v1.CountAccountsRequest;
import dev.curitydynamodb.grpc.v1.CreateAccountRequest;
import dev.curitydynamodb.grpc.v1.DeleteAccountRequest;
import dev.curitydynamodb.grpc.v1.DeleteLinkRequest;
import dev.curitydynamodb.grpc.v1.GetAccountByEmailRequest;
import dev.curitydynamodb.grpc.v1.GetAccountByIdRequest;
import dev.curitydynamodb.grpc.v1.GetAccountByPhoneRequest;
import dev.curitydynamodb.grpc.v1.GetAccountByUserNameRequest;
import dev.curitydynamodb.grpc.v1.LinkRequest;
import dev.curitydynamodb.grpc.v1.LinkServiceGrpc;
import dev.curitydynamodb.grpc.v1.ListAccountsRequest;
import dev.curitydynamodb.grpc.v1.ListAccountsResponse;
import dev.curitydynamodb.grpc.v1.ListLinksRequest;
import dev.curitydynamodb.grpc.v1.PaginationRequest;
import dev.curitydynamodb.grpc.v1.ResolveLinkRequest;
import dev.curitydynamodb.grpc.v1.Tenant;
import dev.curitydynamodb.grpc.v1.UpdateAccountRequest;
import dev.curitydynamodb.plugin.client.Rpc;
import dev.curitydynamodb.plugin.client.ServiceConnection;
import dev.curitydynamodb.plugin.client.VersionConflictException;
import dev.curitydynamodb.plugin.convert.AccountConverter;
import dev.curitydynamodb.plugin.convert.LinkConverter;
import dev.curitydynamodb.plugin.convert.ScimFilter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import se.curity.identityserver.sdk.ThreadSafe;
import se.curity.identityserver.sdk.attribute.AccountAttributes;
import se.curity.identityserver.sdk.attribute.Attribute;
import se.curity.identityserver.sdk.attribute.scim.v2.ResourceAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.LinkedAccount;
import se.curity.identityserver.sdk.data.query.ResourceQuery;
import se.curity.identityserver.sdk.data.query.ResourceQuery.AttributesEnumeration;
import se.curity.identityserver.sdk.data.query.ResourceQueryResult;
import se.curity.identityserver.sdk.data.update.AttributeUpdate;
import se.curity.identityserver.sdk.datasource.PageableUserAccountDataAccessProvider;
import se.curity.identityserver.sdk.datasource.errors.DataSourceCapabilityException;
import se.curity.identityserver.sdk.datasource.pagination.PaginatedDataAccessResult;
import se.curity.identityserver.sdk.datasource.query.AttributesFiltering;
import se.curity.identityserver.sdk.datasource.query.AttributesSorting;
import se.curity.identityserver.sdk.errors.ConflictException;
import se.curity.identityserver.sdk.errors.ExternalServiceException;

/**
 * User accounts ({@code AccountService}) and their linked accounts ({@code LinkService}) in the
 * data source's tenant.
 */
public final class GrpcUserAccountProvider implements PageableUserAccountDataAccessProvider, ThreadSafe {
    /** Read-modify-write attempts of a patch that met concurrent writers, as the plugin makes. */
    private static final int PATCH_ATTEMPTS = 3;

    private final Rpc rpc;
    private final Tenant tenant;

    public GrpcUserAccountProvider(ServiceConnection connection) {
        this.rpc = connection.rpc();
        this.tenant = connection.tenant();
    }

    @Override
    public AccountAttributes getById(String id) {
        AccountResponse response = byId(id);
        return response.hasAccount() ? AccountConverter.toSdk(response.getAccount()) : null;
    }

    @Override
    public ResourceAttributes<?> getById(String id, AttributesEnumeration attributes) {
        return found(byId(id), attributes);
    }

    @Override
    public ResourceAttributes<?> getByUserName(String userName, AttributesEnumeration attributes) {
        AccountResponse response = rpc.call(
                "AccountService/GetByUserName",
                AccountServiceGrpc::newBlockingStub,
                s -> s.getByUserName(GetAccountByUserNameRequest.newBuilder()
                        .setTenant(tenant)
                        .setUserName(userName)
                        .build()));
        return found(response, attributes);
    }

    @Override
    public ResourceAttributes<?> getByEmail(String email, AttributesEnumeration attributes) {
        AccountResponse response = rpc.call(
                "AccountService/GetByEmail",
                AccountServiceGrpc::newBlockingStub,
                s -> s.getByEmail(GetAccountByEmailRequest.newBuilder()
                        .setTenant(tenant)
                        .setEmail(email)
                        .build()));
        return found(response, attributes);
    }

    /** Always null when the service runs with {@code dynamodb.unique_phone_numbers = false}. */
    @Override
    public ResourceAttributes<?> getByPhone(String phone, AttributesEnumeration attributes) {
        AccountResponse response = rpc.call(
                "AccountService/GetByPhone",
                AccountServiceGrpc::newBlockingStub,
                s -> s.getByPhone(GetAccountByPhoneRequest.newBuilder()
                        .setTenant(tenant)
                        .setPhone(phone)
                        .build()));
        return found(response, attributes);
    }

    /**
     * Creates the account with a new id, with the password Curity hashed; a taken user name, email
     * or phone is a {@code ConflictException}.
     */
    @Override
    public AccountAttributes create(AccountAttributes account) {
        CreateAccountRequest.Builder request =
                CreateAccountRequest.newBuilder().setTenant(tenant).setAccount(AccountConverter.toProto(account));
        String hash = AccountConverter.passwordHash(account);
        if (hash != null) {
            request.setPasswordHash(hash);
        }
        Account created = rpc.call(
                        "AccountService/Create", AccountServiceGrpc::newBlockingStub, s -> s.create(request.build()))
                .getAccount();
        return AccountConverter.toSdk(created);
    }

    /** Replaces everything but the password and credentials; null when there is no such account. */
    @Override
    public ResourceAttributes<?> update(AccountAttributes account, AttributesEnumeration attributes) {
        return replace(account.getId(), account, null)
                .map(a -> AccountConverter.toSdk(a, attributes))
                .orElse(null);
    }

    @Override
    public ResourceAttributes<?> update(
            String accountId, Map<String, Object> updateMap, AttributesEnumeration attributes) {
        return replace(accountId, AccountAttributes.fromMap(updateMap), null)
                .map(a -> AccountConverter.toSdk(a, attributes))
                .orElse(null);
    }

    /**
     * Applies the additions, replacements and deletions to the account as read, and writes the
     * result only if nobody changed the account in between (else reads again, 3 attempts). A
     * password in the update is ignored, as in the plugin: passwords change through credentials.
     */
    @Override
    public ResourceAttributes<?> patch(String accountId, AttributeUpdate update, AttributesEnumeration attributes) {
        for (int attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
            AccountResponse read = byId(accountId);
            if (!read.hasAccount()) {
                return null;
            }
            Account observed = read.getAccount();
            AccountAttributes patched = AccountAttributes.of(update.applyOn(AccountConverter.toSdk(observed))
                    .with(Attribute.of(ResourceAttributes.ID, accountId))
                    .removeAttribute(ResourceAttributes.META)
                    .removeAttribute(AccountAttributes.PASSWORD));
            try {
                Optional<Account> written = replace(accountId, patched, observed.getVersion());
                if (written.isEmpty()) {
                    return null;
                }
                return AccountConverter.toSdk(written.get(), attributes);
            } catch (VersionConflictException e) {
                // The version moved: read the account again and re-apply.
            }
        }
        throw new ConflictException("account " + accountId + " changed concurrently " + PATCH_ATTEMPTS + " times");
    }

    @Override
    public void delete(String accountId) {
        rpc.call(
                "AccountService/Delete",
                AccountServiceGrpc::newBlockingStub,
                s -> s.delete(DeleteAccountRequest.newBuilder()
                        .setTenant(tenant)
                        .setId(accountId)
                        .build()));
    }

    /** Links {@code foreignUserName} of {@code foreignDomainName} to the local account (replacing its link). */
    @Override
    public void link(
            String linkingAccountManager, String localAccountId, String foreignDomainName, String foreignUserName) {
        rpc.call(
                "LinkService/Link",
                LinkServiceGrpc::newBlockingStub,
                s -> s.link(LinkRequest.newBuilder()
                        .setTenant(tenant)
                        .setLinkingAccountManager(linkingAccountManager)
                        .setLocalAccountId(localAccountId)
                        .setForeignDomain(foreignDomainName)
                        .setForeignUserName(foreignUserName)
                        .build()));
    }

    @Override
    public Collection<LinkedAccount> listLinks(String linkingAccountManager, String localAccountId) {
        var response = rpc.call(
                "LinkService/ListLinks",
                LinkServiceGrpc::newBlockingStub,
                s -> s.listLinks(ListLinksRequest.newBuilder()
                        .setTenant(tenant)
                        .setLinkingAccountManager(linkingAccountManager)
                        .setLocalAccountId(localAccountId)
                        .build()));
        List<LinkedAccount> links = new ArrayList<>();
        response.getLinksList().forEach(l -> links.add(LinkConverter.toSdk(l)));
        return links;
    }

    @Override
    public AccountAttributes resolveLink(
            String linkingAccountManager, String foreignDomainName, String foreignAccountId) {
        AccountResponse response = rpc.call(
                "LinkService/ResolveLink",
                LinkServiceGrpc::newBlockingStub,
                s -> s.resolveLink(ResolveLinkRequest.newBuilder()
                        .setTenant(tenant)
                        .setLinkingAccountManager(linkingAccountManager)
                        .setForeignDomain(foreignDomainName)
                        .setForeignAccountId(foreignAccountId)
                        .build()));
        return response.hasAccount() ? AccountConverter.toSdk(response.getAccount()) : null;
    }

    @Override
    public boolean deleteLink(
            String linkingAccountManager, String localAccountId, String foreignDomainName, String foreignAccountId) {
        return rpc.call(
                        "LinkService/DeleteLink",
                        LinkServiceGrpc::newBlockingStub,
                        s -> s.deleteLink(DeleteLinkRequest.newBuilder()
                                .setTenant(tenant)
                                .setLinkingAccountManager(linkingAccountManager)
                                .setLocalAccountId(localAccountId)
                                .setForeignDomain(foreignDomainName)
                                .setForeignAccountId(foreignAccountId)
                                .build()))
                .getDeleted();
    }

    /**
     * Accounts {@code startIndex} (0-based) to {@code startIndex + count} of the tenant, in the
     * table's order: every account is a scan, so the service needs {@code
     * dynamodb.allow_table_scans}.
     */
    @Override
    public ResourceQueryResult getAll(long startIndex, long count) {
        return listing().page("", null, startIndex, count, null);
    }

    /**
     * The SCIM filter as the service plans it (table keys and initials indexes, else a scan where
     * allowed), sorted by any attribute and paged by offset. Sorting reads every match (at most
     * {@value AccountListing#MAX_SORTED}); unsorted pages stop reading at the page's end.
     */
    @Override
    public ResourceQueryResult getAll(ResourceQuery query) {
        String filter = ScimFilter.render(query.getFilter());
        try {
            return listing()
                    .page(
                            filter,
                            query.getSorting(),
                            query.getPagination().getStartIndex(),
                            query.getPagination().getCount(),
                            query.getAttributesEnumeration());
        } catch (DataSourceCapabilityException e) {
            // What the plugin answers for a query its layout cannot serve.
            throw new ExternalServiceException(e.getMessage(), e);
        }
    }

    /**
     * One page of the tenant's accounts, optionally only active ones and only those whose user
     * name or email starts with the filter (at least 3 characters, served by the initials
     * indexes); without a filter it is a scan. Ordered by the filtered attribute.
     */
    @Override
    public PaginatedDataAccessResult<AccountAttributes> getAllBy(
            boolean activeAccountsOnly,
            se.curity.identityserver.sdk.datasource.pagination.PaginationRequest pagination,
            AttributesSorting sorting,
            AttributesFiltering filtering) {
        AccountListing.Plan plan = AccountListing.plan(activeAccountsOnly, sorting, filtering);
        ListAccountsRequest.Builder request = ListAccountsRequest.newBuilder()
                .setTenant(tenant)
                .setFilter(plan.filter())
                .setSortBy(plan.sort())
                .setDescending(plan.descending());
        PaginationRequest.Builder page = PaginationRequest.newBuilder();
        if (pagination != null) {
            if (pagination.getCount() > 0) {
                page.setCount(pagination.getCount());
            }
            if (pagination.getCursor() != null) {
                page.setCursor(pagination.getCursor());
            }
        }
        request.setPage(page);
        ListAccountsResponse response = listing().list(request.build());
        List<AccountAttributes> items = new ArrayList<>();
        response.getAccountsList().forEach(a -> items.add(AccountConverter.toSdk(a)));
        String cursor = response.getPage().getCursor();
        return new PaginatedDataAccessResult<>(items, cursor.isEmpty() ? null : cursor);
    }

    @Override
    public long getCountBy(boolean activeAccountsOnly, AttributesFiltering filtering) {
        AccountListing.Plan plan = AccountListing.plan(activeAccountsOnly, null, filtering);
        return listing()
                .count(CountAccountsRequest.newBuilder()
                        .setTenant(tenant)
                        .setFilter(plan.filter())
                        .build());
    }

    private AccountListing listing() {
        return new AccountListing(rpc, tenant);
    }

    private AccountResponse byId(String id) {
        return rpc.call(
                "AccountService/GetById",
                AccountServiceGrpc::newBlockingStub,
                s -> s.getById(GetAccountByIdRequest.newBuilder()
                        .setTenant(tenant)
                        .setId(id)
                        .build()));
    }

    /** Replaces the account; empty when there is no such account. */
    private Optional<Account> replace(String id, AccountAttributes account, Long expectedVersion) {
        UpdateAccountRequest.Builder request = UpdateAccountRequest.newBuilder()
                .setTenant(tenant)
                .setId(id)
                .setAccount(AccountConverter.toProto(account));
        if (expectedVersion != null) {
            request.setExpectedVersion(expectedVersion);
        }
        return rpc.callUnlessNotFound(
                        "AccountService/Update", AccountServiceGrpc::newBlockingStub, s -> s.update(request.build()))
                .map(AccountResponse::getAccount);
    }

    private static ResourceAttributes<?> found(AccountResponse response, AttributesEnumeration attributes) {
        return response.hasAccount() ? AccountConverter.toSdk(response.getAccount(), attributes) : null;
    }
}
