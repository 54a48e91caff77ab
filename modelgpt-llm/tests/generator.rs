//! The whole Requirement Generator path over real HTTP on 127.0.0.1.

mod common;

use std::time::Duration;

use common::{Behaviour, TestServer};
use modelgpt_core::{DataProfile, Modality, SampleRecord, TaskSpec};
use modelgpt_llm::{
    AnswerCache, CacheKey, Error, OpenAiClient, PromptConfig, RequirementGenerator, Source,
};

fn profile() -> DataProfile {
    let task = TaskSpec::new("heart", Modality::Tabular)
        .with_features(["age", "chol", "thalach"])
        .with_labels(["absent", "present", "severe"]);
    let mut p = DataProfile::new(task, 300, vec![150, 100, 50])
        .with_description("Cleveland heart disease records.");
    for (i, label) in ["absent", "present", "severe", "absent"].iter().enumerate() {
        p.records.push(SampleRecord {
            fields: vec![
                ("age".into(), format!("{}", 40 + i)),
                ("chol".into(), "233".into()),
                ("thalach".into(), "150".into()),
            ],
            label: label.to_string(),
        });
    }
    p
}

fn client(server: &TestServer) -> OpenAiClient {
    OpenAiClient::builder(server.base_url())
        .model("test-model")
        .without_api_key()
        .read_timeout(Duration::from_millis(800))
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .build()
        .unwrap()
}

const MULTI: &str = "Sure! Here is the requirement you asked for:\n\n\
**Requirement:** \"This is a 3-class tabular classification task to grade heart disease from age, cholesterol and heart rate.\"\n\n\
The task uses three numeric features. Let me know if you need anything else!";

#[test]
fn multi_paragraph_answer_becomes_one_sentence() {
    let server = TestServer::start(vec![Behaviour::answer(MULTI)]);
    let out = RequirementGenerator::new()
        .with_openai(client(&server))
        .generate(&profile())
        .unwrap();
    assert_eq!(
        out.requirement.as_str(),
        "This is a 3-class tabular classification task to grade heart disease from age, cholesterol and heart rate."
    );
    assert_eq!((out.source, out.cached), (Source::Llm, false));
    // The prompt the server saw is the one-shot prompt with every class among the rows.
    let body = server.recorded()[0].json();
    let user = body["messages"][3]["content"]
        .as_str()
        .unwrap_or("")
        .to_string();
    for l in ["absent", "present", "severe"] {
        assert!(user.contains(&format!("[label] {l}")), "{user}");
    }
    assert!(user.contains("Background: Cleveland heart disease records."));
    server.join();
}

#[test]
fn invalid_answer_is_repaired_once() {
    let server = TestServer::start(vec![
        Behaviour::answer("I am not sure what you mean."),
        Behaviour::answer("Classify patients into three heart disease grades."),
    ]);
    let out = RequirementGenerator::new()
        .with_openai(client(&server))
        .generate(&profile())
        .unwrap();
    assert_eq!(
        out.requirement.as_str(),
        "Classify patients into three heart disease grades."
    );
    let rec = server.recorded();
    assert_eq!(rec.len(), 2);
    let msgs = rec[1].json()["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        msgs.len(),
        6,
        "original 4 + the bad answer + the repair request"
    );
    assert_eq!(msgs[4]["content"], "I am not sure what you mean.");
    assert!(
        msgs[5]["content"]
            .as_str()
            .unwrap_or("")
            .contains("does not name the task type")
    );
    server.join();
}

#[test]
fn answer_that_stays_invalid_is_a_typed_error() {
    let server = TestServer::start(vec![
        Behaviour::answer("A classification task."),
        Behaviour::answer("Still a classification task."),
    ]);
    match RequirementGenerator::new()
        .with_openai(client(&server))
        .generate(&profile())
    {
        Err(Error::InvalidAnswer { reason, answer }) => {
            assert!(reason.contains("number of classes (3)"), "{reason}");
            assert_eq!(answer, "Still a classification task.");
        }
        other => panic!("{other:?}"),
    }
    server.join();
}

#[test]
fn cache_serves_repeats_and_survives_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(vec![
        Behaviour::answer("A 3-class tabular classification of heart disease."),
        Behaviour::answer("A three-class classification of heart disease grades."),
    ]);
    let cache = AnswerCache::open(dir.path()).unwrap();
    let c = client(&server);
    let key = CacheKey::new(
        &c.cache_identity(),
        &PromptConfig::new().build(&profile()).unwrap(),
        "single",
    );
    let generator = RequirementGenerator::new()
        .with_openai(c)
        .with_cache(cache.clone());

    let first = generator.generate(&profile()).unwrap();
    assert!(!first.cached);
    let second = generator.generate(&profile()).unwrap();
    assert!(second.cached);
    assert_eq!(first.requirement, second.requirement);
    assert_eq!(server.n_requests(), 1);

    // A corrupt entry is a miss: the model is asked again and the entry rewritten.
    std::fs::write(cache.path(&key), "{\"version\": 1, \"key\": tru").unwrap();
    let third = generator.generate(&profile()).unwrap();
    assert!(!third.cached);
    assert_eq!(
        third.requirement.as_str(),
        "A three-class classification of heart disease grades."
    );
    assert_eq!(server.n_requests(), 2);
    assert_eq!(
        cache.get(&key).as_deref(),
        Some("A three-class classification of heart disease grades.")
    );
    server.join();
}

#[test]
fn parallel_variant_over_http() {
    let answer = "3\n1. This is a 3-class tabular classification of heart disease.\n\
2. Classify patients into three heart disease grades.\n3. Predict one of 3 heart disease levels from age and cholesterol.";
    let server = TestServer::start(vec![Behaviour::answer(answer)]);
    let generator = RequirementGenerator::new()
        .with_openai(client(&server))
        .with_prompt_config(PromptConfig::new().with_max_rows(3));
    let (pool, source, cached) = generator.generate_pool(&profile(), 3).unwrap();
    assert_eq!((pool.len(), source, cached), (3, Source::Llm, false));
    assert_eq!(
        pool[1].as_str(),
        "Classify patients into three heart disease grades."
    );
    let body = server.recorded()[0].json();
    let user = body["messages"][3]["content"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        user.contains("Batches: 3") && user.contains("Batch 3:"),
        "{user}"
    );
    server.join();
}

#[test]
fn server_faults_surface_as_typed_errors_through_the_generator() {
    let server = TestServer::start(vec![Behaviour::json(200, r#"{"choices":[]}"#)]);
    let err = RequirementGenerator::new()
        .with_openai(client(&server))
        .generate(&profile())
        .unwrap_err();
    assert!(matches!(err, Error::EmptyChoices), "{err:?}");
    server.join();
}
