//! `duplicate-object`: an object declared more than once under the same kind, namespace and name.
//! The model analyses one declaration (the most canonical, [`crate::model::FileRank`]) and keeps
//! the others as copies, which the checks of what a declaration says still judge; it records the
//! copies file by file. This rule notes each file once rather than each object (install variants
//! repeat whole files), with the analysed declaration as a related location.

use super::ids::DuplicateObject;
use super::{Context, Rule};
use crate::finding::Finding;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for repeat in cx.repeats {
        let Some(first) = repeat.objects.first() else { continue };
        let name = |o: &crate::model::problem::Repeated| format!("{} `{}`", o.kind, o.name);
        let first_name = name(first);
        let count = repeat.objects.len();
        let message = if count == 1 {
            format!(
                "{first_name} is declared more than once; the graph uses another declaration, this one is checked only for what it declares"
            )
        } else {
            let names: Vec<String> = repeat.objects.iter().take(3).map(name).collect();
            let more = if count > 3 { format!(" and {} more", count - 3) } else { String::new() };
            format!(
                "{count} objects of this file are declared elsewhere too ({}{more}); the graph uses the other declarations, these are checked only for what they declare",
                names.join(", ")
            )
        };
        out.push(
            DuplicateObject::finding(first.repeat, message)
                .with_related(first.kept, format!("{first_name}: the declaration the graph uses"))
                // The first repeated object names the repeat, wherever its file lies.
                .with_key(first.key.clone(), "metadata.name", "repeat"),
        );
    }
}
