//! The bound every in-process cache keeps (principals, feeds, unknown ids,
//! feed pages): a map that is full drops what has expired, and if it is
//! still full, everything. A cache refills from the database; a bound on
//! memory that always holds matters more than what it happened to keep.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

/// Makes room for one more entry in `map`, which holds fewer than `max`
/// afterwards: when it is full, the entries `live` refuses go, then, if
/// that was not enough, all of them. Whether anything went (a caller with
/// an index over the map brings it in line then).
pub fn make_room<K, V, S>(
    map: &mut HashMap<K, V, S>,
    max: usize,
    mut live: impl FnMut(&V) -> bool,
) -> bool
where
    K: Eq + Hash,
    S: BuildHasher,
{
    if map.len() < max {
        return false;
    }
    map.retain(|_, v| live(v));
    if map.len() >= max {
        map.clear();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_drops_the_expired_first_and_everything_if_that_is_not_enough() {
        let mut map: HashMap<u32, u32> = (0..4).map(|k| (k, k)).collect();
        assert!(!make_room(&mut map, 5, |_| true), "not full: untouched");
        assert_eq!(map.len(), 4);
        assert!(make_room(&mut map, 4, |v| *v >= 2));
        assert_eq!(map.len(), 2, "the two expired ones went");
        map.extend([(8, 8), (9, 9)]);
        assert!(make_room(&mut map, 4, |_| true));
        assert!(map.is_empty(), "nothing had expired: everything went");
    }
}
