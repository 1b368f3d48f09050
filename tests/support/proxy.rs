//! An HTTP proxy in front of moto's DynamoDB, for two reasons.
//!
//! **Atomic conditional writes.** moto's DynamoDB checks a `ConditionExpression` and then writes,
//! without a lock, in a threaded server: two concurrent conditional `PutItem`s on one key can
//! both succeed (reproduced with 8 concurrent writers: 4 of 300 keys got two winners with a
//! two-clause condition, 12 of 300 with the claim's three-clause one). Real DynamoDB applies
//! each conditional write atomically, and the claim protocol relies on it. The proxy forwards
//! one request at a time, which gives moto that atomicity back.
//!
//! **A lost response.** Optionally, the first request with a chosen `x-amz-target` (e.g.
//! `DynamoDB_20120810.PutItem`) is forwarded and answered by moto, but the client's connection
//! is closed instead of passing the answer on: the write happened; the client never hears of it.

use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::faulty::{header, read_message};

pub struct Proxy {
    pub endpoint: String,
    log: Arc<Mutex<Log>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Log {
    /// `x-amz-target` of every request forwarded, in order.
    targets: Vec<String>,
    dropped: usize,
}

struct Shared {
    upstream: String,
    drop_target: Option<&'static str>,
    log: Arc<Mutex<Log>>,
    /// Held from forwarding a request until its response is read: one request at a time.
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl Proxy {
    /// Forwards every request to `upstream` (`http://host:port`), one at a time.
    pub async fn serializing(upstream: &str) -> Self {
        Self::start(upstream, None).await
    }

    /// As [`Proxy::serializing`], but drops the response to the first request whose
    /// `x-amz-target` is `target`.
    pub async fn dropping_first(upstream: &str, target: &'static str) -> Self {
        Self::start(upstream, Some(target)).await
    }

    async fn start(upstream: &str, drop_target: Option<&'static str>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Log::default()));
        let shared = Arc::new(Shared {
            upstream: upstream
                .strip_prefix("http://")
                .expect("an http:// upstream")
                .to_owned(),
            drop_target,
            log: log.clone(),
            one_at_a_time: tokio::sync::Mutex::new(()),
        });
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move { relay(client, &shared).await });
            }
        });
        Proxy {
            endpoint,
            log,
            task,
        }
    }

    /// The targets of the requests forwarded so far.
    pub fn targets(&self) -> Vec<String> {
        self.log.lock().unwrap().targets.clone()
    }

    /// How many responses were dropped (0 or 1).
    pub fn dropped(&self) -> usize {
        self.log.lock().unwrap().dropped
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Forwards `request` on a connection of its own, so the upstream's keep-alive habits do not
/// matter, and returns the response.
async fn exchange(upstream: &str, request: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await.ok()?;
    server.write_all(request).await.ok()?;
    read_message(&mut server).await
}

/// One client connection.
async fn relay(mut client: TcpStream, shared: &Shared) {
    while let Some(request) = read_message(&mut client).await {
        let target = header(&request, "x-amz-target").unwrap_or_default();
        let response = {
            let _turn = shared.one_at_a_time.lock().await;
            exchange(&shared.upstream, &request).await
        };
        let Some(response) = response else {
            return;
        };
        let drop_this = {
            let mut log = shared.log.lock().unwrap();
            log.targets.push(target.clone());
            let first = shared.drop_target == Some(target.as_str()) && log.dropped == 0;
            log.dropped += usize::from(first);
            first
        };
        if drop_this {
            // moto has answered (the write happened); the client hears nothing.
            return;
        }
        if client.write_all(&response).await.is_err() {
            return;
        }
        let framed_by_close = header(&response, "content-length").is_none()
            || header(&response, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if framed_by_close {
            return;
        }
    }
}
