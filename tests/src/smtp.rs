//! A small real SMTP server for tests, on `127.0.0.1:0`: speaks EHLO/HELO, MAIL, RCPT, DATA,
//! RSET, NOOP and QUIT, and records every message it accepts. It can be stopped (connections
//! are then refused) and started again on the same port, to test an outage.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A message as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    pub from: String,
    /// The envelope recipients (RCPT TO), Bcc included.
    pub recipients: Vec<String>,
    /// The message as sent (headers and body), dot-unstuffed, CRLF line ends.
    pub data: String,
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

pub struct SmtpServer {
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    tasks: Option<JoinSet<()>>,
}

impl SmtpServer {
    /// Starts on a free port.
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("smtp binds");
        let address = listener.local_addr().expect("smtp address");
        let mut server = SmtpServer {
            address,
            received: Arc::default(),
            tasks: None,
        };
        server.serve(listener);
        server
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    fn serve(&mut self, listener: TcpListener) {
        let received = self.received.clone();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(session(stream, received.clone()));
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
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        self.serve(listener);
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
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
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn session(stream: TcpStream, received: Arc<Mutex<Vec<ReceivedMail>>>) {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut from = String::new();
    let mut recipients: Vec<String> = Vec::new();
    if writer
        .write_all(b"220 test-smtp ESMTP ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-test-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 test-smtp\r\n",
            "MAIL" => {
                from = address_in(&command);
                recipients.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                recipients.push(address_in(&command));
                b"250 OK\r\n"
            }
            "DATA" => {
                if writer.write_all(b"354 go ahead\r\n").await.is_err() {
                    return;
                }
                let mut data = String::new();
                loop {
                    let mut data_line = String::new();
                    match reader.read_line(&mut data_line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if data_line == ".\r\n" || data_line == ".\n" {
                        break;
                    }
                    let unstuffed = data_line.strip_prefix('.').unwrap_or(&data_line);
                    data.push_str(unstuffed);
                }
                received
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .push(ReceivedMail {
                        from: from.clone(),
                        recipients: std::mem::take(&mut recipients),
                        data,
                    });
                b"250 OK queued\r\n"
            }
            "RSET" => {
                from.clear();
                recipients.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                let _ = writer.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"502 command not implemented\r\n",
        };
        if writer.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// `MAIL FROM:<a@b> SIZE=1` → `a@b`.
fn address_in(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}
