//! The no-slot fallback's form: the visitor's preferred times (a labelled textarea), Send and Skip.

use super::View;
use dynchat_engine::json::int_string;

/// The preferred-times form: 0 the textarea's id, 1 its error line's id, 2 maxlength. Its submit
/// (`data-a=q`) is read by the root's listener: an empty text gets a message instead.
const REQUEST: &str = concat!(
    "<form|.request|@novalidate=|@data-a=q|<label|\"%request.label|@for=$0|>|",
    "<textarea|@id=$0|@rows=3|@maxlength=$2|@aria-describedby=$1|",
    "@placeholder=%request.placeholder|>|<p|.err|@id=$1|@role=alert|>|",
    "<div|.choices|<button|.choice|\"%ui.send|@type=submit|>|",
    "<button|.link|@type=button|\"%request.skip|@data-a=k"
);

/// The worker's limit on `preferred` (characters); the textarea's `maxlength` counts UTF-16
/// units, so astral characters may stop it earlier, never later.
const PREFERRED_MAX: &str = "1000";

impl View {
    /// A form whose Send reports [`super::Ui::SendRequest`] (an empty text gets a message
    /// instead) and whose Skip reports [`super::Ui::SkipMeeting`].
    pub(super) fn request_form(&mut self) {
        self.input_seq += 1;
        let n = int_string(i64::from(self.input_seq));
        let (id, err_id) = (["dc-pref-", &n].concat(), ["dc-err-", &n].concat());
        self.build(
            Some(&self.composer),
            REQUEST,
            &[&id, &err_id, PREFERRED_MAX],
        );
    }
}
