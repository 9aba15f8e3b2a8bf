//! Calendar events over the providers' APIs (wasm32): create (with a Google Meet or Teams
//! meeting when asked), move (Google and Graph patch the event, so its conference stays) and
//! cancel, for [`Connected`]. The retry on a dead access token is in `client`.

use super::client::{failed, http, CalFailure, Connected, NowFromWorker, ProviderConfig};
use super::{
    caldav_body, google_event_body, google_move_body, google_video_link, graph_event_body,
    graph_move_body, graph_video_link, urlencode, Created, NewEvent, Provider,
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use worker::Method;

impl Connected {
    pub(super) async fn create_once(
        &self,
        cfg: &ProviderConfig,
        e: &NewEvent,
    ) -> Result<Created, CalFailure> {
        match self.provider {
            Provider::Google => {
                let bearer = self.bearer(cfg).await?;
                // dynchat mails the invitation itself (iMIP with the site's text), so Google must
                // not; `conferenceDataVersion=1` makes Google honour the Meet create request.
                let url = format!(
                    "{}/calendar/v3/calendars/primary/events?sendUpdates=none&conferenceDataVersion=1",
                    cfg.google_api_base
                );
                let (status, text) = http(
                    Method::Post,
                    &url,
                    &[
                        ("Authorization", &bearer),
                        ("Content-Type", "application/json"),
                    ],
                    Some(google_event_body(e).to_string()),
                    cfg.timeout_ms,
                )
                .await?;
                self.check_auth(status);
                let id = e.google_event_id.clone();
                match status {
                    200 | 201 => {
                        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                        Ok(Created {
                            video: google_video_link(&v),
                            id,
                        })
                    }
                    // Our own earlier attempt with the same id created it: read its link.
                    409 => {
                        let video = if e.video {
                            self.google_event_link(cfg, &bearer, &id).await?
                        } else {
                            None
                        };
                        Ok(Created { id, video })
                    }
                    _ => Err(failed("google events.insert", status, &text)),
                }
            }
            Provider::Graph => {
                let bearer = self.bearer(cfg).await?;
                let url = format!("{}/v1.0/me/events", cfg.graph_base);
                let (status, text) = http(
                    Method::Post,
                    &url,
                    &[
                        ("Authorization", &bearer),
                        ("Content-Type", "application/json"),
                        ("Prefer", "outlook.timezone=\"UTC\""),
                    ],
                    Some(graph_event_body(e).to_string()),
                    cfg.timeout_ms,
                )
                .await?;
                self.check_auth(status);
                if status != 201 && status != 200 {
                    return Err(failed("graph create event", status, &text));
                }
                let v: Value =
                    serde_json::from_str(&text).map_err(|e| CalFailure::Failed(e.to_string()))?;
                let id = v
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| CalFailure::Failed("graph event without id".into()))?;
                Ok(Created {
                    id,
                    video: graph_video_link(&v),
                })
            }
            Provider::Caldav => {
                let auth = self.basic()?;
                let body = caldav_body(e, Utc::now_from_worker()).map_err(CalFailure::Failed)?;
                let url = format!("{}{}.ics", self.collection(), urlencode(&e.uid));
                let (status, text) = http(
                    Method::Put,
                    &url,
                    &[
                        ("Authorization", &auth),
                        ("Content-Type", "text/calendar; charset=utf-8"),
                        ("If-None-Match", "*"),
                    ],
                    Some(body),
                    cfg.timeout_ms,
                )
                .await?;
                match status {
                    // 412: If-None-Match: * refused, the resource exists (our earlier attempt).
                    200 | 201 | 204 | 412 => Ok(Created {
                        id: url,
                        video: e.video_link.clone(),
                    }),
                    _ => Err(failed("caldav PUT", status, &text)),
                }
            }
        }
    }

    /// A Google event's video link as Google shows it now.
    async fn google_event_link(
        &self,
        cfg: &ProviderConfig,
        bearer: &str,
        id: &str,
    ) -> Result<Option<String>, CalFailure> {
        let url = format!(
            "{}/calendar/v3/calendars/primary/events/{}",
            cfg.google_api_base,
            urlencode(id)
        );
        let (status, text) = http(
            Method::Get,
            &url,
            &[("Authorization", bearer)],
            None,
            cfg.timeout_ms,
        )
        .await?;
        self.check_auth(status);
        if status != 200 {
            return Err(failed("google events.get", status, &text));
        }
        let v: Value =
            serde_json::from_str(&text).map_err(|e| CalFailure::Failed(e.to_string()))?;
        Ok(google_video_link(&v))
    }

    /// Patches a Google or Graph event's times; answers its video link after the move.
    pub(super) async fn move_once(
        &self,
        cfg: &ProviderConfig,
        event_id: &str,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        text: Option<&str>,
    ) -> Result<Option<String>, CalFailure> {
        let bearer = self.bearer(cfg).await?;
        let (url, body, what) = match self.provider {
            // `sendUpdates=none`: dynchat mails the visitor's update (SEQUENCE + 1) itself;
            // `conferenceDataVersion=1` so the answer shows the conference it keeps.
            Provider::Google => (
                format!(
                    "{}/calendar/v3/calendars/primary/events/{}?sendUpdates=none&conferenceDataVersion=1",
                    cfg.google_api_base,
                    urlencode(event_id)
                ),
                google_move_body(start, end),
                "google events.patch",
            ),
            // Graph mails the attendees the update itself.
            Provider::Graph => (
                format!("{}/v1.0/me/events/{}", cfg.graph_base, urlencode(event_id)),
                {
                    let mut b = graph_move_body(start, end);
                    if let Some(text) = text {
                        b["body"] = serde_json::json!({"contentType": "text", "content": text});
                    }
                    b
                },
                "graph update event",
            ),
            Provider::Caldav => {
                return Err(CalFailure::Failed(
                    "CalDAV events are moved by making them again".into(),
                ))
            }
        };
        let (status, text) = http(
            Method::Patch,
            &url,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
                ("Prefer", "outlook.timezone=\"UTC\""),
            ],
            Some(body.to_string()),
            cfg.timeout_ms,
        )
        .await?;
        self.check_auth(status);
        if status != 200 {
            return Err(failed(what, status, &text));
        }
        let v: Value =
            serde_json::from_str(&text).map_err(|e| CalFailure::Failed(e.to_string()))?;
        Ok(match self.provider {
            Provider::Google => google_video_link(&v),
            _ => graph_video_link(&v),
        })
    }

    pub(super) async fn cancel_once(
        &self,
        cfg: &ProviderConfig,
        event_id: &str,
        comment: &str,
    ) -> Result<(), CalFailure> {
        match self.provider {
            Provider::Google => {
                let bearer = self.bearer(cfg).await?;
                let url = format!(
                    "{}/calendar/v3/calendars/primary/events/{}?sendUpdates=none",
                    cfg.google_api_base,
                    urlencode(event_id)
                );
                let (status, text) = http(
                    Method::Delete,
                    &url,
                    &[("Authorization", &bearer)],
                    None,
                    cfg.timeout_ms,
                )
                .await?;
                self.check_auth(status);
                match status {
                    200 | 204 | 404 | 410 => Ok(()),
                    _ => Err(failed("google events.delete", status, &text)),
                }
            }
            Provider::Graph => {
                let bearer = self.bearer(cfg).await?;
                let url = format!(
                    "{}/v1.0/me/events/{}/cancel",
                    cfg.graph_base,
                    urlencode(event_id)
                );
                let body = serde_json::json!({ "Comment": comment }).to_string();
                let (status, text) = http(
                    Method::Post,
                    &url,
                    &[
                        ("Authorization", &bearer),
                        ("Content-Type", "application/json"),
                    ],
                    Some(body),
                    cfg.timeout_ms,
                )
                .await?;
                self.check_auth(status);
                match status {
                    200 | 202 | 204 | 404 => Ok(()),
                    _ => Err(failed("graph cancel", status, &text)),
                }
            }
            Provider::Caldav => {
                let auth = self.basic()?;
                let (status, text) = http(
                    Method::Delete,
                    event_id,
                    &[("Authorization", &auth)],
                    None,
                    cfg.timeout_ms,
                )
                .await?;
                match status {
                    200 | 204 | 404 => Ok(()),
                    _ => Err(failed("caldav DELETE", status, &text)),
                }
            }
        }
    }
}
