//! What is wrong with the input, as typed facts: problems of files and fields, and repeated
//! objects. Load and model record them; the rules (`invalid-manifest`, `unrendered-template`,
//! `duplicate-object`) decide what is reported and word it. Nothing here is a finding or a message.

use super::net::CidrError;
use crate::load::classify::FileProblem;
use crate::span::{FileId, Location};

/// One problem of the input, where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InputProblem {
    pub(crate) kind: ProblemKind,
    pub(crate) location: Location,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ProblemKind {
    /// A problem of the file or its text, found before any object was read.
    File(FileProblem),
    /// A field the API server would reject.
    Field(FieldProblem),
    /// Values of a document that are template placeholders (`${…}`, `{{ … }}`), at the first.
    Placeholders,
}

/// A field that the API server would reject (after kubectl's YAML 1.1 to JSON conversion).
/// `path` is the field path as users write it (`spec.ports.port`); `found` names the type met
/// (`a string`, `a list`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FieldProblem {
    /// A value of the wrong type; `expected` is `a mapping`, `an integer`, `a port number or
    /// name`, ….
    WrongType {
        path: String,
        expected: &'static str,
        found: &'static str,
    },
    /// A plain scalar that YAML 1.1 reads as a boolean or number where a string is expected.
    NotAString {
        path: String,
        text: String,
        found: &'static str,
    },
    PortOutOfRange {
        path: String,
        value: i64,
    },
    /// A port name without a letter (a number written as a string, or an empty name).
    PortNameWithoutLetter {
        path: String,
        name: String,
    },
    /// A value outside its enumeration; `expected` lists the accepted ones.
    NotOneOf {
        path: String,
        value: String,
        expected: &'static str,
    },
    /// A list entry outside its enumeration.
    EntryNotOneOf {
        path: String,
        value: String,
        expected: &'static str,
    },
    /// A mapping without a required key.
    MissingKey {
        path: String,
        key: &'static str,
    },
    /// A selector requirement whose operator needs values and has none.
    OperatorNeedsValues {
        path: String,
        operator: String,
    },
    /// A selector requirement whose operator takes no values and has some.
    OperatorTakesNoValues {
        path: String,
        operator: String,
    },
    EmptyKind,
    ListsTooDeep,
    /// An item of a `List` kind that is not an object.
    ListItemNotObject {
        list_kind: String,
    },
    /// An object of a modelled kind without `metadata.name`.
    NoName {
        kind: String,
    },
    PodWithoutSpec,
    /// A workload other than a Pod without `spec.template`.
    NoTemplate {
        kind: String,
    },
    BadCidr(CidrError),
    ExceptOutsideCidr {
        path: String,
        entry: String,
        cidr: String,
    },
    IpBlockWithSelector {
        path: String,
    },
    EmptyPeer {
        path: String,
    },
    EndPortBelowPort {
        path: String,
        end: u16,
        start: u16,
    },
    EndPortNeedsNumericPort {
        path: String,
    },
    /// A value the kind's schema rejects for a reason of its own (a limit, a rule between
    /// fields): `reason` completes a sentence that starts with the field.
    Rejected {
        path: String,
        reason: String,
    },
}

/// The objects of one file that repeat an earlier declaration (same kind, namespace and name),
/// in order; never empty. One declaration of each object is analysed (the most canonical); the
/// others are the model's copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Repeat {
    pub(crate) file: FileId,
    pub(crate) objects: Vec<Repeated>,
}

/// One repeated object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Repeated {
    pub(crate) kind: String,
    pub(crate) name: String,
    /// The object as `Kind/namespace/name`.
    pub(crate) key: String,
    /// Where this copy is declared.
    pub(crate) repeat: Location,
    /// Where the declaration that the graph uses is.
    pub(crate) kept: Location,
}
