//! What the README, CONTRIBUTING.md and the book (`docs/`) promise a reader: the quick
//! start's commands run, every `clawctl` command line they show names a real command and
//! real flags, every relative link leads to a file (and heading) that exists, and the
//! book's table of contents names every chapter.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::harness::backend::on_the_fake;
use crate::harness::{Test, repo};

pub(crate) fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The text between `ANCHOR: name` and `ANCHOR_END: name` (mdBook's include markers).
pub(crate) fn anchored<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("ANCHOR: {name} "))
        .unwrap_or_else(|| panic!("no anchor {name}"));
    let end = text
        .find(&format!("ANCHOR_END: {name} "))
        .unwrap_or_else(|| panic!("no anchor end {name}"));
    &text[start..end]
}

/// The bodies of the fenced code blocks of `text`.
pub(crate) fn code_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(String::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks
}

/// A shell line without its trailing `# comment` and leading `VAR=value` words.
pub(crate) fn command(line: &str) -> &str {
    let mut line = line.split(" #").next().unwrap_or(line).trim();
    while let Some((word, rest)) = line.split_once(' ') {
        let is_assignment = word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        });
        if !is_assignment {
            break;
        }
        line = rest.trim_start();
    }
    line
}

// The README's quick start (`crate::scenarios::quickstart`), on the fake; `e2e.rs` runs
// it on a real cluster.
on_the_fake!(quickstart: the_readme_quick_start_reaches_a_first_apply);

/// Every `clawctl ...` line in a code block of the README, CONTRIBUTING.md and the book
/// names a command `clawctl --help` lists, and each `--flag` on it is one that command's
/// `--help` lists.
#[test]
fn every_command_line_shown_is_real() {
    let mut help: BTreeMap<String, String> = BTreeMap::new();
    let mut checked = 0;
    for (file, text) in documents() {
        for block in code_blocks(&text) {
            for line in block.lines().map(command) {
                let Some(rest) = line.strip_prefix("clawctl ") else {
                    continue;
                };
                let words: Vec<&str> = rest.split_whitespace().collect();
                let sub = words[0];
                let text = help
                    .entry(sub.to_string())
                    .or_insert_with(|| Test::new().args(&[sub, "--help"]).run().stdout);
                assert!(
                    text.contains("Usage: clawctl"),
                    "{file}: `{line}`: no command {sub}"
                );
                for word in &words[1..] {
                    if let Some(flag) = word.strip_prefix("--") {
                        let flag = flag.split('=').next().unwrap_or(flag);
                        // The whole flag: `--time` is not `--timeout`.
                        let listed = text.match_indices(&format!("--{flag}")).any(|(at, m)| {
                            !text[at + m.len()..]
                                .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
                        });
                        assert!(listed, "{file}: `{line}`: {sub} has no --{flag}");
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "only {checked} command lines found");
}

/// The README, CONTRIBUTING.md and every page of the book, by path.
fn documents() -> Vec<(String, String)> {
    let mut out = vec![
        ("README.md".to_string(), read("README.md")),
        ("CONTRIBUTING.md".to_string(), read("CONTRIBUTING.md")),
    ];
    for page in pages() {
        let rel = format!("docs/src/{page}");
        let text = read(&rel);
        out.push((rel, text));
    }
    out
}

/// The file names under docs/src/.
fn pages() -> BTreeSet<String> {
    std::fs::read_dir(repo().join("docs/src"))
        .expect("docs/src")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .collect()
}

/// The ids mdBook gives the headings of a page: lower case, spaces to `-`, only
/// letters, digits, `-` and `_` kept.
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if in_code || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let id: String = title
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        ids.insert(id);
    }
    ids
}

/// Relative Markdown links `[text](target)` outside code, with the file they are in.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        // Code spans hold no links.
        let outside: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = outside.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = &after[..end];
            if !target.contains("://") && !target.starts_with("mailto:") {
                out.push(target.to_string());
            }
            rest = &after[end..];
        }
    }
    out
}

/// Every relative link of the README and the book leads to a file that exists, and an
/// `#anchor` to a heading of that file. CONTRIBUTING.md has none: the book includes it
/// from another folder, where they would lead elsewhere.
#[test]
fn every_relative_link_leads_somewhere() {
    let mut checked = 0;
    for (file, text) in documents() {
        let base: PathBuf = repo().join(&file).parent().expect("parent").to_path_buf();
        let found = links(&text);
        if file == "CONTRIBUTING.md" {
            assert_eq!(
                found,
                Vec::<String>::new(),
                "CONTRIBUTING.md: relative links"
            );
        }
        for target in found {
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let resolved: PathBuf = if path.is_empty() {
                repo().join(&file)
            } else {
                base.join(path)
            };
            assert!(
                resolved.exists(),
                "{file}: link {target} leads nowhere ({})",
                resolved.display()
            );
            if let Some(anchor) = anchor {
                let page = std::fs::read_to_string(&resolved).expect("a page");
                assert!(
                    heading_ids(&page).contains(anchor),
                    "{file}: link {target}: no heading #{anchor} in {}",
                    resolved.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} links found");
}

/// `docs/src/SUMMARY.md` names every page of the book once, and only pages that exist
/// (mdBook builds a page it names but leaves out one it does not).
#[test]
fn the_book_s_table_of_contents_names_every_page() {
    let summary = read("docs/src/SUMMARY.md");
    let named: Vec<String> = links(&summary);
    let unique: BTreeSet<String> = named.iter().cloned().collect();
    assert_eq!(unique.len(), named.len(), "a page named twice: {named:?}");
    let mut pages = pages();
    assert!(pages.remove("SUMMARY.md"));
    assert_eq!(unique, pages);
}

/// Every `{{#include FILE:ANCHOR}}` of the book names a file that exists and an anchor it
/// has: mdBook builds a page whose anchor is missing without a word, and empty there.
#[test]
fn every_include_of_the_book_resolves() {
    let mut checked = 0;
    for page in pages() {
        let text = read(&format!("docs/src/{page}"));
        for (at, _) in text.match_indices("{{#include ") {
            let spec = &text[at + "{{#include ".len()..];
            let spec = &spec[..spec.find("}}").expect("include closed")];
            let (file, anchor) = match spec.split_once(':') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (spec, None),
            };
            let path = repo().join("docs/src").join(file);
            let included = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{page}: include {file}: {e}"));
            if let Some(anchor) = anchor {
                let body = anchored(&included, anchor);
                assert!(
                    body.lines().count() > 2,
                    "{page}: anchor {anchor} of {file} is empty"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} includes found");
}
