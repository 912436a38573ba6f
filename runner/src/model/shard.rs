//! `--shard i/N`: one CI machine's part of the (interpreter, mode) matrix.
//!
//! The modes of one interpreter are timed interleaved in one worker process, and that pairing is
//! what makes each stable-ABI ratio tight. So a shard takes whole interpreters, and the modes of
//! an interpreter are split only when there are more shards than interpreters.

use std::cmp::Reverse;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::mode::Mode;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("'{s}' is not a shard: expected i/N with 1 <= i <= N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) =
            (i.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Serialize for Shard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Shard {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// What a shard run records, so `merge` can tell whether its inputs belong to one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub shard: Shard,
    /// The whole matrix before splitting. Every shard of a job must have seen the same one, or
    /// the split (which depends on it) does not line up.
    pub interpreters: Vec<String>,
    pub modes: Vec<Mode>,
}

/// Splits the matrix: `matrix[j]` lists the modes interpreter `j` runs (in order); the result
/// lists, per interpreter, the modes this shard runs (empty: not in this shard).
///
/// With N shards and K interpreters (those with any mode): if N <= K, interpreter j (counting only
/// those with modes) goes whole to shard j mod N. If N > K, every interpreter gets one shard and
/// each further shard goes to the interpreter with the most modes per shard so far (never more
/// shards than modes); an interpreter's modes are dealt round robin over its shards. Depends on
/// nothing but the matrix, so every machine of a job agrees. A shard is empty only when N exceeds
/// the number of cells.
pub fn assign(matrix: &[Vec<Mode>], shard: Shard) -> Vec<Vec<Mode>> {
    let mut out = vec![Vec::new(); matrix.len()];
    let live: Vec<usize> = (0..matrix.len()).filter(|&j| !matrix[j].is_empty()).collect();
    let (n, k, me) = (shard.count, live.len(), shard.index - 1);
    if k == 0 {
        return out;
    }
    if n <= k {
        for (pos, &j) in live.iter().enumerate() {
            if pos % n == me {
                out[j] = matrix[j].clone();
            }
        }
        return out;
    }
    let size = |pos: usize| matrix[live[pos]].len();
    let mut shares = vec![1; k];
    for _ in k..n {
        // The interpreter with the most modes per shard (fixed point, so equal loads tie exactly)
        // takes the next shard; ties go to the earlier interpreter.
        let Some(pos) =
            (0..k).filter(|&p| shares[p] < size(p)).min_by_key(|&p| (Reverse(size(p) * 1_000_000 / shares[p]), p))
        else {
            break;
        };
        shares[pos] += 1;
    }
    let mut first = 0;
    for (pos, &j) in live.iter().enumerate() {
        let s = shares[pos];
        if (first..first + s).contains(&me) {
            out[j] = matrix[j].iter().enumerate().filter(|(t, _)| t % s == me - first).map(|(_, m)| *m).collect();
        }
        first += s;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::version::PyVersion;

    /// The shape of a real matrix: older interpreters fit fewer modes, 3.13t only `unlimited`.
    fn matrix() -> Vec<Vec<Mode>> {
        [2, 2, 3, 4, 5, 5, 1, 5, 6].iter().map(|&n| Mode::ALL[..n].to_vec()).collect()
    }

    fn cells(parts: &[Vec<Mode>]) -> Vec<(usize, Mode)> {
        parts.iter().enumerate().flat_map(|(j, ms)| ms.iter().map(move |m| (j, *m))).collect()
    }

    #[test]
    fn shards_are_disjoint_cover_everything_and_are_stable() {
        let m = matrix();
        let all = cells(&m);
        for count in 1..=all.len() {
            let mut seen = Vec::new();
            for index in 1..=count {
                let s = Shard { index, count };
                let mine = cells(&assign(&m, s));
                assert_eq!(mine, cells(&assign(&m, s)), "{s} differs between calls");
                assert!(!mine.is_empty(), "{s} is empty although the matrix has {} cells", all.len());
                seen.extend(mine);
            }
            seen.sort();
            let before = seen.len();
            seen.dedup();
            assert_eq!(before, seen.len(), "N={count}: a cell is in two shards");
            let mut want = all.clone();
            want.sort();
            assert_eq!(seen, want, "N={count}: shards do not cover the matrix");
        }
    }

    #[test]
    fn whole_interpreters_while_there_are_enough() {
        let m = matrix();
        for count in 1..=m.len() {
            for index in 1..=count {
                for (j, modes) in assign(&m, Shard { index, count }).iter().enumerate() {
                    assert!(modes.is_empty() || *modes == m[j], "{index}/{count} splits interpreter {j}");
                }
            }
        }
        // Two shards over nine interpreters: alternate interpreters, as documented.
        let first: Vec<usize> = assign(&m, Shard { index: 1, count: 2 })
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_empty())
            .map(|(j, _)| j)
            .collect();
        assert_eq!(first, vec![0, 2, 4, 6, 8]);
    }

    #[test]
    fn more_shards_than_interpreters_split_the_largest_first() {
        let m = vec![vec![Mode::Unlimited, Mode::Abi3(PyVersion(3, 8))], Mode::ALL[..5].to_vec()];
        // Three shards, two interpreters: the one with five modes gets two shards.
        let per_shard: Vec<Vec<Vec<Mode>>> = (1..=3).map(|index| assign(&m, Shard { index, count: 3 })).collect();
        assert_eq!(per_shard[0][0], m[0]);
        assert_eq!(per_shard[1][1].len() + per_shard[2][1].len(), 5);
        assert!(per_shard[1][0].is_empty() && per_shard[2][0].is_empty());
    }

    #[test]
    fn shard_specs_parse_and_bad_ones_say_why() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard { index: 2, count: 4 }.to_string(), "2/4");
        for bad in ["0/4", "5/4", "2", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().unwrap_err().contains(bad), "{bad}");
        }
    }
}
