//! Diagnostics: an error about the user's input, with the file, line, column and field
//! path it concerns. Many are collected and reported together.

use std::fmt;

use serde::Serialize;

use crate::yaml::Loc;

/// One segment of a field path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into a fleet file, shown as `spec.agents[3].resources.limits.memory`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// Parses the dotted form back (`a.b[2].c`). Keys holding `.` or `[` cannot be
    /// written this way; callers that need them build paths with [`FieldPath::key`].
    pub fn parse(text: &str) -> Self {
        let mut segs = Vec::new();
        for part in text.split('.').filter(|p| !p.is_empty()) {
            let mut rest = part;
            if let Some(i) = rest.find('[') {
                segs.push(Seg::Key(rest[..i].to_string()));
                rest = &rest[i..];
                while let Some(end) = rest.find(']') {
                    if let Ok(n) = rest[1..end].parse() {
                        segs.push(Seg::Index(n));
                    }
                    rest = &rest[end + 1..];
                }
            } else {
                segs.push(Seg::Key(rest.to_string()));
            }
        }
        FieldPath(segs)
    }

    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.into()));
        FieldPath(segs)
    }

    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        FieldPath(segs)
    }

    /// Appends every segment of `other`.
    pub fn join(&self, other: &FieldPath) -> Self {
        let mut segs = self.0.clone();
        segs.extend(other.0.iter().cloned());
        FieldPath(segs)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) if k.contains(['.', '[', ' ']) => write!(f, "[{k:?}]")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// One problem in the user's input. Serialized as the `validate -o json` schema:
/// `{file, line, column, path, message}`, and `agents` when it has some; line and
/// column are 0 when unknown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub path: String,
    pub message: String,
    /// The agents a problem written in a shared layer (fleet or team defaults, a
    /// gateway's settings) concerns: it is reported once, where it is written, naming
    /// them. Empty for a problem in an agent's own entry or in no agent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<String>,
}

impl Diagnostic {
    pub fn new(file: &str, loc: Option<Loc>, path: &FieldPath, message: impl Into<String>) -> Self {
        let loc = loc.unwrap_or_default();
        Diagnostic {
            file: file.to_string(),
            line: loc.line,
            column: loc.column,
            path: path.to_string(),
            message: message.into(),
            agents: Vec::new(),
        }
    }

    /// The message, naming the agents it concerns when there are some.
    pub fn text(&self) -> String {
        if self.agents.is_empty() {
            return self.message.clone();
        }
        let names: Vec<&str> = self.agents.iter().map(String::as_str).collect();
        format!("{} (for {})", self.message, agents_phrase(&names))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.text())
    }
}

/// The problems found in one run, in file order. An error type: a command that gets
/// one exits 2 (invalid input) and changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorts by place and drops exact repeats, so output is stable.
    pub fn finish(mut self) -> Self {
        self.0.sort();
        self.0.dedup();
        self
    }

    /// `Ok(())` when nothing was found, else the sorted diagnostics as an error.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.finish())
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} in the input",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}

/// The closest of `candidates` to `word`, when it is close enough to be a likely typo.
/// `agent "a"`, `agents "a", "b"`, or `agents "a", "b", "c" and 2 more`: the agents a
/// problem concerns, named briefly however many there are.
pub fn agents_phrase<S: AsRef<str>>(agents: &[S]) -> String {
    let quoted: Vec<String> = agents
        .iter()
        .take(3)
        .map(|a| format!("{:?}", a.as_ref()))
        .collect();
    match agents.len() {
        1 => format!("agent {}", quoted[0]),
        n if n <= 3 => format!("agents {}", quoted.join(", ")),
        n => format!("agents {} and {} more", quoted.join(", "), n - 3),
    }
}

pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_kubectl_explain() {
        let p = FieldPath::root()
            .key("spec")
            .key("agents")
            .index(3)
            .key("resources");
        assert_eq!(p.to_string(), "spec.agents[3].resources");
        assert_eq!(FieldPath::parse("spec.agents[3].resources"), p);
        let ws = FieldPath::root().key("workspace").key("AGENTS.md");
        assert_eq!(ws.to_string(), "workspace[\"AGENTS.md\"]");
    }

    #[test]
    fn suggests_close_names_only() {
        let fields = ["image", "policy", "rollout", "agents", "teams"];
        assert_eq!(did_you_mean("imgae", &fields), Some("image"));
        assert_eq!(did_you_mean("agent", &fields), Some("agents"));
        assert_eq!(did_you_mean("zzzzzzzz", &fields), None);
    }
}
