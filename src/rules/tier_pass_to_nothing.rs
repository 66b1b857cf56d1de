//! `tier-pass-to-nothing`: a `Pass` rule of a cluster tier that hands its traffic to nothing: in
//! the Baseline tier (after it comes only the default, allow), or in the Admin tier for pods that
//! no NetworkPolicy isolates for the direction and that no Baseline rule covers. The traffic it
//! matches is then allowed, as by an `Allow`/`Accept` rule, which is seldom what a delegation
//! means. Reported at the rule's `action`.

use super::Context;
use super::ids::TierPassToNothing;
use super::Rule;
use crate::finding::Finding;
use crate::model::tier::{Action, Tier};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let graph = cx.graph;
    let tiers = &cx.model.tier_policies;
    for (si, step) in graph.tier_steps.iter().enumerate() {
        if step.action != Action::Pass {
            continue;
        }
        // Whether the step matches some endpoint at all (else there is nothing to hand on).
        let matches_something =
            step.every_pod || !step.atoms.is_empty() || step.classes.is_some_and(|s| !graph.class_set(s).is_empty());
        if !matches_something {
            continue;
        }
        // The pods it applies to, and whether each hands the traffic to something.
        let mut subjects = 0usize;
        let mut handed = false;
        for c in 0..graph.classes.len() {
            let class = crate::graph::ClassId::new(c);
            if graph.classes[c].pseudo {
                continue;
            }
            if !graph.chain_steps(class, step.direction).contains(&(si as u32)) {
                continue;
            }
            subjects += 1;
            if step.tier == Tier::Admin
                && (graph.isolated(class, step.direction)
                    || graph.chain(class, step.direction).any(|s| s.tier == Tier::Baseline))
            {
                handed = true;
                break;
            }
        }
        if subjects == 0 || handed {
            continue;
        }
        let policy = &tiers[step.policy];
        let rule = &policy.rules(step.direction)[step.rule];
        let why = match step.tier {
            Tier::Baseline => "the Baseline tier is the last: what it passes is allowed by default".to_string(),
            Tier::Admin => format!(
                "no NetworkPolicy isolates the pods it applies to for {} and no Baseline rule covers them, so what it passes is allowed by default",
                step.direction.as_str()
            ),
        };
        out.push(
            TierPassToNothing::finding(
                policy.meta.at(rule.action_span),
                format!(
                    "{} {} rule {} passes traffic on to nothing: {why}",
                    policy.describe(),
                    step.direction.as_str(),
                    rule.label(step.rule)
                ),
            )
            .with_key(policy.meta.key(), format!("spec.{}[{}].action", step.direction.as_str(), step.rule), "Pass"),
        );
    }
}
