//! The sample events under `events/`, for the unit tests (the integration tests have their own
//! loader in `tests/support`, which cannot reach a `cfg(test)` module).

use std::path::{Path, PathBuf};

use serde_json::Value;

fn read(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// One sample by its name under `events/`, without `.json` (`"invalid/missing-detail"`).
pub fn sample(name: &str) -> Value {
    read(&Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("events/{name}.json")))
}

/// Every `*.json` under `events/`, its folders (invalid and peer-shaped events) included,
/// sorted by path.
pub fn every_sample() -> Vec<(PathBuf, Value)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "json") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("events"),
        &mut paths,
    );
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let value = read(&path);
            (path, value)
        })
        .collect()
}
