//! The pure core per event: parse → classify → enrich → render, on every sample in events/.
//! Run with `make bench` (`cargo bench --bench core`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rootwatch::config::Config;
use rootwatch::handler::decide;
use serde_json::Value;

fn samples() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("events/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (
                name,
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
            )
        })
        .collect()
}

fn core(c: &mut Criterion) {
    let config = Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:rootwatch-alerts".into()),
        "ACCOUNT_NAMES" => Some("111122223333=prod-payments".into()),
        "RUNBOOK_URL" => Some("https://wiki.example.com/runbooks/root".into()),
        _ => None,
    })
    .unwrap();
    let samples = samples();
    c.bench_function("decide/all-samples", |b| {
        b.iter(|| {
            for (_, payload) in &samples {
                let _ = black_box(decide(black_box(payload), &config));
            }
        })
    });
    for name in [
        "root-console-sign-in-without-mfa",
        "root-console-sign-in-hostile-user-agent",
    ] {
        let (_, payload) = samples.iter().find(|(n, _)| n == name).unwrap();
        c.bench_function(&format!("decide/{name}"), |b| {
            b.iter(|| decide(black_box(payload), &config))
        });
    }
    let text = serde_json::to_string(&samples[0].1).unwrap();
    c.bench_function("parse-json+decide/one-sample", |b| {
        b.iter(|| {
            let payload: Value = serde_json::from_str(black_box(&text)).unwrap();
            decide(&payload, &config)
        })
    });
}

criterion_group!(benches, core);
criterion_main!(benches);
