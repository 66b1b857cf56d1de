//! `.kubereach.yaml`: found in the scanned path or its parents (or named with `--config`), read
//! with kubereach's own YAML reader and validated into [`Config`] in one step. Unknown keys and
//! values of the wrong type are errors that point into the file.
//!
//! ```yaml
//! rules:
//!   select: [all]                  # rule ids, or `all` (default)
//!   ignore: [dangling-service]
//!   levels:                        # per-rule level: error, warning, note or off
//!     ingress-without-tls: error
//! exclude: ["charts/**"]
//! default-namespace: default
//! fail-on: warning                 # error, warning, note or never
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::finding::Level;
use crate::load::yaml::{parse_stream, Node, Pos};

pub const FILE_NAME: &str = ".kubereach.yaml";

/// The level a configuration gives a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleLevel {
    Level(Level),
    Off,
}

/// The lowest level that makes `check` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    pub fn fails(self, level: Level) -> bool {
        match self {
            FailOn::Error => level >= Level::Error,
            FailOn::Warning => level >= Level::Warning,
            FailOn::Note => true,
            FailOn::Never => false,
        }
    }

    fn parse(s: &str) -> Option<FailOn> {
        Some(match s {
            "error" => FailOn::Error,
            "warning" => FailOn::Warning,
            "note" => FailOn::Note,
            "never" => FailOn::Never,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Where it was read from, when it was.
    pub path: Option<PathBuf>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub levels: BTreeMap<String, RuleLevel>,
    pub exclude: Vec<String>,
    pub default_namespace: Option<String>,
    pub fail_on: Option<FailOn>,
}

/// A configuration error, located in its file.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub path: PathBuf,
    pub at: Option<Pos>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(f, "{}:{}:{}: {}", self.path.display(), at.line, at.col, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// The configuration file that applies to `start`: `.kubereach.yaml` in it (or, for a file, in its
/// folder) or in the nearest parent that has one.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let absolute = std::fs::canonicalize(start).ok()?;
    let mut dir = if absolute.is_dir() { Some(absolute.as_path()) } else { absolute.parent() };
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

/// Reads and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        at: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let err = |at: Option<Pos>, message: String| ConfigError { path: path.to_path_buf(), at, message };
    let stream = parse_stream(text);
    if let Some(e) = stream.errors.first() {
        return Err(err(Some(e.pos()), e.to_string()));
    }
    let mut config = Config { path: Some(path.to_path_buf()), ..Config::default() };
    let Some(root) = stream.documents.first().and_then(|d| d.root.as_ref()).filter(|r| !r.is_null()) else {
        return Ok(config);
    };
    let entries = root.as_map().ok_or_else(|| err(Some(root.span.start), "expected a mapping".to_string()))?;
    for (key, value) in entries {
        let name = key.as_str().unwrap_or_default();
        match name {
            "rules" => read_rules(value, &mut config).map_err(|(at, m)| err(Some(at), m))?,
            "exclude" => config.exclude = strings(value, "exclude").map_err(|(at, m)| err(Some(at), m))?,
            "default-namespace" => {
                config.default_namespace =
                    Some(string(value, "default-namespace").map_err(|(at, m)| err(Some(at), m))?.to_string());
            }
            "fail-on" => {
                let v = string(value, "fail-on").map_err(|(at, m)| err(Some(at), m))?;
                config.fail_on = Some(FailOn::parse(v).ok_or_else(|| {
                    err(Some(value.span.start), format!("`fail-on` is `{v}`; expected error, warning, note or never"))
                })?);
            }
            _ => {
                return Err(err(
                    Some(key.span.start),
                    format!("unknown key `{name}`; expected rules, exclude, default-namespace or fail-on"),
                ))
            }
        }
    }
    Ok(config)
}

type Located<T> = Result<T, (Pos, String)>;

fn string<'a>(node: &'a Node, what: &str) -> Located<&'a str> {
    node.as_str().ok_or_else(|| (node.span.start, format!("`{what}` must be a string, found {}", node.kind_name())))
}

fn strings(node: &Node, what: &str) -> Located<Vec<String>> {
    let items = node.as_seq().ok_or_else(|| (node.span.start, format!("`{what}` must be a list of strings")))?;
    items.iter().map(|i| string(i, what).map(str::to_string)).collect()
}

fn read_rules(node: &Node, config: &mut Config) -> Located<()> {
    let entries = node.as_map().ok_or_else(|| (node.span.start, "`rules` must be a mapping".to_string()))?;
    for (key, value) in entries {
        match key.as_str().unwrap_or_default() {
            "select" => config.select = checked_ids(value, "rules.select")?,
            "ignore" => config.ignore = checked_ids(value, "rules.ignore")?,
            "levels" => {
                let levels =
                    value.as_map().ok_or_else(|| (value.span.start, "`rules.levels` must be a mapping".to_string()))?;
                for (id, level) in levels {
                    let id_text = string(id, "rules.levels")?;
                    if crate::rules::find(id_text).is_none() {
                        return Err((id.span.start, format!("unknown rule `{id_text}` in `rules.levels`")));
                    }
                    // Raw text: YAML 1.1 would read an unquoted `off` as a boolean.
                    let level_text = level.as_scalar().map(|s| &*s.text).unwrap_or_default();
                    let parsed = match level_text {
                        "error" => RuleLevel::Level(Level::Error),
                        "warning" => RuleLevel::Level(Level::Warning),
                        "note" => RuleLevel::Level(Level::Note),
                        "off" => RuleLevel::Off,
                        other => {
                            return Err((
                                level.span.start,
                                format!("level `{other}` for `{id_text}`; expected error, warning, note or off"),
                            ))
                        }
                    };
                    config.levels.insert(id_text.to_string(), parsed);
                }
            }
            other => {
                return Err((key.span.start, format!("unknown key `rules.{other}`; expected select, ignore or levels")))
            }
        }
    }
    Ok(())
}

fn checked_ids(node: &Node, what: &str) -> Located<Vec<String>> {
    let items = node.as_seq().ok_or_else(|| (node.span.start, format!("`{what}` must be a list of rule ids")))?;
    let mut out = Vec::new();
    for item in items {
        let id = string(item, what)?;
        if id != "all" && crate::rules::find(id).is_none() {
            return Err((item.span.start, format!("unknown rule `{id}` in `{what}`")));
        }
        out.push(id.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_located_errors() {
        let e = parse(Path::new("c.yaml"), "rules:\n  select: [all]\nprofiles: aks\n").unwrap_err();
        assert_eq!(e.at, Some(Pos { line: 3, col: 1 }));
        assert!(e.message.contains("unknown key `profiles`"), "{e}");
        let e = parse(Path::new("c.yaml"), "rules:\n  levels:\n    no-such-rule: error\n").unwrap_err();
        assert_eq!(e.at, Some(Pos { line: 3, col: 5 }));
    }

    #[test]
    fn a_full_configuration_reads() {
        let c = parse(
            Path::new("c.yaml"),
            "rules:\n  select: [all]\n  ignore: [dangling-service]\n  levels: {ingress-without-tls: error, policy-allows-all: off}\nexclude: ['charts/**']\nfail-on: error\n",
        )
        .unwrap();
        assert_eq!(c.ignore, vec!["dangling-service"]);
        assert_eq!(c.levels.get("ingress-without-tls"), Some(&RuleLevel::Level(Level::Error)));
        assert_eq!(c.levels.get("policy-allows-all"), Some(&RuleLevel::Off));
        assert_eq!(c.fail_on, Some(FailOn::Error));
        assert_eq!(c.exclude, vec!["charts/**"]);
    }
}
