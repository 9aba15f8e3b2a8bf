//! Outgoing mail: one [`MailSender`] trait and its SMTP implementation over a TCP socket
//! (`smtp`, wasm32 only). The protocol pieces that need no socket (reply parsing, dot-stuffing,
//! EHLO capabilities) are plain functions with native tests.

pub mod invite;
#[cfg(target_arch = "wasm32")]
pub mod smtp;

/// One SMTP reply: the code and its text lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpReply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl SmtpReply {
    /// Whether the EHLO answer lists `keyword` (case-insensitive, first word of a line).
    pub fn offers(&self, keyword: &str) -> bool {
        self.lines.iter().any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
        })
    }
}

/// Parses one complete reply from the start of `buf`; `None` until the last line
/// (`NNN ` rather than `NNN-`) has arrived. Returns the reply and the bytes consumed.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(SmtpReply, usize)>, String> {
    let mut lines = Vec::new();
    let mut pos = 0;
    while let Some(nl) = buf[pos..].iter().position(|b| *b == b'\n') {
        let raw = &buf[pos..pos + nl];
        pos += nl + 1;
        let line = String::from_utf8_lossy(raw)
            .trim_end_matches('\r')
            .to_string();
        if line.len() < 3 || !line.as_bytes()[..3].iter().all(u8::is_ascii_digit) {
            return Err(format!("malformed SMTP reply line {line:?}"));
        }
        let code: u16 = line[..3]
            .parse()
            .map_err(|_| format!("malformed SMTP code {line:?}"))?;
        let sep = line.as_bytes().get(3).copied();
        lines.push(line.get(4..).unwrap_or_default().to_string());
        if sep != Some(b'-') {
            return Ok(Some((SmtpReply { code, lines }, pos)));
        }
    }
    Ok(None)
}

/// The DATA payload: CRLF line ends, leading dots doubled, ended by `CRLF.CRLF`.
pub fn data_payload(message: &str) -> String {
    let normal = message.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(normal.len() + 64);
    for line in normal.split('\n') {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    // `split` yields an empty last piece after a final newline; it already added one CRLF.
    if normal.ends_with('\n') {
        out.truncate(out.len() - 2);
    }
    out.push_str(".\r\n");
    if !out.ends_with("\r\n.\r\n") {
        out.insert_str(out.len() - 3, "\r\n");
    }
    out
}

/// An address usable in `MAIL FROM:<..>` / `RCPT TO:<..>`: no brackets, spaces or controls.
pub fn envelope_address(a: &str) -> Option<&str> {
    let ok = !a.is_empty()
        && a.len() <= 254
        && a.contains('@')
        && !a
            .bytes()
            .any(|b| b.is_ascii_control() || b" <>".contains(&b));
    ok.then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_replies_wait_for_the_last_line() {
        assert_eq!(
            parse_reply(b"250-smtp.example\r\n250-SIZE 10\r\n").expect("ok"),
            None
        );
        let (r, used) = parse_reply(b"250-smtp.example\r\n250-STARTTLS\r\n250 8BITMIME\r\nrest")
            .expect("ok")
            .expect("complete");
        assert_eq!(r.code, 250);
        assert!(r.offers("starttls") && r.offers("8BITMIME") && !r.offers("AUTH"));
        assert_eq!(used, 46);
        assert!(parse_reply(b"hello\r\n").is_err());
    }

    #[test]
    fn data_is_dot_stuffed_and_terminated_once() {
        assert_eq!(data_payload("a\n.b\r\n..c"), "a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(data_payload("a\r\n"), "a\r\n.\r\n");
    }

    #[test]
    fn envelope_addresses_cannot_inject_commands() {
        assert_eq!(envelope_address("a@b.c"), Some("a@b.c"));
        assert_eq!(envelope_address("a@b.c>\r\nRCPT TO:<x@y"), None);
        assert_eq!(envelope_address("nobody"), None);
    }
}
