//! A blocking client for OpenAI-compatible chat-completions endpoints (OpenAI, vLLM, llama.cpp's
//! server, Ollama).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use modelgpt_core::{LanguageModel, Prompt, Role};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

use crate::error::{Error, Result, excerpt};

/// Environment variable the API key is read from unless configured otherwise.
pub const DEFAULT_API_KEY_ENV: &str = "OPENAI_API_KEY";

/// Largest response body read, in bytes.
const MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;

/// Default total deadline of one [`OpenAiClient::chat`] call, retries and backoff waits included:
/// 180 s, one full default attempt (10 s to connect, 120 s for the answer) with room for a few
/// quick retries, so that a server that never answers costs at most three minutes. See
/// [`OpenAiClientBuilder::deadline`].
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(180);

/// A secret that never shows in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where the API key comes from.
#[derive(Clone, Debug)]
enum KeySource {
    Env(String),
    Explicit(ApiKey),
    Without,
}

/// Called before each retry; see [`OpenAiClientBuilder::on_retry`].
pub type RetryHook = Arc<dyn Fn(&RetryEvent<'_>) + Send + Sync>;

/// A retry about to happen: which attempt failed, why, and how long the client waits.
///
/// Its `Display` is a ready-made log line (it never contains the API key).
#[derive(Debug)]
pub struct RetryEvent<'a> {
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// The wait before the next attempt.
    pub delay: Duration,
    /// Why the attempt failed.
    pub error: &'a Error,
}

impl fmt::Display for RetryEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "attempt {} failed ({}); retrying in {:?}",
            self.attempt, self.error, self.delay
        )
    }
}

/// Builds an [`OpenAiClient`]; every setting has a default except the base URL.
///
/// ```
/// use std::time::Duration;
/// use modelgpt_llm::OpenAiClient;
///
/// let client = OpenAiClient::builder("http://127.0.0.1:8080/v1")
///     .model("qwen2.5-coder-0.5b")
///     .api_key("sk-secret")
///     .read_timeout(Duration::from_secs(30))
///     .deadline(Duration::from_secs(60))
///     .build()?;
/// assert_eq!(client.endpoint(), "http://127.0.0.1:8080/v1/chat/completions");
/// assert!(!format!("{client:?}").contains("sk-secret"));
/// # Ok::<(), modelgpt_llm::Error>(())
/// ```
#[derive(Clone)]
pub struct OpenAiClientBuilder {
    base_url: String,
    model: String,
    key: KeySource,
    temperature: f32,
    max_tokens: Option<u32>,
    connect_timeout: Duration,
    read_timeout: Duration,
    deadline: Duration,
    max_retries: u32,
    backoff_base: Duration,
    backoff_max: Duration,
    max_retry_after: Duration,
    use_env_proxy: bool,
    on_retry: Option<RetryHook>,
}

impl fmt::Debug for OpenAiClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClientBuilder")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("key", &self.key)
            .field("temperature", &self.temperature)
            .field("max_tokens", &self.max_tokens)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("deadline", &self.deadline)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

impl OpenAiClientBuilder {
    fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: "gpt-4o-mini".into(),
            key: KeySource::Env(DEFAULT_API_KEY_ENV.into()),
            temperature: 0.4,
            max_tokens: Some(256),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
            deadline: DEFAULT_DEADLINE,
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            use_env_proxy: true,
            on_retry: None,
        }
    }

    /// The model name sent with each request. Default `gpt-4o-mini`.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Uses this API key (sent as `Authorization: Bearer ...`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.key = KeySource::Explicit(ApiKey(key.into()));
        self
    }

    /// Reads the API key from this environment variable at [`build`](Self::build) time. Default
    /// `OPENAI_API_KEY`; an unset or empty variable means no `Authorization` header.
    pub fn api_key_env(mut self, var: impl Into<String>) -> Self {
        self.key = KeySource::Env(var.into());
        self
    }

    /// Sends no API key (local servers).
    pub fn without_api_key(mut self) -> Self {
        self.key = KeySource::Without;
        self
    }

    /// Sampling temperature, 0 to 2. Default 0.4 (paper §2.2).
    pub fn temperature(mut self, t: f32) -> Self {
        self.temperature = t;
        self
    }

    /// Most tokens the model may generate; `None` leaves it to the server. Default 256.
    pub fn max_tokens(mut self, n: Option<u32>) -> Self {
        self.max_tokens = n;
        self
    }

    /// Time allowed to open the connection (DNS, TCP, TLS), per attempt. Default 10 s. Never more
    /// than what is left of the [`deadline`](Self::deadline).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Time allowed for the response headers, and again for the body, per attempt. Default 120 s.
    /// Never more than what is left of the [`deadline`](Self::deadline).
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = d;
        self
    }

    /// Total time one [`OpenAiClient::chat`] call may take: every attempt, and every backoff or
    /// `Retry-After` wait between them. Default [`DEFAULT_DEADLINE`] (180 s).
    ///
    /// Each attempt's timeouts are the smaller of their own setting and the time left; a retry
    /// whose wait would end past the deadline is not made. When the deadline cuts the call short
    /// it fails with [`Error::DeadlineExceeded`]. A value too large to add to the current time
    /// (such as `Duration::MAX`) leaves only the per-attempt timeouts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use modelgpt_llm::OpenAiClient;
    ///
    /// // At most 30 s in all, however often the server answers 503.
    /// let client = OpenAiClient::builder("http://127.0.0.1:8080/v1")
    ///     .deadline(Duration::from_secs(30))
    ///     .build()?;
    /// assert_eq!(client.deadline(), Duration::from_secs(30));
    /// # Ok::<(), modelgpt_llm::Error>(())
    /// ```
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    /// Retries after a timeout, a transport error, 429 or 5xx. Default 3 (4 attempts in all),
    /// within the [`deadline`](Self::deadline).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Exponential backoff: the wait before retry `i` (1-based) is drawn uniformly from
    /// `[d/2, d]` with `d = min(base * 2^(i-1), max)`. Defaults 500 ms and 20 s.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max;
        self
    }

    /// Longest `Retry-After` honoured; longer requests are cut to this. Default 60 s.
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// Whether to use the proxy named by `HTTP(S)_PROXY`/`ALL_PROXY` (honouring `NO_PROXY`).
    /// Loopback endpoints never use a proxy. Default true.
    pub fn use_env_proxy(mut self, on: bool) -> Self {
        self.use_env_proxy = on;
        self
    }

    /// Calls `hook` before every retry, e.g. to log `"{event}"`. The event never holds the key.
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(hook));
        self
    }

    /// Validates the settings and builds the client.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a base URL that is not `http(s)://...`, an empty model name,
    /// a temperature outside `[0, 2]`, zero timeouts, a zero deadline or a backoff base above its
    /// maximum.
    pub fn build(self) -> Result<OpenAiClient> {
        let invalid = |field, reason: &str| Error::InvalidConfig {
            field,
            reason: reason.into(),
        };
        let base = self.base_url.trim().trim_end_matches('/').to_string();
        let Some(after_scheme) = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"))
        else {
            return Err(invalid("base_url", "must start with http:// or https://"));
        };
        if after_scheme.is_empty() || after_scheme.contains(char::is_whitespace) {
            return Err(invalid("base_url", "must name a host"));
        }
        if self.model.trim().is_empty() {
            return Err(invalid("model", "must not be empty"));
        }
        if !(self.temperature.is_finite() && (0.0..=2.0).contains(&self.temperature)) {
            return Err(invalid("temperature", "must be between 0 and 2"));
        }
        if self.connect_timeout.is_zero() || self.read_timeout.is_zero() {
            return Err(invalid("timeout", "must be greater than zero"));
        }
        if self.deadline.is_zero() {
            return Err(invalid("deadline", "must be greater than zero"));
        }
        if self.backoff_base > self.backoff_max {
            return Err(invalid("backoff", "base must not exceed max"));
        }
        let endpoint = if base.ends_with("/chat/completions") {
            base.clone()
        } else {
            format!("{base}/chat/completions")
        };
        let key = match &self.key {
            KeySource::Explicit(k) if !k.0.is_empty() => Some(k.clone()),
            KeySource::Env(var) => std::env::var(var)
                .ok()
                .filter(|k| !k.trim().is_empty())
                .map(|k| ApiKey(k.trim().to_string())),
            _ => None,
        };
        let host = after_scheme.split(['/', '?']).next().unwrap_or("");
        let loopback =
            host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(self.connect_timeout))
            .timeout_send_request(Some(self.read_timeout))
            .timeout_send_body(Some(self.read_timeout))
            .timeout_recv_response(Some(self.read_timeout))
            .timeout_recv_body(Some(self.read_timeout))
            .user_agent(concat!("modelgpt-llm/", env!("CARGO_PKG_VERSION")));
        if loopback || !self.use_env_proxy {
            config = config.proxy(None);
        }
        let agent = ureq::Agent::new_with_config(config.build());
        Ok(OpenAiClient {
            endpoint,
            model: self.model.trim().to_string(),
            key,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            deadline: self.deadline,
            max_retries: self.max_retries,
            backoff_base: self.backoff_base,
            backoff_max: self.backoff_max,
            max_retry_after: self.max_retry_after,
            on_retry: self.on_retry,
            agent,
        })
    }
}

/// A [`LanguageModel`] behind an OpenAI-compatible `POST {base}/chat/completions` endpoint.
///
/// Blocking; safe to share between threads. Retries timeouts, transport errors, 429 (waiting at
/// least `Retry-After` seconds) and 5xx with exponential backoff and jitter; other 4xx fail at
/// once. A retryable failure that persists comes back as [`Error::RetriesExhausted`] holding the
/// last error. The whole call, waits included, is bounded by a total deadline
/// ([`OpenAiClientBuilder::deadline`], default [`DEFAULT_DEADLINE`]); when it passes first the
/// call fails with [`Error::DeadlineExceeded`]. The API key is sent only in the `Authorization`
/// header: it is redacted in `Debug`, scrubbed from error bodies and never part of an error
/// message.
#[derive(Clone)]
pub struct OpenAiClient {
    endpoint: String,
    model: String,
    key: Option<ApiKey>,
    temperature: f32,
    max_tokens: Option<u32>,
    connect_timeout: Duration,
    read_timeout: Duration,
    deadline: Duration,
    max_retries: u32,
    backoff_base: Duration,
    backoff_max: Duration,
    max_retry_after: Duration,
    on_retry: Option<RetryHook>,
    agent: ureq::Agent,
}

/// The timeouts of one attempt: the configured ones, cut to what is left of the deadline.
#[derive(Clone, Copy, Debug)]
struct AttemptLimits {
    connect: Duration,
    read: Duration,
    /// What was left of the deadline when the attempt started; `None` without a deadline.
    left: Option<Duration>,
}

impl fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("api_key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("temperature", &self.temperature)
            .field("max_tokens", &self.max_tokens)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("deadline", &self.deadline)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    /// A builder for the endpoint at `base_url`, given as OpenAI SDKs take it
    /// (`http://127.0.0.1:8080/v1`, `https://api.openai.com/v1`); requests go to
    /// `{base_url}/chat/completions`. A URL that already ends in `/chat/completions` is used as is.
    pub fn builder(base_url: impl Into<String>) -> OpenAiClientBuilder {
        OpenAiClientBuilder::new(base_url)
    }

    /// The full URL requests are sent to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The total deadline of one [`chat`](Self::chat) call; see [`OpenAiClientBuilder::deadline`].
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Everything that decides an answer apart from the prompt (endpoint, model, temperature,
    /// max tokens), for cache keys. Never includes the API key.
    pub fn cache_identity(&self) -> String {
        format!(
            "openai-chat\nendpoint={}\nmodel={}\ntemperature={}\nmax_tokens={:?}",
            self.endpoint, self.model, self.temperature, self.max_tokens
        )
    }

    /// Sends `prompt` and returns the first choice's message text, retrying as described on
    /// [`OpenAiClient`], all within the [deadline](OpenAiClientBuilder::deadline).
    ///
    /// # Errors
    /// [`Error::Http`] for a non-retryable status, [`Error::Protocol`], [`Error::EmptyChoices`],
    /// [`Error::EmptyAnswer`], [`Error::RetriesExhausted`] wrapping the last [`Error::Timeout`],
    /// [`Error::Transport`] or retryable [`Error::Http`], or [`Error::DeadlineExceeded`] wrapping
    /// the same when the deadline passed (or a retry's wait would end past it) first.
    pub fn chat(&self, prompt: &Prompt) -> Result<String> {
        let body = self.request_body(prompt).to_string();
        let mut rng = StdRng::seed_from_u64(jitter_seed());
        // `None` when the deadline is too far away to represent: per-attempt timeouts only.
        let deadline_at = Instant::now().checked_add(self.deadline);
        // Rounded up to whole milliseconds so that messages read "within 2s", not "1.9999997s".
        let left = || {
            deadline_at.map(|at| {
                let nanos = at.saturating_duration_since(Instant::now()).as_nanos();
                Duration::from_millis(u64::try_from(nanos.div_ceil(1_000_000)).unwrap_or(u64::MAX))
            })
        };
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let limits = self.limits(left());
            let e = match self.send_once(&body, limits) {
                Ok(answer) => return Ok(answer),
                Err(e) if e.is_retryable() => e,
                Err(e) => return Err(e),
            };
            let past_deadline = |e: Error| Error::DeadlineExceeded {
                deadline: self.deadline,
                attempts: attempt,
                last: Box::new(e),
            };
            // Cut by the deadline: nothing left, or the attempt's timeout was the time left.
            let now_left = left();
            let cut = now_left.is_some_and(|l| l.is_zero())
                || matches!((&e, limits.left), (Error::Timeout { after }, Some(l)) if *after >= l);
            if cut {
                return Err(past_deadline(e));
            }
            if attempt > self.max_retries {
                return Err(Error::RetriesExhausted {
                    attempts: attempt,
                    last: Box::new(e),
                });
            }
            let delay = self.delay_before_retry(attempt, &e, &mut rng);
            // A retry that could only start at or after the deadline is not worth the wait.
            if now_left.is_some_and(|l| delay >= l) {
                return Err(past_deadline(e));
            }
            if let Some(hook) = &self.on_retry {
                hook(&RetryEvent {
                    attempt,
                    delay,
                    error: &e,
                });
            }
            std::thread::sleep(delay);
        }
    }

    /// The timeouts of an attempt that starts with `left` of the deadline remaining.
    fn limits(&self, left: Option<Duration>) -> AttemptLimits {
        let cap = |d: Duration| left.map_or(d, |l| d.min(l));
        AttemptLimits {
            connect: cap(self.connect_timeout),
            read: cap(self.read_timeout),
            left,
        }
    }

    /// The JSON body of a chat-completions request for `prompt`.
    pub fn request_body(&self, prompt: &Prompt) -> Value {
        let messages: Vec<Value> = prompt
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                if m.images.is_empty() {
                    json!({ "role": role, "content": m.content })
                } else {
                    let mut parts = vec![json!({ "type": "text", "text": m.content })];
                    for img in &m.images {
                        let data = base64::engine::general_purpose::STANDARD.encode(&img.bytes);
                        parts.push(json!({
                            "type": "image_url",
                            "image_url": { "url": format!("data:{};base64,{data}", img.mime) }
                        }));
                    }
                    json!({ "role": role, "content": parts })
                }
            })
            .collect();
        let mut body = json!({
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "stream": false,
        });
        if let (Some(n), Some(obj)) = (self.max_tokens, body.as_object_mut()) {
            obj.insert("max_tokens".into(), json!(n));
        }
        body
    }

    fn delay_before_retry(&self, attempt: u32, error: &Error, rng: &mut StdRng) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(
                1u32.checked_shl(attempt.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.backoff_max);
        let jittered = exp.mul_f64(rng.random_range(0.5..=1.0));
        match error {
            // Honour the server's wait (cut to `max_retry_after`), plus a little jitter.
            Error::Http {
                retry_after: Some(wait),
                ..
            } => (*wait).min(self.max_retry_after) + jittered / 10,
            _ => jittered,
        }
    }

    fn send_once(&self, body: &str, limits: AttemptLimits) -> Result<String> {
        let mut request = self
            .agent
            .post(&self.endpoint)
            .config()
            .timeout_global(limits.left)
            .timeout_connect(Some(limits.connect))
            .timeout_send_request(Some(limits.read))
            .timeout_send_body(Some(limits.read))
            .timeout_recv_response(Some(limits.read))
            .timeout_recv_body(Some(limits.read))
            .build()
            .header("Content-Type", "application/json");
        if let Some(key) = &self.key {
            request = request.header("Authorization", format!("Bearer {}", key.0));
        }
        let mut response = request
            .send(body)
            .map_err(|e| self.map_transport(e, limits))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_string()
            .map_err(|e| self.map_transport(e, limits))?;
        if !(200..300).contains(&status) {
            return Err(Error::Http {
                status,
                body_excerpt: self.scrub(&excerpt(text.trim(), 300)),
                retry_after,
            });
        }
        self.parse_answer(&text)
    }

    fn parse_answer(&self, text: &str) -> Result<String> {
        let value: Value = serde_json::from_str(text).map_err(|source| Error::Protocol {
            reason: format!(
                "response is not JSON: {}",
                self.scrub(&excerpt(text.trim(), 120))
            ),
            source: Some(source),
        })?;
        if let Some(err) = value.get("error").filter(|e| !e.is_null()) {
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| err.to_string(), String::from);
            return Err(Error::protocol(format!(
                "server reported an error: {}",
                self.scrub(&excerpt(&msg, 200))
            )));
        }
        let choices = value
            .get("choices")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::protocol("response has no `choices` array"))?;
        let first = choices.first().ok_or(Error::EmptyChoices)?;
        let content = first
            .get("message")
            .and_then(|m| m.get("content"))
            .or_else(|| first.get("text")); // legacy completions shape
        let answer = match content {
            Some(Value::String(s)) => s.clone(),
            // Content given as parts: keep the text parts.
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
            Some(Value::Null) | None => String::new(),
            Some(other) => {
                return Err(Error::protocol(format!(
                    "`message.content` is neither text nor parts: {}",
                    excerpt(&other.to_string(), 80)
                )));
            }
        };
        if answer.trim().is_empty() {
            return Err(Error::EmptyAnswer);
        }
        Ok(answer)
    }

    fn map_transport(&self, e: ureq::Error, limits: AttemptLimits) -> Error {
        match e {
            ureq::Error::Timeout(ureq::Timeout::Global) => Error::Timeout {
                after: limits.left.unwrap_or(limits.read),
            },
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                Error::Timeout {
                    after: limits.connect,
                }
            }
            ureq::Error::Timeout(_) => Error::Timeout { after: limits.read },
            ureq::Error::Io(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                Error::Timeout { after: limits.read }
            }
            other => Error::Transport { source: other },
        }
    }

    /// Removes the API key from text a server sent back (some echo it in error messages).
    fn scrub(&self, text: &str) -> String {
        match &self.key {
            Some(k) if k.0.len() >= 4 => text.replace(&k.0, "[redacted]"),
            _ => text.to_string(),
        }
    }
}

/// A seed for backoff jitter that differs between calls and processes (not the global RNG).
fn jitter_seed() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ CALLS
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl LanguageModel for OpenAiClient {
    fn complete(&self, prompt: &Prompt) -> modelgpt_core::Result<String> {
        self.chat(prompt).map_err(Error::into_core)
    }

    fn name(&self) -> String {
        format!("openai:{}", self.model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modelgpt_core::ImageAttachment;

    fn client() -> OpenAiClient {
        OpenAiClient::builder("http://127.0.0.1:9/v1/")
            .model("m")
            .api_key("sk-TOPSECRET")
            .build()
            .unwrap()
    }

    #[test]
    fn builder_validates() {
        assert!(OpenAiClient::builder("ftp://x").build().is_err());
        assert!(OpenAiClient::builder("http://").build().is_err());
        assert!(
            OpenAiClient::builder("http://h/v1")
                .model(" ")
                .build()
                .is_err()
        );
        assert!(
            OpenAiClient::builder("http://h/v1")
                .temperature(f32::NAN)
                .build()
                .is_err()
        );
        assert!(
            OpenAiClient::builder("http://h/v1")
                .temperature(3.0)
                .build()
                .is_err()
        );
        assert!(
            OpenAiClient::builder("http://h/v1")
                .read_timeout(Duration::ZERO)
                .build()
                .is_err()
        );
        assert!(
            OpenAiClient::builder("http://h/v1")
                .deadline(Duration::ZERO)
                .build()
                .is_err()
        );
        let c = OpenAiClient::builder("http://h/v1/chat/completions")
            .build()
            .unwrap();
        assert_eq!(c.endpoint(), "http://h/v1/chat/completions");
        assert_eq!(c.deadline(), DEFAULT_DEADLINE);
    }

    #[test]
    fn attempt_timeouts_never_exceed_the_time_left() {
        let c = client();
        let l = c.limits(Some(Duration::from_secs(3)));
        assert_eq!(
            (l.connect, l.read, l.left),
            (
                Duration::from_secs(3),
                Duration::from_secs(3),
                Some(Duration::from_secs(3))
            )
        );
        let l = c.limits(Some(Duration::from_secs(60)));
        assert_eq!(
            (l.connect, l.read),
            (Duration::from_secs(10), Duration::from_secs(60))
        );
        let l = c.limits(None);
        assert_eq!(
            (l.connect, l.read, l.left),
            (Duration::from_secs(10), Duration::from_secs(120), None)
        );
    }

    #[test]
    fn key_never_in_debug_or_identity() {
        let c = client();
        for text in [
            format!("{c:?}"),
            format!(
                "{:?}",
                OpenAiClient::builder("http://h").api_key("sk-TOPSECRET")
            ),
            c.cache_identity(),
        ] {
            assert!(!text.contains("TOPSECRET"), "{text}");
        }
        assert_eq!(c.endpoint(), "http://127.0.0.1:9/v1/chat/completions");
        assert_eq!(
            c.scrub("bad key sk-TOPSECRET given"),
            "bad key [redacted] given"
        );
    }

    #[test]
    fn request_body_shape() {
        let mut p = Prompt::new().system("s").user("u");
        p.messages[1].images.push(ImageAttachment {
            mime: "image/png".into(),
            bytes: vec![0x89, b'P', b'N', b'G'],
        });
        let body = client().request_body(&p);
        assert_eq!(body["model"], "m");
        assert_eq!(body["max_tokens"], 256);
        assert!((body["temperature"].as_f64().unwrap() - 0.4).abs() < 1e-6);
        assert_eq!(body["messages"][0]["content"], "s");
        assert_eq!(body["messages"][1]["content"][0]["text"], "u");
        assert_eq!(
            body["messages"][1]["content"][1]["image_url"]["url"],
            "data:image/png;base64,iVBORw=="
        );
    }

    #[test]
    fn answer_parsing() {
        let c = client();
        assert_eq!(
            c.parse_answer(r#"{"choices":[{"message":{"content":"hi"}}]}"#)
                .unwrap(),
            "hi"
        );
        assert_eq!(
            c.parse_answer(
                r#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"text":"b"}]}}]}"#
            )
            .unwrap(),
            "ab"
        );
        assert!(matches!(
            c.parse_answer(r#"{"choices":[]}"#),
            Err(Error::EmptyChoices)
        ));
        assert!(matches!(
            c.parse_answer(r#"{"choices":[{"message":{"content":"  "}}]}"#),
            Err(Error::EmptyAnswer)
        ));
        assert!(matches!(
            c.parse_answer(r#"{"choices":[{"message":{"content":null}}]}"#),
            Err(Error::EmptyAnswer)
        ));
        assert!(matches!(
            c.parse_answer("{oops"),
            Err(Error::Protocol {
                source: Some(_),
                ..
            })
        ));
        assert!(
            matches!(c.parse_answer(r#"{"error":{"message":"key sk-TOPSECRET bad"}}"#), Err(Error::Protocol { reason, .. }) if !reason.contains("TOPSECRET"))
        );
        assert!(matches!(
            c.parse_answer(r#"{"data":1}"#),
            Err(Error::Protocol { .. })
        ));
    }

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        let c = OpenAiClient::builder("http://h/v1")
            .backoff(Duration::from_millis(100), Duration::from_millis(350))
            .max_retry_after(Duration::from_secs(5))
            .build()
            .unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let t = Error::Timeout {
            after: Duration::ZERO,
        };
        for (attempt, hi) in [(1, 100), (2, 200), (3, 350), (40, 350)] {
            let d = c.delay_before_retry(attempt, &t, &mut rng);
            assert!(
                d >= Duration::from_millis(hi / 2) && d <= Duration::from_millis(hi),
                "{attempt}: {d:?}"
            );
        }
        let rate = |s| Error::Http {
            status: 429,
            body_excerpt: String::new(),
            retry_after: Some(Duration::from_secs(s)),
        };
        let d = c.delay_before_retry(1, &rate(2), &mut rng);
        assert!(
            d >= Duration::from_secs(2) && d < Duration::from_millis(2100),
            "{d:?}"
        );
        assert!(c.delay_before_retry(1, &rate(500), &mut rng) < Duration::from_millis(5100));
    }
}
