//! The corpus metrics of `shared/corpora/README.md`, exactly as specified there.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

static WORD: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\w+").ok());

fn words(text: &str) -> Vec<&str> {
    WORD.as_ref()
        .map(|re| re.find_iter(text).map(|m| m.as_str()).collect())
        .unwrap_or_default()
}

/// Per-page shingle counts, each normalised by tp+fp+fn (the aeb benchmark's rule).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Shingles {
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
}

impl Shingles {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Multiset of 4-token shingles (`\w+` tokens); a text shorter than 4 tokens is one
/// shingle of what it has.
fn shingles(text: &str) -> HashMap<String, usize> {
    let tokens = words(text);
    let mut counts = HashMap::new();
    let n = tokens.len().saturating_sub(3).max(1);
    for i in 0..n {
        let shingle = tokens
            .get(i..(i + 4).min(tokens.len()))
            .unwrap_or_default()
            .join(" ");
        if !shingle.is_empty() {
            *counts.entry(shingle).or_insert(0) += 1;
        }
    }
    counts
}

pub fn shingle_match(truth: &str, prediction: &str) -> Shingles {
    let t = shingles(truth);
    let p = shingles(prediction);
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for key in t.keys().chain(p.keys().filter(|k| !t.contains_key(*k))) {
        let tc = t.get(key).copied().unwrap_or(0) as f64;
        let pc = p.get(key).copied().unwrap_or(0) as f64;
        tp += tc.min(pc);
        fp += (pc - tc).max(0.0);
        fn_ += (tc - pc).max(0.0);
    }
    let sum = tp + fp + fn_;
    if sum > 0.0 {
        Shingles {
            tp: tp / sum,
            fp: fp / sum,
            fn_: fn_ / sum,
        }
    } else {
        Shingles::default()
    }
}

/// Mean precision, mean recall, and F1 as the harmonic mean of the two means.
pub fn aggregate(pages: &[Shingles]) -> (f64, f64, f64) {
    if pages.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let n = pages.len() as f64;
    let p = pages.iter().map(Shingles::precision).sum::<f64>() / n;
    let r = pages.iter().map(Shingles::recall).sum::<f64>() / n;
    (p, r, harmonic(p, r))
}

fn harmonic(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

/// Tokens for Chinese text: each CJK character alone, other scripts by `\w+`.
fn char_tokens(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for word in words(text) {
        let mut run = String::new();
        for c in word.chars() {
            if newsmirror::extract::is_cjk(c) {
                if !run.is_empty() {
                    *counts.entry(std::mem::take(&mut run)).or_insert(0) += 1;
                }
                *counts.entry(c.to_string()).or_insert(0) += 1;
            } else {
                run.push(c);
            }
        }
        if !run.is_empty() {
            *counts.entry(run).or_insert(0) += 1;
        }
    }
    counts
}

/// Bag-of-tokens precision, recall and F1 of one page.
pub fn char_prf(truth: &str, prediction: &str) -> (f64, f64, f64) {
    let t = char_tokens(truth);
    let p = char_tokens(prediction);
    let tp: usize = t
        .iter()
        .map(|(k, tc)| (*tc).min(p.get(k).copied().unwrap_or(0)))
        .sum();
    let p_total: usize = p.values().sum();
    let t_total: usize = t.values().sum();
    let precision = ratio(tp as f64, p_total as f64);
    let recall = ratio(tp as f64, t_total as f64);
    (precision, recall, harmonic(precision, recall))
}

/// Whitespace-normalised equality.
pub fn same_title(expected: &str, got: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    norm(expected) == norm(got)
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len() - 1))
        .copied()
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_texts_match_fully() {
        let s = shingle_match("one two three four five", "one two three four five");
        assert_eq!((s.precision(), s.recall()), (1.0, 1.0));
    }

    #[test]
    fn extra_text_costs_precision_only() {
        let s = shingle_match("a b c d", "a b c d e");
        assert_eq!(s.recall(), 1.0);
        assert!(s.precision() < 1.0);
    }

    #[test]
    fn chinese_characters_are_tokens() {
        assert_eq!(char_prf("白宫计划", "白宫计划").2, 1.0);
        assert_eq!(char_prf("白宫计划", "白宫").1, 0.5);
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 50.0), 50.0);
    }
}
