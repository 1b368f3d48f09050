//! The coverage check's pure part at an organization's scale: 1,000 accounts × 17 regions judged
//! against their heartbeats (every cell watched, one gap, one region blind), and a heartbeat
//! parsed. Run with `make bench-coverage` (with `benches/coverage_org.rs`, the run against moto).

use std::hint::black_box;

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use rootwatch::coverage::heartbeat;
use rootwatch::coverage::judge::{Expected, Member, Seen, gaps, judge};
use rootwatch::domain::{AccountId, AccountName};

/// The 17 regions an organization might cover.
pub const REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
];

fn members(n: u64) -> Vec<Member> {
    (1..=n)
        .map(|i| Member {
            id: AccountId::parse(&format!("{:012}", 100_000_000_000 + i)).unwrap(),
            name: AccountName::from_untrusted(&format!("member-{i}")),
            joined: None,
        })
        .collect()
}

fn coverage(c: &mut Criterion) {
    let members = members(1_000);
    let regions: Vec<String> = REGIONS.iter().map(|r| (*r).to_owned()).collect();
    let home = members[0].id.clone();
    let expected = Expected {
        members: &members,
        regions: &regions,
        home_account: &home,
        home_region: "us-east-1",
    };
    let now: DateTime<Utc> = "2026-11-21T12:00:00Z".parse().unwrap();
    let started = now - Duration::days(3);
    let mut all = Seen::new();
    for m in &members {
        for r in &regions {
            all.insert((r.clone(), m.id.clone()), now - Duration::minutes(20));
        }
    }
    let mut one_gap = all.clone();
    one_gap.remove(&("ap-southeast-2".to_owned(), members[500].id.clone()));
    let mut region_blind = all.clone();
    region_blind.retain(|(region, _), _| region != "eu-west-1");

    let mut group = c.benchmark_group("coverage 1000 accounts x 17 regions");
    for (name, seen) in [
        ("all watched", &all),
        ("one gap", &one_gap),
        ("one region blind", &region_blind),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let cells = judge(expected, black_box(seen), started, now);
                black_box(gaps(&cells, &regions))
            })
        });
    }
    group.finish();

    let beat: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/events/heartbeat.json"
        ))
        .unwrap(),
    )
    .unwrap();
    c.bench_function("heartbeat parse", |b| {
        b.iter(|| black_box(heartbeat::parse(black_box(&beat)).unwrap()))
    });
}

criterion_group!(benches, coverage);
criterion_main!(benches);
