//! Every documented command is a test.
//!
//! - ```` ```console ```` blocks of README.md and docs/*.md are transcripts:
//!   each `$ ` line (with `\` continuations) runs in bash, in order, against
//!   one fresh `serve --embedded` per file (in memory, its state under the
//!   file's own TMPDIR), and what it prints (stdout and stderr) must match
//!   the lines shown under it. `[..]` stands for any text within a line, a
//!   line `...` for any number of lines. A command must succeed unless its
//!   output shows an `error:` line, then it must fail. A command ending in
//!   `&` runs in the background until the block ends (its `--listen` port
//!   is awaited first). The documented addresses (`127.0.0.1:50051`, the
//!   JSON port `127.0.0.1:50052`, other `127.0.0.1:5xxxx`) are replaced by
//!   free ports, and `call` finds the server through `CURITY_DYNAMODB_ADDR`.
//! - ```` ```sh ```` / ```` ```bash ```` blocks (builds, deployments, AWS) are
//!   only parsed: `bash -n`; the flags of each `curity-dynamodb` (or
//!   `cargo run -- `) command must appear in that subcommand's `--help`;
//!   each `helm ... --set key=value` key must exist in the chart's
//!   values.schema.json, and the chart must render with those values
//!   (when the chart tools are installed, as `./scripts/test` does).
//! - ```` ```toml ```` blocks made of this service's sections must parse as
//!   its configuration (unknown keys refused).

mod parsed;
mod transcript;

use std::path::Path;

use parsed::{check_shell, check_toml};
use transcript::{Session, lines, matches};

pub(super) const BIN: &str = env!("CARGO_BIN_EXE_curity-dynamodb");
pub(super) const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn readme_examples_run_as_written() {
    check_doc("README.md");
}

#[test]
fn json_datasource_guide_examples_run_as_written() {
    check_doc("docs/curity-json-datasource.md");
}

#[test]
fn deployment_guide_examples_parse_and_name_real_flags_and_chart_keys() {
    check_doc("docs/deployment.md");
}

#[test]
fn performance_guide_examples_run_as_written() {
    check_doc("docs/performance.md");
}

#[test]
fn other_docs_examples_parse() {
    for doc in [
        "docs/compatibility.md",
        "docs/curity-plugin.md",
        "docs/operations.md",
        "docs/security.md",
        "deploy/iam/README.md",
        "ARCHITECTURE.md",
    ] {
        check_doc(doc);
    }
}

#[test]
fn every_markdown_file_with_code_is_checked() {
    let checked = [
        "README.md",
        "ARCHITECTURE.md",
        "deploy/iam/README.md",
        "docs/compatibility.md",
        "docs/curity-json-datasource.md",
        "docs/curity-plugin.md",
        "docs/deployment.md",
        "docs/operations.md",
        "docs/performance.md",
        "docs/security.md",
    ];
    let mut found = vec!["README.md".to_owned(), "ARCHITECTURE.md".to_owned()];
    for dir in ["docs", "deploy/iam"] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                found.push(format!(
                    "{dir}/{}",
                    path.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    for doc in found {
        assert!(
            checked.contains(&doc.as_str()),
            "{doc} is not checked by tests/it/docs.rs"
        );
    }
}

// The matcher is what makes a changed example fail: pin it.
#[test]
fn transcript_matching_honours_wildcards_and_nothing_else() {
    let m = |expected: &str, actual: &str| matches(&lines(expected), &lines(actual));
    assert!(m("a [..] c", "a b c"));
    assert!(m("{\n...\n}", "{\n  \"x\": 1,\n  \"y\": 2\n}"));
    assert!(m("{\n...\n}", "{\n}"));
    assert!(!m("a [..] c", "a b d"));
    assert!(!m("x", "x\ny"));
    assert!(!m("\"id\": \"[..]\"", "\"id\": 5"));
    assert!(m("[..]", "anything"));
}

/// One documentation file, every block in order.
fn check_doc(doc: &str) {
    let path = Path::new(ROOT).join(doc);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{doc}: {e}"));
    let blocks = blocks(&text);
    let mut session: Option<Session> = None;
    for block in &blocks {
        let at = format!("{doc}:{}", block.line);
        match block.lang.as_str() {
            "console" => session
                .get_or_insert_with(Session::start)
                .run_block(&block.text, &at),
            "sh" | "bash" | "shell" => check_shell(&block.text, &at),
            "toml" => check_toml(&block.text, &at),
            _ => {}
        }
    }
}

struct Block {
    lang: String,
    line: usize,
    text: String,
}

/// Fenced code blocks (at any indentation, as inside list items).
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize, usize, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let lang = info.split_whitespace().next().unwrap_or_default();
                    open = Some((lang.to_owned(), n + 1, indent, String::new()));
                }
            }
            Some((lang, start, indent0, body)) => {
                if trimmed.starts_with("```") {
                    out.push(Block {
                        lang: std::mem::take(lang),
                        line: *start,
                        text: std::mem::take(body),
                    });
                    open = None;
                } else {
                    let cut = line
                        .char_indices()
                        .take_while(|(i, c)| *i < *indent0 && *c == ' ')
                        .count();
                    body.push_str(&line[cut..]);
                    body.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "an unclosed code block");
    out
}
