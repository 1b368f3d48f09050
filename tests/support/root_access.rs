//! The root-access stand-in (`tests/standins/root_access.py`): a minimal local server for IAM
//! `ListOrganizationsFeatures`, STS `AssumeRoot` and the AssumeRoot session's reads, which moto
//! lacks, in front of a moto server that answers everything else. Started per test, like moto.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub struct RootAccessStandIn {
    child: Child,
    pub endpoint: String,
}

impl RootAccessStandIn {
    /// Starts the stand-in in front of moto at `moto`, with the project's Python (the venv's).
    pub fn start(moto: &str) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let venv = root.join(".venv/bin/python");
        let python = if venv.exists() {
            venv
        } else {
            "python3".into()
        };
        let mut child = Command::new(&python)
            .arg(root.join("tests/standins/root_access.py"))
            .args(["--moto", moto])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting the root-access stand-in: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("the stand-in's stdout"))
            .read_line(&mut line)
            .expect("the stand-in says its port");
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the stand-in said {line:?}"));
        RootAccessStandIn {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Sets the organization's features and members' root credentials (see the script).
    pub fn set(&self, state: &Value) {
        ureq::post(&format!("{}/stand-in/state", self.endpoint))
            .send_json(state)
            .expect("set the stand-in's state");
    }

    /// Every call the stand-in served itself, in order.
    pub fn calls(&self) -> Vec<Value> {
        ureq::get(&format!("{}/stand-in/calls", self.endpoint))
            .call()
            .expect("the stand-in's calls")
            .body_mut()
            .read_json()
            .expect("JSON calls")
    }
}

impl Drop for RootAccessStandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
