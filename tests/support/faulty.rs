//! A small HTTP server that fails the way real endpoints fail: 500s, throttling, an accepted
//! connection that never answers, a refusal. It counts the requests it saw. It answers any service (the
//! error bodies are SNS's; a silent server or a closed port stands in for DynamoDB too).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// HTTP 500 with an SNS `InternalError` body.
    ServerError,
    /// HTTP 400 with an SNS `Throttling` body.
    Throttled,
    /// HTTP 403 with an SNS `AuthorizationError` body: IAM or the topic's policy refused.
    Forbidden,
    /// Reads the request and never answers.
    Silent,
}

pub struct FaultyServer {
    pub endpoint: String,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultyServer {
    pub async fn start(fault: Fault) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move { serve(stream, fault, seen).await });
            }
        });
        FaultyServer {
            endpoint,
            requests,
            task,
        }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port where nothing listens, for as long as this lives. Its socket is bound and
/// never listens: a connection to it is refused, and no other test's server can take the port
/// meanwhile (a port merely closed again could be given to the next server that asks for one).
pub struct ClosedPort {
    pub endpoint: String,
    _socket: tokio::net::TcpSocket,
}

impl ClosedPort {
    pub fn reserve() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind("127.0.0.1:0".parse().unwrap())
            .expect("bind loopback");
        let endpoint = format!("http://{}", socket.local_addr().unwrap());
        ClosedPort {
            endpoint,
            _socket: socket,
        }
    }
}

/// Reads one HTTP message (head, then a `content-length` body) and returns its bytes, or `None`
/// when the peer closed the connection first. Without a `content-length` (a response that ends
/// with the connection), reads to the end.
pub async fn read_message(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: Option<usize> = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok());
            let Some(length) = length else {
                if head.starts_with("http/") {
                    while let Ok(n @ 1..) = stream.read(&mut chunk).await {
                        buffer.extend_from_slice(&chunk[..n]);
                    }
                }
                return Some(buffer);
            };
            while buffer.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buffer.extend_from_slice(&chunk[..n]);
            }
            return Some(buffer);
        }
    }
}

/// The value of header `name` (lower case) in an HTTP message's head.
pub fn header(message: &[u8], name: &str) -> Option<String> {
    let end = message.windows(4).position(|w| w == b"\r\n\r\n")?;
    String::from_utf8_lossy(&message[..end])
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
}

async fn serve(mut stream: TcpStream, fault: Fault, seen: Arc<AtomicUsize>) {
    while read_message(&mut stream).await.is_some() {
        seen.fetch_add(1, Ordering::SeqCst);
        let (status, kind, code) = match fault {
            Fault::ServerError => ("500 Internal Server Error", "Receiver", "InternalError"),
            Fault::Throttled => ("400 Bad Request", "Sender", "Throttling"),
            Fault::Forbidden => ("403 Forbidden", "Sender", "AuthorizationError"),
            Fault::Silent => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
        };
        let body = format!(
            "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>{kind}</Type>\
             <Code>{code}</Code><Message>injected by the test server</Message></Error>\
             <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        );
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}
