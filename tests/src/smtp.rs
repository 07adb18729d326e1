//! A small real SMTP server for tests, on `127.0.0.1:0`: speaks EHLO/HELO, MAIL, RCPT, DATA,
//! RSET, NOOP, QUIT and AUTH PLAIN, and records every message it accepts. It can be stopped
//! (connections are then refused) and started again on the same port, to test an outage.
//!
//! It can also speak TLS with a certificate generated for the test ([`TestCertificate`],
//! valid for `127.0.0.1` and `localhost`): implicit TLS (`smtps://`) or STARTTLS
//! (`smtp://…?tls=required`). Each received message and login records whether it came over
//! TLS, so a test can show that nothing was sent in clear.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// A message as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    pub from: String,
    /// The envelope recipients (RCPT TO), Bcc included.
    pub recipients: Vec<String>,
    /// The message as sent (headers and body), dot-unstuffed, CRLF line ends.
    pub data: String,
    /// Whether the message came over TLS (implicit or after STARTTLS).
    pub tls: bool,
    /// The user name of the session's AUTH, if any.
    pub authenticated_as: Option<String>,
}

/// A successful `AUTH PLAIN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub password: String,
    pub tls: bool,
}

impl ReceivedMail {
    /// The value of the first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    current.push_str(line.trim_start_matches(['\t']));
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':') {
                if key.eq_ignore_ascii_case(name) {
                    value = Some(rest.trim().to_owned());
                }
            }
        }
        value
    }
}

/// A self-signed certificate for `127.0.0.1` and `localhost`, made for one test.
#[derive(Clone)]
pub struct TestCertificate {
    /// The certificate, PEM (what a client is told to trust).
    pub cert_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl TestCertificate {
    pub fn generate() -> TestCertificate {
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".into()])
                .expect("certificate generated");
        TestCertificate {
            cert_pem: certified.cert.pem(),
            cert_der: certified.cert.der().to_vec(),
            key_der: certified.key_pair.serialize_der(),
        }
    }

    /// Writes the certificate (PEM) into `dir`; returns the file's path (for `SMTP_CA_FILE`).
    pub fn write_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join("smtp-ca.pem");
        std::fs::write(&path, &self.cert_pem).expect("certificate written");
        path
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![rustls::pki_types::CertificateDer::from(
                    self.cert_der.clone(),
                )],
                rustls::pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into()),
            )
            .expect("server certificate");
        Arc::new(config)
    }
}

/// How the server protects its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// TLS from the first byte (`smtps://`).
    Implicit,
    /// Plain greeting, `STARTTLS` offered (`smtp://…?tls=required`).
    StartTls,
}

#[derive(Clone)]
struct TlsSetup {
    mode: SmtpTls,
    acceptor: TlsAcceptor,
}

#[derive(Clone, Default)]
struct Shared {
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    logins: Arc<Mutex<Vec<Login>>>,
    /// Connections whose TLS handshake failed.
    failed_handshakes: Arc<Mutex<usize>>,
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

pub struct SmtpServer {
    pub address: SocketAddr,
    shared: Shared,
    tls: Option<TlsSetup>,
    tasks: Option<JoinSet<()>>,
}

impl SmtpServer {
    /// Starts on a free port, without TLS.
    pub async fn start() -> SmtpServer {
        Self::start_with(None).await
    }

    /// Starts on a free port, speaking TLS (`mode`) with `certificate`.
    pub async fn start_tls(mode: SmtpTls, certificate: &TestCertificate) -> SmtpServer {
        Self::start_with(Some(TlsSetup {
            mode,
            acceptor: TlsAcceptor::from(certificate.server_config()),
        }))
        .await
    }

    async fn start_with(tls: Option<TlsSetup>) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("smtp binds");
        let address = listener.local_addr().expect("smtp address");
        let mut server = SmtpServer {
            address,
            shared: Shared::default(),
            tls,
            tasks: None,
        };
        server.serve(listener);
        server
    }

    /// The URL a client uses: `smtp://127.0.0.1:<port>`, `smtps://…` for implicit TLS,
    /// `smtp://…?tls=required` for STARTTLS.
    pub fn url(&self) -> String {
        match self.tls.as_ref().map(|tls| tls.mode) {
            None => format!("smtp://{}", self.address),
            Some(SmtpTls::Implicit) => format!("smtps://{}", self.address),
            Some(SmtpTls::StartTls) => format!("smtp://{}?tls=required", self.address),
        }
    }

    /// [`url`](Self::url) with `user:password@` (percent-encoded as a URL needs).
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        let mut url = url::Url::parse(&self.url()).expect("smtp url");
        url.set_username(user).expect("user in url");
        url.set_password(Some(password)).expect("password in url");
        url.to_string()
    }

    fn serve(&mut self, listener: TcpListener) {
        let shared = self.shared.clone();
        let tls = self.tls.clone();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(session(stream, shared.clone(), tls.clone()));
            }
        });
        self.tasks = Some(tasks);
    }

    /// Stops listening and drops every open connection: new connections are refused.
    pub async fn stop(&mut self) {
        if let Some(mut tasks) = self.tasks.take() {
            tasks.shutdown().await;
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        self.stop().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.address).await {
                Ok(listener) => break listener,
                Err(error) => {
                    assert!(Instant::now() < deadline, "smtp cannot rebind: {error}");
                    // sleep-ok: poll interval of a bounded wait (the port is free again)
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        self.serve(listener);
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        locked(&self.shared.received).clone()
    }

    /// Every successful login so far.
    pub fn logins(&self) -> Vec<Login> {
        locked(&self.shared.logins).clone()
    }

    /// How many connections failed their TLS handshake (e.g. the client did not trust the
    /// certificate).
    pub fn failed_handshakes(&self) -> usize {
        *locked(&self.shared.failed_handshakes)
    }

    /// Waits until `count` messages satisfy `matching` (panics after `timeout`).
    pub async fn wait_for(
        &self,
        count: usize,
        timeout: Duration,
        matching: impl Fn(&ReceivedMail) -> bool,
    ) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let found: Vec<ReceivedMail> = self
                .received()
                .into_iter()
                .filter(|m| matching(m))
                .collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} matching mails, got {}: {:#?}",
                found.len(),
                self.received()
            );
            // sleep-ok: poll interval of a bounded wait (the mails arrived)
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn session(stream: TcpStream, shared: Shared, tls: Option<TlsSetup>) {
    let handshake_failed = || *locked(&shared.failed_handshakes) += 1;
    match tls {
        Some(TlsSetup {
            mode: SmtpTls::Implicit,
            acceptor,
        }) => {
            let Ok(secure) = acceptor.accept(stream).await else {
                handshake_failed();
                return;
            };
            let mut connection = BufReader::new(secure);
            dialogue(&mut connection, &shared, true, true, false).await;
        }
        Some(TlsSetup {
            mode: SmtpTls::StartTls,
            acceptor,
        }) => {
            let mut connection = BufReader::new(stream);
            if dialogue(&mut connection, &shared, true, false, true).await != Ended::StartTls {
                return;
            }
            // The client waits for our 220 before its handshake: nothing is buffered.
            let Ok(secure) = acceptor.accept(connection.into_inner()).await else {
                handshake_failed();
                return;
            };
            let mut connection = BufReader::new(secure);
            dialogue(&mut connection, &shared, false, true, false).await;
        }
        None => {
            let mut connection = BufReader::new(stream);
            dialogue(&mut connection, &shared, true, false, false).await;
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Ended {
    Closed,
    StartTls,
}

async fn write_flushed<S>(connection: &mut BufReader<S>, bytes: &[u8]) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    connection.write_all(bytes).await.is_ok() && connection.flush().await.is_ok()
}

/// One SMTP conversation on `connection` (with a greeting unless it continues after
/// STARTTLS). Returns when the client quits or leaves, or asks for STARTTLS.
async fn dialogue<S>(
    connection: &mut BufReader<S>,
    shared: &Shared,
    greet: bool,
    tls: bool,
    offer_starttls: bool,
) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut from = String::new();
    let mut recipients: Vec<String> = Vec::new();
    let mut authenticated_as: Option<String> = None;
    if greet && !write_flushed(connection, b"220 test-smtp ESMTP ready\r\n").await {
        return Ended::Closed;
    }
    let mut line = String::new();
    loop {
        line.clear();
        match connection.read_line(&mut line).await {
            Ok(0) | Err(_) => return Ended::Closed,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: Vec<u8> = match verb.as_str() {
            "EHLO" => {
                let mut reply = String::from("250-test-smtp\r\n250-8BITMIME\r\n");
                if offer_starttls {
                    reply.push_str("250-STARTTLS\r\n");
                }
                reply.push_str("250-AUTH PLAIN\r\n250 SMTPUTF8\r\n");
                reply.into_bytes()
            }
            "HELO" => b"250 test-smtp\r\n".to_vec(),
            "STARTTLS" if offer_starttls => {
                if !write_flushed(connection, b"220 go ahead\r\n").await {
                    return Ended::Closed;
                }
                return Ended::StartTls;
            }
            "AUTH" => match plain_credentials(&command) {
                Some((user, password)) => {
                    authenticated_as = Some(user.clone());
                    locked(&shared.logins).push(Login {
                        user,
                        password,
                        tls,
                    });
                    b"235 authenticated\r\n".to_vec()
                }
                None => b"504 only AUTH PLAIN with an initial response\r\n".to_vec(),
            },
            "MAIL" => {
                from = address_in(&command);
                recipients.clear();
                b"250 OK\r\n".to_vec()
            }
            "RCPT" => {
                recipients.push(address_in(&command));
                b"250 OK\r\n".to_vec()
            }
            "DATA" => {
                if !write_flushed(connection, b"354 go ahead\r\n").await {
                    return Ended::Closed;
                }
                let mut data = String::new();
                loop {
                    let mut data_line = String::new();
                    match connection.read_line(&mut data_line).await {
                        Ok(0) | Err(_) => return Ended::Closed,
                        Ok(_) => {}
                    }
                    if data_line == ".\r\n" || data_line == ".\n" {
                        break;
                    }
                    let unstuffed = data_line.strip_prefix('.').unwrap_or(&data_line);
                    data.push_str(unstuffed);
                }
                locked(&shared.received).push(ReceivedMail {
                    from: from.clone(),
                    recipients: std::mem::take(&mut recipients),
                    data,
                    tls,
                    authenticated_as: authenticated_as.clone(),
                });
                b"250 OK queued\r\n".to_vec()
            }
            "RSET" => {
                from.clear();
                recipients.clear();
                b"250 OK\r\n".to_vec()
            }
            "NOOP" => b"250 OK\r\n".to_vec(),
            "QUIT" => {
                write_flushed(connection, b"221 bye\r\n").await;
                return Ended::Closed;
            }
            _ => b"502 command not implemented\r\n".to_vec(),
        };
        if !write_flushed(connection, &reply).await {
            return Ended::Closed;
        }
    }
}

/// `AUTH PLAIN <base64(\0user\0password)>` → `(user, password)`.
fn plain_credentials(command: &str) -> Option<(String, String)> {
    let mut words = command.split_whitespace().skip(1);
    if !words.next()?.eq_ignore_ascii_case("PLAIN") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(words.next()?)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let mut parts = decoded.split('\0');
    let _authorization = parts.next()?;
    Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
}

/// `MAIL FROM:<a@b> SIZE=1` → `a@b`.
fn address_in(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}
