//! A booking repeated with the same `Idempotency-Key`: the meeting already booked, or 409 when
//! the body differs.

use super::super::store::meetings::MeetingRow;
use super::router_protocol::Booked;
use crate::error::ApiError;
use crate::meetings;

/// The stored meeting as the visitor saw it when it was booked.
fn booked_of(m: &MeetingRow) -> Booked {
    Booked {
        meeting: m.id.clone(),
        agent: m.agent_name.clone().unwrap_or_else(|| m.agent.clone()),
        start: meetings::iso(meetings::from_ms(m.start_ms)),
        end: meetings::iso(meetings::from_ms(m.end_ms)),
        video: m.video_url.clone(),
    }
}

/// The earlier answer for the same key and body.
pub fn replay(m: &MeetingRow, body_hash: &str) -> Result<Booked, ApiError> {
    if m.body_hash != body_hash {
        return Err(ApiError::Conflict(
            "this Idempotency-Key was used with a different body".into(),
        ));
    }
    Ok(booked_of(m))
}
