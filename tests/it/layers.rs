//! The dependency direction of the library (ARCHITECTURE.md, "Layers"),
//! enforced: every top-level module of `src/` names (`crate::…`) only
//! modules of layers below its own, so no import runs back up and no loop
//! can form between modules. Read from the source text with comments left
//! out; `src/bin/` stands above everything and `lib.rs` only declares.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// From the top down; a module may name only modules of later rows.
const LAYERS: &[&[&str]] = &[
    &["app"],
    &["server"],
    &["api", "json_ds", "doctor", "transfer"],
    &["store"],
    &["cache"],
    &["aws", "embedded", "telemetry"],
    &["auth"],
    &["tls", "jwt", "local"],
    &["unproven", "config"],
    &["schema"],
    &["error"],
    &["proto"],
    &["rendered"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&module))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None`: the binary, `lib.rs`).
fn module_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).expect("under src");
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    match first.as_str() {
        "bin" | "lib.rs" => None,
        f => Some(f.trim_end_matches(".rs").to_string()),
    }
}

/// The text without `//` comments (doc comments included): a comment
/// starts at a line's beginning or after whitespace, so `http://` in a
/// string stays.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| {
            let bytes = line.as_bytes();
            let cut = (0..bytes.len().saturating_sub(1)).find(|&i| {
                bytes[i] == b'/'
                    && bytes[i + 1] == b'/'
                    && (i == 0 || bytes[i - 1].is_ascii_whitespace())
            });
            &line[..cut.unwrap_or(line.len())]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first path segment of every `crate::` path: `crate::a::b` and
/// `crate::{a::b, c}` name `a` (and `c`).
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `curity_dynamodb_crate::`, `$crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.extend(first_segment(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.extend(first_segment(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.extend(first_segment(rest));
        }
    }
    names
}

fn first_segment(path: &str) -> Option<String> {
    let name: String = path
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && name != "self").then_some(name)
}

/// Module → (named module → the files naming it).
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("read a source file");
        let rel = file.strip_prefix(src()).expect("under src").display();
        let entry = graph.entry(module.clone()).or_default();
        for named in named_modules(&without_comments(&text)) {
            if named != module {
                entry.entry(named).or_default().insert(rel.to_string());
            }
        }
    }
    graph
}

#[test]
fn every_module_names_only_modules_below_it_so_no_import_runs_back_up() {
    let graph = graph();
    let mut problems = Vec::new();
    for (module, named) in &graph {
        let Some(own) = layer(module) else {
            problems.push(format!(
                "src/{module}: a module the layer table of tests/it/layers.rs does not place \
                 (add it to LAYERS and to ARCHITECTURE.md)"
            ));
            continue;
        };
        for (other, files) in named {
            match layer(other) {
                None => problems.push(format!(
                    "{files:?} name crate::{other}, which the layer table does not place"
                )),
                Some(theirs) if theirs <= own => problems.push(format!(
                    "{module} (layer {own}) names {other} (layer {theirs}), at or above it, in \
                     {files:?}"
                )),
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every module of the table exists: a stale row would hide a rename.
    for module in LAYERS.iter().flat_map(|row| row.iter()) {
        assert!(
            graph.contains_key(*module),
            "LAYERS places {module}, which src/ no longer has"
        );
    }
}

#[test]
fn the_reader_sees_grouped_nested_and_inline_paths_and_skips_comments() {
    let code = without_comments(
        "use crate::{a::{b, c}, d, self};\n\
         let x = crate::e::f(); // crate::g\n\
         /// [`crate::h`]\n\
         let url = \"http://crate::not\";",
    );
    let names: Vec<_> = named_modules(&code).into_iter().collect();
    assert_eq!(names, ["a", "d", "e", "not"]);
}
