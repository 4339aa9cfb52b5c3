//! An in-memory BM25 index of the Q&A entries: built once per knowledge-base version and
//! searched in microseconds, so the assistant's answers do not scan the table on every
//! message.

use crate::assistant::terms;
use crate::responder::Passage;
use std::collections::HashMap;

/// What identifies one state of the Q&A table: any insert, change or delete changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KnowledgeVersion {
    pub count: u64,
    pub max_id: i64,
    /// Latest change, in microseconds since the epoch.
    pub last_change: i64,
}

/// Passages with their term postings.
#[derive(Debug, Default)]
pub struct KnowledgeIndex {
    passages: Vec<Passage>,
    /// Term → (passage, term frequency).
    postings: HashMap<String, Vec<(u32, u32)>>,
    lengths: Vec<u32>,
    avg_len: f64,
}

impl KnowledgeIndex {
    /// Indexes each passage's title and text.
    pub fn build(passages: Vec<Passage>) -> KnowledgeIndex {
        let mut postings: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
        let mut lengths = Vec::with_capacity(passages.len());
        for (i, p) in passages.iter().enumerate() {
            let mut tf: HashMap<String, u32> = HashMap::new();
            let words = terms(&format!("{} {}", p.title, p.text));
            lengths.push(words.len() as u32);
            for w in words {
                *tf.entry(w).or_default() += 1;
            }
            for (term, n) in tf {
                postings.entry(term).or_default().push((i as u32, n));
            }
        }
        let avg_len = lengths.iter().map(|l| *l as f64).sum::<f64>() / lengths.len().max(1) as f64;
        KnowledgeIndex { passages, postings, lengths, avg_len }
    }

    pub fn len(&self) -> usize {
        self.passages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.passages.is_empty()
    }

    /// The `n` passages that answer `query` best by BM25, best first (ties by position).
    pub fn search(&self, query: &str, n: usize) -> Vec<&Passage> {
        const K1: f64 = 1.2;
        const B: f64 = 0.75;
        let mut query_terms = terms(query);
        query_terms.sort_unstable();
        query_terms.dedup();
        let total = self.passages.len() as f64;
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for term in &query_terms {
            let Some(list) = self.postings.get(term) else { continue };
            let df = list.len() as f64;
            let idf = ((total - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(doc, tf) in list {
                let tf = tf as f64;
                let len = self.lengths[doc as usize] as f64;
                let norm = tf + K1 * (1.0 - B + B * len / self.avg_len.max(1.0));
                *scores.entry(doc).or_default() += idf * tf * (K1 + 1.0) / norm;
            }
        }
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.into_iter().take(n).map(|(doc, _)| &self.passages[doc as usize]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(title: &str, text: &str) -> Passage {
        Passage { title: title.into(), text: text.into() }
    }

    #[test]
    fn finds_the_best_entries_among_many() {
        let mut passages: Vec<Passage> =
            (0..1000).map(|i| p(&format!("Yotoqxona savoli {i}"), "Yotoqxona bor.")).collect();
        passages.push(p("Grant uchun hujjatlar", "Pasport va ariza."));
        passages.push(p("Kontrakt to'lovi", "Ikki qismga bo'lib to'lash mumkin."));
        let index = KnowledgeIndex::build(passages);
        assert_eq!(index.len(), 1002);
        assert_eq!(index.search("Grantga qanday hujjatlar kerak?", 3)[0].title, "Grant uchun hujjatlar");
        assert_eq!(index.search("kontrakt bo'lib to'lash", 1)[0].title, "Kontrakt to'lovi");
        assert!(index.search("ob-havo", 3).is_empty());
        assert!(KnowledgeIndex::build(vec![]).search("grant", 3).is_empty());
    }
}
