//! The integration tests: one crate (one build, one link) with a module per
//! area, all on the shared harness in `support/`. `scripts/test` runs them
//! with cargo-nextest, one process per test; `cargo test --test it` works
//! too.

mod support;

mod account_concurrency;
mod account_filters;
mod accounts;
mod audit;
mod auth;
mod backfill;
mod buckets;
mod cache;
mod cli;
mod credentials;
mod credentials_links;
mod database_clients;
mod delegations;
mod deploy;
mod devices;
mod docs;
mod doctor;
mod dynamic_clients;
mod exact_numbers;
mod expression_limits;
mod faults;
mod first_steps;
mod idle_connections;
mod json_ds;
mod jwt;
mod layers;
mod least_privilege;
mod monitoring;
mod overload;
mod secret_hygiene;
mod server;
mod sessions;
mod tables;
mod tls;

mod tokens_nonces;
mod traces;
mod transfer;
mod write_paths;
