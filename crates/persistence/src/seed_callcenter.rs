//! Demo data for the call center: topics, Q&A, callers (some of them CRM customers),
//! chats with messages and calls spread over the last days, so every operator screen has
//! something to show.

use crate::entity::{callers, calls, chat_messages, chats, customers, qa_entries, topics};
use crate::repo::calls::call_search_text;
use crate::repo::knowledge::qa_search_text;
use crate::seed::{FIRST, LAST, past, weighted};
use callcenter_core::caller::phone_caller_id;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallcenterPlan {
    pub callers: u64,
    pub chats: u64,
    pub calls: u64,
    /// Spread over this many past days.
    pub days: i64,
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallcenterReport {
    pub callers: u64,
    pub chats: u64,
    pub messages: u64,
    pub calls: u64,
}

/// Domain of the demo callers' e-mail addresses (what makes seeding idempotent).
pub const DEMO_CALLER_DOMAIN: &str = "@demo.example";

const TOPICS: [&str; 6] = ["Ta'lim dasturlari", "Grantlar", "Imtihonlar", "Kontrakt to'lovi", "Yotoqxona", "Hujjatlar"];

const QA: [(&str, &str); 6] = [
    (
        "Grantga qanday hujjat topshiriladi?",
        "Pasport nusxasi, attestat yoki diplom, 3x4 rasm va ariza. Hujjatlar my.gov.uz orqali 1-iyulgacha qabul qilinadi.",
    ),
    (
        "Kontrakt to'lovini bo'lib to'lash mumkinmi?",
        "Ha, kontrakt to'lovini ikki yoki to'rt qismga bo'lib to'lash mumkin: birinchi qism 1-oktyabrgacha.",
    ),
    ("Imtihonlar qachon boshlanadi?", "Kirish test sinovlari 15-iyuldan 5-avgustgacha o'tkaziladi."),
    (
        "Yotoqxonaga qanday joy olinadi?",
        "Yotoqxona uchun ariza dekanatga beriladi; uzoq hududlardan kelganlarga ustunlik beriladi.",
    ),
    (
        "Как подать документы на грант?",
        "Документы подаются через my.gov.uz до 1 июля: паспорт, аттестат, фото 3x4 и заявление.",
    ),
    (
        "Which programmes are taught in English?",
        "Computer science, business administration and international relations have English-taught groups.",
    ),
];

/// (topic, user question, assistant answer, summary, tags)
const CONVERSATIONS: [(&str, &str, &str, &str, &str); 6] = [
    (
        "Ta'lim dasturlari",
        "Salom, qanday ta'lim dasturlari bor?",
        "Assalomu alaykum! Bakalavriat va magistratura dasturlari bor. Qaysi yo'nalish qiziqtiradi?",
        "Ta'lim dasturlari haqida ma'lumot so'radi.",
        r#"["education","question"]"#,
    ),
    (
        "Grantlar",
        "Grant uchun qanday hujjatlar kerak?",
        "Pasport nusxasi, attestat, 3x4 rasm va ariza kerak. Hujjatlar 1-iyulgacha qabul qilinadi.",
        "Grant hujjatlari haqida so'radi.",
        r#"["grant","documents"]"#,
    ),
    (
        "Imtihonlar",
        "Imtihon qachon bo'ladi?",
        "Kirish test sinovlari 15-iyuldan boshlanadi.",
        "Imtihon sanalarini so'radi.",
        r#"["exam"]"#,
    ),
    (
        "Kontrakt to'lovi",
        "Kontraktni bo'lib to'lasa bo'ladimi?",
        "Ha, ikki yoki to'rt qismga bo'lib to'lash mumkin.",
        "Kontrakt to'lovi shartlarini so'radi.",
        r#"["payment"]"#,
    ),
    (
        "Yotoqxona",
        "Yotoqxona beriladimi?",
        "Ha, ariza dekanatga beriladi; uzoq hududlardan kelganlarga ustunlik beriladi.",
        "Yotoqxona haqida so'radi.",
        r#"["dormitory"]"#,
    ),
    (
        "Hujjatlar",
        "Ma'lumotnoma qanday olinadi?",
        "Ma'lumotnoma dekanatdan bir kunda beriladi.",
        "Ma'lumotnoma olishni so'radi.",
        r#"["documents"]"#,
    ),
];

const REGIONS: [&str; 6] = ["Toshkent", "Samarqand", "Buxoro", "Farg'ona", "Namangan", "Xorazm"];
const OPERATORS: [&str; 3] = ["Demo Operator", "Dilnoza Rashidova", "Jasur Tursunov"];

/// Whether demo callers are already present.
pub async fn callcenter_demo_present(db: &DatabaseConnection) -> Result<bool, DbErr> {
    let n =
        callers::Entity::find().filter(callers::Column::Email.ends_with(DEMO_CALLER_DOMAIN)).limit(1).count(db).await?;
    Ok(n > 0)
}

fn sentiment(rng: &mut StdRng) -> &'static str {
    weighted(rng, &[("positive", 50), ("neutral", 35), ("negative", 15)])
}

/// Generates the plan (deterministic for a given seed). The first callers take the phones of
/// live CRM customers, so their calls show up in the CRM too.
pub async fn seed_callcenter(
    db: &DatabaseConnection,
    plan: CallcenterPlan,
    seed: u64,
) -> Result<CallcenterReport, DbErr> {
    let mut rng = StdRng::seed_from_u64(seed);
    let now = Utc::now();
    let txn = db.begin().await?;

    for name in TOPICS {
        let exists = topics::Entity::find().filter(topics::Column::NameKey.eq(name.to_lowercase())).count(&txn).await?;
        if exists == 0 {
            topics::Entity::insert(topics::ActiveModel {
                name: Set(name.to_string()),
                name_key: Set(name.to_lowercase()),
                created_at: Set(now),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
    }
    let qa_rows: Vec<qa_entries::ActiveModel> = QA
        .iter()
        .map(|(title, answer)| qa_entries::ActiveModel {
            title: Set(title.to_string()),
            answer: Set(answer.to_string()),
            search_text: Set(qa_search_text(title, answer)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    qa_entries::Entity::insert_many(qa_rows).exec(&txn).await?;

    let linked: Vec<(i64, Option<String>)> = customers::Entity::find()
        .select_only()
        .columns([customers::Column::Id, customers::Column::Phone])
        .filter(customers::Column::DeletedAt.is_null())
        .filter(customers::Column::Phone.is_not_null())
        .order_by_asc(customers::Column::Id)
        .limit(plan.callers / 4)
        .into_tuple()
        .all(&txn)
        .await?;
    let existing: Vec<(String, Option<String>)> = callers::Entity::find()
        .select_only()
        .columns([callers::Column::Id, callers::Column::Phone])
        .into_tuple()
        .all(&txn)
        .await?;
    let taken: Vec<String> = existing.iter().filter_map(|(_, phone)| phone.clone()).collect();
    let taken_ids: Vec<&String> = existing.iter().map(|(id, _)| id).collect();
    let mut people: Vec<(String, String, String)> = Vec::new(); // id, name, phone
    for k in 0..plan.callers {
        let name = format!("{} {}", FIRST[rng.random_range(0..FIRST.len())], LAST[rng.random_range(0..LAST.len())]);
        let (phone, customer_id) = match linked.get(k as usize) {
            Some((cid, Some(phone))) if !taken.contains(phone) && !people.iter().any(|p| &p.2 == phone) => {
                (phone.clone(), Some(*cid))
            }
            _ => (format!("+99890{:07}", 1_000_000 + k * 7919 % 9_000_000), None),
        };
        // The id the call-center UI builds from the phone.
        let id = phone_caller_id(&phone);
        if taken.contains(&phone) || people.iter().any(|p| p.2 == phone) || taken_ids.contains(&&id) {
            continue;
        }
        let created = now - Duration::days(plan.days + rng.random_range(0..30));
        let email = format!("caller{}{DEMO_CALLER_DOMAIN}", k + 1);
        callers::Entity::insert(callers::ActiveModel {
            id: Set(id.clone()),
            full_name: Set(name.clone()),
            phone: Set(Some(phone.clone())),
            email: Set(Some(email.clone())),
            region: Set(Some(REGIONS[rng.random_range(0..REGIONS.len())].to_string())),
            language: Set(Some(weighted(&mut rng, &[("uz", 70), ("ru", 25), ("en", 5)]).to_string())),
            customer_id: Set(customer_id),
            ai_context: Set("{}".into()),
            search_text: Set(format!("{name} {phone} {email}").to_lowercase()),
            created_at: Set(created),
            updated_at: Set(created),
        })
        .exec(&txn)
        .await?;
        people.push((id, name, phone));
    }
    let mut report = CallcenterReport { callers: people.len() as u64, ..Default::default() };
    if people.is_empty() {
        txn.commit().await?;
        return Ok(report);
    }

    for k in 0..plan.chats {
        let (caller_id, name, phone) = people[rng.random_range(0..people.len())].clone();
        let (topic, question, answer, summary, tags) = CONVERSATIONS[rng.random_range(0..CONVERSATIONS.len())];
        // Recent chats are more likely open.
        let created = past(&mut rng, now, plan.days);
        let status = if now - created < Duration::days(1) {
            weighted(&mut rng, &[("open", 70), ("resolved", 20), ("escalated", 10)])
        } else {
            weighted(&mut rng, &[("open", 5), ("resolved", 75), ("escalated", 20)])
        };
        let id = format!("chat_demo_{:05}", k + 1);
        let turns = rng.random_range(1..=3);
        let mut at = created;
        let mut messages = Vec::new();
        for t in 0..turns {
            let reply_ms = rng.random_range(800..4500);
            let question = if t == 0 { question.to_string() } else { "Rahmat, yana bir savol bor.".to_string() };
            let reply = if t == 0 { answer.to_string() } else { "Albatta, marhamat.".to_string() };
            messages.push(message(&id, messages.len(), "user", question, None, at));
            at += Duration::milliseconds(reply_ms);
            messages.push(message(&id, messages.len(), "ai", reply, Some(reply_ms), at));
            at += Duration::seconds(rng.random_range(20..300));
        }
        report.messages += messages.len() as u64;
        let summary = if status == "open" { String::new() } else { summary.to_string() };
        chats::Entity::insert(chats::ActiveModel {
            id: Set(id.clone()),
            caller_id: Set(caller_id),
            status: Set(status.to_string()),
            topic: Set(Some(topic.to_string())),
            tags: Set(tags.to_string()),
            sentiment: Set(sentiment(&mut rng).to_string()),
            search_text: Set(format!("{name} {phone} {topic} {summary} {tags}").to_lowercase()),
            ai_summary: Set(summary),
            created_at: Set(created),
            updated_at: Set(at.min(now)),
        })
        .exec(&txn)
        .await?;
        chat_messages::Entity::insert_many(messages).exec(&txn).await?;
        report.chats += 1;
    }

    for k in 0..plan.calls {
        let (caller_id, name, phone) = people[rng.random_range(0..people.len())].clone();
        let (topic, question, answer, summary, tags) = CONVERSATIONS[rng.random_range(0..CONVERSATIONS.len())];
        let started = past(&mut rng, now, plan.days);
        let status = weighted(&mut rng, &[("completed", 78), ("missed", 15), ("failed", 7)]);
        let completed = status == "completed";
        let duration = completed.then(|| rng.random_range(30..900));
        let mut row = calls::Model {
            id: format!("call_demo_{:05}", k + 1),
            caller_id,
            number: phone,
            direction: weighted(&mut rng, &[("inbound", 65), ("outbound", 35)]).to_string(),
            status: status.to_string(),
            started_at: started,
            ended_at: Some(started + Duration::seconds(duration.unwrap_or(30))),
            duration_sec: duration,
            operator_name: Some(OPERATORS[rng.random_range(0..OPERATORS.len())].to_string()),
            recording_url: None,
            transcript: if completed {
                format!("AI: Assalomu alaykum!\nUser: {question}\nAI: {answer}")
            } else {
                String::new()
            },
            ai_summary: if completed { summary.to_string() } else { String::new() },
            sentiment: sentiment(&mut rng).to_string(),
            tags: if completed { tags.to_string() } else { "[]".into() },
            topic: completed.then(|| topic.to_string()),
            escalated: completed && rng.random_range(0..10) == 0,
            model: None,
            prompt: None,
            options: None,
            provider_sid: None,
            session_id: None,
            search_text: String::new(),
            created_at: started,
            updated_at: started,
        };
        row.search_text = call_search_text(&row, &name);
        let active: calls::ActiveModel = row.into();
        calls::Entity::insert(active.reset_all()).exec(&txn).await?;
        report.calls += 1;
    }
    txn.commit().await?;
    Ok(report)
}

fn message(
    chat: &str,
    n: usize,
    role: &str,
    text: String,
    response_ms: Option<i64>,
    at: DateTime<Utc>,
) -> chat_messages::ActiveModel {
    chat_messages::ActiveModel {
        id: Set(format!("msg_{}_{n}", chat.trim_start_matches("chat_"))),
        chat_id: Set(chat.to_string()),
        role: Set(role.to_string()),
        text: Set(text),
        response_ms: Set(response_ms),
        created_at: Set(at),
    }
}

const SUBJECTS: [&str; 40] = [
    "grant",
    "kontrakt",
    "imtihon",
    "yotoqxona",
    "stipendiya",
    "magistratura",
    "bakalavriat",
    "sertifikat",
    "diplom",
    "transkript",
    "pasport",
    "attestat",
    "ariza",
    "test",
    "fan",
    "kafedra",
    "fakultet",
    "dars jadvali",
    "kutubxona",
    "sport zali",
    "amaliyot",
    "ishga joylashish",
    "xorijiy talaba",
    "til kursi",
    "IELTS",
    "qabul",
    "o'qishni ko'chirish",
    "akademik ta'til",
    "qayta topshirish",
    "reyting",
    "to'lov muddati",
    "chegirma",
    "imtiyoz",
    "ovqatlanish",
    "transport",
    "tibbiy ko'rik",
    "harbiy hisob",
    "bitiruv",
    "magistrlik dissertatsiyasi",
    "onlayn ta'lim",
];
const ASPECTS: [&str; 25] = [
    "qachon boshlanadi",
    "qancha turadi",
    "qanday hujjatlar kerak",
    "qayerda topshiriladi",
    "muddati qachon tugaydi",
    "kimga murojaat qilish kerak",
    "onlayn qilsa bo'ladimi",
    "necha kun davom etadi",
    "qanday natija beradi",
    "qaysi tilda o'tadi",
    "chet elliklar uchun qanday",
    "bo'lib to'lash mumkinmi",
    "bekor qilish mumkinmi",
    "qayta topshirsa bo'ladimi",
    "qanday baholanadi",
    "talablari qanday",
    "imtiyozlar bormi",
    "qaysi binoda",
    "ish vaqti qanday",
    "telefon raqami qanday",
    "natijasi qachon chiqadi",
    "qanday tayyorlanish kerak",
    "kimlar uchun",
    "shartnoma qanday tuziladi",
    "ota-onalar uchun nima kerak",
];

/// Adds `count` distinct synthetic Q&A entries (subject × aspect × campus), in batches; for
/// benchmarks of the assistant's retrieval at scale.
pub async fn seed_knowledge(db: &DatabaseConnection, count: u64) -> Result<u64, DbErr> {
    let now = Utc::now();
    let mut written = 0;
    let rows = (0..count).map(|i| {
        let subject = SUBJECTS[(i % 40) as usize];
        let aspect = ASPECTS[((i / 40) % 25) as usize];
        let campus = i / 1000 + 1;
        let title = format!("{subject} {aspect}? ({campus}-bino)");
        let answer = format!(
            "{}-binoda {subject} bo'yicha: {aspect} degan savolga javob — qabul bo'limiga {} xonada murojaat qiling, \
             ish kunlari 9:00 dan 17:00 gacha.",
            campus,
            100 + i % 400
        );
        qa_entries::ActiveModel {
            search_text: Set(qa_search_text(&title, &answer)),
            title: Set(title),
            answer: Set(answer),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    });
    let rows: Vec<qa_entries::ActiveModel> = rows.collect();
    for batch in rows.chunks(500) {
        qa_entries::Entity::insert_many(batch.to_vec()).exec(db).await?;
        written += batch.len() as u64;
    }
    Ok(written)
}
