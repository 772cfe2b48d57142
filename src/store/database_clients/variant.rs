//! The two tables of one design: database clients and database service
//! providers, told apart by their names, fields and listing rules.

use crate::schema::{self, TableDef};

/// What differs between the two tables.
#[derive(Debug)]
pub struct Variant {
    pub def: &'static TableDef,
    /// For messages: "client", "service provider".
    pub what: &'static str,
    /// The request fields errors name.
    pub fields: Fields,
    pub id_key: &'static str,
    /// The plain id attribute (`client_id`, `id`).
    pub id: &'static str,
    pub name: &'static str,
    pub name_key: &'static str,
    /// The status attribute (`status`, `enabled`) and its names.
    pub status: &'static str,
    pub statuses: &'static [&'static str],
    /// The status `active_only` keeps.
    pub active: &'static str,
    /// The service-provider listing rules (§12.6 of the layout).
    pub service_provider_rules: bool,
}

/// The request field names of one variant.
#[derive(Debug)]
pub struct Fields {
    pub entity: &'static str,
    pub id: &'static str,
    pub status: &'static str,
    pub tags: &'static str,
    pub attributes: &'static str,
    pub references: &'static str,
}

/// A variant from the names that differ; the key attributes and the
/// request fields follow from them (`<entity>_id_key`, `<name>_key`,
/// `<entity>.<field>`).
macro_rules! variant {
    ($def:ident, what: $what:literal, entity: $entity:literal, id: $id:literal,
     name: $name:literal, status: $status:literal, statuses: $statuses:expr,
     active: $active:literal, service_provider_rules: $service_provider_rules:literal $(,)?) => {
        Variant {
            def: &schema::$def,
            what: $what,
            fields: Fields {
                entity: $entity,
                id: concat!($entity, ".", $id),
                status: concat!($entity, ".", $status),
                tags: concat!($entity, ".tags"),
                attributes: concat!($entity, ".attributes_json"),
                references: concat!($entity, ".configuration_references_json"),
            },
            id_key: concat!($entity, "_id_key"),
            id: $id,
            name: $name,
            name_key: concat!($name, "_key"),
            status: $status,
            statuses: $statuses,
            active: $active,
            service_provider_rules: $service_provider_rules,
        }
    };
}

// Only ACTIVE is confirmed from the plugin's source; the other two are the
// enum's names as Curity's GraphQL schema lists them.
pub static CLIENTS: Variant = variant! {
    DATABASE_CLIENTS, what: "client", entity: "client", id: "client_id", name: "client_name",
    status: "status", statuses: &["ACTIVE", "INACTIVE", "REVOKED"], active: "ACTIVE",
    service_provider_rules: false,
};

// ENABLED is confirmed; DISABLED is inferred.
pub static SERVICE_PROVIDERS: Variant = variant! {
    DATABASE_SERVICE_PROVIDERS, what: "service provider", entity: "service_provider", id: "id",
    name: "service_provider_name", status: "enabled", statuses: &["ENABLED", "DISABLED"],
    active: "ENABLED", service_provider_rules: true,
};
