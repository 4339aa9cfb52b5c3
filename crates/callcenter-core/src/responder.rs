//! The offline assistant: answers from the best-matching knowledge passage, greets by name,
//! asks a clarifying question when nothing matches, and suggests actions to the operator.
//! It also analyses a finished conversation (summary, sentiment, tags, topic). Deterministic;
//! it is the default without a model and the fallback when the model fails.

use crate::assistant::{Intent, intent_of, rank, sentiment, terms, wants_human, words};
use crate::call::Sentiment;
use crate::chat::Role;
use crate::memory::AiContext;

/// A piece of knowledge the assistant may answer with: a Q&A entry or a paragraph of an
/// uploaded document.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    /// The Q&A title, or the document name.
    pub title: String,
    pub text: String,
}

/// What the assistant is asked to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask<'a> {
    pub message: &'a str,
    /// The caller's name, when known (including one stated in this message).
    pub known_name: Option<&'a str>,
    /// Whether this message is where the caller stated their name.
    pub name_stated: bool,
    /// `uz`, `ru` or `en`.
    pub language: &'a str,
    /// Whether this is the first message of a conversation (a new chat).
    pub opens_conversation: bool,
}

/// The assistant's answer to one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub text: String,
    pub suggested_actions: Vec<String>,
    pub sentiment: Sentiment,
    /// Whether the caller asked for a human.
    pub transfer: bool,
    /// The title of the passage answered from.
    pub matched: Option<String>,
}

/// How many passages a prompt carries.
pub const PASSAGES_IN_PROMPT: usize = 3;
/// The longest passage cut from a document.
const PASSAGE_CHARS: usize = 800;
/// The topic of conversations no catalog topic matches.
pub const OTHER_TOPIC: &str = "Boshqa";

/// Splits a document's text into passages of at most 800 characters, along paragraphs.
pub fn passages_of(name: &str, text: &str) -> Vec<Passage> {
    let mut out: Vec<Passage> = Vec::new();
    let mut current = String::new();
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if !current.is_empty() && current.chars().count() + paragraph.chars().count() > PASSAGE_CHARS {
            out.push(Passage { title: name.to_string(), text: std::mem::take(&mut current) });
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.extend(paragraph.chars().take(PASSAGE_CHARS));
    }
    if !current.is_empty() {
        out.push(Passage { title: name.to_string(), text: current });
    }
    out
}

/// The passages that answer `message` best, best first, at most `n`.
pub fn best_passages<'a>(message: &str, passages: &'a [Passage], n: usize) -> Vec<&'a Passage> {
    let docs: Vec<String> = passages.iter().map(|p| format!("{} {}", p.title, p.text)).collect();
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
    rank(message, &docs).into_iter().take(n).map(|(i, _)| &passages[i]).collect()
}

/// The words of a message the knowledge base is searched for.
pub fn search_terms(message: &str) -> Vec<String> {
    let mut t = terms(message);
    t.sort_unstable();
    t.dedup();
    t.retain(|t| t.chars().count() >= 3);
    t.truncate(12);
    t
}

/// How the assistant opens a call or a chat.
pub fn greeting(name: Option<&str>, language: &str) -> String {
    match (name, language) {
        (Some(n), "ru") => format!("Здравствуйте, {n}! Рада снова вас слышать. Чем могу помочь?"),
        (Some(n), "en") => format!("Hello, {n}! Good to hear from you again. How can I help?"),
        (Some(n), _) => format!("Assalomu alaykum, {n}! Yana siz bilan gaplashishdan xursandman."),
        (None, "ru") => "Здравствуйте! Я виртуальный помощник. Как вас зовут и чем могу помочь?".into(),
        (None, "en") => "Hello! I am the virtual assistant. What is your name, and how can I help?".into(),
        (None, _) => {
            "Assalomu alaykum! Men virtual yordamchiman. Ismingiz nima va sizga qanday yordam bera olaman?".into()
        }
    }
}

fn acknowledge_name(name: &str, language: &str) -> String {
    match language {
        "ru" => format!("Приятно познакомиться, {name}! Чем могу помочь?"),
        "en" => format!("Nice to meet you, {name}! How can I help you?"),
        _ => format!("Tushunarli! Sizning ismingiz {name}. Yaxshi, {name}, sizga qanday yordam bera olaman?"),
    }
}

/// The answer to "what is my name?": the remembered name, or a request to state it.
fn name_answer(name: Option<&str>, language: &str) -> String {
    match (name, language) {
        (Some(n), "ru") => format!("Вас зовут {n}. Чем могу помочь?"),
        (Some(n), "en") => format!("Your name is {n}. How can I help you?"),
        (Some(n), _) => format!("Sizning ismingiz {n}. Sizga qanday yordam bera olaman?"),
        (None, "ru") => "Я пока не знаю, как вас зовут. Как вас зовут?".into(),
        (None, "en") => "I don't know your name yet. What is your name?".into(),
        (None, _) => "Men hali ismingizni bilmayman. Ismingiz nima?".into(),
    }
}

/// The answer to "do you remember me?".
fn remember_answer(name: Option<&str>, language: &str) -> String {
    match (name, language) {
        (Some(n), "ru") => format!("Конечно помню, {n}! Чем могу помочь?"),
        (Some(n), "en") => format!("Of course I remember you, {n}! How can I help?"),
        (Some(n), _) => format!("Albatta eslayman, {n}! Sizga qanday yordam bera olaman?"),
        (None, "ru") => "Извините, мы ещё не знакомы. Как вас зовут?".into(),
        (None, "en") => "Sorry, I don't think we have met yet. What is your name?".into(),
        (None, _) => "Kechirasiz, sizni hali tanimayman. Ismingiz nima?".into(),
    }
}

/// A short salutation by name that opens a conversation.
fn salutation(name: &str, language: &str) -> String {
    match language {
        "ru" => format!("Здравствуйте, {name}! "),
        "en" => format!("Hello, {name}! "),
        _ => format!("Assalomu alaykum, {name}! "),
    }
}

fn clarify(language: &str) -> &'static str {
    match language {
        "ru" => "Уточните, пожалуйста, ваш вопрос: о чём именно вы хотите узнать?",
        "en" => "Could you tell me a little more about your question? What exactly would you like to know?",
        _ => "Savolingizni biroz aniqroq yoza olasizmi? Aynan qaysi mavzu haqida ma'lumot kerak?",
    }
}

fn transfer_text(language: &str) -> &'static str {
    match language {
        "ru" => "Конечно, соединяю вас с оператором. Пожалуйста, подождите.",
        "en" => "Of course, I am connecting you to an operator. Please hold on.",
        _ => "Albatta, sizni operatorga ulayman. Iltimos, biroz kuting.",
    }
}

fn apology(language: &str) -> &'static str {
    match language {
        "ru" => "Извините за неудобства. ",
        "en" => "I am sorry for the trouble. ",
        _ => "Noqulaylik uchun uzr so'raymiz. ",
    }
}

/// The offline answer to `ask`, from the best passage when there is one.
pub fn offline_reply(ask: &Ask, best: Option<&Passage>) -> Reply {
    let mood = sentiment(ask.message);
    let transfer = wants_human(ask.message);
    let mut actions: Vec<String> = Vec::new();
    let mut text = String::new();
    if mood == Sentiment::Negative {
        text.push_str(apology(ask.language));
        actions.push("Shikoyatni qayd etish".into());
    }
    let intent = intent_of(ask.message);
    if transfer {
        text.push_str(transfer_text(ask.language));
        actions.push("Operatorga ulash".into());
    } else {
        match (intent, ask.name_stated, ask.known_name, best) {
            (Intent::AskName, _, name, _) => text.push_str(&name_answer(name, ask.language)),
            (_, true, Some(name), None) => text.push_str(&acknowledge_name(name, ask.language)),
            (_, true, Some(name), Some(p)) => {
                text.push_str(&acknowledge_name(name, ask.language));
                text.push(' ');
                text.push_str(&p.text);
            }
            (Intent::RememberMe, _, name, _) => text.push_str(&remember_answer(name, ask.language)),
            (Intent::Greeting, _, name, _) => text.push_str(&greeting(name, ask.language)),
            (_, _, name, Some(p)) => {
                if let Some(name) = name {
                    text.push_str(&format!("{name}, "));
                }
                text.push_str(&p.text);
            }
            (_, _, _, None) => {
                text.push_str(clarify(ask.language));
                actions.push("Savolni aniqlashtirish".into());
                actions.push("Bilimlar bazasiga yangi savol qo'shish".into());
            }
        }
        if let Some(p) = best.filter(|_| intent == Intent::Other) {
            actions.push(format!("Foydalanuvchiga «{}» bo'yicha ma'lumot berish", p.title));
            actions.push("Qo'ng'iroq qilish taklif qilish".into());
        }
    }
    // The first reply of a conversation with a known caller addresses them by name.
    if let Some(name) = ask.known_name.filter(|n| ask.opens_conversation && !text.contains(*n)) {
        text.insert_str(0, &salutation(name, ask.language));
    }
    if ask.known_name.is_none() {
        actions.push("Foydalanuvchi ismini so'rash".into());
    }
    Reply {
        text: text.trim().to_string(),
        suggested_actions: actions,
        sentiment: mood,
        transfer,
        matched: best.filter(|_| intent == Intent::Other).map(|p| p.title.clone()),
    }
}

/// A finished conversation in short.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub summary: String,
    pub sentiment: Sentiment,
    pub tags: Vec<String>,
    /// A catalog topic, or [`OTHER_TOPIC`].
    pub topic: String,
}

fn clip(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max).collect::<String>().trim_end())
    }
}

const TAG_STOP: [&str; 12] = [
    "haqida", "kerak", "iltimos", "salom", "assalomu", "alaykum", "mening", "ismim", "rahmat", "qanday", "about",
    "please",
];

/// Summarises a conversation's turns: what the caller asked, the topic (the catalog topic
/// that matches best, else [`OTHER_TOPIC`]), the overall sentiment, and tags (the topic, the
/// caller's most frequent words, `operator` when handed over).
pub fn analyse(turns: &[(Role, String)], topics: &[String], escalated: bool) -> Analysis {
    let asked: Vec<&str> = turns.iter().filter(|(r, _)| *r == Role::User).map(|(_, t)| t.as_str()).collect();
    let asked = if asked.is_empty() { turns.iter().map(|(_, t)| t.as_str()).collect() } else { asked };
    let user_text = asked.join("\n");
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let topic =
        rank(&user_text, &names).first().map(|(i, _)| topics[*i].clone()).unwrap_or_else(|| OTHER_TOPIC.to_string());
    let mut counts: Vec<(String, usize)> = Vec::new();
    for w in words(&user_text).into_iter().filter(|w| w.chars().count() >= 5 && !TAG_STOP.contains(&w.as_str())) {
        match counts.iter_mut().find(|(seen, _)| *seen == w) {
            Some((_, n)) => *n += 1,
            None => counts.push((w, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let first = topic.to_lowercase();
    let frequent: Vec<String> = counts.into_iter().map(|(w, _)| w).filter(|w| *w != first).take(2).collect();
    let mut tags = vec![first];
    tags.extend(frequent);
    if escalated {
        tags.push("operator".into());
    }
    let mut summary = match asked.iter().find(|t| !t.trim().is_empty()) {
        Some(first) => format!("Foydalanuvchi «{topic}» mavzusida murojaat qildi: «{}».", clip(first, 160)),
        None => format!("«{topic}» mavzusidagi suhbat; foydalanuvchi savol bermadi."),
    };
    if let Some(last) = asked.last().filter(|_| asked.len() > 1) {
        summary.push_str(&format!(" Oxirgi savol: «{}».", clip(last, 120)));
    }
    if escalated {
        summary.push_str(" Operatorga o'tkazildi.");
    }
    Analysis { summary, sentiment: sentiment(&user_text), tags, topic }
}

/// The instructions that ask a model to summarise a conversation as JSON.
pub fn summary_prompt(topics: &[String]) -> String {
    format!(
        "Summarise this contact-center conversation. Reply with JSON only, no prose: \
         {{\"summary\": \"one or two sentences in Uzbek\", \"sentiment\": \"positive|neutral|negative\", \
         \"tags\": [\"up to 4 short lowercase words\"], \"topic\": \"one of: {}; or a new short topic\"}}",
        topics.join(", ")
    )
}

/// The conversation as one text for a model: `User:`/`AI:` lines, at most the last 12,000
/// characters.
pub fn conversation_text(turns: &[(Role, String)]) -> String {
    let text: String =
        turns.iter().map(|(role, t)| format!("{}: {t}\n", if *role == Role::User { "User" } else { "AI" })).collect();
    let skip = text.chars().count().saturating_sub(12_000);
    text.chars().skip(skip).collect()
}

/// A model's JSON summary laid over the offline `analysis`: its summary, sentiment, tags and
/// topic replace the offline ones where they are well-formed (a topic that differs from a
/// catalog one only by case takes the catalog's spelling). `None` when there is no JSON
/// object with a summary in `answer`.
pub fn merge_model_analysis(answer: &str, mut analysis: Analysis, topics: &[String]) -> Option<Analysis> {
    let json = &answer[answer.find('{')?..=answer.rfind('}')?];
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let summary = v["summary"].as_str().map(str::trim).filter(|s| !s.is_empty())?;
    analysis.summary = clip(summary, 1000);
    if let Some(s) = v["sentiment"].as_str().filter(|s| ["positive", "neutral", "negative"].contains(s)) {
        analysis.sentiment = Sentiment::parse(s);
    }
    let tags: Vec<String> = v["tags"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_str()).map(|t| clip(&t.to_lowercase(), 40)).filter(|t| !t.is_empty()))
        .into_iter()
        .flatten()
        .take(4)
        .collect();
    if !tags.is_empty() {
        let operator = analysis.tags.iter().any(|t| t == "operator");
        analysis.tags = tags;
        if operator && !analysis.tags.iter().any(|t| t == "operator") {
            analysis.tags.push("operator".into());
        }
    }
    if let Some(topic) = v["topic"].as_str().map(|t| t.split_whitespace().collect::<Vec<_>>().join(" ")) {
        if let Some(known) = topics.iter().find(|k| k.to_lowercase() == topic.to_lowercase()) {
            analysis.topic = known.clone();
        } else if (2..=60).contains(&topic.chars().count()) {
            analysis.topic = topic;
        }
    }
    Some(analysis)
}

/// The one-line memory of a chat turn: what was asked, and when.
pub fn history_line(reply: &Reply, message: &str, stated_name: Option<&str>, date: &str) -> String {
    match (stated_name, &reply.matched) {
        (Some(name), _) => format!("Ismini aytdi: {name} ({date})"),
        (None, Some(title)) => format!("«{}» haqida so'radi ({date})", clip(title, 120)),
        (None, None) => format!("So'radi: «{}» ({date})", clip(message, 120)),
    }
}

/// The one-line memory of a finished call.
pub fn call_history_line(analysis: &Analysis, date: &str) -> String {
    format!("Qo'ng'iroq: {} ({date})", clip(&analysis.summary, 200))
}

/// The system prompt for a model: who the assistant is, what it remembers about the caller,
/// and the knowledge to answer from.
pub fn system_prompt(memory: &AiContext, passages: &[&Passage], language: &str) -> String {
    let mut p = String::from(
        "You are the virtual assistant of an Uzbek education contact center. Answer briefly and politely, \
         in the caller's language, only from the knowledge below; when it does not cover the question, \
         ask a clarifying question or offer an operator. Never invent prices, dates or documents.\n",
    );
    p.push_str(&format!("Caller's language: {language}.\n"));
    match &memory.known_name {
        Some(name) => p.push_str(&format!("The caller's name is {name}; address them by it.\n")),
        None => p.push_str("The caller's name is not known yet.\n"),
    }
    for note in &memory.personality_notes {
        p.push_str(&format!("Note about the caller: {note}\n"));
    }
    for line in memory.conversation_history.iter().rev().take(5).rev() {
        p.push_str(&format!("Earlier: {line}\n"));
    }
    if !passages.is_empty() {
        p.push_str("Knowledge:\n");
        for passage in passages {
            p.push_str(&format!("- {}: {}\n", passage.title, passage.text));
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kb() -> Vec<Passage> {
        vec![
            Passage { title: "Grant uchun hujjatlar".into(), text: "Pasport, attestat va ariza kerak.".into() },
            Passage { title: "Kontrakt to'lovi".into(), text: "Kontraktni ikki qismga bo'lib to'lash mumkin.".into() },
        ]
    }

    fn ask<'a>(message: &'a str, name: Option<&'a str>, stated: bool) -> Ask<'a> {
        Ask { message, known_name: name, name_stated: stated, language: "uz", opens_conversation: false }
    }

    #[test]
    fn name_questions_greetings_and_remember_me_use_the_known_name() {
        let kb = kb();
        let asked = offline_reply(&ask("Mening ismim nima?", Some("Moychechak"), false), None);
        assert_eq!(asked.text, "Sizning ismingiz Moychechak. Sizga qanday yordam bera olaman?");
        let unknown = offline_reply(&ask("Mening ismim nima?", None, false), None);
        assert!(unknown.text.contains("bilmayman"), "{}", unknown.text);
        let hello = offline_reply(&ask("Salom", Some("Aziz"), false), None);
        assert_eq!(hello.text, "Assalomu alaykum, Aziz! Yana siz bilan gaplashishdan xursandman.");
        let remember = offline_reply(&ask("Meni eslaysizmi?", Some("Aziz"), false), Some(&kb[0]));
        assert_eq!(remember.text, "Albatta eslayman, Aziz! Sizga qanday yordam bera olaman?");
        assert_eq!(remember.matched, None);
        let english = Ask { language: "en", ..ask("Hello", Some("Aziz"), false) };
        assert!(offline_reply(&english, None).text.starts_with("Hello, Aziz!"));
        let opening = Ask { opens_conversation: true, ..ask("Ob-havo qanday?", Some("Aziz"), false) };
        assert!(offline_reply(&opening, None).text.starts_with("Assalomu alaykum, Aziz! Savolingizni"));
    }

    #[test]
    fn answers_from_the_best_passage_and_by_name() {
        let kb = kb();
        let best = best_passages("Grantga qanday hujjatlar kerak?", &kb, 3);
        assert_eq!(best[0].title, "Grant uchun hujjatlar");
        let reply = offline_reply(&ask("Grantga qanday hujjatlar kerak?", Some("Aziz"), false), best.first().copied());
        assert_eq!(reply.text, "Aziz, Pasport, attestat va ariza kerak.");
        assert!(reply.suggested_actions[0].contains("Grant uchun hujjatlar"));
        assert!(!reply.transfer);
    }

    #[test]
    fn a_stated_name_is_acknowledged_and_nothing_matching_is_clarified() {
        let reply = offline_reply(&ask("Mening ismim Moychechak", Some("Moychechak"), true), None);
        assert_eq!(
            reply.text,
            "Tushunarli! Sizning ismingiz Moychechak. Yaxshi, Moychechak, sizga qanday yordam bera olaman?"
        );
        let reply = offline_reply(&ask("Ob-havo qanday?", None, false), None);
        assert!(reply.text.contains("aniqroq"));
        assert!(reply.suggested_actions.contains(&"Foydalanuvchi ismini so'rash".to_string()));
    }

    #[test]
    fn requests_for_a_human_and_complaints() {
        let reply = offline_reply(&ask("Bu juda yomon, operatorga ulang", Some("Aziz"), false), None);
        assert!(reply.transfer);
        assert_eq!(reply.sentiment, Sentiment::Negative);
        assert!(reply.text.starts_with("Noqulaylik"));
        assert!(reply.suggested_actions.contains(&"Operatorga ulash".to_string()));
    }

    #[test]
    fn greetings_use_the_known_name() {
        assert_eq!(
            greeting(Some("Moychechak"), "uz"),
            "Assalomu alaykum, Moychechak! Yana siz bilan gaplashishdan xursandman."
        );
        assert!(greeting(None, "ru").starts_with("Здравствуйте"));
    }

    #[test]
    fn conversations_are_analysed_against_the_topic_catalog() {
        let turns = vec![
            (Role::Ai, "Assalomu alaykum!".to_string()),
            (Role::User, "Grantlar haqida ma'lumot kerak, grant muddati qachon?".to_string()),
            (Role::User, "Rahmat, juda yaxshi".to_string()),
        ];
        let topics = vec!["Imtihonlar".to_string(), "Grantlar".to_string()];
        let a = analyse(&turns, &topics, false);
        assert_eq!(a.topic, "Grantlar");
        assert_eq!(a.sentiment, Sentiment::Positive);
        assert_eq!(a.tags[0], "grantlar");
        assert!(a.summary.contains("Grantlar haqida ma'lumot kerak") && a.summary.contains("Oxirgi savol"));
        let other = analyse(&[(Role::User, "Salom".into())], &topics, true);
        assert_eq!(other.topic, OTHER_TOPIC);
        assert!(other.tags.contains(&"operator".to_string()) && other.summary.ends_with("Operatorga o'tkazildi."));
    }

    #[test]
    fn a_model_summary_replaces_the_offline_one_when_well_formed() {
        let offline = analyse(&[(Role::User, "Grant haqida".into())], &["Grantlar".into()], true);
        let topics = vec!["Grantlar".to_string()];
        let answer = "Here you go: {\"summary\": \"Grant hujjatlari so'raldi.\", \"sentiment\": \"positive\", \
                      \"tags\": [\"Grant\", \"hujjat\"], \"topic\": \"grantlar\"}";
        let merged = merge_model_analysis(answer, offline.clone(), &topics).unwrap();
        assert_eq!(merged.summary, "Grant hujjatlari so'raldi.");
        assert_eq!(merged.sentiment, Sentiment::Positive);
        assert_eq!(merged.tags, ["grant", "hujjat", "operator"], "the hand-over tag stays");
        assert_eq!(merged.topic, "Grantlar", "the catalog's spelling");
        let odd = merge_model_analysis(
            "{\"summary\": \"S\", \"sentiment\": \"angry\", \"topic\": \"\"}",
            offline.clone(),
            &topics,
        );
        let odd = odd.unwrap();
        assert_eq!(
            (odd.sentiment, odd.topic.as_str()),
            (offline.sentiment, "Grantlar"),
            "bad fields keep the offline ones"
        );
        assert_eq!(merge_model_analysis("no json here", offline.clone(), &topics), None);
        assert_eq!(merge_model_analysis("{\"summary\": \"\"}", offline, &topics), None);
        assert!(summary_prompt(&topics).contains("one of: Grantlar"));
        assert_eq!(conversation_text(&[(Role::User, "a".into()), (Role::Ai, "b".into())]), "User: a\nAI: b\n");
    }

    #[test]
    fn documents_split_into_bounded_passages() {
        let text = format!("{}\n\n{}\n\nShort.", "a".repeat(500), "b".repeat(500));
        let passages = passages_of("doc.txt", &text);
        assert_eq!(passages.len(), 2);
        assert!(passages.iter().all(|p| p.text.chars().count() <= PASSAGE_CHARS + 2));
        assert!(passages[1].text.ends_with("Short."));
    }

    #[test]
    fn prompts_carry_memory_and_knowledge() {
        let memory = AiContext { known_name: Some("Aziz".into()), ..Default::default() };
        let kb = kb();
        let p = system_prompt(&memory, &[&kb[0]], "uz");
        assert!(p.contains("name is Aziz") && p.contains("Pasport, attestat"));
        assert_eq!(search_terms("Grantga qanday hujjatlar kerak?"), ["grant", "hujja", "kerak"]);
    }
}
