//! Stage 10, suggest: NetworkPolicies that close the gaps the findings name, proven by the engine.
//!
//! From one scope's model and graph it derives ([`derive`]) what the repository intends — the
//! ways in (from the real identity of the ingress controller or Gateway that serves them, or the
//! addresses a load balancer forwards from), the Services each workload names ([`refs`]), DNS —
//! and writes,
//! per namespace, a default deny where none exists and the allow rules those intents need, each
//! with a comment saying why ([`write`]). Existing policies are kept as they are: a pod they
//! already isolate keeps its rules, and gets nothing more.
//!
//! Nothing is trusted on its face: the suggested files are parsed back by the model stage, added
//! to the model, and the graph is rebuilt and the rules run again ([`prove`]). A namespace whose
//! suggestion would cut a connection it was derived from is withheld. What could not be inferred
//! is listed as review items with their evidence. It reads the model, the graph and the rules; it
//! prints nothing (the command line and the report stage do).

mod derive;
mod prove;
mod refs;
mod write;

use std::collections::BTreeMap;

use crate::graph::{Conns, Graph};
use crate::model::build::Scope;
use crate::model::net::{PortRef, Protocol};
use crate::model::{Direction, Model};
use crate::span::Location;

pub use prove::{in_suggested_file, Proof, ProvenConnection};

/// What the caller asks for. The repository must have been loaded after
/// [`crate::load::yaml::read_references`], else the containers' environment and command lines
/// (which analysis leaves unread) name nothing.
pub struct Options<'a> {
    /// Only this namespace's file (the ingress and egress that others need of it still count).
    pub namespace: Option<String>,
    /// Which rules run in the re-analysis (the configuration's selection).
    pub enabled: &'a (dyn Fn(&str) -> bool + Sync),
    /// Expectations hook: given the re-analysed model and graph, the expectations that no longer
    /// hold, in words. The lead wires `expect:` here; `None` checks none.
    pub expectations: Option<&'a ExpectationsHook<'a>>,
}

/// Checks the configuration's expectations against a re-analysed graph: the violated ones, in words.
pub type ExpectationsHook<'a> = dyn Fn(&Model, &Graph) -> Vec<String> + Sync + 'a;

/// A suggested file: one namespace's NetworkPolicies as YAML.
#[derive(Clone, Debug)]
pub struct SuggestedFile {
    pub namespace: String,
    /// `<namespace>.yaml`, relative to the output folder.
    pub file_name: String,
    pub text: String,
    /// The names of the policies it holds.
    pub policies: Vec<String>,
}

/// Something the suggestions could not infer, or cut on purpose, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Review {
    pub namespace: String,
    /// The workload or Service concerned (`ns/name[Kind]`).
    pub subject: String,
    pub message: String,
    /// Where the evidence is written, when somewhere.
    pub evidence: Option<Location>,
}

/// What `suggest` produces: the files, what they could not infer, and the proof.
#[derive(Debug)]
pub struct Suggestion {
    pub files: Vec<SuggestedFile>,
    pub review: Vec<Review>,
    /// Namespaces whose suggestion was withheld because it would cut an intended connection.
    pub withheld: Vec<(String, Vec<String>)>,
    pub proof: Proof,
}

/// The rules a suggestion means to close, and the levels it closes them at.
pub const CLOSED_RULES: [&str; 3] =
    ["workload-not-isolated", "namespace-without-default-deny", "internet-exposed-workload"];

/// A file to add that fixes a finding: for SARIF `fixes` and the JSON report.
#[derive(Clone, Debug)]
pub struct Fix {
    pub description: String,
    /// Relative to the repository (the output folder joined with the file name).
    pub path: String,
    pub text: String,
}

/// One allow rule of a policy: peers, ports and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AllowRule {
    pub(crate) why: Vec<String>,
    pub(crate) peers: Vec<PeerSpec>,
    pub(crate) ports: Vec<(Protocol, PortRef)>,
    /// Port ranges too wide to list (`port` with `endPort`).
    pub(crate) ranges: Vec<(Protocol, u16, u16)>,
}

/// A `from`/`to` element.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PeerSpec {
    /// Pods with these labels in a namespace (`None`: the policy's own).
    Pods { namespace: Option<String>, labels: Vec<(String, String)> },
    /// An address block.
    Block(String),
}

/// A NetworkPolicy to write.
#[derive(Clone, Debug)]
pub(crate) struct PolicySpec {
    pub(crate) name: String,
    pub(crate) why: String,
    /// Empty: every pod of the namespace.
    pub(crate) pod_selector: Vec<(String, String)>,
    /// Pods left out: those carrying one of these labels (`NotIn` expressions).
    pub(crate) pod_exclude: Vec<(String, String)>,
    pub(crate) types: Vec<Direction>,
    pub(crate) ingress: Vec<AllowRule>,
    pub(crate) egress: Vec<AllowRule>,
}

impl PolicySpec {
    fn add(&mut self, direction: Direction, rule: AllowRule) {
        let rules = match direction {
            Direction::Ingress => &mut self.ingress,
            Direction::Egress => &mut self.egress,
        };
        match rules.iter_mut().find(|r| r.peers == rule.peers && r.ports == rule.ports && r.ranges == rule.ranges) {
            Some(same) => {
                for why in rule.why {
                    if !same.why.contains(&why) {
                        same.why.push(why);
                    }
                }
            }
            None => rules.push(rule),
        }
    }
}

/// A connection a suggestion is derived from, checked in the re-analysis.
#[derive(Clone, Debug)]
pub(crate) enum Intent {
    /// Between two workloads (indexes into the model's workloads) on target ports.
    Pods { from: usize, to: usize, ports: Vec<(Protocol, PortRef)>, why: String },
    /// A way in (index into the graph's entries) to a workload, on what it admitted before.
    Entry { entry: usize, to: usize, conns: Conns, why: String },
}

/// Derives, writes and proves the suggestions for one scope.
pub fn suggest(scope: &Scope, graph: &Graph, options: &Options) -> Suggestion {
    let plan = derive::derive(&scope.model, graph, options.namespace.as_deref());
    let mut withheld: Vec<(String, Vec<String>)> = Vec::new();
    loop {
        let files: Vec<SuggestedFile> = plan
            .policies
            .iter()
            .filter(|(ns, _)| !withheld.iter().any(|(w, _)| w == *ns))
            .filter(|(ns, _)| options.namespace.as_deref().is_none_or(|only| only == ns.as_str()))
            .map(|(ns, policies)| write::file(ns, policies))
            .collect();
        let proof = prove::prove(scope, graph, &files, &plan.intents, options);
        // A namespace whose policies cut an intended connection is withheld, and the rest proven again.
        let mut newly: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in proof.connections.iter().filter(|c| !c.kept) {
            for ns in &c.namespaces {
                if files.iter().any(|f| &f.namespace == ns) {
                    newly.entry(ns.clone()).or_default().push(c.description.clone());
                }
            }
        }
        if newly.is_empty() {
            let mut review = plan.review.clone();
            review.sort();
            review.dedup();
            return Suggestion { files, review, withheld, proof };
        }
        withheld.extend(newly);
    }
}

/// The fixes of the findings a suggestion closes: each finding's logical key (`rule|object|…`)
/// with the file that closes it (its namespace's, else every file).
pub fn fixes(suggestion: &Suggestion, folder: &str) -> BTreeMap<(String, String, String, String), Vec<Fix>> {
    let mut out = BTreeMap::new();
    for closed in &suggestion.proof.closed {
        let ns = namespace_of_key(&closed.key.object);
        let files: Vec<&SuggestedFile> =
            match suggestion.files.iter().find(|f| Some(f.namespace.as_str()) == ns.as_deref()) {
                Some(f) => vec![f],
                None => suggestion.files.iter().collect(),
            };
        let fixes = files
            .into_iter()
            .map(|f| Fix {
                description: format!(
                    "add the NetworkPolicies kubereach suggests for namespace `{}` ({})",
                    f.namespace,
                    f.policies.join(", ")
                ),
                path: if folder.is_empty() { f.file_name.clone() } else { format!("{folder}/{}", f.file_name) },
                text: f.text.clone(),
            })
            .collect();
        out.insert(
            (closed.rule.to_string(), closed.key.object.clone(), closed.key.field.clone(), closed.key.peer.clone()),
            fixes,
        );
    }
    out
}

/// The namespace of a finding's object key: `Kind/ns/name`, or `Namespace/ns`.
fn namespace_of_key(object: &str) -> Option<String> {
    let parts: Vec<&str> = object.split('/').collect();
    match parts.as_slice() {
        ["Namespace", ns] => Some(ns.to_string()),
        [_, ns, _] => Some(ns.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_keys_name_their_namespace() {
        assert_eq!(namespace_of_key("Namespace/billing").as_deref(), Some("billing"));
        assert_eq!(namespace_of_key("Deployment/shop-api/orders-worker").as_deref(), Some("shop-api"));
        assert_eq!(namespace_of_key("IngressClass/nginx"), None);
    }
}
