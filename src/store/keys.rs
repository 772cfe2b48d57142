//! Key formats of the plugin's layout. Account, link and device keys are
//! NOT escaped (the plugin does not escape them; escaping would make
//! plugin-written items unreachable). The one collision raw keys would
//! allow is across tenants, so tenant ids may not contain `(`, `)` or `#`.

use super::StoreError;

/// The tenant a request acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant<'a> {
    Default,
    Custom(&'a str),
}

impl<'a> Tenant<'a> {
    /// An absent or empty id is the default tenant.
    pub fn parse(id: Option<&'a str>) -> Result<Self, StoreError> {
        match id {
            None | Some("") => Ok(Self::Default),
            Some(t) if t.contains(['(', ')', '#']) => Err(StoreError::invalid(
                "tenant.id",
                "may not contain '(', ')' or '#' (they delimit tenants inside keys)",
            )),
            Some(t) if t.len() > 256 => {
                Err(StoreError::invalid("tenant.id", "longer than 256 bytes"))
            }
            Some(t) => Ok(Self::Custom(t)),
        }
    }

    pub fn id(self) -> Option<&'a str> {
        match self {
            Self::Default => None,
            Self::Custom(t) => Some(t),
        }
    }

    /// `kind#` or `kind(t)#`: the prefix of every key of that kind.
    pub fn prefix(self, kind: &str) -> String {
        match self {
            Self::Default => format!("{kind}#"),
            Self::Custom(t) => format!("{kind}({t})#"),
        }
    }
}

/// Kinds of account items (the `pk` prefixes).
pub const ACCOUNT_ID: &str = "ai";
pub const USER_NAME: &str = "un";
pub const EMAIL: &str = "em";
pub const PHONE: &str = "pn";

/// `ai#<id>`, `un(t)#<userName>`, ...
pub fn account_key(tenant: Tenant<'_>, kind: &str, value: &str) -> String {
    let mut key = tenant.prefix(kind);
    key.push_str(value);
    key
}

/// The first 3 UTF-16 code units of `value` (Java `substring(0, 3)`),
/// tenant-prefixed for custom tenants: `joh` / `un(t)#joh`.
///
/// Java would cut a surrogate pair in half when a non-BMP character starts
/// at the third unit, leaving a lone surrogate no UTF-8 string can hold; we
/// stop before such a character instead.
pub fn initials(tenant: Tenant<'_>, kind: &str, value: &str) -> String {
    let mut units = 0;
    let end = value
        .char_indices()
        .take_while(|(_, c)| {
            units += c.len_utf16();
            units <= 3
        })
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    let ini = &value[..end];
    match tenant {
        Tenant::Default => ini.to_string(),
        Tenant::Custom(_) => format!("{}{ini}", tenant.prefix(kind)),
    }
}

/// Length in UTF-16 code units, as the plugin measures filter texts.
pub fn utf16_len(value: &str) -> usize {
    value.encode_utf16().count()
}

/// `curity-links` key: `<foreignId>@<domain>`, `.<tenant>` appended for
/// custom tenants.
pub fn link_key(tenant: Tenant<'_>, foreign_id: &str, domain: &str) -> String {
    match tenant {
        Tenant::Default => format!("{foreign_id}@{domain}"),
        Tenant::Custom(t) => format!("{foreign_id}@{domain}.{t}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn account_keys_match_the_plugin() {
        assert_eq!(account_key(Tenant::Default, USER_NAME, "jane"), "un#jane");
        assert_eq!(
            account_key(Tenant::Custom("acme"), ACCOUNT_ID, "42"),
            "ai(acme)#42"
        );
        // Not escaped: a '#' in a user name stays as it is.
        assert_eq!(account_key(Tenant::Default, USER_NAME, "a#b"), "un#a#b");
    }

    #[test]
    fn initials_are_three_utf16_units_and_tenant_prefixed() {
        assert_eq!(initials(Tenant::Default, USER_NAME, "johndoe"), "joh");
        assert_eq!(initials(Tenant::Default, USER_NAME, "jo"), "jo");
        assert_eq!(initials(Tenant::Custom("t"), EMAIL, "jane@x"), "em(t)#jan");
        assert_eq!(initials(Tenant::Default, USER_NAME, "åäöü"), "åäö");
        // 😀 is two UTF-16 units: "a😀" is already three.
        assert_eq!(initials(Tenant::Default, USER_NAME, "a😀bc"), "a😀");
        assert_eq!(initials(Tenant::Default, USER_NAME, "ab😀"), "ab");
    }

    #[test]
    fn link_keys_append_the_tenant() {
        assert_eq!(link_key(Tenant::Default, "u1", "google"), "u1@google");
        assert_eq!(link_key(Tenant::Custom("t"), "u1", "google"), "u1@google.t");
    }

    #[test]
    fn tenant_ids_with_key_delimiters_are_rejected() {
        for bad in ["a)#b", "a(b", "x#"] {
            assert!(Tenant::parse(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(Tenant::parse(Some("")).unwrap(), Tenant::Default);
        assert_eq!(Tenant::parse(None).unwrap(), Tenant::Default);
    }

    fn kind() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just(ACCOUNT_ID), Just(USER_NAME), Just(EMAIL), Just(PHONE)]
    }

    fn tenant() -> impl Strategy<Value = Option<String>> {
        // Every character the key format uses, to hunt for collisions.
        proptest::option::of("[a-z()#@.]{0,6}")
    }

    proptest! {
        #[test]
        fn distinct_tenant_kind_value_triples_never_share_a_key(
            t1 in tenant(), k1 in kind(), v1 in "[a-z()#@.]{0,8}",
            t2 in tenant(), k2 in kind(), v2 in "[a-z()#@.]{0,8}",
        ) {
            let (Ok(a), Ok(b)) = (Tenant::parse(t1.as_deref()), Tenant::parse(t2.as_deref())) else {
                // Rejected tenants never reach a key.
                return Ok(());
            };
            if (a, k1, v1.as_str()) != (b, k2, v2.as_str()) {
                prop_assert_ne!(account_key(a, k1, &v1), account_key(b, k2, &v2));
            }
        }
    }

    #[test]
    fn the_cross_tenant_collision_is_exactly_what_validation_prevents() {
        // Unvalidated, tenant "a)#b" + user "x" and tenant "a" + user "b)#x"
        // would share a key.
        let forged = format!("{}x", Tenant::Custom("a)#b").prefix(USER_NAME));
        assert_eq!(forged, account_key(Tenant::Custom("a"), USER_NAME, "b)#x"));
        assert!(Tenant::parse(Some("a)#b")).is_err());
    }
}
