//! What the entities' save hooks need to keep derived columns (duplicate keys) in step.

use sea_orm::ActiveValue;

/// The value of a column a save is about to write, if it changes (set, or a row never keyed).
pub fn changed<T: Into<sea_orm::Value>>(v: &ActiveValue<T>) -> Option<&T> {
    match v {
        ActiveValue::Set(value) => Some(value),
        _ => None,
    }
}

/// Both columns' values when either changes and both are known.
pub fn changed_pair<'a, A, B>(a: &'a ActiveValue<A>, b: &'a ActiveValue<B>) -> Option<(&'a A, &'a B)>
where
    A: Into<sea_orm::Value>,
    B: Into<sea_orm::Value>,
{
    if !(a.is_set() || b.is_set()) {
        return None;
    }
    Some((a.try_as_ref()?, b.try_as_ref()?))
}
