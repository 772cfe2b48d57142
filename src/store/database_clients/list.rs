//! Listing database clients and service providers: the plugin's fixed
//! procedure (§12.5 / §12.6 of the layout) picks one partition, one range
//! key and filters from search terms, tags, a name and a sort attribute;
//! the order is the chosen index's. Unlike the plugin, profile-wide
//! listings keep main items only (tag items would list an entry once per
//! tag), the name conditions it would put on the wrong range key use the
//! name key instead, and the schema's index names are used.

use super::{Catalog, Entry, keys::compose};
use crate::store::{
    StoreError,
    codec::{self, s},
    expr::Cond,
    query::run::{self, PageRequest, Step},
};

pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 100;

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Space-separated words that must all be in the id, or all in the
    /// name.
    pub search_terms: String,
    /// Entries with every one of these tags; `Some(empty)`: entries with
    /// no tags.
    pub tags: Option<Vec<String>>,
    /// Clients: the exact name; service providers: a name prefix.
    pub name: String,
    pub active_only: bool,
}

pub struct Page {
    pub entries: Vec<Entry>,
    pub next: Option<String>,
    pub truncated: bool,
}

/// What a listing runs: the query, and the attributes of an item's
/// position in it (for the cursor).
struct Planned {
    step: Step,
    position: Vec<&'static str>,
    /// Tag items come back too and are skipped.
    main_only: bool,
}

impl Catalog<'_> {
    /// The attribute a sort name asks for; unknown names are ignored (as
    /// the plugin).
    fn sort_attr(&self, name: &str) -> Option<&'static str> {
        let v = self.v;
        let fixed: &[(&str, &'static str)] = &[
            ("profile_id", "profile_id"),
            ("tag_key", "tag_key"),
            ("tags", "tags"),
            ("created", "created"),
            ("lastModified", "lastModified"),
            ("attributes", "attributes"),
        ];
        fixed
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .or_else(|| {
                [
                    (v.id_key, v.id_key),
                    (v.id, v.id),
                    (v.name_key, v.name_key),
                    (v.name, v.name),
                    ("name", v.name),
                    (v.status, v.status),
                ]
                .into_iter()
                .find(|(n, _)| *n == name)
                .map(|(_, a)| a)
            })
    }

    /// The index (`None`: the table) with this hash and range attribute.
    fn index_for(&self, hash: &str, range: &str) -> Result<Option<&'static str>, StoreError> {
        let def = self.v.def;
        if hash == def.hash.name && def.range.as_ref().is_some_and(|r| r.name == range) {
            return Ok(None);
        }
        def.local_indexes
            .iter()
            .chain(def.global_indexes)
            .find(|ix| ix.hash.name == hash && ix.range.as_ref().is_some_and(|r| r.name == range))
            .map(|ix| Some(ix.name))
            .ok_or_else(|| {
                StoreError::invalid(
                    "sort_by",
                    format!("no index lists by {hash} ordered by {range}"),
                )
            })
    }

    fn plan_listing(
        &self,
        profile: &str,
        f: &Filter,
        sort: Option<&str>,
    ) -> Result<Planned, StoreError> {
        codec::check_key("profile_id", profile)?;
        let v = self.v;
        let mut sort_attr = sort.and_then(|name| self.sort_attr(name));
        let sort_requested = sort_attr.is_some();
        let mut partition: Option<(&'static str, String)> = None;
        let mut range: Option<Cond> = None;
        let mut filters: Vec<Cond> = Vec::new();

        let words: Vec<&str> = f
            .search_terms
            .split(' ')
            .filter(|w| !w.is_empty())
            .collect();
        if !words.is_empty() {
            partition = Some(("profile_id", profile.to_string()));
            let all_in =
                |attr: &'static str| Cond::all(words.iter().map(|w| Cond::Contains(attr, s(*w))));
            filters.extend(Cond::any(
                [all_in(v.id), all_in(v.name)].into_iter().flatten(),
            ));
        }
        if let Some(tags) = &f.tags {
            match tags.split_first() {
                None => partition = Some(("tag_key", compose(profile, ""))),
                Some((first, rest)) => {
                    codec::check_key("filter.tags", first)?;
                    partition = Some(("tag_key", compose(profile, first)));
                    filters.extend(rest.iter().map(|t| Cond::Contains("tags", s(t.as_str()))));
                }
            }
        }
        if !f.name.is_empty() {
            let on_name = |prefix: bool| -> Cond {
                if prefix {
                    Cond::BeginsWith(v.name, s(f.name.as_str()))
                } else {
                    Cond::eq(v.name, s(f.name.as_str()))
                }
            };
            let prefix = v.service_provider_rules;
            let free_to_partition = partition.is_none() && (!prefix || !sort_requested);
            if free_to_partition {
                partition = Some((v.name_key, compose(profile, &f.name)));
            } else if sort_attr.is_none() {
                // Ordered by name, narrowed to it in the key condition.
                sort_attr = Some(v.name);
                range = Some(on_name(prefix));
            } else {
                filters.push(on_name(prefix));
            }
        }
        if f.active_only {
            filters.push(Cond::eq(v.status, s(v.active)));
        }
        let (hash_attr, hash_value) = partition.unwrap_or(("profile_id", profile.to_string()));
        let by_profile = hash_attr == "profile_id";
        let mut sort_attr = sort_attr.unwrap_or(match (v.service_provider_rules, by_profile) {
            (false, _) => v.name,
            (true, true) => v.id_key,
            (true, false) => "created",
        });
        if by_profile && sort_attr == v.name {
            // The profile's name order is the name key's (the LSI); a name
            // condition moves to the key, in its composed form.
            sort_attr = v.name_key;
            range = range.map(|_| {
                let key = compose(profile, &f.name);
                if v.service_provider_rules {
                    Cond::BeginsWith(v.name_key, s(key))
                } else {
                    Cond::eq(v.name_key, s(key))
                }
            });
        }
        if by_profile && sort_attr == v.id {
            sort_attr = v.id_key;
        }
        let index = self.index_for(hash_attr, sort_attr)?;
        // Tag items share the profile's partition: only main items are
        // kept (in memory: the attribute telling them apart is not
        // projected into the LSIs, and a filter may not name the table's
        // sort key), so an entry is listed once. The name-key LSI holds
        // main items only already.
        let main_only = by_profile && sort_attr != v.name_key;
        let mut key = Cond::eq(hash_attr, s(hash_value));
        if let Some(r) = range {
            key = key.and(r);
        }
        let step = Step::query(index, &key, Cond::all(filters).as_ref()).from_input("filter");
        let mut position = vec!["profile_id", v.id_key];
        if index.is_some() {
            position.push(hash_attr);
            position.push(sort_attr);
        }
        position.dedup();
        Ok(Planned {
            step,
            position,
            main_only,
        })
    }

    pub async fn list(
        &self,
        profile: &str,
        f: &Filter,
        sort: Option<&str>,
        descending: bool,
        count: Option<usize>,
        cursor_text: &str,
    ) -> Result<Page, StoreError> {
        let size = run::page_size(count, DEFAULT_PAGE, MAX_PAGE);
        let planned = self.plan_listing(profile, f, sort)?;
        let binding = format!(
            "{}|{profile}|{f:?}|{sort:?}|{descending}",
            self.v.def.suffix
        );
        let page = run::cursor_page(
            self,
            &planned.step,
            PageRequest {
                cursor: cursor_text,
                binding: &binding,
                size,
                forward: !descending,
                position: &planned.position,
            },
            |item| !planned.main_only || self.is_main(item),
        )
        .await?;
        let entries = page
            .items
            .iter()
            .map(|i| self.entry(i))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            entries,
            next: page.next,
            truncated: page.truncated,
        })
    }

    /// The listing's matches, counted by DynamoDB: `(count, truncated)`.
    pub async fn count(&self, profile: &str, f: &Filter) -> Result<(u64, bool), StoreError> {
        let planned = self.plan_listing(profile, f, None)?;
        if !planned.main_only {
            return run::count(self, &planned.step).await;
        }
        // Tag items must not count: read, and count main items.
        let mut count = 0u64;
        let truncated = run::walk(self, &[planned.step], true, |_, item| {
            if self.is_main(&item) {
                count += 1;
            }
            std::ops::ControlFlow::Continue(())
        })
        .await?;
        Ok((count, truncated))
    }
}
