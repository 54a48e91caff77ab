//! The OpenAI-compatible client over real HTTP on 127.0.0.1, against a scripted test server.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Behaviour, TestServer, closed_port_url};
use modelgpt_core::{ImageAttachment, LanguageModel, Prompt};
use modelgpt_llm::{Error, OpenAiClient, OpenAiClientBuilder};

const KEY: &str = "sk-test-SECRET-4f9a1c77e2";

fn builder(server: &TestServer) -> OpenAiClientBuilder {
    OpenAiClient::builder(server.base_url())
        .model("test-model")
        .api_key(KEY)
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_millis(400))
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
}

fn prompt() -> Prompt {
    Prompt::new()
        .system("Answer in one sentence.")
        .user("Describe the task.")
}

/// The key must not appear in an error's Display, Debug, or any source's Display.
fn assert_no_key(e: &dyn std::error::Error) {
    let mut texts = vec![e.to_string(), format!("{e:?}")];
    let mut source = e.source();
    while let Some(s) = source {
        texts.push(s.to_string());
        texts.push(format!("{s:?}"));
        source = s.source();
    }
    for t in texts {
        assert!(
            !t.contains(KEY) && !t.contains("SECRET"),
            "API key leaked: {t}"
        );
    }
}

/// Records the log lines of the retry hook.
fn logging(b: OpenAiClientBuilder) -> (OpenAiClientBuilder, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let b = b.on_retry(move |event| {
        if let Ok(mut l) = sink.lock() {
            l.push(event.to_string());
        }
    });
    (b, lines)
}

fn assert_logs_clean(lines: &Arc<Mutex<Vec<String>>>) -> usize {
    let lines = lines.lock().map(|l| l.clone()).unwrap_or_default();
    for l in &lines {
        assert!(!l.contains(KEY), "API key in log line: {l}");
    }
    lines.len()
}

#[test]
fn success_sends_the_openai_request_shape() {
    let server = TestServer::start(vec![Behaviour::answer(
        "A 2-class text classification task.",
    )]);
    let client = builder(&server).build().unwrap();
    assert!(!format!("{client:?}").contains(KEY));
    let answer = client.complete(&prompt()).unwrap();
    assert_eq!(answer, "A 2-class text classification task.");
    let req = &server.recorded()[0];
    assert_eq!(req.request_line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert!(
        req.header("content-type")
            .unwrap_or("")
            .starts_with("application/json")
    );
    let body = req.json();
    assert_eq!(body["model"], "test-model");
    assert!((body["temperature"].as_f64().unwrap_or(0.0) - 0.4).abs() < 1e-6);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["content"], "Describe the task.");
    server.join();
}

#[test]
fn no_key_means_no_authorization_header() {
    let server = TestServer::start(vec![Behaviour::answer("ok")]);
    let client = builder(&server)
        .api_key_env("MODELGPT_TEST_VARIABLE_THAT_IS_NEVER_SET")
        .build()
        .unwrap();
    client.chat(&prompt()).unwrap();
    assert_eq!(server.recorded()[0].header("authorization"), None);
    server.join();
}

#[test]
fn images_go_as_base64_data_urls() {
    let server = TestServer::start(vec![Behaviour::answer("ok")]);
    let client = builder(&server).build().unwrap();
    let mut p = prompt();
    p.messages[1].images.push(ImageAttachment {
        mime: "image/png".into(),
        bytes: b"\x89PNG fake".to_vec(),
    });
    client.chat(&p).unwrap();
    let body = server.recorded()[0].json();
    let parts = &body["messages"][1]["content"];
    assert_eq!(parts[0]["type"], "text");
    assert_eq!(parts[1]["type"], "image_url");
    assert_eq!(
        parts[1]["image_url"]["url"],
        "data:image/png;base64,iVBORyBmYWtl"
    );
    server.join();
}

#[test]
fn server_error_then_success() {
    let server = TestServer::start(vec![
        Behaviour::json(500, r#"{"error":{"message":"boom"}}"#),
        Behaviour::json(503, "overloaded"),
        Behaviour::answer("fine"),
    ]);
    let (b, logs) = logging(builder(&server).max_retries(3));
    let started = Instant::now();
    assert_eq!(b.build().unwrap().chat(&prompt()).unwrap(), "fine");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(server.n_requests(), 3);
    assert_eq!(assert_logs_clean(&logs), 2);
    server.join();
}

#[test]
fn rate_limit_honours_retry_after() {
    let server = TestServer::start(vec![
        Behaviour::json(429, r#"{"error":{"message":"slow down"}}"#)
            .with_header("Retry-After", "1"),
        Behaviour::answer("after the wait"),
    ]);
    let client = builder(&server).max_retries(2).build().unwrap();
    let started = Instant::now();
    assert_eq!(client.chat(&prompt()).unwrap(), "after the wait");
    let elapsed = started.elapsed();
    let rec = server.recorded();
    assert_eq!(rec.len(), 2);
    let gap = rec[1].at.duration_since(rec[0].at);
    assert!(
        gap >= Duration::from_millis(950),
        "Retry-After not honoured: {gap:?}"
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    server.join();
}

#[test]
fn rate_limit_that_persists_is_a_typed_error() {
    let limited = || Behaviour::json(429, "{}").with_header("Retry-After", "0");
    let server = TestServer::start(vec![limited(), limited()]);
    let err = builder(&server)
        .max_retries(1)
        .build()
        .unwrap()
        .chat(&prompt())
        .unwrap_err();
    match &err {
        Error::RetriesExhausted { attempts: 2, last } => {
            assert!(
                matches!(**last, Error::Http { status: 429, retry_after: Some(d), .. } if d.is_zero())
            );
        }
        other => panic!("{other:?}"),
    }
    assert_no_key(&err);
    server.join();
}

#[test]
fn slow_answer_times_out_then_retry_succeeds() {
    let server = TestServer::start(vec![
        Behaviour::answer("too late").delayed(Duration::from_millis(2500)),
        Behaviour::answer("in time"),
    ]);
    let (b, logs) = logging(builder(&server).max_retries(2));
    let started = Instant::now();
    assert_eq!(b.build().unwrap().chat(&prompt()).unwrap(), "in time");
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(4),
        "10x the read timeout: {elapsed:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(350),
        "the first attempt must wait for its timeout"
    );
    assert_eq!(assert_logs_clean(&logs), 1);
    server.join();
}

#[test]
fn delay_past_timeout_every_time_exhausts_retries() {
    let slow = || Behaviour::answer("never seen").delayed(Duration::from_millis(2500));
    let server = TestServer::start(vec![slow(), slow()]);
    let started = Instant::now();
    let err = builder(&server)
        .max_retries(1)
        .build()
        .unwrap()
        .chat(&prompt())
        .unwrap_err();
    let elapsed = started.elapsed();
    match &err {
        Error::RetriesExhausted { attempts: 2, last } => {
            assert!(
                matches!(**last, Error::Timeout { after } if after == Duration::from_millis(400)),
                "{last:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Two attempts of 400 ms plus a backoff of at most 100 ms; 10x leaves room for slow machines.
    assert!(elapsed < Duration::from_secs(9), "{elapsed:?}");
    assert_no_key(&err);
}

#[test]
fn connection_that_never_answers_times_out() {
    let server = TestServer::start(vec![Behaviour::Hang {
        hold: Duration::from_secs(4),
    }]);
    let started = Instant::now();
    let err = builder(&server)
        .max_retries(0)
        .build()
        .unwrap()
        .chat(&prompt())
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(&err, Error::RetriesExhausted { attempts: 1, last } if matches!(**last, Error::Timeout { .. })),
        "{err:?}"
    );
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert!(elapsed >= Duration::from_millis(350));
    assert_no_key(&err);
}

#[test]
fn malformed_json_is_a_protocol_error_without_retry() {
    let server = TestServer::start(vec![
        Behaviour::json(200, r#"{"choices": [ {"message": "#),
        Behaviour::answer("unused"),
    ]);
    let err = builder(&server)
        .max_retries(3)
        .build()
        .unwrap()
        .chat(&prompt())
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Protocol {
                source: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.n_requests(), 1);
    assert_no_key(&err);
    // The same through the LanguageModel trait: a core error that converts back to ours.
    let server = TestServer::start(vec![Behaviour::json(200, "<html>not json</html>")]);
    let core_err = builder(&server)
        .build()
        .unwrap()
        .complete(&prompt())
        .unwrap_err();
    assert_no_key(&core_err);
    assert!(matches!(Error::from(core_err), Error::Protocol { .. }));
}

#[test]
fn empty_choices_and_empty_content_are_typed() {
    let server = TestServer::start(vec![
        Behaviour::json(200, r#"{"id":"x","choices":[]}"#),
        Behaviour::answer("   "),
    ]);
    let client = builder(&server).build().unwrap();
    let e1 = client.chat(&prompt()).unwrap_err();
    assert!(matches!(e1, Error::EmptyChoices), "{e1:?}");
    let e2 = client.chat(&prompt()).unwrap_err();
    assert!(matches!(e2, Error::EmptyAnswer), "{e2:?}");
    assert_eq!(server.n_requests(), 2);
    server.join();
}

#[test]
fn client_errors_are_not_retried_and_the_key_is_scrubbed() {
    // Servers sometimes echo the key they rejected.
    let body = format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}"}}}}"#);
    let server = TestServer::start(vec![
        Behaviour::json(401, &body),
        Behaviour::answer("unused"),
    ]);
    let (b, logs) = logging(builder(&server).max_retries(3));
    let err = b.build().unwrap().chat(&prompt()).unwrap_err();
    match &err {
        Error::Http {
            status: 401,
            body_excerpt,
            ..
        } => assert!(body_excerpt.contains("[redacted]"), "{body_excerpt}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.n_requests(), 1);
    assert_eq!(assert_logs_clean(&logs), 0);
    assert_no_key(&err);
    let core = err.into_core();
    assert_no_key(&core);
}

#[test]
fn refused_connection_is_retried_then_reported() {
    let client = OpenAiClient::builder(closed_port_url())
        .api_key(KEY)
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_millis(500))
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .max_retries(2)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.chat(&prompt()).unwrap_err();
    assert!(
        matches!(&err, Error::RetriesExhausted { attempts: 3, last } if matches!(**last, Error::Transport { .. } | Error::Timeout { .. })),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_no_key(&err);
}

/// Asserts `err` is the deadline error of a 2 s deadline and returns its attempts and last error.
fn deadline_parts(err: &Error) -> (u32, &Error) {
    match err {
        Error::DeadlineExceeded {
            deadline,
            attempts,
            last,
        } => {
            assert_eq!(*deadline, Duration::from_secs(2));
            (*attempts, &**last)
        }
        other => panic!("expected DeadlineExceeded, got {other:?}"),
    }
}

#[test]
fn deadline_bounds_a_server_that_never_answers() {
    // Per-attempt timeouts far beyond the deadline: only the deadline can end this call.
    let server = TestServer::start(vec![Behaviour::Hang {
        hold: Duration::from_secs(5),
    }]);
    let (b, logs) = logging(
        builder(&server)
            .connect_timeout(Duration::from_secs(120))
            .read_timeout(Duration::from_secs(120))
            .max_retries(3)
            .deadline(Duration::from_secs(2)),
    );
    let started = Instant::now();
    let err = b.build().unwrap().chat(&prompt()).unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(1900),
        "ended before the deadline: {elapsed:?}"
    );
    let (attempts, last) = deadline_parts(&err);
    assert_eq!(attempts, 1);
    // The attempt's timeout was what was left of the deadline, not the 120 s read timeout.
    assert!(
        matches!(last, Error::Timeout { after } if *after <= Duration::from_secs(2)),
        "{last:?}"
    );
    assert!(err.to_string().contains("deadline of 2s"), "{err}");
    assert_eq!(assert_logs_clean(&logs), 0);
    assert_no_key(&err);
    // Through the LanguageModel trait the variant survives.
    assert!(matches!(
        Error::from(err.into_core()),
        Error::DeadlineExceeded { .. }
    ));
}

#[test]
fn deadline_bounds_retries_and_backoff_against_503_forever() {
    let unavailable = || Behaviour::json(503, r#"{"error":{"message":"overloaded"}}"#);
    let server = TestServer::start((0..64).map(|_| unavailable()).collect());
    let (b, logs) = logging(
        builder(&server)
            .max_retries(1000)
            .backoff(Duration::from_millis(100), Duration::from_millis(800))
            .deadline(Duration::from_secs(2)),
    );
    let started = Instant::now();
    let err = b.build().unwrap().chat(&prompt()).unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let (attempts, last) = deadline_parts(&err);
    assert!(matches!(last, Error::Http { status: 503, .. }), "{last:?}");
    // Backoff waits of 50..100, 100..200, 200..400, 400..800 ms, then 400..800 ms each.
    assert!((3..=12).contains(&attempts), "{attempts} attempts");
    assert_eq!(server.n_requests(), attempts as usize);
    // Every attempt but the last was followed by a logged wait that ended before the deadline.
    assert_eq!(assert_logs_clean(&logs), attempts as usize - 1);
    assert_no_key(&err);
}

#[test]
fn retry_after_past_the_deadline_is_not_waited_for() {
    let server = TestServer::start(vec![
        Behaviour::json(503, "{}").with_header("Retry-After", "30"),
        Behaviour::answer("unused"),
    ]);
    let started = Instant::now();
    let err = builder(&server)
        .max_retries(3)
        .max_retry_after(Duration::from_secs(60))
        .deadline(Duration::from_secs(2))
        .build()
        .unwrap()
        .chat(&prompt())
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "slept anyway: {elapsed:?}"
    );
    let (attempts, last) = deadline_parts(&err);
    assert_eq!(attempts, 1);
    assert!(
        matches!(last, Error::Http { status: 503, retry_after: Some(d), .. } if d.as_secs() == 30),
        "{last:?}"
    );
    assert_eq!(server.n_requests(), 1);
}
