//! A tiny chat-completions server on 127.0.0.1 for tests, with scripted faults.
//!
//! It serves a fixed list of behaviours, one connection each (each on its own thread) (every response says
//! `Connection: close`), records each request, and stops by itself when the list is done or when
//! no client has connected for a few seconds. No loop is unbounded.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the server does with one connection.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Reads the request, waits `delay`, answers with `status`, extra headers and `body`.
    Respond {
        delay: Duration,
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Reads the request and then says nothing for `hold`, then closes.
    Hang { hold: Duration },
}

impl Behaviour {
    /// 200 with a chat-completions body whose first choice says `content`.
    pub fn answer(content: &str) -> Self {
        Self::json(200, &chat_body(content))
    }

    /// `status` with a JSON (or any) body.
    pub fn json(status: u16, body: &str) -> Self {
        Behaviour::Respond {
            delay: Duration::ZERO,
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    /// Adds a delay before the response.
    pub fn delayed(self, d: Duration) -> Self {
        match self {
            Behaviour::Respond {
                status,
                headers,
                body,
                ..
            } => Behaviour::Respond {
                delay: d,
                status,
                headers,
                body,
            },
            other => other,
        }
    }

    /// Adds a header.
    pub fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Behaviour::Respond {
                delay,
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value.into()));
                Behaviour::Respond {
                    delay,
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

/// A chat-completions response body.
pub fn chat_body(content: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }]
    })
    .to_string()
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    handle: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts serving `script`, one behaviour per connection, in a background thread.
    pub fn start(script: Vec<Behaviour>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let handle = std::thread::spawn(move || {
            let idle_limit = Duration::from_secs(5);
            let mut workers = Vec::new();
            for behaviour in script {
                // Wait (bounded) for the next connection.
                let started = Instant::now();
                let stream = loop {
                    match listener.accept() {
                        Ok((s, _)) => break Some(s),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            if started.elapsed() > idle_limit {
                                break None;
                            }
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => break None,
                    }
                };
                let Some(stream) = stream else { break };
                // One thread per connection, so a hanging or slow answer does not hold up the
                // client's retry on a new connection.
                let recorded = recorded.clone();
                workers.push(std::thread::spawn(move || {
                    serve(stream, &behaviour, &recorded)
                }));
            }
            for w in workers {
                let _ = w.join();
            }
        });
        Self {
            addr,
            requests,
            handle: Some(handle),
        }
    }

    /// The base URL as OpenAI SDKs take it.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn n_requests(&self) -> usize {
        self.requests.lock().map(|r| r.len()).unwrap_or(0)
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits for the server thread to finish its script (it always does, within its limits).
    pub fn join(mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn serve(mut stream: TcpStream, behaviour: &Behaviour, recorded: &Arc<Mutex<Vec<Recorded>>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    let Some(req) = read_request(&mut stream) else {
        return;
    };
    if let Ok(mut r) = recorded.lock() {
        r.push(req);
    }
    match behaviour {
        Behaviour::Respond {
            delay,
            status,
            headers,
            body,
        } => {
            std::thread::sleep(*delay);
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                reason(*status),
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            // The client may have timed out and gone: write errors are expected then.
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
            let _ = stream.flush();
        }
        Behaviour::Hang { hold } => std::thread::sleep(*hold),
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        request_line,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
        at: Instant::now(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A base URL on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}/v1")
}
