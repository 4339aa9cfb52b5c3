//! The offline assistant's language tools: recognising a stated name, a request for a human,
//! the sentiment of a message (Uzbek, Russian, English lexicons), and ranking knowledge
//! entries by text similarity (BM25 over normalised words). Deterministic and pure.

use crate::call::Sentiment;
use std::collections::HashMap;

/// Lower-cases, unifies the apostrophes of Uzbek Latin (`o'`, `g'`) and splits into words.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['‘', '’', 'ʻ', 'ʼ', '`'], "'")
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Phrases after which a caller states their name.
const NAME_LEADS: [&str; 8] =
    ["mening ismim", "ismim", "my name is", "меня зовут", "моё имя", "мое имя", "call me", "men"];

/// Question words that can follow a name lead ("Mening ismim nima?", "Меня зовут как?").
const INTERROGATIVES: [&str; 12] =
    ["nima", "kim", "qanday", "nimaydi", "what", "who", "which", "как", "кто", "что", "какое", "какой"];

/// Whether the caller asks what their own name is ("Mening ismim nima?", "Ismimni bilasizmi?",
/// "Как меня зовут?", "What is my name?"), in Uzbek, Russian or English.
pub fn asks_own_name(message: &str) -> bool {
    let lower = message.to_lowercase().replace(['‘', '’', 'ʻ', 'ʼ', '`'], "'");
    let w = words(message);
    let asks_after = |i: usize| match w.get(i + 1) {
        Some(next) => INTERROGATIVES.contains(&next.as_str()) || NAME_CHECKS.contains(&next.as_str()),
        None => lower.trim_end().ends_with('?'),
    };
    let uzbek = w.iter().enumerate().any(|(i, x)| (x == "ismim" || x == "ismimni") && asks_after(i))
        || w.iter().any(|x| x == "kimman");
    let russian = ["как меня зовут", "меня как зовут", "моё имя?", "мое имя?", "знаешь моё имя", "знаешь мое имя"]
        .iter()
        .chain(&["знаете моё имя", "знаете мое имя", "какое моё имя", "какое мое имя"])
        .any(|p| lower.contains(p));
    let english = ["what is my name", "what's my name", "whats my name", "know my name", "who am i", "my name?"]
        .iter()
        .any(|p| lower.contains(p));
    uzbek || russian || english
}

/// Uzbek "do you know / remember" words that make "ismimni …" a question.
const NAME_CHECKS: [&str; 4] = ["bilasizmi", "eslaysizmi", "esingizdami", "bilasanmi"];

/// What a message is, besides a question for the knowledge base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// "What is my name?"
    AskName,
    /// "Do you remember me?"
    RememberMe,
    /// A greeting and nothing more ("Salom", "Assalomu alaykum", "Hello", "Привет").
    Greeting,
    /// Anything else.
    Other,
}

const GREETING_WORDS: [&str; 24] = [
    "salom",
    "assalomu",
    "assalom",
    "alaykum",
    "aleykum",
    "va",
    "hello",
    "hi",
    "hey",
    "good",
    "morning",
    "afternoon",
    "evening",
    "привет",
    "здравствуйте",
    "здравствуй",
    "добрый",
    "доброе",
    "день",
    "утро",
    "вечер",
    "yaxshimisiz",
    "qalaysiz",
    "there",
];

const REMEMBER_WORDS: [&str; 9] = [
    "eslaysizmi",
    "esladingizmi",
    "taniysizmi",
    "tanidingizmi",
    "эсласизми",
    "помнишь",
    "помните",
    "узнаёте",
    "узнаете",
];

/// What the message is: a question about one's own name, "do you remember me", a plain
/// greeting, or anything else (Uzbek, Russian and English).
pub fn intent_of(message: &str) -> Intent {
    let w = words(message);
    let lower = message.to_lowercase();
    if asks_own_name(message) {
        Intent::AskName
    } else if w.iter().any(|x| REMEMBER_WORDS.contains(&x.as_str())) || lower.contains("remember me") {
        Intent::RememberMe
    } else if !w.is_empty() && w.iter().all(|x| GREETING_WORDS.contains(&x.as_str())) {
        Intent::Greeting
    } else {
        Intent::Other
    }
}

/// The name a caller states ("Mening ismim Moychechak", "Меня зовут Анна", "My name is Aziz",
/// "Men Aziz"), capitalised as written; `None` when the message does not state one (a
/// question about one's name states none).
pub fn stated_name(message: &str) -> Option<String> {
    if asks_own_name(message) {
        return None;
    }
    let original: Vec<&str> = message.split_whitespace().collect();
    let lower: Vec<String> = original.iter().map(|w| w.to_lowercase()).collect();
    for lead in NAME_LEADS {
        let lead_words: Vec<&str> = lead.split(' ').collect();
        let n = lead_words.len();
        let Some(start) = (0..lower.len().saturating_sub(n - 1)).find(|&i| {
            lower[i..i + n].iter().zip(&lead_words).all(|(w, l)| w.trim_matches(|c: char| !c.is_alphanumeric()) == *l)
        }) else {
            continue;
        };
        let Some(candidate) = original.get(start + n) else { continue };
        let name: String = candidate.chars().filter(|c| c.is_alphabetic() || *c == '\'' || *c == '-').collect();
        let first = name.chars().next()?;
        // "Men" is also "I" in any sentence: only a short "Men Aziz" with a capitalised name counts.
        if lead == "men" && (start != 0 || original.len() > 3 || !first.is_uppercase()) {
            continue;
        }
        if name.chars().count() < 2
            || name.chars().count() > 40
            || INTERROGATIVES.contains(&name.to_lowercase().as_str())
        {
            continue;
        }
        let mut chars = name.chars();
        return Some(chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default());
    }
    None
}

const HUMAN_WORDS: [&str; 12] = [
    "operator",
    "operatorga",
    "odam",
    "odamga",
    "xodim",
    "human",
    "person",
    "agent",
    "оператор",
    "оператора",
    "человек",
    "человеком",
];

/// Whether the caller asks for a human (operator) in Uzbek, Russian or English.
pub fn wants_human(message: &str) -> bool {
    let w = words(message);
    w.iter().any(|w| HUMAN_WORDS.contains(&w.as_str()))
        || message.to_lowercase().contains("jonli")
        || message.to_lowercase().contains("real person")
}

const POSITIVE: [&str; 16] = [
    "rahmat",
    "raxmat",
    "yaxshi",
    "zo'r",
    "ajoyib",
    "mamnun",
    "thanks",
    "thank",
    "great",
    "good",
    "excellent",
    "спасибо",
    "хорошо",
    "отлично",
    "благодарю",
    "super",
];
const NEGATIVE: [&str; 18] = [
    "yomon",
    "afsus",
    "norozi",
    "shikoyat",
    "muammo",
    "xato",
    "bad",
    "terrible",
    "angry",
    "problem",
    "complaint",
    "worst",
    "плохо",
    "ужасно",
    "жалоба",
    "проблема",
    "недоволен",
    "ошибка",
];

/// The sentiment of a message by lexicon: more positive than negative words is positive, and
/// the other way round negative.
pub fn sentiment(message: &str) -> Sentiment {
    let w = words(message);
    let count = |lexicon: &[&str]| w.iter().filter(|w| lexicon.iter().any(|l| w.starts_with(l))).count();
    let (pos, neg) = (count(&POSITIVE), count(&NEGATIVE));
    match pos.cmp(&neg) {
        std::cmp::Ordering::Greater => Sentiment::Positive,
        std::cmp::Ordering::Less => Sentiment::Negative,
        std::cmp::Ordering::Equal => Sentiment::Neutral,
    }
}

const ENGLISH_WORDS: [&str; 30] = [
    "the", "is", "are", "what", "how", "hello", "hi", "my", "i", "you", "want", "can", "please", "name", "do", "me",
    "remember", "who", "am", "when", "where", "thanks", "thank", "your", "about", "need", "good", "morning", "it",
    "to",
];

const UZBEK_WORDS: [&str; 40] = [
    "salom",
    "assalomu",
    "alaykum",
    "rahmat",
    "raxmat",
    "mening",
    "ismim",
    "nima",
    "qanday",
    "haqida",
    "kerak",
    "qachon",
    "qayerda",
    "bormi",
    "yo'q",
    "ha",
    "iltimos",
    "meni",
    "eslaysizmi",
    "siz",
    "sizga",
    "uchun",
    "bilan",
    "va",
    "bu",
    "menga",
    "kimman",
    "ismimni",
    "bilasizmi",
    "mumkinmi",
    "qancha",
    "yordam",
    "bering",
    "savol",
    "javob",
    "yaxshi",
    "kunlar",
    "xayr",
    "men",
    "ismingiz",
];

/// The language a message is clearly written in: Cyrillic is Russian; otherwise whichever
/// of the English and Uzbek word lists it shares more words with (Uzbek letters `o'` and `g'`
/// count for Uzbek). `None` when it cannot tell (a name alone, a number, a tie).
pub fn language_of(message: &str) -> Option<&'static str> {
    if message.chars().any(|c| matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё')) {
        return Some("ru");
    }
    let w = words(message);
    let english = w.iter().filter(|x| ENGLISH_WORDS.contains(&x.as_str())).count();
    let uzbek = w
        .iter()
        .filter(|x| UZBEK_WORDS.contains(&x.as_str()) || x.contains("o'") || x.contains("g'") || x.ends_with("mi"))
        .count();
    match english.cmp(&uzbek) {
        std::cmp::Ordering::Greater => Some("en"),
        std::cmp::Ordering::Less => Some("uz"),
        std::cmp::Ordering::Equal => None,
    }
}

/// Words too common to tell entries apart.
const STOP: [&str; 30] = [
    "va", "bu", "u", "bir", "uchun", "bilan", "qanday", "nima", "men", "siz", "mi", "haqida", "mening", "ismim",
    "salom", "iltimos", "the", "a", "an", "is", "are", "to", "of", "and", "i", "my", "и", "в", "на", "как",
];

/// The stemmed, meaningful words of `text`, as the ranking compares them.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !STOP.contains(&w.as_str()))
        // A light stem: Uzbek and Russian endings vary a lot; 5 letters keep the root
        // ("grantlar" and "grant", "imtihonlar" and "imtihon" meet).
        .map(|w| w.chars().take(5).collect())
        .collect()
}

/// Ranks `documents` against `query` with BM25; returns `(index, score)` of those sharing a
/// word with the query, best first (ties by index).
pub fn rank(query: &str, documents: &[&str]) -> Vec<(usize, f64)> {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    let docs: Vec<Vec<String>> = documents.iter().map(|d| terms(d)).collect();
    if docs.is_empty() {
        return vec![];
    }
    let avg_len = docs.iter().map(Vec::len).sum::<usize>() as f64 / docs.len() as f64;
    let mut df: HashMap<&str, usize> = HashMap::new();
    for doc in &docs {
        let mut seen: Vec<&str> = doc.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for t in seen {
            *df.entry(t).or_default() += 1;
        }
    }
    let mut query_terms = terms(query);
    query_terms.sort_unstable();
    query_terms.dedup();
    let n = docs.len() as f64;
    let mut scored: Vec<(usize, f64)> = docs
        .iter()
        .enumerate()
        .filter_map(|(i, doc)| {
            let len = doc.len() as f64;
            let score: f64 = query_terms
                .iter()
                .filter_map(|q| {
                    let tf = doc.iter().filter(|t| *t == q).count() as f64;
                    let df = *df.get(q.as_str())? as f64;
                    (tf > 0.0).then(|| {
                        let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                        idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg_len.max(1.0)))
                    })
                })
                .sum();
            (score > 0.0).then_some((i, score))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_recognised_in_three_languages() {
        assert_eq!(stated_name("Mening ismim Moychechak").as_deref(), Some("Moychechak"));
        assert_eq!(stated_name("Salom! Ismim aziz.").as_deref(), Some("Aziz"));
        assert_eq!(stated_name("Men Aziz").as_deref(), Some("Aziz"));
        assert_eq!(stated_name("My name is Dilnoza, hello").as_deref(), Some("Dilnoza"));
        assert_eq!(stated_name("Меня зовут Анна").as_deref(), Some("Анна"));
        assert_eq!(stated_name("Men ta'lim dasturlari haqida bilmoqchiman"), None);
        assert_eq!(stated_name("Grant haqida savol"), None);
    }

    #[test]
    fn languages_are_told_apart() {
        assert_eq!(language_of("Меня зовут Анна"), Some("ru"));
        assert_eq!(language_of("What is the price?"), Some("en"));
        assert_eq!(language_of("Grant haqida savol"), Some("uz"));
        assert_eq!(language_of("Mening ismim nima?"), Some("uz"));
        assert_eq!(language_of("Salom"), Some("uz"));
        assert_eq!(language_of("Hello"), Some("en"));
        assert_eq!(language_of("Meni eslaysizmi?"), Some("uz"));
        assert_eq!(language_of("Aziz"), None);
    }

    #[test]
    fn questions_about_ones_name_state_no_name() {
        for q in [
            "Mening ismim nima?",
            "Ismim nima",
            "Ismimni bilasizmi?",
            "Men kimman?",
            "Как меня зовут?",
            "Ты знаешь моё имя?",
            "What is my name?",
            "What's my name",
            "Do you know my name?",
        ] {
            assert!(asks_own_name(q), "{q}");
            assert_eq!(stated_name(q), None, "{q}");
            assert_eq!(intent_of(q), Intent::AskName, "{q}");
        }
        assert!(!asks_own_name("Mening ismim Aziz"));
        assert!(!asks_own_name("Mening ismim Aziz, grant haqida nima bilasiz?"));
        assert!(!asks_own_name("Моё имя Анна, что такое грант?"));
        assert_eq!(stated_name("My name is what"), None);
    }

    #[test]
    fn greetings_and_remember_me() {
        for g in ["Salom", "Assalomu alaykum!", "Hello", "Hi there", "Привет", "Здравствуйте", "Good morning"]
        {
            assert_eq!(intent_of(g), Intent::Greeting, "{g}");
        }
        for r in ["Meni eslaysizmi?", "Do you remember me?", "Вы меня помните?"] {
            assert_eq!(intent_of(r), Intent::RememberMe, "{r}");
        }
        assert_eq!(intent_of("Salom, grant haqida ma'lumot kerak"), Intent::Other);
    }

    #[test]
    fn requests_for_a_human_and_sentiment() {
        assert!(wants_human("Operatorga ulang, iltimos"));
        assert!(wants_human("Соедините с оператором?") || wants_human("Позовите оператора"));
        assert!(wants_human("I want to talk to a human"));
        assert!(!wants_human("Grant haqida savol"));
        assert_eq!(sentiment("Katta rahmat, juda yaxshi!"), Sentiment::Positive);
        assert_eq!(sentiment("Это ужасно, у меня проблема"), Sentiment::Negative);
        assert_eq!(sentiment("Imtihon qachon?"), Sentiment::Neutral);
    }

    #[test]
    fn ranking_prefers_the_matching_entry() {
        let docs = [
            "Grantga qanday hujjat topshiriladi? Pasport, attestat va ariza.",
            "Kontrakt to'lovini bo'lib to'lash mumkinmi? Ha, ikki qismga.",
            "Imtihonlar qachon boshlanadi? 15-iyuldan.",
        ];
        let ranked = rank("Kontrakt to‘lovi haqida", &docs);
        assert_eq!(ranked[0].0, 1);
        assert_eq!(rank("imtihon sanasi", &docs)[0].0, 2);
        assert!(rank("ob-havo", &docs).is_empty());
        assert!(rank("anything", &[]).is_empty());
    }
}
