//! The agent invitation mail: a plain-text message with the single-use set-password link,
//! built without I/O so its shape is tested natively.

use chrono::DateTime;

/// How long a set-password link stays valid: 72 hours.
pub const INVITE_TTL_MS: i64 = 72 * 3600 * 1000;

/// What an invitation mail says.
pub struct InviteMail<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub agent_name: &'a str,
    pub site: &'a str,
    /// The console's set-password link, with the token.
    pub link: &'a str,
    /// ms since the epoch.
    pub now: i64,
    /// Unique per message, for the Message-ID.
    pub id: &'a str,
}

/// One line of text: control characters (CR, LF...) become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The set-password link of the console served from `origin`.
pub fn invite_link(origin: &str, token: &str) -> String {
    format!("{}/console/#/invite/{token}", origin.trim_end_matches('/'))
}

/// The complete RFC 5322 message (CRLF line endings) for the outbox.
pub fn invite_message(m: &InviteMail<'_>) -> String {
    let date = DateTime::from_timestamp_millis(m.now)
        .map(|d| d.format("%a, %d %b %Y %H:%M:%S +0000").to_string())
        .unwrap_or_default();
    let domain = m.from.rsplit('@').next().unwrap_or("dynchat.invalid");
    let body = format!(
        "Hello {name},\r\n\r\nYou have been invited to answer meetings for {site} in the dynchat console.\r\nSet your password here (the link works once and expires in 72 hours):\r\n\r\n{link}\r\n\r\nThen sign in and connect your calendar under My calendar.\r\n",
        name = one_line(m.agent_name),
        site = one_line(m.site),
        link = one_line(m.link),
    );
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: You are invited to the dynchat console\r\nDate: {date}\r\nMessage-ID: <invite.{id}@{domain}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}",
        from = one_line(m.from),
        to = one_line(m.to),
        id = m.id.chars().filter(char::is_ascii_alphanumeric).collect::<String>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_carries_the_link_on_its_own_line_and_no_header_injection() {
        let link = invite_link("https://chat.example/", "ab12");
        assert_eq!(link, "https://chat.example/console/#/invite/ab12");
        let m = invite_message(&InviteMail {
            from: "meetings@dynchat.test",
            to: "ann@agents.test",
            agent_name: "Ann\r\nBcc: evil@x.test",
            site: "acme",
            link: &link,
            now: 1_700_000_000_000,
            id: "a1-b2",
        });
        assert!(m.contains("\r\n\r\nhttps://chat.example/console/#/invite/ab12\r\n"));
        assert!(!m.contains("\r\nBcc:"), "{m}");
        assert!(
            m.contains("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"),
            "{m}"
        );
        assert!(m.contains("Message-ID: <invite.a1b2@dynchat.test>\r\n"));
        assert!(m.starts_with("From: <meetings@dynchat.test>\r\nTo: <ann@agents.test>\r\n"));
    }
}
