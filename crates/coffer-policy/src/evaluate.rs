//! Matching one statement against a request.

use crate::context::RequestContext;
use crate::parse::Statement;
use crate::principal::PrincipalHit;

/// Why a statement does not apply to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// The action is not covered by `Action` (or is excluded by `NotAction`).
    Action,
    /// The resource is not covered by `Resource` (or is excluded by `NotResource`).
    Resource,
    /// A policy variable in `Resource`/`NotResource` could not be resolved.
    ResourceVariable,
    /// An identity-type policy statement has no `Resource` element.
    NoResource,
    /// The principal does not match `Principal` (or is excluded by `NotPrincipal`),
    /// or a resource-based statement has no principal element.
    Principal,
    /// The condition clause with this index evaluated to false.
    Condition(usize),
}

/// Does the statement's `Action`/`NotAction` cover the request's action?
pub(crate) fn action_matches(st: &Statement, ctx: &RequestContext) -> bool {
    let any = st
        .action
        .patterns
        .iter()
        .any(|p| p.matches_plain(&ctx.action));
    any != st.action.negated
}

fn resource_check(st: &Statement, ctx: &RequestContext, resource_policy: bool) -> Result<(), Miss> {
    let Some(list) = &st.resource else {
        // A resource-based policy without Resource applies to the resource it is attached to.
        return if resource_policy {
            Ok(())
        } else {
            Err(Miss::NoResource)
        };
    };
    let mut unresolved = false;
    let any = list
        .patterns
        .iter()
        .any(|p| match p.matches(&ctx.resource, ctx) {
            Some(b) => b,
            None => {
                unresolved = true;
                false
            }
        });
    match (list.negated, any, unresolved) {
        (false, true, _) => Ok(()),
        (false, false, true) | (true, false, true) => Err(Miss::ResourceVariable),
        (false, false, false) | (true, true, _) => Err(Miss::Resource),
        (true, false, false) => Ok(()),
    }
}

/// Check a statement. `Ok(hit)`: it applies, with the principal match strength
/// (always `Direct` for identity-type policies, whose principal is implicit).
pub(crate) fn check(
    st: &Statement,
    ctx: &RequestContext,
    resource_policy: bool,
) -> Result<PrincipalHit, Miss> {
    if !action_matches(st, ctx) {
        return Err(Miss::Action);
    }
    resource_check(st, ctx, resource_policy)?;
    let hit = if resource_policy {
        match &st.principal {
            Some(p) => p.hit(&ctx.principal),
            None => PrincipalHit::None,
        }
    } else {
        PrincipalHit::Direct
    };
    if hit == PrincipalHit::None {
        return Err(Miss::Principal);
    }
    if let Some(i) = st.conditions.iter().position(|c| !c.evaluate(ctx)) {
        return Err(Miss::Condition(i));
    }
    Ok(hit)
}
