//! Runs the pure core (`handler::decide`) over every sample in `events/`, N rounds (default
//! 200): a steady driver for profilers (`valgrind --tool=callgrind`, `perf record`), whose
//! instruction counts are steadier than wall-clock times on a shared machine.

use std::hint::black_box;

use rootwatch::config::Config;
use rootwatch::handler::decide;
use serde_json::Value;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(200, |n| n.parse().expect("a number of rounds"));
    let config = Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:rootwatch-alerts".into()),
        "ACCOUNT_NAMES" => Some("111122223333=prod-payments".into()),
        "RUNBOOK_URL" => Some("https://wiki.example.com/runbooks/root".into()),
        _ => None,
    })
    .expect("valid configuration");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("events/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let samples: Vec<Value> = files
        .iter()
        .map(|p| {
            serde_json::from_str(&std::fs::read_to_string(p).expect("readable")).expect("JSON")
        })
        .collect();
    for _ in 0..rounds {
        for payload in &samples {
            let _ = black_box(decide(black_box(payload), &config));
        }
    }
}
