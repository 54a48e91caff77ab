use std::time::Instant;
use burn::tensor::{Device, Tensor, Distribution};
use burn::tensor::activation::softmax;
use modelgpt_targets::prelude::*;

fn t<F: FnMut() -> Tensor<3>>(name: &str, n: usize, mut f: F) {
    let _ = f().into_data();
    let s = Instant::now();
    for _ in 0..n { let _ = f().into_data(); }
    println!("{name}: {:.3} ms", s.elapsed().as_secs_f64() * 1e3 / n as f64);
}

#[test]
fn profile() {
    let device = Device::flex();
    let dir = modelgpt_core::data::assets_dir().join("minilm");
    let enc = BertRequirementEncoder::from_dir(&dir, &device).unwrap();
    let s = "This is a binary tabular classification task to predict heart disease from age, cholesterol, resting blood pressure and chest pain type.";
    let texts: Vec<&str> = std::iter::repeat(s).take(32).collect();
    let st = Instant::now();
    for _ in 0..10 { let _ = enc.encode_ids(&texts).unwrap(); }
    println!("tokenize 32: {:.3} ms", st.elapsed().as_secs_f64() * 1e3 / 10.0);
    let input = enc.tokenize_batch(&texts).unwrap();
    println!("dims {:?}", input.dims());
    let input1 = enc.tokenize_batch(&texts[..1]).unwrap();
    t("forward b=1", 20, || enc.model().forward(input1.clone()));
    t("forward b=32", 5, || enc.model().forward(input.clone()));
    let x = Tensor::<3>::random([32, 30, 384], Distribution::Default, &device);
    let lin = enc.model().layers()[0].attention().query().clone();
    t("linear 384x384 b=32", 20, || lin.forward(x.clone()));
    let q = Tensor::<4>::random([32, 12, 30, 32], Distribution::Default, &device);
    t("qk matmul b=32", 20, || q.clone().matmul(q.clone().swap_dims(2, 3)).reshape([32 * 12, 30, 30]));
    let sc = Tensor::<4>::random([32, 12, 30, 30], Distribution::Default, &device);
    t("softmax b=32", 20, || softmax(sc.clone(), 3).reshape([32 * 12, 30, 30]));
    t("swap+reshape", 20, || q.clone().swap_dims(1, 2).reshape([32, 30, 384]));
    let h = Tensor::<3>::random([32, 30, 1536], Distribution::Default, &device);
    t("gelu", 20, || burn::tensor::activation::gelu(h.clone()));
    let x2 = Tensor::<3>::random([1, 30, 384], Distribution::Default, &device);
    t("linear b=1", 50, || lin.forward(x2.clone()));
}
