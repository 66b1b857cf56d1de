//! Rule metadata: the front matter of `rules/<id>.md`, parsed with kubereach's own YAML reader.

use crate::finding::Level;
use crate::load::yaml::{parse_stream, Node};

#[derive(Clone, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    /// PascalCase spelling of the id.
    pub name: String,
    pub level: Level,
    /// A number from 0.0 to 10.0, as GitHub code scanning reads it.
    pub security_severity: String,
    pub precision: String,
    pub tags: Vec<String>,
    /// One line: the SARIF short description.
    pub summary: String,
    /// The Markdown body: what it finds, why it matters, how to fix, an example.
    pub body: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("rule document has no front matter (`---` … `---`)")]
    NoFrontMatter,
    #[error("front matter is not a YAML mapping")]
    NotAMapping,
    #[error("front matter field `{0}` is missing or not a string")]
    Missing(&'static str),
    #[error("front matter `id` is `{found}`, the file is for `{expected}`")]
    WrongId { expected: String, found: String },
    #[error("front matter `level` is `{0}`; expected error, warning or note")]
    BadLevel(String),
}

fn field<'a>(root: &'a Node, key: &'static str) -> Result<&'a str, MetaError> {
    root.get(key).and_then(|n| n.as_scalar()).map(|s| &*s.text).ok_or(MetaError::Missing(key))
}

impl RuleMeta {
    pub fn parse(id: &'static str, doc: &'static str) -> Result<RuleMeta, MetaError> {
        let rest = doc.strip_prefix("---\n").ok_or(MetaError::NoFrontMatter)?;
        let end = rest.find("\n---\n").ok_or(MetaError::NoFrontMatter)?;
        let (front, body) = (&rest[..end], &rest[end + 5..]);
        let stream = parse_stream(front);
        let root = stream.documents.first().and_then(|d| d.root.as_ref()).ok_or(MetaError::NotAMapping)?;
        if root.as_map().is_none() {
            return Err(MetaError::NotAMapping);
        }
        let found = field(root, "id")?;
        if found != id {
            return Err(MetaError::WrongId { expected: id.to_string(), found: found.to_string() });
        }
        let level = match field(root, "level")? {
            "error" => Level::Error,
            "warning" => Level::Warning,
            "note" => Level::Note,
            other => return Err(MetaError::BadLevel(other.to_string())),
        };
        let tags = root
            .get("tags")
            .and_then(Node::as_seq)
            .map(|items| items.iter().filter_map(|t| t.as_scalar().map(|s| s.text.to_string())).collect())
            .unwrap_or_default();
        Ok(RuleMeta {
            id,
            name: field(root, "name")?.to_string(),
            level,
            security_severity: field(root, "security-severity")?.to_string(),
            precision: field(root, "precision")?.to_string(),
            tags,
            summary: field(root, "summary")?.to_string(),
            body: body.trim_start_matches('\n'),
        })
    }

    /// Stands in for a rule whose document does not parse (a defect the tests report).
    pub fn broken(id: &'static str, err: &MetaError) -> RuleMeta {
        RuleMeta {
            id,
            name: id.to_string(),
            level: Level::Warning,
            security_severity: "0.0".to_string(),
            precision: "low".to_string(),
            tags: Vec::new(),
            summary: format!("(rule documentation does not parse: {err})"),
            body: "",
        }
    }

    /// The first paragraph of "What it finds": the SARIF full description.
    pub fn description(&self) -> String {
        let after = self.body.split_once("## What it finds").map_or(self.body, |(_, rest)| rest);
        after.trim_start().split("\n\n").next().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The help as plain text (the Markdown body without its code fences' language tags).
    pub fn help_text(&self) -> String {
        self.body.to_string()
    }

    pub fn is_security(&self) -> bool {
        self.tags.iter().any(|t| t == "security")
    }
}
