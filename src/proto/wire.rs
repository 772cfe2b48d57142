//! The responses of the hot reads, with a second way to be encoded: the
//! found message's bytes as rendered once per cached read
//! (`rendered`), so a cache hit sends them without converting or
//! encoding anything. On the wire they are the messages of the protos;
//! clients decode them into the `Option` field as usual.

use bytes::{Buf, BufMut, Bytes};
use prost::{
    DecodeError, Message,
    encoding::{DecodeContext, WireType, message, skip_field},
};

use crate::rendered::Rendered;

/// `message(1)` of `m`: the bytes a response with field 1 set holds.
fn field_one<M: Message>(m: &M) -> Bytes {
    let mut buf = Vec::with_capacity(message::encoded_len(1, m));
    message::encode(1, m, &mut buf);
    buf.into()
}

macro_rules! found_response {
    ($(#[$doc:meta])* $name:ident { $field:ident: $msg:ty }) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Default)]
        pub struct $name {
            pub $field: Option<$msg>,
            /// Field 1 already encoded (tag and length included).
            encoded: Option<Bytes>,
        }

        impl $name {
            /// A response holding `found`.
            pub fn new($field: Option<$msg>) -> Self {
                Self { $field, encoded: None }
            }

            /// A response holding what `to_proto` makes of `value`,
            /// rendered once per cached read and reused by every hit.
            pub(crate) fn rendered<T>(
                value: Option<T>,
                slot: impl Fn(&T) -> &Rendered,
                to_proto: impl FnOnce(T) -> $msg,
            ) -> Self {
                match value {
                    None => Self::default(),
                    Some(v) => {
                        let memo = slot(&v).clone();
                        Self {
                            $field: None,
                            encoded: Some(memo.get_or_render(|| field_one(&to_proto(v)))),
                        }
                    }
                }
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field(stringify!($field), &self.$field)
                    .field("encoded", &self.encoded.as_ref().map(Bytes::len))
                    .finish()
            }
        }

        impl Message for $name {
            fn encode_raw(&self, buf: &mut impl BufMut) {
                match (&self.encoded, &self.$field) {
                    (Some(bytes), _) => buf.put_slice(bytes),
                    (None, Some(m)) => message::encode(1, m, buf),
                    (None, None) => {}
                }
            }

            fn merge_field(
                &mut self,
                tag: u32,
                wire_type: WireType,
                buf: &mut impl Buf,
                ctx: DecodeContext,
            ) -> Result<(), DecodeError> {
                if tag == 1 {
                    let m = self.$field.get_or_insert_with(Default::default);
                    message::merge(wire_type, m, buf, ctx).map_err(|mut e| {
                        e.push(stringify!($name), stringify!($field));
                        e
                    })
                } else {
                    skip_field(wire_type, tag, buf, ctx)
                }
            }

            fn encoded_len(&self) -> usize {
                match (&self.encoded, &self.$field) {
                    (Some(bytes), _) => bytes.len(),
                    (None, Some(m)) => message::encoded_len(1, m),
                    (None, None) => 0,
                }
            }

            fn clear(&mut self) {
                self.$field = None;
                self.encoded = None;
            }
        }
    };
}

found_response!(
    /// `AccountResponse`: the account, absent when there is none.
    AccountResponse { account: crate::proto::Account }
);
found_response!(
    /// `GetTokenByHashResponse`: the token, absent when unknown.
    GetTokenByHashResponse { token: crate::proto::Token }
);
found_response!(
    /// `GetDynamicClientResponse`: the client, absent when unknown.
    GetDynamicClientResponse { client: crate::proto::DynamicClient }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str) -> crate::proto::Account {
        crate::proto::Account {
            id: "a1".into(),
            user_name: name.into(),
            active: true,
            ..Default::default()
        }
    }

    /// A cached value: anything with a rendering slot.
    type Value = (&'static str, Rendered);

    fn rendered(value: Option<Value>) -> AccountResponse {
        AccountResponse::rendered(value, |v| &v.1, |v| account(v.0))
    }

    #[test]
    fn a_rendered_response_is_byte_for_byte_the_plain_one_and_decodes_back() {
        let plain = AccountResponse::new(Some(account("jane")));
        let rendered = rendered(Some(("jane", Rendered::default())));
        assert_eq!(rendered.encode_to_vec(), plain.encode_to_vec());
        assert_eq!(rendered.encoded_len(), plain.encoded_len());
        let back = AccountResponse::decode(&*rendered.encode_to_vec()).unwrap();
        assert_eq!(back.account.unwrap().user_name, "jane");
        assert!(self::rendered(None).encode_to_vec().is_empty());
    }

    #[test]
    fn every_hit_of_one_cached_value_sends_its_first_rendering() {
        let slot = Rendered::default();
        let first = rendered(Some(("jane", slot.clone())));
        let second = rendered(Some(("a renamed jane would be a new value", slot)));
        assert_eq!(first.encode_to_vec(), second.encode_to_vec());
    }
}
