//! The assistant: `/api/ai/chat` with memory, live AI calls (`/api/ai/call/…`), chat closing,
//! and the WebSocket stream, with the offline assistant and with a model server.

use crate::support::*;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn operator(app: &TestApp) -> String {
    let (_, email, password) = app.create_user("operator").await;
    app.token(&email, &password).await
}

async fn knowledge(app: &TestApp, op: &str) {
    for (title, answer) in [
        ("Grant uchun qanday hujjatlar kerak?", "Grant uchun pasport, attestat va ariza topshiriladi."),
        ("Kontrakt to'lovini bo'lib to'lash mumkinmi?", "Ha, kontraktni ikki qismga bo'lib to'lash mumkin."),
        ("Imtihonlar qachon boshlanadi?", "Kirish imtihonlari 15-iyuldan boshlanadi."),
    ] {
        let res = app.post("/api/qa", Some(op), json!({"title": title, "answer": answer})).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
    for name in ["Grantlar", "Imtihonlar"] {
        assert_eq!(app.post("/api/topics", Some(op), json!({"name": name})).await.status, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn a_scripted_conversation_is_remembered_across_chats_and_calls() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    knowledge(&app, &op).await;

    // A new web chat: the caller is unknown and has no phone yet.
    let first = app
        .post("/api/ai/chat", Some(&op), json!({"userId": "u_1737000000000", "message": "Mening ismim Moychechak"}))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["contextUpdated"], json!(true));
    assert_eq!(
        first.body["response"],
        json!("Tushunarli! Sizning ismingiz Moychechak. Yaxshi, Moychechak, sizga qanday yordam bera olaman?")
    );
    let chat_id = first.body["chatId"].as_str().unwrap().to_string();
    assert!(chat_id.starts_with("chat_") && first.body["messageId"].as_str().unwrap().starts_with("msg_"));
    assert!(first.body["suggestedActions"].is_array());
    let caller = app.get("/api/users/u_1737000000000", Some(&op)).await;
    assert_eq!(caller.status, StatusCode::OK, "the caller was created: {}", caller.text);
    assert_eq!(caller.body["phone"], json!(""));

    // The same chat goes on: the question is answered from the knowledge base, by name.
    let second = app
        .post(
            "/api/ai/chat",
            Some(&op),
            json!({"chatId": chat_id, "userId": "u_1737000000000", "message": "Grant uchun qanday hujjatlar kerak?",
                   "userContext": {"phone": "+998 90 111 22 33", "language": "uz"}}),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(second.body["chatId"], json!(chat_id));
    assert_eq!(second.body["contextUpdated"], json!(false));
    assert_eq!(second.body["response"], json!("Moychechak, Grant uchun pasport, attestat va ariza topshiriladi."));
    let caller = app.get("/api/users/u_1737000000000", Some(&op)).await;
    assert_eq!(caller.body["phone"], json!("+998901112233"), "the phone the client gave is kept");
    assert_eq!(caller.body["language"], json!("uz"));
    let stored = app.get(&format!("/api/chats/{chat_id}"), Some(&op)).await;
    let messages = stored.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4, "both messages of both turns are stored: {}", stored.text);
    assert_eq!(messages[2]["role"], json!("user"));
    assert_eq!(messages[3]["role"], json!("ai"));
    assert!(messages.iter().all(|m| m["timestamp"].is_string()));

    // Memory: the name and one history line per turn.
    let context = app.get("/api/users/u_1737000000000/context", Some(&op)).await;
    assert_eq!(context.body["aiContext"]["knownName"], json!("Moychechak"));
    let history = context.body["aiContext"]["conversationHistory"].as_array().unwrap().clone();
    assert_eq!(history.len(), 2, "{}", context.text);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(history[1], json!(format!("«Grant uchun qanday hujjatlar kerak?» haqida so'radi ({today})")));

    // A later chat, without the name resent, is answered by name.
    let later = app
        .post("/api/ai/chat", Some(&op), json!({"userId": "u_1737000000000", "message": "Imtihonlar qachon?"}))
        .await;
    assert_ne!(later.body["chatId"], json!(chat_id), "no chatId starts a new chat");
    assert_eq!(later.body["response"], json!("Moychechak, Kirish imtihonlari 15-iyuldan boshlanadi."));

    // A live call from the same phone: greeted by name.
    let start = app
        .post(
            "/api/ai/call/start",
            Some(&op),
            json!({"userId": "u_1737000000000", "phoneNumber": "+998901112233", "direction": "inbound"}),
        )
        .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.text);
    assert_eq!(start.body["contextLoaded"], json!(true));
    assert_eq!(
        start.body["aiGreeting"],
        json!("Assalomu alaykum, Moychechak! Yana siz bilan gaplashishdan xursandman.")
    );
    let call_id = start.body["callId"].as_str().unwrap().to_string();
    let session = start.body["sessionId"].as_str().unwrap().to_string();
    let call = app.get(&format!("/api/calls/{call_id}"), Some(&op)).await;
    assert_eq!(call.body["status"], json!("processing"));
    assert_eq!(call.body["userId"], json!("u_1737000000000"));

    let transcript = format!("/api/ai/call/{call_id}/transcript");
    let chunk = app
        .post(
            &transcript,
            Some(&op),
            json!({"sessionId": session, "transcript": "User: Imtihonlar qachon boshlanadi? Rahmat!"}),
        )
        .await;
    assert_eq!(chunk.status, StatusCode::OK, "{}", chunk.text);
    assert_eq!(chunk.body["shouldTransfer"], json!(false));
    assert_eq!(chunk.body["sentiment"], json!("positive"));
    assert_eq!(chunk.body["aiResponse"], json!("Moychechak, Kirish imtihonlari 15-iyuldan boshlanadi."));

    let wrong = app.post(&transcript, Some(&op), json!({"sessionId": "session_other", "transcript": "User: x"})).await;
    assert_cc_error(&wrong, StatusCode::FORBIDDEN, "sessionId does not match this call.");
    let missing = app.post(&transcript, Some(&op), json!({"sessionId": session})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body["details"]["transcript"].is_array(), "{}", missing.text);

    let transfer = app
        .post(&transcript, Some(&op), json!({"sessionId": session, "transcript": "User: Operatorga ulang, iltimos"}))
        .await;
    assert_eq!(transfer.body["shouldTransfer"], json!(true), "{}", transfer.text);
    assert!(transfer.body["suggestedActions"].as_array().unwrap().contains(&json!("Operatorga ulash")));

    // The end: completed with summary, sentiment, tags and a catalog topic.
    let end = app.post(&format!("/api/ai/call/{call_id}/end"), Some(&op), json!({"sessionId": session})).await;
    assert_eq!(end.status, StatusCode::OK, "{}", end.text);
    assert_eq!(end.body["status"], json!("completed"));
    assert_eq!(end.body["topic"], json!("Imtihonlar"));
    assert!(end.body["durationSec"].is_number());
    assert!(end.body["aiSummary"].as_str().unwrap().contains("Imtihonlar qachon boshlanadi"), "{}", end.text);
    assert!(end.body["tags"].as_array().unwrap().contains(&json!("operator")), "handed over: {}", end.text);
    let stored = app.get(&format!("/api/calls/{call_id}"), Some(&op)).await;
    let text = stored.body["transcript"].as_str().unwrap();
    assert!(text.starts_with("AI: Assalomu alaykum, Moychechak!") && text.contains("User: Operatorga ulang"));
    let malformed = app
        .client
        .post(format!("{}/api/ai/call/{call_id}/end", app.base))
        .bearer_auth(&op)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let again = app.post(&format!("/api/ai/call/{call_id}/end"), Some(&op), json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let late = app.post(&transcript, Some(&op), json!({"sessionId": session, "transcript": "User: hello"})).await;
    assert_eq!(late.status, StatusCode::CONFLICT);

    let stats = app.get("/api/statistics", Some(&op)).await;
    assert_eq!(stats.body["topicsFrequency"], json!([{"topic": "Imtihonlar", "count": 1}]), "{}", stats.text);
    let context = app.get("/api/users/u_1737000000000/context", Some(&op)).await;
    let history = context.body["aiContext"]["conversationHistory"].as_array().unwrap();
    assert!(history.last().unwrap().as_str().unwrap().starts_with("Qo'ng'iroq: "), "{}", context.text);
}

#[tokio::test]
async fn chats_are_closed_with_a_summary_and_a_topic() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    knowledge(&app, &op).await;
    let turn = app
        .post("/api/ai/chat", Some(&op), json!({"userId": "u_42", "message": "Grantlar haqida ma'lumot kerak"}))
        .await;
    let chat_id = turn.body["chatId"].as_str().unwrap().to_string();
    let bad = app.post(&format!("/api/chats/{chat_id}/close"), Some(&op), json!({"status": "open"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let closed = app.post(&format!("/api/chats/{chat_id}/close"), Some(&op), json!({"status": "resolved"})).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    assert_eq!(closed.body["status"], json!("resolved"));
    assert_eq!(closed.body["topic"], json!("Grantlar"));
    assert!(closed.body["aiSummary"].as_str().unwrap().contains("Grantlar haqida ma'lumot kerak"));
    assert_eq!(closed.body["tags"][0], json!("grantlar"));
    let listed = app.get("/api/chats?status=resolved", Some(&op)).await;
    assert_eq!(listed.body["total"], json!(1));

    // Asking for a human escalates at once, with the same treatment.
    let human = app
        .post("/api/ai/chat", Some(&op), json!({"userId": "u_42", "message": "I want to talk to a human operator"}))
        .await;
    assert_eq!(human.status, StatusCode::OK, "{}", human.text);
    let escalated = app.get(&format!("/api/chats/{}", human.body["chatId"].as_str().unwrap()), Some(&op)).await;
    assert_eq!(escalated.body["status"], json!("escalated"));
    assert_eq!(escalated.body["topic"], json!("Boshqa"), "no catalog topic matches: the catch-all is created");
    let topics = app.get("/api/topics", Some(&op)).await;
    assert!(topics.body.as_array().unwrap().iter().any(|t| t["name"] == json!("Boshqa")), "{}", topics.text);

    // Another caller's chat is refused.
    let other =
        app.post("/api/ai/chat", Some(&op), json!({"chatId": chat_id, "userId": "u_43", "message": "Salom"})).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.text);
}

#[tokio::test]
async fn bad_assistant_input_is_refused_in_the_call_center_body() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let res = app.post("/api/ai/chat", Some(&op), json!({"userId": "1001", "message": ""})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body["details"]["userId"].is_array() && res.body["details"]["message"].is_array(), "{}", res.text);
    let res = app
        .post(
            "/api/ai/chat",
            Some(&op),
            json!({"userId": "u_1", "message": "x", "userContext": {"language": "de", "phone": "12"}}),
        )
        .await;
    assert!(res.body["details"]["userContext.language"].is_array(), "{}", res.text);
    assert!(res.body["details"]["userContext.phone"].is_array(), "{}", res.text);
    let res = app.post("/api/ai/chat", Some(&op), json!({"userId": "u_1", "message": "x".repeat(4001)})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/api/users/u_1", Some(&op)).await.status, StatusCode::NOT_FOUND, "nothing stored");

    let res = app.post("/api/ai/call/start", Some(&op), json!({"phoneNumber": "12", "direction": "sideways"})).await;
    assert!(res.body["details"]["phoneNumber"].is_array() && res.body["details"]["direction"].is_array());
    let res =
        app.post("/api/ai/call/call_nope/transcript", Some(&op), json!({"sessionId": "s", "transcript": "x"})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post("/api/ai/chat", None, json!({})).await.status, StatusCode::UNAUTHORIZED);
    let (_, email, password) = app.create_user("financial_director").await;
    let viewer = app.token(&email, &password).await;
    let res = app.post("/api/ai/chat", Some(&viewer), json!({"userId": "u_1", "message": "Salom"})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "callcenter.write needed: {}", res.text);
}

#[tokio::test]
async fn transcript_chunks_may_come_as_multipart_with_audio() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let start = app.post("/api/ai/call/start", Some(&op), json!({"phoneNumber": "+998901234567"})).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.text);
    assert_eq!(start.body["contextLoaded"], json!(false));
    let call_id = start.body["callId"].as_str().unwrap();
    let session = start.body["sessionId"].as_str().unwrap();
    let res = multipart_chunk(&app, &op, call_id, session, "User: Bu juda yomon, muammo bor", true).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["sentiment"], json!("negative"));
    assert_eq!(res.body["shouldTransfer"], json!(false), "one negative turn is not a streak");
    let res = multipart_chunk(&app, &op, call_id, session, "User: Hali ham yomon, shikoyat qilaman", false).await;
    assert_eq!(res.body["shouldTransfer"], json!(true), "two negative turns in a row: {}", res.text);
}

/// Posts a transcript chunk as multipart, with an audio part when `audio`.
async fn multipart_chunk(app: &TestApp, token: &str, call_id: &str, session: &str, text: &str, audio: bool) -> Resp {
    let boundary = "----aitestboundary";
    let field = |name: &str, value: &str| {
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let mut body = format!("{}{}", field("sessionId", session), field("transcript", text)).into_bytes();
    if audio {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"chunk.webm\"\r\nContent-Type: audio/webm\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(&[0u8; 2048]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let res = app
        .client
        .post(format!("{}/api/ai/call/{call_id}/transcript", app.base))
        .bearer_auth(token)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    Resp::from(res).await
}

async fn next_json(ws: &mut (impl StreamExt<Item = tokio_tungstenite::tungstenite::Result<Message>> + Unpin)) -> Value {
    loop {
        match ws.next().await.expect("frame").expect("ok frame") {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_websocket_streams_replies_and_reports_bad_frames() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    knowledge(&app, &op).await;
    let first = app.post("/api/ai/chat", Some(&op), json!({"userId": "u_7", "message": "Men Aziz"})).await;
    let chat_id = first.body["chatId"].as_str().unwrap().to_string();
    let url = format!("{}/api/ai/chat/{chat_id}/stream?token={op}", app.base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("upgrade");

    ws.send(Message::text("not json")).await.unwrap();
    let error = next_json(&mut ws).await;
    assert_eq!(error["type"], json!("error"), "{error}");
    ws.send(Message::text(json!({"type": "typing"}).to_string())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], json!("error"), "the connection stays open");

    ws.send(Message::text(
        json!({"type": "message", "text": "Kontrakt to'lovini bo'lib to'lash mumkinmi?"}).to_string(),
    ))
    .await
    .unwrap();
    let mut streamed = String::new();
    let done = loop {
        let frame = next_json(&mut ws).await;
        match frame["type"].as_str() {
            Some("ai_delta") => streamed.push_str(frame["text"].as_str().unwrap()),
            Some("ai_response") => break frame,
            _ => panic!("unexpected {frame}"),
        }
    };
    assert_eq!(done["text"], json!("Aziz, Ha, kontraktni ikki qismga bo'lib to'lash mumkin."));
    assert_eq!(streamed, done["text"].as_str().unwrap());
    assert_eq!(done["chatId"], json!(chat_id));
    let stored = app.get(&format!("/api/chats/{chat_id}"), Some(&op)).await;
    let messages = stored.body["messages"].as_array().unwrap();
    assert_eq!(messages.last().unwrap()["id"], done["messageId"]);
    ws.close(None).await.unwrap();

    let refused = tokio_tungstenite::connect_async(format!(
        "{}/api/ai/chat/{chat_id}/stream",
        app.base.replace("http://", "ws://")
    ))
    .await;
    assert!(refused.is_err(), "no token, no stream");
}

/// A fake OpenAI-compatible server that checks the prompt and streams its answer.
async fn model_server(answer: &str, delay_ms: u64) -> wiremock::MockServer {
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let sse = format!(
        "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
        json!({"choices": [{"delta": {"content": "Model: "}}]}),
        json!({"choices": [{"delta": {"content": answer}}]})
    );
    let delay = std::time::Duration::from_millis(delay_ms);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("\"stream\":true"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/event-stream")
                .set_body_string(sse)
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("Grant uchun pasport"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(
                    json!({"choices": [{"message": {"role": "assistant", "content": format!("Model: {answer}")}}]}),
                )
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_model_answers_when_configured_and_the_offline_assistant_covers_its_failures() {
    let model = model_server("grant hujjatlari tayyor.", 0).await;
    let base = format!("{}/v1", model.uri());
    let app = TestApp::spawn_with(&[("llm_base_url", &base), ("voice_budget_ms", "300")]).await;
    let op = operator(&app).await;
    knowledge(&app, &op).await;
    let res = app.post("/api/ai/chat", Some(&op), json!({"userId": "u_9", "message": "Grant uchun hujjatlar?"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["response"], json!("Model: grant hujjatlari tayyor."), "the prompt carried the knowledge");
    let asked = &model.received_requests().await.unwrap()[0];
    let body: Value = serde_json::from_slice(&asked.body).unwrap();
    assert_eq!(body["messages"][0]["role"], json!("system"));
    assert_eq!(body["messages"].as_array().unwrap().last().unwrap()["content"], json!("Grant uchun hujjatlar?"));

    // A question the fake model does not answer (404): the offline assistant answers.
    let res = app.post("/api/ai/chat", Some(&op), json!({"userId": "u_9", "message": "Imtihonlar qachon?"})).await;
    assert_eq!(res.body["response"], json!("Kirish imtihonlari 15-iyuldan boshlanadi."));

    // A long chat: the model sees the last ten messages and the new one.
    let chat_id = res.body["chatId"].clone();
    for i in 0..6 {
        let turn = json!({"chatId": chat_id, "userId": "u_9", "message": format!("Grant hujjatlari {i}?")});
        assert_eq!(app.post("/api/ai/chat", Some(&op), turn).await.status, StatusCode::OK);
    }
    let requests = model.received_requests().await.unwrap();
    let last: Value = serde_json::from_slice(&requests.last().unwrap().body).unwrap();
    let messages = last["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 12, "system, ten earlier messages, the new one");
    assert_eq!(messages[11]["content"], json!("Grant hujjatlari 5?"));
    assert_eq!(messages[10]["role"], json!("assistant"));

    // A model slower than the voice budget: the live call gets the offline answer in time.
    let slow = model_server("late", 2000).await;
    let app = TestApp::spawn_with(&[("llm_base_url", &format!("{}/v1", slow.uri())), ("voice_budget_ms", "300")]).await;
    let op = operator(&app).await;
    knowledge(&app, &op).await;
    let start = app.post("/api/ai/call/start", Some(&op), json!({"phoneNumber": "+998901234567"})).await;
    let started = std::time::Instant::now();
    let res = app
        .post(
            &format!("/api/ai/call/{}/transcript", start.body["callId"].as_str().unwrap()),
            Some(&op),
            json!({"sessionId": start.body["sessionId"], "transcript": "User: Grant uchun qanday hujjatlar kerak?"}),
        )
        .await;
    assert_eq!(res.body["aiResponse"], json!("Grant uchun pasport, attestat va ariza topshiriladi."), "{}", res.text);
    assert!(started.elapsed() < std::time::Duration::from_millis(1800), "the budget cut the wait");
}

#[tokio::test]
async fn concurrent_turns_keep_every_history_line() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let first = app.post("/api/ai/chat", Some(&op), json!({"userId": "u_77", "message": "Salom"})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let turns =
        (0..8).map(|i| {
            let (app, op) = (&app, &op);
            async move {
                app.post("/api/ai/chat", Some(op), json!({"userId": "u_77", "message": format!("Savol {i}")})).await
            }
        });
    for res in futures_util::future::join_all(turns).await {
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    }
    let context = app.get("/api/users/u_77/context", Some(&op)).await;
    assert_eq!(context.body["aiContext"]["conversationHistory"].as_array().unwrap().len(), 9, "{}", context.text);
    let chats = app.get("/api/chats", Some(&op)).await;
    assert_eq!(chats.body["total"], json!(9), "each turn without chatId starts a chat");
}

/// A docx holding one paragraph per line of `text`.
fn docx(paragraphs: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let body: String = paragraphs.iter().map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>")).collect();
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(b"<Types/>").unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(format!("<w:document><w:body>{body}</w:body></w:document>").as_bytes()).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

#[tokio::test]
async fn uploaded_documents_answer_questions() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let word = docx(&["Yotoqxona narxi oyiga 300 000 so'm, to'lov har oyning 10-sanasigacha.", "Boshqa ma'lumot."]);
    let res = crate::callcenter_voip::upload(&app, &op, "Yotoqxona.docx", &word).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let md = "# Transport\n\nAvtobus 7:30 da bosh binodan jo'naydi.";
    assert_eq!(
        crate::callcenter_voip::upload(&app, &op, "transport.md", md.as_bytes()).await.status,
        StatusCode::CREATED
    );

    let res =
        app.post("/api/ai/chat", Some(&op), json!({"userId": "u_doc", "message": "Yotoqxona narxi qancha?"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let answer = res.body["response"].as_str().unwrap();
    assert!(
        answer.starts_with("Yotoqxona narxi oyiga 300 000 so'm, to'lov har oyning 10-sanasigacha."),
        "answered with the docx passage (paragraphs are grouped up to 800 characters): {answer}"
    );
    let res =
        app.post("/api/ai/chat", Some(&op), json!({"userId": "u_doc", "message": "Avtobus qachon jo'naydi?"})).await;
    assert_eq!(res.body["response"], json!("# Transport\n\nAvtobus 7:30 da bosh binodan jo'naydi."));
}

#[tokio::test]
async fn a_new_caller_opening_several_chats_at_once_is_created_once() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let turns = (0..6).map(|i| {
        let (app, op) = (&app, &op);
        let body = json!({"userId": "u_1740000000000", "message": format!("Salom {i}"),
                          "userContext": {"phone": "+998901119999", "name": "Dilnoza"}});
        async move { app.post("/api/ai/chat", Some(op), body).await }
    });
    for res in futures_util::future::join_all(turns).await {
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    }
    let caller = app.get("/api/users/u_1740000000000", Some(&op)).await;
    assert_eq!(caller.body["phone"], json!("+998901119999"));
    let context = app.get("/api/users/u_1740000000000/context", Some(&op)).await;
    assert_eq!(context.body["aiContext"]["knownName"], json!("Dilnoza"));
    let callers = app.get("/api/users?query=998901119999", Some(&op)).await;
    assert_eq!(callers.body.as_array().unwrap().len(), 1, "{}", callers.text);
}

#[tokio::test]
async fn streams_without_messages_are_pinged_then_closed() {
    let app = TestApp::spawn_with(&[("ws_ping_secs", "1"), ("ws_idle_timeout_secs", "2")]).await;
    let op = operator(&app).await;
    let url = format!("{}/api/ai/chat/chat_x/stream", app.base.replace("http://", "ws://"));
    let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url).unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {op}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("a bearer header works too");
    let started = std::time::Instant::now();
    let mut pings = 0;
    // The client answers pings (tungstenite does it while reading) but sends no message.
    let closed = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await.expect("closed in time") {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break started.elapsed(),
            Some(Ok(other)) => panic!("unexpected {other:?}"),
        }
    };
    assert!(pings >= 1, "pinged before closing");
    assert!(closed >= std::time::Duration::from_secs(2) && closed < std::time::Duration::from_secs(6), "{closed:?}");
}

#[tokio::test]
async fn a_configured_model_writes_call_summaries_and_topics() {
    use wiremock::matchers::{body_string_contains, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let model = MockServer::start().await;
    let summary = json!({"summary": "Qo'ng'iroq qiluvchi yotoqxona narxini so'radi.", "sentiment": "neutral",
                         "tags": ["yotoqxona", "narx"], "topic": "Yotoqxona"});
    Mock::given(method("POST"))
        .and(body_string_contains("Reply with JSON only"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"choices": [{"message": {"role": "assistant", "content": summary.to_string()}}]}),
            ),
        )
        .mount(&model)
        .await;
    let app = TestApp::spawn_with(&[("llm_base_url", &format!("{}/v1", model.uri()))]).await;
    let op = operator(&app).await;
    let start = app.post("/api/ai/call/start", Some(&op), json!({"phoneNumber": "+998901230000"})).await;
    let call_id = start.body["callId"].as_str().unwrap();
    let chunk = json!({"sessionId": start.body["sessionId"], "transcript": "User: Yotoqxona qancha turadi?"});
    let res = app.post(&format!("/api/ai/call/{call_id}/transcript"), Some(&op), chunk).await;
    assert_eq!(res.status, StatusCode::OK, "the model failed to answer (404): offline answer: {}", res.text);
    let end = app.post(&format!("/api/ai/call/{call_id}/end"), Some(&op), json!({})).await;
    assert_eq!(end.status, StatusCode::OK, "{}", end.text);
    assert_eq!(end.body["aiSummary"], json!("Qo'ng'iroq qiluvchi yotoqxona narxini so'radi."));
    assert_eq!(end.body["tags"], json!(["yotoqxona", "narx"]));
    assert_eq!(end.body["topic"], json!("Yotoqxona"));
    let topics = app.get("/api/topics", Some(&op)).await;
    assert_eq!(topics.body[0]["name"], json!("Yotoqxona"), "a new topic is added to the catalog: {}", topics.text);
    let asked = model.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&asked.last().unwrap().body).unwrap();
    assert!(body["messages"][1]["content"].as_str().unwrap().contains("User: Yotoqxona qancha turadi?"));
}

/// One scripted conversation per language: state the name, ask it back, greet in the same
/// chat, greet and ask "do you remember me" in a new chat, then a knowledge question.
#[tokio::test]
async fn the_assistant_remembers_names_in_three_languages() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    knowledge(&app, &op).await;
    for (title, answer) in [
        ("Когда начинаются экзамены?", "Вступительные экзамены начинаются 15 июля."),
        ("When do the exams start?", "The entrance exams start on 15 July."),
    ] {
        app.post("/api/qa", Some(&op), json!({"title": title, "answer": answer})).await;
    }
    struct Script {
        user: &'static str,
        state: &'static str,
        name: &'static str,
        ask_name: &'static str,
        name_answer: &'static str,
        hello: &'static str,
        hello_answer: &'static str,
        remember: &'static str,
        remember_answer: &'static str,
        question: &'static str,
        answer: &'static str,
    }
    let scripts = [
        Script {
            user: "u_1737000000101",
            state: "Mening ismim Moychechak",
            name: "Moychechak",
            ask_name: "Mening ismim nima?",
            name_answer: "Sizning ismingiz Moychechak.",
            hello: "Salom",
            hello_answer: "Assalomu alaykum, Moychechak!",
            remember: "Meni eslaysizmi?",
            remember_answer: "Albatta eslayman, Moychechak!",
            question: "Imtihonlar qachon boshlanadi?",
            answer: "Kirish imtihonlari 15-iyuldan boshlanadi.",
        },
        Script {
            user: "u_1737000000102",
            state: "Меня зовут Анна",
            name: "Анна",
            ask_name: "Как меня зовут?",
            name_answer: "Вас зовут Анна.",
            hello: "Привет",
            hello_answer: "Здравствуйте, Анна!",
            remember: "Вы меня помните?",
            remember_answer: "Конечно помню, Анна!",
            question: "Когда начинаются экзамены?",
            answer: "Вступительные экзамены начинаются 15 июля.",
        },
        Script {
            user: "u_1737000000103",
            state: "My name is John",
            name: "John",
            ask_name: "What is my name?",
            name_answer: "Your name is John.",
            hello: "Hello",
            hello_answer: "Hello, John!",
            remember: "Do you remember me?",
            remember_answer: "Of course I remember you, John!",
            question: "When do the exams start?",
            answer: "The entrance exams start on 15 July.",
        },
    ];
    for s in scripts {
        let chat = |message: &str, chat_id: Option<&str>| {
            // The stored language is English for everyone: the message's own language wins.
            let mut body = json!({"userId": s.user, "message": message, "userContext": {"language": "en"}});
            if let Some(id) = chat_id {
                body["chatId"] = json!(id);
            }
            app.post("/api/ai/chat", Some(&op), body)
        };
        let context_path = format!("/api/users/{}/context", s.user);
        let context = || app.get(&context_path, Some(&op));
        let stated = chat(s.state, None).await;
        assert_eq!(stated.body["contextUpdated"], json!(true), "{}", stated.text);
        assert!(stated.body["response"].as_str().unwrap().contains(s.name));
        let chat_id = stated.body["chatId"].as_str().unwrap().to_string();

        let asked = chat(s.ask_name, Some(&chat_id)).await;
        assert!(asked.body["response"].as_str().unwrap().starts_with(s.name_answer), "{}", asked.text);
        assert_eq!(asked.body["contextUpdated"], json!(false));
        assert_eq!(context().await.body["aiContext"]["knownName"], json!(s.name), "asking never renames");

        let hello = chat(s.hello, Some(&chat_id)).await;
        assert!(hello.body["response"].as_str().unwrap().starts_with(s.hello_answer), "{}", hello.text);

        let new_chat = chat(s.hello, None).await;
        assert_ne!(new_chat.body["chatId"], json!(chat_id));
        assert!(new_chat.body["response"].as_str().unwrap().starts_with(s.hello_answer), "{}", new_chat.text);
        let new_id = new_chat.body["chatId"].as_str().unwrap().to_string();
        let remember = chat(s.remember, Some(&new_id)).await;
        assert!(remember.body["response"].as_str().unwrap().starts_with(s.remember_answer), "{}", remember.text);

        let answered = chat(s.question, Some(&new_id)).await;
        let text = answered.body["response"].as_str().unwrap();
        assert!(text.contains(s.answer), "{}: {text}", s.question);
        assert!(text.contains(s.name), "{text}");
        assert_eq!(context().await.body["aiContext"]["knownName"], json!(s.name));
    }

    // Asked before any name is known: a request to state it, and nothing is remembered.
    let unknown = app
        .post("/api/ai/chat", Some(&op), json!({"userId": "u_1737000000104", "message": "Mening ismim nima?"}))
        .await;
    assert!(unknown.body["response"].as_str().unwrap().contains("Ismingiz nima?"), "{}", unknown.text);
    let memory = app.get("/api/users/u_1737000000104/context", Some(&op)).await;
    assert_eq!(memory.body["aiContext"]["knownName"], Value::Null, "{}", memory.text);
}

/// A role that may not chat gets a 403 in the call-center body, and no WebSocket.
#[tokio::test]
async fn the_stream_refuses_roles_without_callcenter_write_before_the_upgrade() {
    let app = TestApp::spawn().await;
    let (_, email, password) = app.create_user("financial_director").await;
    let reader = app.token(&email, &password).await;
    let url = format!("{}/api/ai/chat/chat_x/stream", app.base.replace("http://", "ws://"));
    let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url).unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {reader}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
            let body: Value = serde_json::from_slice(res.body().as_deref().unwrap_or_default()).unwrap();
            assert_eq!(body["code"], json!("FORBIDDEN"));
            assert!(body["error"].is_string() && body["message"].is_string());
        }
        other => panic!("the upgrade must be refused: {:?}", other.map(|(_, r)| r.status())),
    }
}

/// Stopping the server closes open streams with 1001 (going away) and does not wait for them.
#[tokio::test]
async fn shutdown_closes_streams_with_going_away_and_exits_promptly() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let url = format!("{}/api/ai/chat/chat_x/stream?token={op}", app.base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let started = std::time::Instant::now();
    let stopper = app.running.stopper();
    let stopping = tokio::spawn(async move { stopper.stop().await });
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("a close frame in time");
    let frame = frame.expect("a close code");
    assert_eq!(u16::from(frame.code), 1001);
    tokio::time::timeout(std::time::Duration::from_secs(5), stopping).await.expect("stopped promptly").unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// The chat body is read against its documented schema: every wrong field is named at once
/// in the call-center body, and nothing is stored.
#[tokio::test]
async fn a_malformed_chat_message_names_every_wrong_field() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let res =
        app.post("/api/ai/chat", Some(&op), json!({"userId": 5, "message": ["hi"], "userContext": {"name": 7}})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text);
    assert_eq!(res.body["details"]["userId"], json!(["userId must be a string."]), "{}", res.text);
    assert_eq!(res.body["details"]["message"], json!(["message must be a string."]));
    assert_eq!(res.body["details"]["userContext.name"], json!(["userContext.name must be a string."]));
    assert_eq!(res.body["message"], res.body["error"], "the call-center body: {}", res.text);
    let res = app.post("/api/ai/chat", Some(&op), json!({"userId": null, "message": "Salom"})).await;
    assert_eq!(res.body["details"]["userId"], json!(["userId may not be null."]), "{}", res.text);
    let chats = app.get("/api/chats", Some(&op)).await;
    assert_eq!(chats.body["total"], json!(0), "no chat was started: {}", chats.text);
}
