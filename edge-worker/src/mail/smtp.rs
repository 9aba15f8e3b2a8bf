//! SMTP client over `worker::Socket` (wasm32): EHLO, STARTTLS when the relay offers it (and TLS
//! is not switched off), AUTH PLAIN when credentials are configured, then one or several
//! messages per connection (one mail transaction each; `RSET` after a refused one).

use super::{data_payload, envelope_address, parse_reply, SmtpReply};
use crate::calendar::client::with_timeout;
use crate::error::ApiError;
use base64::Engine as _;
use std::cell::RefCell;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use worker::{SecureTransport, Socket};

/// Sends complete RFC 5322 messages.
#[allow(async_fn_in_trait)]
pub trait MailSender {
    /// Delivers `message` from `from` to every address of `to`.
    async fn send(&self, from: &str, to: &[&str], message: &str) -> Result<(), ApiError>;

    /// Delivers several messages, answering one result per message in order (a refused message
    /// does not stop the others).
    async fn send_all(&self, mails: &[OutgoingMail<'_>]) -> Vec<Result<(), ApiError>>;
}

/// One message for [`MailSender::send_all`].
#[derive(Debug, Clone, Copy)]
pub struct OutgoingMail<'a> {
    pub from: &'a str,
    pub to: &'a [&'a str],
    pub message: &'a str,
}

/// How to use TLS with the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Upgrade with STARTTLS when the relay offers it (default).
    StartTlsWhenOffered,
    /// Refuse to send unless the relay offers STARTTLS.
    StartTlsRequired,
    /// TLS from the first byte (port 465).
    Implicit,
    /// Plain text (a local relay).
    Off,
}

impl TlsMode {
    pub fn parse(s: &str) -> TlsMode {
        match s {
            "required" => TlsMode::StartTlsRequired,
            "implicit" | "on" => TlsMode::Implicit,
            "off" => TlsMode::Off,
            _ => TlsMode::StartTlsWhenOffered,
        }
    }
}

/// The SMTP relay settings (wrangler vars `SMTP_*`).
#[derive(Debug, Clone)]
pub struct SmtpSender {
    pub host: String,
    pub port: u16,
    pub helo: String,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout_ms: u64,
}

struct Conn {
    socket: Socket,
    buf: Vec<u8>,
}

impl Conn {
    async fn reply(&mut self) -> Result<SmtpReply, String> {
        let mut chunk = [0u8; 4096];
        for _ in 0..1000 {
            if let Some((r, used)) = parse_reply(&self.buf)? {
                self.buf.drain(..used);
                return Ok(r);
            }
            if self.buf.len() > 64 * 1024 {
                return Err("SMTP reply over 64 KB".into());
            }
            let n = self
                .socket
                .read(&mut chunk)
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("connection closed by the relay".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Err("SMTP reply never ended".into())
    }

    async fn command(&mut self, line: &str, want: &[u16]) -> Result<SmtpReply, String> {
        self.socket
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.socket
            .flush()
            .await
            .map_err(|e| format!("flush: {e}"))?;
        let r = self.reply().await?;
        if !want.contains(&r.code) {
            let shown = if line.starts_with("AUTH") {
                "AUTH PLAIN ..."
            } else {
                line
            };
            return Err(format!("{shown} -> {} {}", r.code, r.lines.join(" / ")));
        }
        Ok(r)
    }
}

impl SmtpSender {
    /// Connects, reads the greeting, says EHLO, upgrades to TLS and authenticates as configured.
    async fn open(&self) -> Result<Conn, String> {
        let mode = match self.tls {
            TlsMode::Implicit => SecureTransport::On,
            TlsMode::Off => SecureTransport::Off,
            _ => SecureTransport::StartTls,
        };
        let socket = Socket::builder()
            .secure_transport(mode)
            .connect(self.host.clone(), self.port)
            .map_err(|e| format!("connect {}:{}: {e}", self.host, self.port))?;
        let mut c = Conn {
            socket,
            buf: Vec::new(),
        };
        let greeting = c.reply().await?;
        if greeting.code != 220 {
            return Err(format!(
                "greeting {} {}",
                greeting.code,
                greeting.lines.join(" ")
            ));
        }
        let mut ehlo = c.command(&format!("EHLO {}", self.helo), &[250]).await?;
        if matches!(
            self.tls,
            TlsMode::StartTlsWhenOffered | TlsMode::StartTlsRequired
        ) {
            if ehlo.offers("STARTTLS") {
                c.command("STARTTLS", &[220]).await?;
                let Conn { socket, .. } = c;
                c = Conn {
                    socket: socket.start_tls(),
                    buf: Vec::new(),
                };
                ehlo = c.command(&format!("EHLO {}", self.helo), &[250]).await?;
            } else if self.tls == TlsMode::StartTlsRequired {
                return Err("the relay does not offer STARTTLS and SMTP_TLS=required".into());
            }
        }
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            if !ehlo.lines.iter().any(|l| {
                l.to_ascii_uppercase().starts_with("AUTH")
                    && l.to_ascii_uppercase().contains("PLAIN")
            }) {
                return Err("the relay does not offer AUTH PLAIN".into());
            }
            let token = base64::engine::general_purpose::STANDARD.encode(format!("\0{u}\0{p}"));
            c.command(&format!("AUTH PLAIN {token}"), &[235]).await?;
        }
        Ok(c)
    }

    /// One mail transaction on an open connection. `Err(Refused)` leaves the connection usable
    /// (after `RSET`); `Err(Broken)` does not.
    async fn transaction(c: &mut Conn, m: &OutgoingMail<'_>) -> Result<(), TxError> {
        let from =
            envelope_address(m.from).ok_or(TxError::Refused("bad envelope sender".into()))?;
        let mut rcpts = Vec::new();
        for rcpt in m.to {
            rcpts.push(
                envelope_address(rcpt).ok_or(TxError::Refused("bad envelope recipient".into()))?,
            );
        }
        c.command_tx(&format!("MAIL FROM:<{from}>"), &[250]).await?;
        for rcpt in rcpts {
            c.command_tx(&format!("RCPT TO:<{rcpt}>"), &[250, 251])
                .await?;
        }
        c.command_tx("DATA", &[354]).await?;
        let payload = data_payload(m.message);
        // `data_payload` ends with ".\r\n"; `command` adds one CRLF, so send all but that.
        c.command_tx(payload.trim_end_matches("\r\n"), &[250]).await
    }

    /// Sends every message over one connection, recording each result in `results` as it is
    /// known (so a timeout can tell which ones went out).
    async fn conversation(
        &self,
        mails: &[OutgoingMail<'_>],
        results: &RefCell<Vec<Result<(), String>>>,
    ) -> Result<(), String> {
        let mut c = self.open().await?;
        for m in mails {
            match Self::transaction(&mut c, m).await {
                Ok(()) => results.borrow_mut().push(Ok(())),
                Err(TxError::Refused(e)) => {
                    results.borrow_mut().push(Err(e));
                    c.command("RSET", &[250]).await?;
                }
                Err(TxError::Broken(e)) => return Err(e),
            }
        }
        let _ = c.command("QUIT", &[221]).await;
        let _ = c.socket.close().await;
        Ok(())
    }
}

/// How one mail transaction failed.
enum TxError {
    /// The relay answered with an error code: the connection can go on after `RSET`.
    Refused(String),
    /// The connection failed: nothing more can be sent on it.
    Broken(String),
}

impl Conn {
    /// [`Conn::command`] telling a refusal (an SMTP error reply) from a broken connection.
    async fn command_tx(&mut self, line: &str, want: &[u16]) -> Result<(), TxError> {
        self.socket
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(|e| TxError::Broken(format!("write: {e}")))?;
        self.socket
            .flush()
            .await
            .map_err(|e| TxError::Broken(format!("flush: {e}")))?;
        let r = self.reply().await.map_err(TxError::Broken)?;
        if !want.contains(&r.code) {
            let shown = line.lines().next().unwrap_or_default();
            let shown = if shown.len() > 60 {
                "DATA payload"
            } else {
                shown
            };
            return Err(TxError::Refused(format!(
                "{shown} -> {} {}",
                r.code,
                r.lines.join(" / ")
            )));
        }
        Ok(())
    }
}

impl MailSender for SmtpSender {
    async fn send(&self, from: &str, to: &[&str], message: &str) -> Result<(), ApiError> {
        let one = [OutgoingMail { from, to, message }];
        self.send_all(&one)
            .await
            .pop()
            .unwrap_or_else(|| Err(ApiError::Upstream("smtp: no result".into())))
    }

    async fn send_all(&self, mails: &[OutgoingMail<'_>]) -> Vec<Result<(), ApiError>> {
        if mails.is_empty() {
            return Vec::new();
        }
        let results = RefCell::new(Vec::with_capacity(mails.len()));
        let budget = self.timeout_ms.saturating_mul(mails.len() as u64);
        let outcome = with_timeout(budget, self.conversation(mails, &results)).await;
        let rest = match outcome {
            Some(Ok(())) => String::new(),
            Some(Err(e)) => e,
            None => format!("timeout after {budget} ms"),
        };
        let mut out: Vec<Result<(), ApiError>> = results
            .into_inner()
            .into_iter()
            .map(|r| r.map_err(|e| ApiError::Upstream(format!("smtp: {e}"))))
            .collect();
        while out.len() < mails.len() {
            out.push(Err(ApiError::Upstream(format!("smtp: {rest}"))));
        }
        out
    }
}
