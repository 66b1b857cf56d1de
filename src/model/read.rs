//! Reading fields of a parsed document with the API server's type checks.
//!
//! Every read of [`super::extract`] goes through [`Reader`], which checks the field's type as the
//! API server would (after kubectl's YAML 1.1 to JSON conversion) and records a mismatch as a
//! typed [`FieldProblem`] at the field; a template placeholder where a value should be is recorded
//! once per document instead. It words nothing: the rules do.

use super::net::{PortRef, Protocol};
use super::problem::{FieldProblem, InputProblem, ProblemKind};
use super::selector::{Interner, Labels, Operator, Requirement, Selector, Str};
use crate::load::yaml::{Node, Resolved, Value};
use crate::span::Span;
use crate::span::{FileId, Location};

pub(super) struct Reader<'a> {
    pub(super) file: FileId,
    pub(super) interner: &'a Interner,
    problems: &'a mut Vec<InputProblem>,
    /// Where a value is a template placeholder (`${VAR}`, `{{ … }}`) of an unrendered template.
    placeholder: Option<Span>,
}

/// Whether a scalar is a placeholder rather than a value: `${VAR:-default}` or `$VAR` of
/// envsubst-style templates, `{{ … }}`, or a fill-in such as `<your-cidr>`
/// ([`super::is_placeholder_value`]).
pub(super) fn is_placeholder(node: &Node) -> bool {
    node.as_scalar().is_some_and(|s| super::is_placeholder_value(&s.text))
}

impl<'a> Reader<'a> {
    pub(super) fn new(file: FileId, interner: &'a Interner, problems: &'a mut Vec<InputProblem>) -> Self {
        Reader { file, interner, problems, placeholder: None }
    }

    /// Ends a document: its placeholders, if any, become one problem at the first.
    pub(super) fn finish(self) {
        if let Some(span) = self.placeholder {
            let location = Location { file: self.file, span };
            self.problems.push(InputProblem { kind: ProblemKind::Placeholders, location });
        }
    }

    /// Reports a field of the wrong type, unless it is a template placeholder: those are noted
    /// once per document as an unrendered template.
    pub(super) fn invalid_value(&mut self, node: &Node, problem: FieldProblem) {
        if is_placeholder(node) {
            // The earliest placeholder of the document, whatever the order fields are read in.
            if self.placeholder.is_none_or(|p| node.span.start < p.start) {
                self.placeholder = Some(node.span);
            }
            return;
        }
        self.invalid(node.span, problem);
    }

    pub(super) fn invalid(&mut self, span: Span, problem: FieldProblem) {
        let location = Location { file: self.file, span };
        self.problems.push(InputProblem { kind: ProblemKind::Field(problem), location });
    }

    pub(super) fn map<'n>(&mut self, node: Option<&'n Node>, path: &str) -> Option<&'n Node> {
        let node = node?;
        match &node.value {
            Value::Map(_) => Some(node),
            _ if node.is_null() => None,
            _ => {
                self.invalid(
                    node.span,
                    FieldProblem::WrongType { path: path.to_string(), expected: "a mapping", found: node.kind_name() },
                );
                None
            }
        }
    }

    pub(super) fn seq<'n>(&mut self, node: Option<&'n Node>, path: &str) -> &'n [Node] {
        let Some(node) = node else { return &[] };
        match &node.value {
            Value::Seq(items) => items,
            _ if node.is_null() => &[],
            _ => {
                self.invalid(
                    node.span,
                    FieldProblem::WrongType { path: path.to_string(), expected: "a list", found: node.kind_name() },
                );
                &[]
            }
        }
    }

    /// A string field. A plain scalar that YAML 1.1 reads as a boolean or number is rejected by the
    /// API server: reported, and its text still used so that analysis goes on.
    pub(super) fn string<'n>(&mut self, node: Option<&'n Node>, path: &str) -> Option<&'n str> {
        let node = node?;
        let Value::Scalar(s) = &node.value else {
            self.invalid(
                node.span,
                FieldProblem::WrongType { path: path.to_string(), expected: "a string", found: node.kind_name() },
            );
            return None;
        };
        match s.resolve() {
            Resolved::Str(t) => Some(t),
            Resolved::Null => None,
            Resolved::Bool(_) | Resolved::Int(_) | Resolved::Float => {
                self.invalid_value(
                    node,
                    FieldProblem::NotAString {
                        path: path.to_string(),
                        text: s.text.to_string(),
                        found: node.kind_name(),
                    },
                );
                Some(&s.text)
            }
        }
    }

    pub(super) fn int(&mut self, node: Option<&Node>, path: &str) -> Option<i64> {
        let node = node?;
        match node.as_scalar().map(|s| s.resolve()) {
            Some(Resolved::Int(v)) => Some(v),
            Some(Resolved::Null) => None,
            _ => {
                self.invalid_value(
                    node,
                    FieldProblem::WrongType { path: path.to_string(), expected: "an integer", found: node.kind_name() },
                );
                None
            }
        }
    }

    pub(super) fn port_number(&mut self, node: Option<&Node>, path: &str) -> Option<u16> {
        let span = node?.span;
        let v = self.int(node, path)?;
        match u16::try_from(v) {
            Ok(p) if p > 0 => Some(p),
            _ => {
                self.invalid(span, FieldProblem::PortOutOfRange { path: path.to_string(), value: v });
                None
            }
        }
    }

    pub(super) fn bool(&mut self, node: Option<&Node>, path: &str) -> Option<bool> {
        let node = node?;
        match node.as_scalar().map(|s| s.resolve()) {
            Some(Resolved::Bool(b)) => Some(b),
            Some(Resolved::Null) => None,
            _ => {
                self.invalid_value(
                    node,
                    FieldProblem::WrongType { path: path.to_string(), expected: "a boolean", found: node.kind_name() },
                );
                None
            }
        }
    }

    /// An `IntOrString` port: a number in range, or a port name.
    pub(super) fn port_ref(&mut self, node: Option<&Node>, path: &str) -> Option<PortRef> {
        let node = node?;
        match node.as_scalar().map(|s| s.resolve()) {
            Some(Resolved::Int(_)) => self.port_number(Some(node), path).map(PortRef::Number),
            Some(Resolved::Str(name)) => {
                if name.is_empty() || !name.bytes().any(|b| b.is_ascii_alphabetic()) || is_placeholder(node) {
                    self.invalid_value(
                        node,
                        FieldProblem::PortNameWithoutLetter { path: path.to_string(), name: name.to_string() },
                    );
                    return None;
                }
                Some(PortRef::Name(name.into()))
            }
            Some(Resolved::Null) => None,
            _ => {
                self.invalid(
                    node.span,
                    FieldProblem::WrongType {
                        path: path.to_string(),
                        expected: "a port number or name",
                        found: node.kind_name(),
                    },
                );
                None
            }
        }
    }

    pub(super) fn protocol(&mut self, node: Option<&Node>, path: &str) -> Protocol {
        let Some(node) = node else {
            return Protocol::Tcp;
        };
        match self.string(Some(node), path) {
            None => Protocol::Tcp,
            Some(s) => Protocol::parse(s).unwrap_or_else(|| {
                self.invalid_value(
                    node,
                    FieldProblem::NotOneOf {
                        path: path.to_string(),
                        value: s.to_string(),
                        expected: "TCP, UDP or SCTP",
                    },
                );
                Protocol::Tcp
            }),
        }
    }

    pub(super) fn string_map(&mut self, node: Option<&Node>, path: &str) -> Vec<(Str, Str)> {
        let Some(node) = self.map(node, path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in node.as_map().unwrap_or_default() {
            let Some(key) = self.string(Some(k), path) else {
                continue;
            };
            let key = self.interner.intern(key);
            // The common case, a string, without formatting the field path for a message.
            let value = match v.as_scalar().map(|s| s.resolve()) {
                Some(Resolved::Str(text)) => Some(text),
                Some(Resolved::Null) => Some(""),
                _ => self.string(Some(v), &format!("{path}.{key}")),
            };
            if let Some(value) = value {
                out.push((key, self.interner.intern(value)));
            }
        }
        out
    }

    pub(super) fn labels(&mut self, node: Option<&Node>, path: &str) -> Labels {
        Labels::from_pairs(self.string_map(node, path))
    }

    pub(super) fn selector(&mut self, node: &Node, path: &str) -> Selector {
        let mut selector = Selector { span: node.span, ..Selector::default() };
        let Some(node) = self.map(Some(node), path) else {
            return selector;
        };
        // A key of neither kind is a typo (`matchlabels`) or a misplaced field (`namespaces:
        // {namespaceSelector: …}` in a tier peer): strict field validation rejects it, and where
        // it is dropped the selector would match everything. Kept as matching nothing, as an
        // invalid requirement is, so that a broken selector never widens what a policy admits.
        for (k, _) in node.as_map().unwrap_or_default() {
            let Some(key) = k.as_str() else { continue };
            if key != "matchLabels" && key != "matchExpressions" {
                self.invalid(
                    k.span,
                    FieldProblem::Rejected {
                        path: format!("{path}.{key}"),
                        reason: if path.ends_with("namespaces")
                            && matches!(key, "namespaceSelector" | "sameLabels" | "notSameLabels")
                        {
                            "is the peer shape of the first v1alpha1 releases of the network-policy-api; `namespaces` \
                             is now itself the label selector (`namespaces: {matchLabels: …}`)"
                                .to_string()
                        } else {
                            "is not a field of a label selector (`matchLabels`, `matchExpressions`)".to_string()
                        },
                    },
                );
                selector.expressions.push(Requirement { key: key.into(), operator: Operator::In, values: Vec::new() });
            }
        }
        selector.match_labels = self.string_map(node.get("matchLabels"), &format!("{path}.matchLabels"));
        selector.match_labels.sort();
        let exprs_path = format!("{path}.matchExpressions");
        for expr in self.seq(node.get("matchExpressions"), &exprs_path) {
            if let Some(r) = self.requirement(expr, &exprs_path) {
                selector.expressions.push(r);
            }
        }
        selector
    }

    pub(super) fn requirement(&mut self, node: &Node, path: &str) -> Option<Requirement> {
        let node = self.map(Some(node), path)?;
        let key = self.string(node.get("key"), &format!("{path}.key"));
        let op_node = node.get("operator");
        let op_text = self.string(op_node, &format!("{path}.operator"));
        let values: Vec<Box<str>> = self
            .seq(node.get("values"), &format!("{path}.values"))
            .iter()
            .filter_map(|v| self.string(Some(v), &format!("{path}.values")).map(Into::into))
            .collect();
        // An invalid requirement is rejected by the API server; it is kept as one that matches
        // nothing so that a broken selector never widens what a policy admits.
        let nothing = |key: &str| Requirement { key: key.into(), operator: Operator::In, values: Vec::new() };
        let Some(key) = key else {
            self.invalid(node.span, FieldProblem::MissingKey { path: path.to_string(), key: "key" });
            return Some(nothing(""));
        };
        let Some(operator) = op_text.and_then(Operator::parse) else {
            let span = op_node.map_or(node.span, |n| n.span);
            self.invalid(
                span,
                FieldProblem::NotOneOf {
                    path: format!("{path}.operator"),
                    value: op_text.unwrap_or("").to_string(),
                    expected: "In, NotIn, Exists or DoesNotExist",
                },
            );
            return Some(nothing(key));
        };
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                self.invalid(
                    node.span,
                    FieldProblem::OperatorNeedsValues {
                        path: path.to_string(),
                        operator: op_text.unwrap_or("").to_string(),
                    },
                );
                Some(nothing(key))
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                self.invalid(
                    node.span,
                    FieldProblem::OperatorTakesNoValues {
                        path: path.to_string(),
                        operator: op_text.unwrap_or("").to_string(),
                    },
                );
                Some(nothing(key))
            }
            _ => Some(Requirement { key: key.into(), operator, values }),
        }
    }
}
