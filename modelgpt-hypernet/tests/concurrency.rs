//! The facades can be shared between threads: generating from 8 threads at once gives exactly
//! the tensors of sequential calls.

mod common;

use std::sync::Arc;

use common::{HashEncoder, TaskShape, dataset, test_device, weights_of};
use modelgpt_core::Requirement;
use modelgpt_hypernet::{
    TabularModelGpt, TailoredTabularModel, TailoredTextModel, TextHyperNet, TextModelGpt,
};

fn send_sync<T: Send + Sync>() {}

#[test]
fn facades_and_their_models_are_send_and_sync() {
    send_sync::<TabularModelGpt>();
    send_sync::<TailoredTabularModel>();
    send_sync::<TextModelGpt>();
    send_sync::<TailoredTextModel>();
    send_sync::<TextHyperNet>();
}

#[test]
fn eight_threads_generate_what_sequential_calls_generate() {
    let device = test_device();
    // The shipped kernel hypernetwork reads 384-wide embeddings.
    let mgpt = Arc::new(
        TabularModelGpt::builder()
            .encoder(Box::new(HashEncoder { dim: 384 }))
            .shipped()
            .build(&device)
            .unwrap(),
    );
    let tasks: Vec<_> = (0..8u64)
        .map(|i| {
            let shape = TaskShape {
                n_features: 3 + i as usize,
                n_classes: 2 + (i as usize % 3),
                rows: 120,
                separation: 2.0,
                seed: 100 + i,
            };
            let data = dataset(&format!("task{i}"), shape);
            let req = Requirement::new(format!("Classify the measurements of task {i}."));
            (data, req)
        })
        .collect();
    let sequential: Vec<_> = tasks
        .iter()
        .map(|(data, req)| {
            let model = mgpt.generate(data, req).unwrap();
            let rows: Vec<usize> = (0..data.n_rows()).collect();
            (
                weights_of(model.mlp()),
                model.predict_proba(data, &rows).unwrap(),
            )
        })
        .collect();
    let tasks = Arc::new(tasks);
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (mgpt, tasks) = (Arc::clone(&mgpt), Arc::clone(&tasks));
            std::thread::spawn(move || {
                let (data, req) = &tasks[i];
                let model = mgpt.generate(data, req).unwrap();
                let rows: Vec<usize> = (0..data.n_rows()).collect();
                (
                    weights_of(model.mlp()),
                    model.predict_proba(data, &rows).unwrap(),
                )
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let parallel = h.join().expect("a generating thread panicked");
        assert_eq!(parallel, sequential[i], "task {i}");
    }
}
