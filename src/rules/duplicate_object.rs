//! `duplicate-object`: an object declared again under the same kind, namespace and name; only the
//! first declaration is analysed. The model records the repeats file by file; this rule notes each
//! file once rather than each object (install variants repeat whole files).

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
            format!("{first_name} is declared again; only the first declaration is analysed")
        } else {
            let names: Vec<String> = repeat.objects.iter().take(3).map(name).collect();
            let more = if count > 3 { format!(" and {} more", count - 3) } else { String::new() };
            format!(
                "{count} objects of this file are declared earlier ({}{more}); only the first declarations are analysed",
                names.join(", ")
            )
        };
        out.push(
            DuplicateObject::finding(first.repeat, message)
                .with_related(first.kept, format!("{first_name} first declared here"))
                // The first repeated object names the repeat, wherever its file lies.
                .with_key(first.key.clone(), "metadata.name", "repeat"),
        );
    }
}
