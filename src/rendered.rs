//! A slot for a caller's rendering of a value read through the cache.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

/// Bytes a caller rendered from a value (the gRPC API's protobuf encoding
/// of an account, a token, a client), made once per cached entry and
/// shared by every hit: the clones of one read share the slot, and a
/// write makes the next read a new value with an empty one, so the
/// rendering is never older than the value it was made from. Not part of
/// the value: equality and the item ignore it.
#[derive(Clone, Default)]
pub struct Rendered(Arc<OnceLock<Bytes>>);

impl Rendered {
    /// The bytes, rendered by `render` the first time.
    pub fn get_or_render(&self, render: impl FnOnce() -> Bytes) -> Bytes {
        self.0.get_or_init(render).clone()
    }
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Rendered(some)"
        } else {
            "Rendered(none)"
        })
    }
}

impl PartialEq for Rendered {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_rendering_and_a_new_value_renders_again() {
        let a = Rendered::default();
        let b = a.clone();
        assert_eq!(a.get_or_render(|| Bytes::from_static(b"one")), "one");
        assert_eq!(b.get_or_render(|| Bytes::from_static(b"two")), "one");
        let fresh = Rendered::default();
        assert_eq!(fresh.get_or_render(|| Bytes::from_static(b"two")), "two");
    }
}
