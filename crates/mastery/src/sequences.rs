//! Response sequences of one skill: one sequence per student, stored flat with offsets.

use std::ops::Range;

/// Named skills with their sequences, as [`crate::read_csv`] and [`crate::synth::generate`] give them.
pub type Skills = Vec<(String, Sequences)>;

/// The responses (true = correct) of every student on one skill, in order of attempt. Stored as
/// one flat vector plus offsets, so fitting walks contiguous memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequences {
    responses: Vec<bool>,
    /// `offsets[i]..offsets[i + 1]` is sequence `i`; always starts with 0.
    offsets: Vec<usize>,
}

impl Default for Sequences {
    fn default() -> Self {
        Self::new()
    }
}

impl Sequences {
    /// No sequences.
    pub fn new() -> Self {
        Sequences {
            responses: Vec::new(),
            offsets: vec![0],
        }
    }

    /// No sequences, with room for `sequences` sequences holding `responses` responses in all.
    pub fn with_capacity(sequences: usize, responses: usize) -> Self {
        let mut offsets = Vec::with_capacity(sequences + 1);
        offsets.push(0);
        Sequences {
            responses: Vec::with_capacity(responses),
            offsets,
        }
    }

    /// One sequence per item.
    pub fn from_nested<I, S>(sequences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[bool]>,
    {
        let mut out = Sequences::new();
        for s in sequences {
            out.push(s.as_ref());
        }
        out
    }

    /// Appends one student's sequence (an empty one is kept and contributes nothing).
    pub fn push(&mut self, sequence: &[bool]) {
        self.responses.extend_from_slice(sequence);
        self.offsets.push(self.responses.len());
    }

    /// Number of sequences (students).
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when there is no sequence.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sequence `i`.
    ///
    /// # Panics
    /// When `i >= self.len()`.
    pub fn get(&self, i: usize) -> &[bool] {
        &self.responses[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The sequences in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[bool]> + '_ {
        self.offsets.windows(2).map(|w| &self.responses[w[0]..w[1]])
    }

    /// Every response, sequence after sequence (the order of [`crate::predict`]'s output).
    pub fn responses(&self) -> &[bool] {
        &self.responses
    }

    /// Total number of responses.
    pub fn total_responses(&self) -> usize {
        self.responses.len()
    }

    /// Length of the longest sequence.
    pub fn max_len(&self) -> usize {
        self.offsets.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
    }

    /// A copy of the sequences whose indices are in `range` (e.g. to hold students out).
    ///
    /// # Panics
    /// When the range goes past `self.len()`.
    pub fn subset(&self, range: Range<usize>) -> Sequences {
        let (start, end) = (self.offsets[range.start], self.offsets[range.end]);
        Sequences {
            responses: self.responses[start..end].to_vec(),
            offsets: self.offsets[range.start..=range.end]
                .iter()
                .map(|o| o - start)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_layout_round_trips() {
        let nested = vec![vec![true, false], vec![], vec![false, false, true]];
        let s = Sequences::from_nested(&nested);
        assert_eq!(s.len(), 3);
        assert_eq!(s.total_responses(), 5);
        assert_eq!(s.max_len(), 3);
        let back: Vec<Vec<bool>> = s.iter().map(<[bool]>::to_vec).collect();
        assert_eq!(back, nested);
        assert_eq!(s.get(2), &[false, false, true]);
        let tail = s.subset(1..3);
        assert_eq!(tail, Sequences::from_nested(&nested[1..]));
        assert!(s.subset(1..1).is_empty());
    }
}
