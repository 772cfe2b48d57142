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

pub const ACCOUNTS: TableDef = TableDef {
    suffix: "curity-accounts",
    hash: s("pk"),
    range: None,
    global_indexes: &[
        gsi(
            "userNameInitial-userName-index",
            s("userNameInitial"),
            Some(s("userName")),
            Projection::All,
        ),
        gsi(
            "emailInitial-email-index",
            s("emailInitial"),
            Some(s("email")),
            Projection::All,
        ),
    ],
    local_indexes: &[],
    ttl: false,
};

pub const LINKS: TableDef = TableDef {
    suffix: "curity-links",
    hash: s("linkedAccountId_linkedAccountDomainName"),
    range: None,
    global_indexes: &[gsi(
        "list-links-index",
        s("accountId"),
        Some(s("linkingAccountManager")),
        Projection::All,
    )],
    local_indexes: &[],
    ttl: false,
};

pub const SESSIONS: TableDef = simple("curity-sessions", "id", true);
pub const NONCES: TableDef = simple("curity-nonces", "nonce", true);
pub const TOKENS: TableDef = simple("curity-tokens", "tokenHash", true);

const fn simple(suffix: &'static str, key: &'static str, ttl: bool) -> TableDef {
    TableDef {
        suffix,
        hash: s(key),
        range: None,
        global_indexes: &[],
        local_indexes: &[],
        ttl,
    }
}

pub const DELEGATIONS: TableDef = TableDef {
    suffix: "curity-delegations",
    hash: s("id"),
    range: None,
    global_indexes: &[
        gsi(
            "owner-status-index",
            s("owner"),
            Some(s("status")),
            Projection::All,
        ),
        gsi(
            "clientId-status-index",
            s("clientId"),
            Some(s("status")),
            Projection::All,
        ),
        gsi(
            "authorization-hash-index",
            s("authorizationCodeHash"),
            None,
            Projection::All,
        ),
    ],
    local_indexes: &[],
    ttl: true,
};

pub const DEVICES: TableDef = TableDef {
    suffix: "curity-devices",
    hash: s("pk"),
    range: Some(s("sk")),
    global_indexes: &[gsi("deviceId-index", s("deviceId"), None, Projection::All)],
    local_indexes: &[],
    ttl: true,
};

pub const BUCKET: TableDef = TableDef {
    suffix: "curity-bucket",
    hash: s("subject"),
    range: Some(s("purpose")),
    global_indexes: &[],
    local_indexes: &[],
    ttl: false,
};

pub const DYNAMIC_CLIENTS: TableDef = TableDef {
    suffix: "curity-dynamic-clients",
    hash: s("clientId"),
    range: None,
    global_indexes: &[
        gsi(
            "authenticatedUser-created-index",
            s("authenticatedUser"),
            Some(n("created")),
            Projection::All,
        ),
        gsi(
            "authenticatedUser-updated-index",
            s("authenticatedUser"),
            Some(n("updated")),
            Projection::All,
        ),
        gsi(
            "instanceOfClient-created-index",
            s("instanceOfClient"),
            Some(n("created")),
            Projection::All,
        ),
        gsi(
            "instanceOfClient-updated-index",
            s("instanceOfClient"),
            Some(n("updated")),
            Projection::All,
        ),
    ],
    local_indexes: &[],
    ttl: false,
};

/// The database-client and service-provider tables share one shape: a
/// profile-scoped main item plus tag items, listed by name, tag, creation
/// and modification time. Each index projects the listing attributes that
/// are not already its keys.
macro_rules! profile_table {
    ($suffix:literal, $id_key:literal, $name_key:literal, $name:literal, $id:literal, $status:literal) => {
        TableDef {
            suffix: $suffix,
            hash: s("profile_id"),
            range: Some(s($id_key)),
            global_indexes: &[
                gsi(
                    concat!($name, "-created-index"),
                    s($name_key),
                    Some(n("created")),
                    Projection::Include(&[
                        $id,
                        $name,
                        $status,
                        "tags",
                        "lastModified",
                        "attributes",
                    ]),
                ),
                gsi(
                    concat!($name, "-lastModified-index"),
                    s($name_key),
                    Some(n("lastModified")),
                    Projection::Include(&[$id, $name, $status, "tags", "created", "attributes"]),
                ),
                gsi(
                    concat!($name, "-", $name, "-index"),
                    s($name_key),
                    Some(s($name)),
                    Projection::Include(&[
                        $id,
                        $status,
                        "tags",
                        "created",
                        "lastModified",
                        "attributes",
                    ]),
                ),
                gsi(
                    "tag-created-index",
                    s("tag_key"),
                    Some(n("created")),
                    Projection::Include(&[
                        $id,
                        $name,
                        $status,
                        "tags",
                        "lastModified",
                        "attributes",
                    ]),
                ),
                gsi(
                    "tag-lastModified-index",
                    s("tag_key"),
                    Some(n("lastModified")),
                    Projection::Include(&[$id, $name, $status, "tags", "created", "attributes"]),
                ),
                gsi(
                    concat!("tag-", $name, "-index"),
                    s("tag_key"),
                    Some(s($name)),
                    Projection::Include(&[
                        $id,
                        $status,
                        "tags",
                        "created",
                        "lastModified",
                        "attributes",
                    ]),
                ),
            ],
            local_indexes: &[
                gsi(
                    "lsi-created-index",
                    s("profile_id"),
                    Some(n("created")),
                    Projection::Include(&[
                        $id,
                        $name,
                        $status,
                        "tags",
                        "lastModified",
                        "attributes",
                    ]),
                ),
                gsi(
                    "lsi-lastModified-index",
                    s("profile_id"),
                    Some(n("lastModified")),
                    Projection::Include(&[$id, $name, $status, "tags", "created", "attributes"]),
                ),
                gsi(
                    concat!("lsi-", $name, "-index"),
                    s("profile_id"),
                    Some(s($name_key)),
                    Projection::Include(&[
                        $id,
                        $status,
                        "tags",
                        "created",
                        "lastModified",
                        "attributes",
                        $name,
                    ]),
                ),
            ],
            ttl: false,
        }
    };
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
