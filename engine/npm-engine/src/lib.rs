//! `@dynchat/engine`: the dialogue engine, headless, for Node and bundlers: `compile`, `Flow`, `Session.step`, `select` and `simulate` through wasm-bindgen.
//!
//! Everything a caller passes is checked here and refused with a JS `Error` (a `TypeError` for a
//! value of the wrong kind) that names the argument and, for objects, the first wrong field. The
//! engine's own values leave as plain objects whose shapes `types.d.ts` describes.

// Layers, top down: this file -> select / sim -> convert.
mod convert;
mod select;
mod sim;

use convert::{
    error, millis, object_json, optional_object_json, set, text_or_json, to_js, type_error,
};
use dynchat_engine::i18n::lang_tag;
use dynchat_engine::{compile_with, step, CompiledFlow, Input, Options};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");

// Optional object arguments: typed for TypeScript, checked here like every other argument.
#[wasm_bindgen]
extern "C" {
    /// `CompileOptions` in `types.d.ts`.
    #[wasm_bindgen(typescript_type = "CompileOptions")]
    pub type CompileOptionsArg;
    /// `Record<string, Seen>` in `types.d.ts`.
    #[wasm_bindgen(typescript_type = "Record<string, Seen>")]
    pub type SeenArg;
    /// `SimulateOptions` in `types.d.ts`.
    #[wasm_bindgen(typescript_type = "SimulateOptions")]
    pub type SimulateOptionsArg;
}

/// A compiled dialogue: what `Session` runs. Immutable; share one between sessions.
#[wasm_bindgen]
pub struct Flow {
    inner: Rc<CompiledFlow>,
}

#[wasm_bindgen]
impl Flow {
    /// The dialogue's id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// The dialogue's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// The content hash: the published version's identity (20 hex digits).
    #[wasm_bindgen(getter)]
    pub fn hash(&self) -> String {
        self.inner.hash.clone()
    }

    /// Priority among a site's dialogues (higher wins).
    #[wasm_bindgen(getter)]
    pub fn priority(&self) -> i32 {
        self.inner.priority
    }

    /// Card ids in file order.
    #[wasm_bindgen(getter)]
    pub fn cards(&self) -> Vec<String> {
        self.inner.card_ids.clone()
    }

    /// The compiled flow as JSON (what the worker ships in a bundle's `flow`).
    #[wasm_bindgen(js_name = toWire)]
    pub fn to_wire(&self) -> String {
        self.inner.to_wire()
    }

    /// Reads a compiled flow written by `toWire` (or a bundle entry's `flow`).
    #[wasm_bindgen(js_name = fromWire)]
    pub fn from_wire(
        #[wasm_bindgen(unchecked_param_type = "string | object")] wire: JsValue,
    ) -> Result<Flow, JsValue> {
        let text = text_or_json(&wire, "Flow.fromWire: wire")?;
        let flow = CompiledFlow::from_wire(text.text())
            .map_err(|e| error(&format!("Flow.fromWire: {e}")))?;
        Ok(Flow {
            inner: Rc::new(flow),
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct CompileOptions {
    lead_fields: Option<Vec<String>>,
}

/// Compiles a dialogue (JSON text or object): a flow when there is no error, and every finding
/// with its JSON path. Throws only when the arguments are of the wrong kind.
#[wasm_bindgen(unchecked_return_type = "CompileResult")]
pub fn compile(
    #[wasm_bindgen(unchecked_param_type = "string | object")] json: JsValue,
    options: Option<CompileOptionsArg>,
) -> Result<JsValue, JsValue> {
    let text = text_or_json(&json, "compile: json")?;
    let options: CompileOptions = match optional_object_json(&options.into(), "compile: options")? {
        Some(o) => o.parse("compile: options").map_err(|e| type_error(&e))?,
        None => CompileOptions::default(),
    };
    let opts = Options {
        lead_fields: options.lead_fields,
    };
    let out = js_sys::Object::new();
    match compile_with(text.text(), &opts) {
        Ok(flow) => {
            set(&out, "ok", &JsValue::TRUE)?;
            set(&out, "diagnostics", &to_js(&flow.warnings)?)?;
            let flow = Flow {
                inner: Rc::new(flow),
            };
            set(&out, "flow", &flow.into())?;
        }
        Err(diags) => {
            set(&out, "ok", &JsValue::FALSE)?;
            set(&out, "diagnostics", &to_js(&diags)?)?;
            set(&out, "flow", &JsValue::UNDEFINED)?;
        }
    }
    Ok(out.into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionOptions {
    id: String,
    now: i64,
    #[serde(default)]
    lead: BTreeMap<String, String>,
    #[serde(default)]
    lang: Option<String>,
}

/// One visitor's conversation on one flow: feed it inputs, perform the effects it returns.
#[wasm_bindgen]
pub struct Session {
    flow: Rc<CompiledFlow>,
    state: dynchat_engine::Session,
}

#[wasm_bindgen]
impl Session {
    /// A new conversation (status `new`); the first `step` is `{ type: "start" }`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        flow: &Flow,
        #[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue,
    ) -> Result<Session, JsValue> {
        let json = object_json(&options, "new Session: options")?;
        let o: SessionOptions = json
            .parse("new Session: options")
            .map_err(|e| type_error(&e))?;
        let lead: Vec<(String, String)> = o.lead.into_iter().collect();
        let mut state = dynchat_engine::Session::new(&flow.inner, &o.id, &lead, o.now);
        if let Some(tag) = o.lang {
            // The engine reads any tag it cannot use as English; a caller who names a language
            // hears why it was not taken instead.
            let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
            if lang_tag(&tag) == "en" && !primary.eq_ignore_ascii_case("en") {
                return Err(type_error(&format!(
                    "new Session: options.lang: `{tag}` is not a language tag (like `de` or `de-AT`)"
                )));
            }
            state = state.in_lang(&tag);
        }
        Ok(Session {
            state,
            flow: flow.inner.clone(),
        })
    }

    /// Reads a session saved with `save()` (text or object) for the same flow version; refuses
    /// another flow's session and unknown session versions.
    pub fn restore(
        flow: &Flow,
        #[wasm_bindgen(unchecked_param_type = "string | object")] saved: JsValue,
    ) -> Result<Session, JsValue> {
        let text = text_or_json(&saved, "Session.restore: saved")?;
        let state = dynchat_engine::Session::from_json(text.text(), &flow.inner).map_err(|e| {
            // The engine's reader (the browser's, kept small) only says it could not read the
            // text; serde's derive names what is wrong, which a developer wants to see here.
            let detail = serde_json::from_str::<dynchat_engine::Session>(text.text())
                .err()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            error(&format!("Session.restore: {e}{detail}"))
        })?;
        Ok(Session {
            flow: flow.inner.clone(),
            state,
        })
    }

    /// Advances the conversation by one input at `now` (ms since the epoch) and returns what the
    /// host must do, in order. A visitor's bad answer is a `reprompt` effect, an input that does
    /// not fit the state an `ignored` one; only a malformed argument throws.
    #[wasm_bindgen(unchecked_return_type = "Effect[]")]
    pub fn step(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Input")] input: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] now: JsValue,
    ) -> Result<JsValue, JsValue> {
        let json = object_json(&input, "step: input")?;
        let input: Input = json.parse("step: input").map_err(|e| type_error(&e))?;
        let now = millis(&now, "step: now")?;
        to_js(&step(&self.flow, &mut self.state, input, now))
    }

    /// `new`, `active`, `completed` or `dropped`.
    #[wasm_bindgen(getter, unchecked_return_type = "Status")]
    pub fn status(&self) -> Result<JsValue, JsValue> {
        to_js(&self.state.status)
    }

    /// The card waiting for the visitor, if any.
    #[wasm_bindgen(getter)]
    pub fn at(&self) -> Option<String> {
        let at = usize::from(self.state.at?);
        self.flow.card_ids.get(at).cloned()
    }

    /// The conversation's language (primary subtag, `en` unless `options.lang` named another).
    #[wasm_bindgen(getter)]
    pub fn lang(&self) -> String {
        self.state.lang.clone()
    }

    /// Total goal score so far.
    #[wasm_bindgen(getter)]
    pub fn score(&self) -> i32 {
        self.state.score
    }

    /// Answers so far, by card id.
    #[wasm_bindgen(getter, unchecked_return_type = "Record<string, string>")]
    pub fn answers(&self) -> Result<JsValue, JsValue> {
        let by_id: BTreeMap<&str, &str> = self
            .state
            .answers
            .iter()
            .filter_map(|(ix, v)| {
                Some((
                    self.flow.card_ids.get(usize::from(*ix))?.as_str(),
                    v.as_str(),
                ))
            })
            .collect();
        to_js(&by_id)
    }

    /// Lead fields known or captured (names lower-cased).
    #[wasm_bindgen(getter, unchecked_return_type = "Record<string, string>")]
    pub fn lead(&self) -> Result<JsValue, JsValue> {
        to_js(&self.state.lead)
    }

    /// The session as JSON text, to store and `restore` later (it holds the flow's hash, never the flow).
    pub fn save(&self) -> String {
        self.state.to_json()
    }

    /// The saved form as an object, so `JSON.stringify(session)` works.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "object")]
    pub fn to_json(&self) -> Result<JsValue, JsValue> {
        to_js(&self.state)
    }
}

/// Picks the dialogue to show for a page context from a site bundle, with the frequency rules
/// applied from `seen` (`{ [dialogueId]: Seen }`). Entries that cannot be read are skipped and named.
#[wasm_bindgen(unchecked_return_type = "Selection")]
pub fn select(
    #[wasm_bindgen(unchecked_param_type = "Bundle | string")] bundle: JsValue,
    #[wasm_bindgen(unchecked_param_type = "PageContext")] context: JsValue,
    seen: Option<SeenArg>,
) -> Result<JsValue, JsValue> {
    let bundle = text_or_json(&bundle, "select: bundle")?;
    let context = object_json(&context, "select: context")?;
    let seen = optional_object_json(&seen.into(), "select: seen")?;
    let picked = select::select(&bundle, &context, seen.as_ref()).map_err(|e| type_error(&e))?;
    to_js(&picked)
}

/// Runs a scripted visitor and returns the transcript (the same text as `dynchat simulate`).
/// `answers` is an answers file's text (its `# lead:` / `# now:` lines apply) or a list of answers.
/// Throws an `Error` with `diagnostics` when the dialogue does not compile, and one with
/// `transcript` (so far) when an answer names no input (`@0`, an unknown slot).
#[wasm_bindgen]
pub fn simulate(
    #[wasm_bindgen(unchecked_param_type = "string | object")] json: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | string[]")] answers: JsValue,
    options: Option<SimulateOptionsArg>,
) -> Result<String, JsValue> {
    let json = text_or_json(&json, "simulate: json")?;
    let answers: sim::Answers = if let Some(s) = answers.as_string() {
        sim::Answers::File(s)
    } else if js_sys::Array::is_array(&answers) {
        let text = text_or_json(&answers, "simulate: answers")?;
        sim::Answers::List(
            text.parse("simulate: answers")
                .map_err(|e| type_error(&e))?,
        )
    } else {
        return Err(type_error(
            "simulate: answers: expected an answers file's text or an array of strings",
        ));
    };
    let over = match optional_object_json(&options.into(), "simulate: options")? {
        Some(o) => o.parse("simulate: options").map_err(|e| type_error(&e))?,
        None => sim::SimulateOptions::default(),
    };
    match sim::simulate(json.text(), answers, over) {
        Ok(t) => Ok(t),
        Err(sim::SimError::Invalid(diags)) => {
            let first = diags.first().map(ToString::to_string).unwrap_or_default();
            let e = error(&format!(
                "simulate: the dialogue does not compile ({} problem(s)); first: {first}",
                diags.len()
            ));
            set(&e, "diagnostics", &to_js(&diags)?)?;
            Err(e)
        }
        Err(sim::SimError::Script { reason, transcript }) => {
            let e = error(&format!("simulate: {reason}"));
            set(&e, "transcript", &JsValue::from_str(&transcript))?;
            Err(e)
        }
    }
}
