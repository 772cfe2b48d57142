//! The cached data types, declared once.

use crate::{
    config::{CacheConfig, CachedType},
    schema::{self, TableDef},
};

/// Declares the cached data types, one line each: the variant, its table
/// (`schema`: keys and TTL attribute), and its `[cache]` configuration
/// field, which is also its metric label.
macro_rules! cached_kinds {
    ($($kind:ident => $def:ident, $field:ident;)+) => {
        /// The data types whose items are cached. Sessions, nonces and
        /// buckets never are: every read must see the last write from any
        /// replica.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kind {
            $($kind),+
        }

        impl Kind {
            pub const COUNT: usize = [$(Kind::$kind),+].len();
            pub const ALL: [Kind; Kind::COUNT] = [$(Kind::$kind),+];

            /// The metric label and configuration key.
            pub fn label(self) -> &'static str {
                match self {
                    $(Kind::$kind => stringify!($field)),+
                }
            }

            pub fn def(self) -> &'static TableDef {
                match self {
                    $(Kind::$kind => &schema::$def),+
                }
            }

            pub(super) fn settings(self, c: &CacheConfig) -> CachedType {
                match self {
                    $(Kind::$kind => c.$field),+
                }
            }
        }
    };
}

cached_kinds! {
    Accounts => ACCOUNTS, accounts;
    Tokens => TOKENS, tokens;
    DynamicClients => DYNAMIC_CLIENTS, dynamic_clients;
    DatabaseClients => DATABASE_CLIENTS, database_clients;
    DatabaseServiceProviders => DATABASE_SERVICE_PROVIDERS, database_service_providers;
}

impl Kind {
    pub fn of(def: &TableDef) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.def().suffix == def.suffix)
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}
