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

pub static CLIENTS: Variant = Variant {
    def: &schema::DATABASE_CLIENTS,
    what: "client",
    fields: Fields {
        entity: "client",
        id: "client.client_id",
        status: "client.status",
        tags: "client.tags",
        attributes: "client.attributes_json",
        references: "client.configuration_references_json",
    },
    id_key: "client_id_key",
    id: "client_id",
    name: "client_name",
    name_key: "client_name_key",
    status: "status",
    // Only ACTIVE is confirmed from the plugin's source; the other two are
    // the enum's names as Curity's GraphQL schema lists them.
    statuses: &["ACTIVE", "INACTIVE", "REVOKED"],
    active: "ACTIVE",
    service_provider_rules: false,
};

pub static SERVICE_PROVIDERS: Variant = Variant {
    def: &schema::DATABASE_SERVICE_PROVIDERS,
    what: "service provider",
    fields: Fields {
        entity: "service_provider",
        id: "service_provider.id",
        status: "service_provider.enabled",
        tags: "service_provider.tags",
        attributes: "service_provider.attributes_json",
        references: "service_provider.configuration_references_json",
    },
    id_key: "service_provider_id_key",
    id: "id",
    name: "service_provider_name",
    name_key: "service_provider_name_key",
    status: "enabled",
    // ENABLED is confirmed; DISABLED is inferred.
    statuses: &["ENABLED", "DISABLED"],
    active: "ENABLED",
    service_provider_rules: true,
};
