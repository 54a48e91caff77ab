//! Opt-in: the whole path against a real OpenAI-compatible server.
//!
//! Skipped unless `MODELGPT_LLM_ENDPOINT` is set (e.g. `http://127.0.0.1:8080/v1` for llama.cpp's
//! `llama-server`, see the crate docs); `MODELGPT_LLM_MODEL` names the model (default
//! `qwen2.5-coder-0.5b`). The API key, if any, comes from `OPENAI_API_KEY`.

use std::time::Duration;

use modelgpt_core::{DataProfile, Modality, SampleRecord, TaskSpec};
use modelgpt_llm::{Expectations, OpenAiClient, RequirementGenerator, Source};

#[test]
fn live_endpoint_writes_a_valid_requirement() {
    let Some(endpoint) = std::env::var("MODELGPT_LLM_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty())
    else {
        println!(
            "skipped: set MODELGPT_LLM_ENDPOINT (and MODELGPT_LLM_MODEL) to run against a real server"
        );
        return;
    };
    let model = std::env::var("MODELGPT_LLM_MODEL").unwrap_or_else(|_| "qwen2.5-coder-0.5b".into());
    let client = OpenAiClient::builder(endpoint)
        .model(model)
        .read_timeout(Duration::from_secs(120))
        .max_retries(2)
        .build()
        .expect("client settings");

    let task = TaskSpec::new("iris", Modality::Tabular)
        .with_features(["sepal length", "sepal width", "petal length", "petal width"])
        .with_labels(["setosa", "versicolor", "virginica"]);
    let mut profile =
        DataProfile::new(task, 150, vec![50, 50, 50]).with_description("Fisher's iris data.");
    for (v, label) in [
        ("5.1", "setosa"),
        ("6.4", "versicolor"),
        ("6.3", "virginica"),
    ] {
        profile.records.push(SampleRecord {
            fields: vec![
                ("sepal length".into(), v.into()),
                ("sepal width".into(), "3.2".into()),
                ("petal length".into(), "4.5".into()),
                ("petal width".into(), "1.5".into()),
            ],
            label: label.into(),
        });
    }
    let out = RequirementGenerator::new()
        .with_openai(client)
        .generate(&profile)
        .expect("live generation");
    println!("live requirement: {}", out.requirement);
    assert_eq!(out.source, Source::Llm);
    Expectations::new()
        .with_n_classes(3)
        .check(out.requirement.as_str())
        .expect("valid sentence");
}
