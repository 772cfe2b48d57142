//! The eleven `curity-*` tables exactly as Curity's DynamoDB plugin defines
//! them: names, key schemas, attribute types, indexes and projections.
//! Written from the plugin's table definitions; `tables create` builds
//! them and `tables check` compares live tables against them.

use aws_sdk_dynamodb::types::ScalarAttributeType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    S,
    N,
}

impl AttrType {
    pub fn sdk(self) -> ScalarAttributeType {
        match self {
            Self::S => ScalarAttributeType::S,
            Self::N => ScalarAttributeType::N,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAttr {
    pub name: &'static str,
    pub ty: AttrType,
}

const fn s(name: &'static str) -> KeyAttr {
    KeyAttr {
        name,
        ty: AttrType::S,
    }
}

const fn n(name: &'static str) -> KeyAttr {
    KeyAttr {
        name,
        ty: AttrType::N,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    All,
    Include(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
pub struct IndexDef {
    pub name: &'static str,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    pub projection: Projection,
}

#[derive(Debug, Clone, Copy)]
pub struct TableDef {
    /// The name without the configured prefix, e.g. `curity-accounts`.
    pub suffix: &'static str,
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    pub global_indexes: &'static [IndexDef],
    pub local_indexes: &'static [IndexDef],
    /// Items carry `deletableAt` (epoch seconds) for DynamoDB TTL.
    pub ttl: bool,
}

/// The TTL attribute of every table that has one.
pub const TTL_ATTRIBUTE: &str = "deletableAt";

impl TableDef {
    /// Every attribute used in a key of the table or of one of its indexes,
    /// each once, in first-use order (DynamoDB's `AttributeDefinitions`).
    pub fn key_attributes(&self) -> Vec<KeyAttr> {
        let mut out: Vec<KeyAttr> = Vec::new();
        let indexes = self.global_indexes.iter().chain(self.local_indexes);
        let all = [Some(self.hash), self.range]
            .into_iter()
            .chain(indexes.flat_map(|i| [Some(i.hash), i.range]))
            .flatten();
        for k in all {
            if !out.iter().any(|o| o.name == k.name) {
                out.push(k);
            }
        }
        out
    }

    pub fn name(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.suffix)
    }
}

const fn gsi(
    name: &'static str,
    hash: KeyAttr,
    range: Option<KeyAttr>,
    projection: Projection,
) -> IndexDef {
    IndexDef {
        name,
        hash,
        range,
        projection,
    }
}

/// An index projecting every attribute.
const fn all(name: &'static str, hash: KeyAttr, range: Option<KeyAttr>) -> IndexDef {
    gsi(name, hash, range, Projection::All)
}

/// `<hash>-<range>-index`, projecting every attribute: how the plugin names
/// most of its indexes.
macro_rules! index {
    ($hash:literal, $ty:ident($range:literal)) => {
        all(
            concat!($hash, "-", $range, "-index"),
            s($hash),
            Some($ty($range)),
        )
    };
}

/// A table without local indexes.
const fn table(
    suffix: &'static str,
    hash: KeyAttr,
    range: Option<KeyAttr>,
    global_indexes: &'static [IndexDef],
    ttl: bool,
) -> TableDef {
    TableDef {
        suffix,
        hash,
        range,
        global_indexes,
        local_indexes: &[],
        ttl,
    }
}

pub const ACCOUNTS: TableDef = table(
    "curity-accounts",
    s("pk"),
    None,
    &[
        index!("userNameInitial", s("userName")),
        index!("emailInitial", s("email")),
    ],
    false,
);

pub const LINKS: TableDef = table(
    "curity-links",
    s("linkedAccountId_linkedAccountDomainName"),
    None,
    &[all(
        "list-links-index",
        s("accountId"),
        Some(s("linkingAccountManager")),
    )],
    false,
);

pub const SESSIONS: TableDef = simple("curity-sessions", "id", true);
pub const NONCES: TableDef = simple("curity-nonces", "nonce", true);
pub const TOKENS: TableDef = simple("curity-tokens", "tokenHash", true);

const fn simple(suffix: &'static str, key: &'static str, ttl: bool) -> TableDef {
    table(suffix, s(key), None, &[], ttl)
}

pub const DELEGATIONS: TableDef = table(
    "curity-delegations",
    s("id"),
    None,
    &[
        index!("owner", s("status")),
        index!("clientId", s("status")),
        all("authorization-hash-index", s("authorizationCodeHash"), None),
    ],
    true,
);

pub const DEVICES: TableDef = table(
    "curity-devices",
    s("pk"),
    Some(s("sk")),
    &[all("deviceId-index", s("deviceId"), None)],
    true,
);

pub const BUCKET: TableDef = table(
    "curity-bucket",
    s("subject"),
    Some(s("purpose")),
    &[],
    false,
);

pub const DYNAMIC_CLIENTS: TableDef = table(
    "curity-dynamic-clients",
    s("clientId"),
    None,
    &[
        index!("authenticatedUser", n("created")),
        index!("authenticatedUser", n("updated")),
        index!("instanceOfClient", n("created")),
        index!("instanceOfClient", n("updated")),
    ],
    false,
);

/// The database-client and service-provider tables share one shape: a
/// profile-scoped main item plus tag items, listed by name, tag, creation
/// and modification time. Each index projects the listing attributes that
/// are not already its keys.
macro_rules! profile_table {
    ($suffix:literal, $id_key:literal, $name_key:literal, $name:literal, $id:literal, $status:literal) => {{
        const BUT_CREATED: Projection =
            Projection::Include(&[$id, $name, $status, "tags", "lastModified", "attributes"]);
        const BUT_MODIFIED: Projection =
            Projection::Include(&[$id, $name, $status, "tags", "created", "attributes"]);
        const BUT_NAME: Projection = Projection::Include(&[
            $id,
            $status,
            "tags",
            "created",
            "lastModified",
            "attributes",
        ]);
        // The local name index is keyed by `$name_key`, not by the name,
        // so it projects the name too.
        const NAME_LAST: Projection = Projection::Include(&[
            $id,
            $status,
            "tags",
            "created",
            "lastModified",
            "attributes",
            $name,
        ]);
        const fn by(
            name: &'static str,
            hash: &'static str,
            range: KeyAttr,
            projection: Projection,
        ) -> IndexDef {
            gsi(name, s(hash), Some(range), projection)
        }
        TableDef {
            suffix: $suffix,
            hash: s("profile_id"),
            range: Some(s($id_key)),
            global_indexes: &[
                by(
                    concat!($name, "-created-index"),
                    $name_key,
                    n("created"),
                    BUT_CREATED,
                ),
                by(
                    concat!($name, "-lastModified-index"),
                    $name_key,
                    n("lastModified"),
                    BUT_MODIFIED,
                ),
                by(
                    concat!($name, "-", $name, "-index"),
                    $name_key,
                    s($name),
                    BUT_NAME,
                ),
                by("tag-created-index", "tag_key", n("created"), BUT_CREATED),
                by(
                    "tag-lastModified-index",
                    "tag_key",
                    n("lastModified"),
                    BUT_MODIFIED,
                ),
                by(
                    concat!("tag-", $name, "-index"),
                    "tag_key",
                    s($name),
                    BUT_NAME,
                ),
            ],
            local_indexes: &[
                by("lsi-created-index", "profile_id", n("created"), BUT_CREATED),
                by(
                    "lsi-lastModified-index",
                    "profile_id",
                    n("lastModified"),
                    BUT_MODIFIED,
                ),
                by(
                    concat!("lsi-", $name, "-index"),
                    "profile_id",
                    s($name_key),
                    NAME_LAST,
                ),
            ],
            ttl: false,
        }
    }};
}

pub const DATABASE_CLIENTS: TableDef = profile_table!(
    "curity-database-clients",
    "client_id_key",
    "client_name_key",
    "client_name",
    "client_id",
    "status"
);

pub const DATABASE_SERVICE_PROVIDERS: TableDef = profile_table!(
    "curity-database-service-providers",
    "service_provider_id_key",
    "service_provider_name_key",
    "service_provider_name",
    "id",
    "enabled"
);

/// All eleven tables, in the order `tables create` makes them.
pub const ALL: [&TableDef; 11] = [
    &ACCOUNTS,
    &LINKS,
    &SESSIONS,
    &NONCES,
    &TOKENS,
    &DELEGATIONS,
    &DEVICES,
    &BUCKET,
    &DYNAMIC_CLIENTS,
    &DATABASE_CLIENTS,
    &DATABASE_SERVICE_PROVIDERS,
];

/// Provisioned capacity used with `--billing provisioned` (the plugin's
/// illustrative numbers), for tables and global indexes alike.
pub const PROVISIONED_READ: i64 = 10;
pub const PROVISIONED_WRITE: i64 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_take_the_prefix_and_indexes_do_not() {
        assert_eq!(ACCOUNTS.name("dev-"), "dev-curity-accounts");
        assert_eq!(BUCKET.name(""), "curity-bucket");
        assert!(ALL.iter().all(|t| t.suffix.starts_with("curity-")));
    }

    #[test]
    fn ttl_is_on_the_five_expiring_tables() {
        let ttl: Vec<_> = ALL.iter().filter(|t| t.ttl).map(|t| t.suffix).collect();
        assert_eq!(
            ttl,
            [
                "curity-sessions",
                "curity-nonces",
                "curity-tokens",
                "curity-delegations",
                "curity-devices"
            ]
        );
    }

    #[test]
    fn key_attributes_are_unique_and_typed() {
        let attrs = DATABASE_CLIENTS.key_attributes();
        let names: Vec<_> = attrs.iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            [
                "profile_id",
                "client_id_key",
                "client_name_key",
                "created",
                "lastModified",
                "client_name",
                "tag_key"
            ]
        );
        assert!(
            attrs
                .iter()
                .any(|a| a.name == "created" && a.ty == AttrType::N)
        );
        assert_eq!(
            DATABASE_SERVICE_PROVIDERS.global_indexes[2].name,
            "service_provider_name-service_provider_name-index"
        );
    }
}
