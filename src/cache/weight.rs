//! What an entry weighs: the bytes it holds, for the cache's capacity
//! bound.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{Item, Key};

/// Bytes an entry holds in memory, for the capacity bound: the heap of
/// the item as the SDK represents it (keys, values, map buckets, allocator
/// headers), not DynamoDB's smaller size of it, plus moka's own node.
pub(super) fn weight_of(key: &Key, item: &Item) -> u32 {
    const BOOKKEEPING: usize = 256;
    let bytes = key.key.len() + ALLOC + item_heap(item) + BOOKKEEPING;
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// An allocator's header and rounding, per allocation.
const ALLOC: usize = 24;

fn item_heap(item: &Item) -> usize {
    // A hashbrown bucket per entry at the usual 7/8 load, plus its
    // control byte.
    let bucket = (std::mem::size_of::<(String, AttributeValue)>() + 1) * 8 / 7;
    ALLOC
        + item
            .iter()
            .map(|(k, v)| bucket + k.len() + ALLOC + value_heap(v))
            .sum::<usize>()
}

fn value_heap(v: &AttributeValue) -> usize {
    let text = |s: &str| s.len() + ALLOC;
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => text(s),
        AttributeValue::B(b) => b.as_ref().len() + ALLOC,
        AttributeValue::Ss(l) | AttributeValue::Ns(l) => {
            ALLOC
                + l.iter()
                    .map(|s| std::mem::size_of::<String>() + text(s))
                    .sum::<usize>()
        }
        AttributeValue::Bs(l) => {
            ALLOC
                + l.iter()
                    .map(|b| {
                        std::mem::size_of::<aws_smithy_types::Blob>() + b.as_ref().len() + ALLOC
                    })
                    .sum::<usize>()
        }
        AttributeValue::L(l) => {
            ALLOC
                + l.iter()
                    .map(|x| std::mem::size_of::<AttributeValue>() + value_heap(x))
                    .sum::<usize>()
        }
        AttributeValue::M(m) => item_heap(m),
        _ => 0,
    }
}
