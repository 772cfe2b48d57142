package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curitydynamodb.plugin.support.Accounts;
import dev.curitydynamodb.plugin.support.Ids;
import dev.curitydynamodb.plugin.support.Plugin;
import dev.curitydynamodb.plugin.support.ServiceProcess;
import dev.curitydynamodb.plugin.support.TestConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import se.curity.identityserver.sdk.attribute.AccountAttributes;
import se.curity.identityserver.sdk.attribute.Attribute;
import se.curity.identityserver.sdk.attribute.AttributeTableView;
import se.curity.identityserver.sdk.attribute.AuthenticationAttributes;
import se.curity.identityserver.sdk.attribute.ContextAttributes;
import se.curity.identityserver.sdk.attribute.SubjectAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.ResourceAttributes;
import se.curity.identityserver.sdk.attribute.scim.v2.extensions.LinkedAccount;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Exclusions;
import se.curity.identityserver.sdk.data.query.ResourceQuery.Inclusions;
import se.curity.identityserver.sdk.data.update.AttributeAdditions;
import se.curity.identityserver.sdk.data.update.AttributeDeletions;
import se.curity.identityserver.sdk.data.update.AttributeReplacements;
import se.curity.identityserver.sdk.data.update.AttributeUpdate;
import se.curity.identityserver.sdk.datasource.AttributeDataAccessProvider;
import se.curity.identityserver.sdk.datasource.CredentialDataAccessProvider;
import se.curity.identityserver.sdk.datasource.PageableUserAccountDataAccessProvider;
import se.curity.identityserver.sdk.errors.ConflictException;

/** Accounts, credentials, links and attributes through the plugin, single items (listings: AccountListingIT). */
@Order(20)
class AccountsIT {
    private static ServiceProcess service;
    private static Plugin plugin;
    private static Plugin acme;
    private static PageableUserAccountDataAccessProvider accounts;
    private static CredentialDataAccessProvider credentials;
    private static AttributeDataAccessProvider attributes;

    @BeforeAll
    static void start() throws Exception {
        service = ServiceProcess.start(Map.of());
        plugin = Plugin.connect(service);
        acme = Plugin.connect(TestConfig.target(service.target())
                .with("getBearerToken", service.token())
                .with("getTenantId", "acme"));
        accounts = plugin.accounts();
        credentials = plugin.credentials();
        attributes = plugin.attributes();
    }

    @AfterAll
    static void stop() throws Exception {
        acme.close();
        plugin.close();
        service.close();
    }

    @Test
    void created_account_reads_back_equal_by_every_key() {
        String user = Ids.fresh("jane");
        AccountAttributes written = Accounts.rich(user);
        AccountAttributes created = accounts.create(written);
        assertNotNull(created.getId());
        Accounts.assertSameAttributes(written, created);
        assertNull(created.getPassword());
        assertNotNull(created.getMeta().getCreated());

        Accounts.assertSameAttributes(written, accounts.getById(created.getId()));
        Accounts.assertSameAttributes(written, accounts.getByUserName(user));
        Accounts.assertSameAttributes(written, accounts.getByEmail(user + "@work.example"));
        Accounts.assertSameAttributes(
                written,
                accounts.getByPhone(
                        written.getPhoneNumbers().getPrimaryOrFirst().getSignificantValue()));
        AccountAttributes read = accounts.getById(created.getId());
        Object big = ((Map<?, ?>) read.asMap().get("urn:example:params:scim:schemas:extension:custom:1.0")).get("big");
        assertEquals(12345678901234567L, big);
        assertEquals("User", read.getMeta().getResourceType());
    }

    @Test
    void attribute_enumerations_keep_what_they_name() {
        String user = Ids.fresh("jane");
        AccountAttributes created = accounts.create(Accounts.rich(user));
        ResourceAttributes<?> only =
                accounts.getById(created.getId(), Inclusions.of(Set.of("userName", "displayName")));
        assertTrue(only.contains("displayName"));
        assertFalse(only.contains("emails"));
        ResourceAttributes<?> without = accounts.getByUserName(user, Exclusions.of(Set.of("emails")));
        assertFalse(without.contains("emails"));
        assertTrue(without.contains("name"));
        assertNotNull(accounts.getByEmail(user + "@work.example", Exclusions.none()));
        assertNotNull(accounts.getByPhone(
                created.getPhoneNumbers().getPrimaryOrFirst().getSignificantValue(), Exclusions.none()));
    }

    @Test
    void from_attributes_builds_an_account_and_null_stays_null() {
        AccountAttributes built =
                accounts.fromAttributes(List.of(Attribute.of("userName", "jane"), Attribute.of("active", true)));
        assertEquals("jane", built.getUserName());
        assertNull(accounts.fromAttributes(null));
    }

    @Test
    void unknown_accounts_are_null() {
        String nobody = Ids.fresh("nobody");
        assertNull(accounts.getById(nobody));
        assertNull(accounts.getById(nobody, Exclusions.none()));
        assertNull(accounts.getByUserName(nobody));
        assertNull(accounts.getByEmail(nobody + "@x.example"));
        assertNull(accounts.getByPhone("+1555" + Math.abs(nobody.hashCode())));
        assertNull(accounts.resolveLink("manager", "google", nobody));
        assertNull(credentials.verifyPassword(nobody, "secret"));
        assertEquals(0, attributes.getAttributes(nobody).getRowCount());
    }

    @Test
    void taken_user_name_or_email_is_a_conflict() {
        String user = Ids.fresh("jane");
        accounts.create(Accounts.rich(user));
        assertThrows(ConflictException.class, () -> accounts.create(Accounts.rich(user)));
        AccountAttributes sameEmail = AccountAttributes.fromMap(Map.of(
                "userName",
                Ids.fresh("other"),
                "emails",
                List.of(Map.of("value", user + "@work.example", "primary", true))));
        assertThrows(ConflictException.class, () -> accounts.create(sameEmail));
    }

    @Test
    void update_replaces_attributes_and_keeps_the_password() {
        String user = Ids.fresh("jane");
        AccountAttributes created = accounts.create(Accounts.rich(user));
        Map<String, Object> changed = new LinkedHashMap<>(Accounts.comparable(created));
        changed.put("id", created.getId());
        changed.put("displayName", "Jane D.");
        changed.remove("name");
        AccountAttributes replacement = AccountAttributes.fromMap(changed);

        ResourceAttributes<?> updated = accounts.update(replacement, Exclusions.none());
        assertEquals("Jane D.", updated.get("displayName").getValue());
        AccountAttributes read = accounts.getById(created.getId());
        assertFalse(read.contains("name"));
        assertEquals(
                "$2a$10$0123456789012345678901u8qrJV8sI1Qvv3.4sC5lC0LoG9yM2y",
                credentials
                        .verifyPassword(user, "ignored")
                        .getSubjectAttributes()
                        .get("password")
                        .getValue());

        changed.put("displayName", "By map");
        ResourceAttributes<?> byMap = accounts.update(created.getId(), changed, Inclusions.of(Set.of("displayName")));
        assertEquals("By map", byMap.get("displayName").getValue());
    }

    @Test
    void updating_or_patching_a_missing_account_is_null() {
        AccountAttributes ghost = AccountAttributes.of(Ids.fresh("ghost"), "ghost");
        assertNull(accounts.update(ghost, Exclusions.none()));
        assertNull(accounts.update(Ids.fresh("ghost"), Map.of("userName", "ghost"), Exclusions.none()));
        assertNull(accounts.patch(
                Ids.fresh("ghost"),
                new AttributeUpdate(AttributeReplacements.of(List.of(Attribute.of("displayName", "x")))),
                Exclusions.none()));
    }

    @Test
    void patch_adds_replaces_and_deletes_and_ignores_a_password() {
        String user = Ids.fresh("jane");
        AccountAttributes created = accounts.create(Accounts.rich(user));
        AttributeUpdate update = new AttributeUpdate(
                AttributeAdditions.of(List.of(Attribute.of("nickName", "JJ"))),
                AttributeReplacements.of(
                        List.of(Attribute.of("displayName", "Patched"), Attribute.of("password", "not-a-hash"))),
                AttributeDeletions.of(Set.of("name")));
        ResourceAttributes<?> patched = accounts.patch(created.getId(), update, Exclusions.none());
        assertEquals("Patched", patched.get("displayName").getValue());
        assertEquals("JJ", patched.get("nickName").getValue());
        assertFalse(patched.contains("name"));
        assertEquals(
                "$2a$10$0123456789012345678901u8qrJV8sI1Qvv3.4sC5lC0LoG9yM2y",
                credentials
                        .verifyPassword(user, "x")
                        .getSubjectAttributes()
                        .get("password")
                        .getValue());
    }

    @Test
    void concurrent_patches_of_different_attributes_both_land() throws Exception {
        String user = Ids.fresh("jane");
        AccountAttributes created = accounts.create(Accounts.rich(user));
        int rounds = 5;
        for (int round = 0; round < rounds; round++) {
            CyclicBarrier start = new CyclicBarrier(2);
            String a = "a" + round;
            String b = "b" + round;
            CompletableFuture<?> first =
                    CompletableFuture.runAsync(() -> patchAfter(start, created.getId(), "title", a));
            CompletableFuture<?> second =
                    CompletableFuture.runAsync(() -> patchAfter(start, created.getId(), "nickName", b));
            CompletableFuture.allOf(first, second).join();
            AccountAttributes read = accounts.getById(created.getId());
            assertEquals(a, read.get("title").getValue(), "round " + round);
            assertEquals(b, read.get("nickName").getValue(), "round " + round);
        }
    }

    private static void patchAfter(CyclicBarrier start, String id, String attribute, String value) {
        try {
            start.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        accounts.patch(
                id,
                new AttributeUpdate(AttributeReplacements.of(List.of(Attribute.of(attribute, value)))),
                Exclusions.none());
    }

    @Test
    void activate_sets_an_inactive_account_active() {
        String user = Ids.fresh("jane");
        Map<String, Object> m = new LinkedHashMap<>(Accounts.comparable(Accounts.rich(user)));
        m.put("active", false);
        AccountAttributes created = accounts.create(AccountAttributes.fromMap(m));
        assertFalse(created.isActive());
        assertNull(credentials.verifyPassword(user, "x"), "an inactive account does not authenticate");
        accounts.activate(created);
        assertTrue(accounts.getById(created.getId()).isActive());
    }

    @Test
    void delete_removes_the_account_and_every_key() {
        String user = Ids.fresh("jane");
        AccountAttributes created = accounts.create(Accounts.rich(user));
        accounts.delete(created.getId());
        assertNull(accounts.getById(created.getId()));
        assertNull(accounts.getByUserName(user));
        assertNull(accounts.getByEmail(user + "@work.example"));
        accounts.delete(created.getId());
        // The user name and email are free again.
        assertNotNull(accounts.create(Accounts.rich(user)).getId());
    }

    @Test
    void links_are_listed_resolved_and_deleted() {
        String user = Ids.fresh("jane");
        AccountAttributes created = accounts.create(Accounts.rich(user));
        String foreign = Ids.fresh("g");
        accounts.link("linker", created.getId(), "google", foreign);
        accounts.link("linker", created.getId(), "github", foreign + "-gh");

        Collection<LinkedAccount> links = accounts.listLinks("linker", created.getId());
        List<String> values = new ArrayList<>();
        links.forEach(l -> values.add(l.getDomain() + "/" + l.getStringValue()));
        assertEquals(Set.of("google/" + foreign, "github/" + foreign + "-gh"), Set.copyOf(values));
        links.forEach(l -> assertNotNull(l.getCreated()));
        assertEquals(List.of(), List.copyOf(accounts.listLinks("another-manager", created.getId())));

        assertEquals(
                created.getId(),
                accounts.resolveLink("linker", "google", foreign).getId());
        assertNull(accounts.resolveLink("another-manager", "google", foreign));

        AttributeTableView table = attributes.getAttributes(user);
        assertEquals(2, table.getRowCount());
        assertEquals(created.getId(), table.getCell(0, "account_id"));
        assertEquals(2, attributes.getAttributes(SubjectAttributes.of(user)).getRowCount());
        assertEquals(2, attributes.getAttributes(Map.of("subject", user)).getRowCount());

        assertTrue(accounts.deleteLink("linker", created.getId(), "google", foreign));
        assertFalse(accounts.deleteLink("linker", created.getId(), "google", foreign));
        assertNull(accounts.resolveLink("linker", "google", foreign));
    }

    @Test
    void claim_values_come_from_the_first_attribute_row() {
        String user = Ids.fresh("jane");
        AccountAttributes created = accounts.create(Accounts.rich(user));
        accounts.link("linker", created.getId(), "google", Ids.fresh("g"));
        AuthenticationAttributes authenticated = AuthenticationAttributes.of(user, ContextAttributes.empty());
        // No claims requested: nothing retained, and no failure on the way.
        assertTrue(attributes
                .getClaimValues(Set.of(), Set.of(), authenticated, null)
                .isEmpty());
        assertTrue(attributes
                .getClaimValues(Set.of(), Set.of(), authenticated, null, null)
                .isEmpty());
        AuthenticationAttributes stranger = AuthenticationAttributes.of(Ids.fresh("nobody"), ContextAttributes.empty());
        assertTrue(attributes.getClaimValues(Set.of(), Set.of(), stranger, null).isEmpty());
    }

    @Test
    void password_update_verify_and_credentials() {
        String user = Ids.fresh("jane");
        accounts.create(Accounts.rich(user));
        credentials.updatePassword(AccountAttributes.of(user, "$argon2id$v=19$new", user + "@work.example"));
        AuthenticationAttributes verified = credentials.verifyPassword(user, "typed");
        assertEquals(user, verified.getSubject());
        assertEquals(
                "$argon2id$v=19$new",
                verified.getSubjectAttributes().get("password").getValue());
        assertEquals(user, verified.getSubjectAttributes().get("userName").getValue());
        assertNotNull(verified.getSubjectAttributes().get("accountId").getValue());
        assertFalse(credentials.customQueryVerifiesPassword());

        AuthenticationAttributes viaSubject = credentials.verifyCredentials(SubjectAttributes.of(
                user, se.curity.identityserver.sdk.attribute.Attributes.of(Attribute.of("password", "typed"))));
        assertEquals(
                "$argon2id$v=19$new",
                viaSubject.getSubjectAttributes().get("password").getValue());

        // No such user: nothing written, no failure.
        credentials.updatePassword(AccountAttributes.of(Ids.fresh("nobody"), "$argon2id$x", "nobody@x.example"));
    }

    @Test
    void a_tenant_data_source_sees_only_its_own_accounts() {
        String user = Ids.fresh("jane");
        PageableUserAccountDataAccessProvider acmeAccounts = acme.accounts();
        AccountAttributes inAcme = acmeAccounts.create(Accounts.rich(user));
        assertNull(accounts.getByUserName(user));
        AccountAttributes inDefault = accounts.create(Accounts.rich(user));
        assertEquals(inAcme.getId(), acmeAccounts.getByUserName(user).getId());
        assertEquals(inDefault.getId(), accounts.getByUserName(user).getId());
        assertNull(acme.credentials().verifyPassword(Ids.fresh("x"), "p"));
    }
}
