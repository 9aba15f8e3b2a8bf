//! The no-slot fallback's form: the visitor's preferred times (a labelled textarea), Send and Skip.

use super::View;
use dynchat_engine::json::int_string;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlTextAreaElement};

/// The worker's limit on `preferred` (characters); the textarea's `maxlength` counts UTF-16
/// units, so astral characters may stop it earlier, never later.
const PREFERRED_MAX: &str = "1000";

impl View {
    /// A form whose Send reports [`Ui::SendRequest`] (an empty text gets a message instead) and
    /// whose Skip reports [`Ui::SkipMeeting`].
    pub(super) fn request_form(&mut self) -> Option<Element> {
        self.input_seq += 1;
        let n = int_string(i64::from(self.input_seq));
        let (id, err_id) = (["dc-pref-", &n].concat(), ["dc-err-", &n].concat());
        let form = self.el("form", "request", "")?;
        let _ = form.set_attribute("novalidate", "");
        let label = self.el("label", "", &self.t("request.label"))?;
        let _ = label.set_attribute("for", &id);
        let area = self
            .doc
            .create_element("textarea")
            .ok()?
            .dyn_into::<HtmlTextAreaElement>()
            .ok()?;
        area.set_id(&id);
        area.set_rows(3);
        let _ = area.set_attribute("maxlength", PREFERRED_MAX);
        let _ = area.set_attribute("aria-describedby", &err_id);
        area.set_placeholder(&self.t("request.placeholder"));
        let err = self.el("p", "err", "")?;
        err.set_id(&err_id);
        let _ = err.set_attribute("role", "alert");
        let row = self.el("div", "choices", "")?;
        let send = self.el("button", "choice", &self.t("ui.send"))?;
        let _ = send.set_attribute("type", "submit");
        let _ = row.append_child(&send);
        if let Some(skip) = self.button("link", &self.t("request.skip"), "k", None) {
            let _ = row.append_child(&skip);
        }
        for c in [&label, area.as_ref(), &err, &row] {
            let _ = form.append_child(c);
        }
        // Its submit (an empty text gets a message instead) is read by the root's listener.
        let _ = form.set_attribute(super::ACTION, "q");
        Some(form)
    }
}
