//! The dialogue file format (version 2): serde types that authors write and the JSON Schema is generated from.
//! Version 1 files (the same format without `languages` / `translations`) are migrated on read ([`migrate`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The format version this engine writes. Older versions are migrated on read ([`migrate`]).
pub const FORMAT_VERSION: u32 = 2;

/// Upgrades a parsed dialogue of an older format version to [`FORMAT_VERSION`]: version 1 is
/// version 2 without translations, so only the number changes. Other versions are left alone
/// (`compile` reports them).
pub fn migrate(mut d: Dialogue) -> Dialogue {
    if d.version == 1 && d.languages.is_empty() && d.translations.is_empty() {
        d.version = FORMAT_VERSION;
    }
    d
}

/// One dialogue: where it shows, to whom, and the conversation itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dialogue {
    /// Format version: 2 (version 1 files are read and migrated).
    pub version: u32,
    /// Stable identifier, e.g. `pricing-qualify` (letters, digits, `-`, `_`).
    pub id: String,
    /// Name shown to authors in the console and reports.
    pub name: String,
    /// Higher wins when several dialogues match a page; on a tie, the dialogue whose `id` sorts
    /// first (byte order: `a-campaign` before `b-pricing`).
    #[serde(default)]
    pub priority: i32,
    /// Who sees this dialogue and on which pages. Empty means everyone everywhere.
    #[serde(default)]
    pub audience: Audience,
    /// How often one visitor may see it.
    #[serde(default)]
    pub display: Display,
    /// Typing-indicator delay before each bot message, in milliseconds.
    #[serde(default = "default_delay")]
    pub response_delay_ms: u32,
    /// Id of the first card; defaults to the first card in `cards`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// The cards, in authoring order.
    pub cards: Vec<Card>,
    /// An A/B experiment: visitors are split between variants of this dialogue by their visitor
    /// id (sticky, weighted). Absent: everyone sees the dialogue as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Experiment>,
    /// The languages the dialogue speaks (primary subtags such as `en`, `de`, `ar`). The first is
    /// the language its cards are written in (the default, the fallback); every other one needs
    /// a translation of every card text in `translations`. Absent: English only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Per language (not the first of `languages`), per card id: that card's texts in the
    /// language. Token values stay data in every language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, BTreeMap<String, CardText>>,
}

/// An A/B experiment over one dialogue. The first variant is the control that every other one is
/// compared with in reports. A visitor's variant is `experiment::assign(id, visitor id, variants)`
/// (weighted rendezvous hashing): the same visitor always sees the same variant, and adding a
/// variant moves visitors only into the new one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Experiment id (letters, digits, `-`, `_`); part of every visitor's draw, so a new id
    /// reshuffles everyone.
    pub id: String,
    /// 2 to 8 variants with unique ids; at least one weight above 0.
    pub variants: Vec<ExperimentVariant>,
}

/// One arm of an experiment: the dialogue as written, changed only by what the variant overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExperimentVariant {
    /// Variant id (letters, digits, `-`, `_`), unique in the experiment; events, leads and
    /// meetings carry it.
    pub id: String,
    /// Relative share of visitors (0 = nobody; at most 10,000).
    pub weight: u32,
    /// Another flow: the variant's first card (cards reachable only from here belong to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Other texts: card id -> the card's `text` in this variant (tokens allowed).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub texts: std::collections::BTreeMap<String, String>,
    /// Other texts in the dialogue's other languages: language -> card id -> the card's `text`
    /// in this variant. A dialogue with more than one language needs one for every card in
    /// `texts` and every language after the first.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, BTreeMap<String, String>>,
}

/// One card's texts in another language: only the fields the card itself has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CardText {
    /// The card's `text` (message, question, capture, meeting, document, end), with tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A question's button labels, in the card's order (values stay as authored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
    /// A capture's `placeholder`, or a question's `free_text.placeholder`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// A capture's `error`, with tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A meeting's `confirmation`, with tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
    /// A document's link `label`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

fn default_delay() -> u32 {
    600
}

/// Frequency rules for one visitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Display {
    /// Do not show again to a visitor who completed it.
    #[serde(default = "yes")]
    pub hide_after_completion: bool,
    /// Show at most this many times to one visitor (unset: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_times: Option<u32>,
    /// Minimum minutes between two showings to one visitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_interval_minutes: Option<u32>,
}

fn yes() -> bool {
    true
}

impl Default for Display {
    fn default() -> Self {
        Display {
            hide_after_completion: true,
            max_times: None,
            min_interval_minutes: None,
        }
    }
}

/// A group of conditions: all must hold (`all`) or at least one (`any`). Groups nest at most 16
/// deep (the browser reads no deeper; `validate` reports `too_deep`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// Every entry must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all: Vec<Rule>,
    /// At least one entry must hold (when non-empty). An exclusion (`is_not`, `not_contains`,
    /// `not_matches`) here excludes nobody when another entry holds (warning
    /// `exclusion_in_any`): put exclusions in `all`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<Rule>,
}

/// A condition or a nested group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Rule {
    /// A single comparison.
    Condition(Condition),
    /// A nested all-of / any-of group.
    Group(Audience),
}

/// `field op value`, e.g. `{"field":"page.url","op":"matches","value":"*/pricing*"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// `page.url`, `page.path`, `page.title`, `page.referrer`, `page.query.<name>`,
    /// `page.utm.<source|medium|campaign|term|content>`, `page.time_on_page` (s),
    /// `page.scroll_depth` (%), `page.visits`, `page.exit_intent`, `page.device`,
    /// `page.country`, `page.local_time` (HH:MM), `page.weekday` (mon..sun),
    /// `lead.<field>`, `company.<field>`, `activity.<type>` (Marketo activities of the known
    /// visitor: `visited_web_page`, `filled_out_form`, `clicked_link`, `opened_email`,
    /// `clicked_email`; with `within_days`, `is_empty`, `is_not_empty`), and in branches
    /// `answer.<card id>`.
    pub field: String,
    /// The comparison.
    pub op: Operator,
    /// Operand: text, number, boolean or a list (for `in_list`). Omitted for `is_empty`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// For `page.local_time` / `page.weekday`: evaluate at this UTC offset instead of the visitor's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_minutes: Option<i32>,
}

/// Comparison operators (SPEC.md), plus wildcard matching for URLs and a time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// Equal, ignoring case.
    Is,
    /// Not equal, ignoring case.
    IsNot,
    /// Contains the text, ignoring case.
    Contains,
    /// Does not contain the text.
    NotContains,
    /// Starts with the text, ignoring case.
    StartsWith,
    /// Empty or absent.
    IsEmpty,
    /// Present and not empty.
    IsNotEmpty,
    /// Numeric (or HH:MM) greater than.
    GreaterThan,
    /// Numeric (or HH:MM) less than.
    LessThan,
    /// Equal to one of a list.
    InList,
    /// Wildcard match (`*` any run, `?` one character), ignoring case. URL include.
    Matches,
    /// Wildcard does not match. URL exclude.
    NotMatches,
    /// `"09:00-17:00"` (may wrap midnight) or `[lo, hi]` numbers, inclusive start, exclusive end.
    Between,
    /// For `activity.<type>`: the visitor had that activity within the last N days (N from 1
    /// to 90).
    WithinDays,
}

impl Operator {
    /// Every operator, in the order authoring tools offer them (the console's dropdown).
    pub const ALL: [Operator; 14] = [
        Operator::Is,
        Operator::IsNot,
        Operator::Contains,
        Operator::NotContains,
        Operator::StartsWith,
        Operator::IsEmpty,
        Operator::IsNotEmpty,
        Operator::GreaterThan,
        Operator::LessThan,
        Operator::InList,
        Operator::Matches,
        Operator::NotMatches,
        Operator::Between,
        Operator::WithinDays,
    ];

    /// The name a dialogue file writes (`"op"`), as serde reads it.
    pub fn name(self) -> &'static str {
        match self {
            Operator::Is => "is",
            Operator::IsNot => "is_not",
            Operator::Contains => "contains",
            Operator::NotContains => "not_contains",
            Operator::StartsWith => "starts_with",
            Operator::IsEmpty => "is_empty",
            Operator::IsNotEmpty => "is_not_empty",
            Operator::GreaterThan => "greater_than",
            Operator::LessThan => "less_than",
            Operator::InList => "in_list",
            Operator::Matches => "matches",
            Operator::NotMatches => "not_matches",
            Operator::Between => "between",
            Operator::WithinDays => "within_days",
        }
    }
}

/// One step of a dialogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Card {
    /// Bot text (markdown subset: links, bold), optional image.
    Message(MessageCard),
    /// A question with buttons and/or free text.
    Question(QuestionCard),
    /// Ask for contact data, validate it, map it to a lead field.
    Capture(CaptureCard),
    /// Offer slots and book a meeting.
    Meeting(MeetingCard),
    /// A conversion mark.
    Goal(GoalCard),
    /// Conditional jump on answers and lead fields; first matching rule wins.
    Branch(BranchCard),
    /// A tracked link to a document.
    Document(DocumentCard),
    /// Ends the conversation as completed, with an optional last message.
    End(EndCard),
}

/// Bot text (markdown subset: links, bold), optional image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageCard {
    /// Card id, unique in the dialogue.
    pub id: String,
    /// Text with tokens: `{{lead.FirstName:there}}` (spaces around the default are trimmed).
    /// Markdown (links, bold) applies to what the author writes; a token's value (an answer, a
    /// lead field) is inserted as plain text.
    pub text: String,
    /// Optional image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Next card; absent ends the dialogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Per-card typing delay override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u32>,
}

/// A question with buttons and/or free text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionCard {
    /// Card id.
    pub id: String,
    /// Text with tokens.
    pub text: String,
    /// Buttons (label shown, value stored).
    #[serde(default)]
    pub buttons: Vec<Button>,
    /// Accept a typed answer too (at most 1,000 characters; a longer one is re-prompted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_text: Option<FreeText>,
    /// Lead field the answer is stored in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Next card for buttons without their own `next` and for typed answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Per-card typing delay override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u32>,
}

/// Ask for contact data, validate it, map it to a lead field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureCard {
    /// Card id.
    pub id: String,
    /// Prompt text with tokens.
    pub text: String,
    /// What is asked. Every typed answer is at most 1,000 characters (re-prompted, never cut);
    /// `email`: ASCII only, an RFC 5322 dot-atom local part, a dotted domain of letters, digits
    /// and `-` (internationalised domains in punycode).
    pub kind: CaptureKind,
    /// Lead field that receives the value (e.g. `email`, `firstName`).
    pub field: String,
    /// Skip this card when the field is already known. Such a card does not wait for the visitor
    /// once the field is known (or has just been typed), so a loop back through it is rejected
    /// like a loop of messages (`cycle`).
    #[serde(default)]
    pub skip_if_known: bool,
    /// Replace a known value (otherwise a known value is kept in Marketo).
    #[serde(default)]
    pub overwrite: bool,
    /// Extra validation: a regular expression the whole answer must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Re-prompt text shown for an invalid answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Input placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Next card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Per-card typing delay override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u32>,
}

/// Offer slots and book a meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingCard {
    /// Card id.
    pub id: String,
    /// Prompt text with tokens.
    pub text: String,
    /// Round-robin queue or named agent.
    pub route: Route,
    /// Confirmation text; tokens `{{meeting.agent}}`, `{{meeting.time}}` are available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
    /// Card after a booked meeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Card when no slot is available or the visitor skips booking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_skip: Option<String>,
    /// Per-card typing delay override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u32>,
}

/// A conversion mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalCard {
    /// Card id.
    pub id: String,
    /// Goal name reported to Marketo and reports.
    pub name: String,
    /// Score added to the conversation.
    #[serde(default)]
    pub score: i32,
    /// Next card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Conditional jump on answers and lead fields; first matching rule wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchCard {
    /// Card id.
    pub id: String,
    /// Ordered rules.
    pub rules: Vec<BranchRule>,
    /// Card when no rule matches.
    pub otherwise: String,
}

/// A tracked link to a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentCard {
    /// Card id.
    pub id: String,
    /// Text with tokens.
    pub text: String,
    /// Document URL (https).
    pub url: String,
    /// Link label.
    pub label: String,
    /// Next card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Per-card typing delay override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u32>,
}

/// Ends the conversation as completed, with an optional last message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndCard {
    /// Card id.
    pub id: String,
    /// Optional closing text with tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A choice on a Question card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Button {
    /// Text shown on the button.
    pub label: String,
    /// Value stored (defaults to the label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Card to go to; defaults to the question's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Free-text settings of a Question card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FreeText {
    /// Input placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Card after a typed answer; defaults to the question's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// What an Info capture card asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaptureKind {
    /// A person's name.
    Name,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A company name.
    Company,
    /// Any text.
    Text,
}

/// Who a meeting is booked with: `{"queue": id}`, `{"agent": id}`, or routing rules
/// `{"rules": [{"when", "queue"}], "default": id}` (see [`crate::routing`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RouteForm", into = "RouteForm")]
pub enum Route {
    /// Round robin over a queue, by queue id.
    Queue(String),
    /// One named agent, by agent id.
    Agent(String),
    /// Rules choose the queue when the visitor books (evaluated by the worker). Shared: a
    /// route is cloned into effects, and the browser (which only sees the default) should not
    /// carry code to deep-copy conditions.
    Rules(std::sync::Arc<RouteRules>),
}

/// One rule: when `when` holds, the meeting goes to `queue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// Conditions on `lead.<field>`, `company.<field>` and `answer.<card id>`.
    pub when: Audience,
    /// Queue id.
    pub queue: String,
}

/// The rules of a route in order, the default queue, and the lead field naming the lead's owner
/// (account routing: the owner is asked first when they are an agent of the chosen queue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteRules {
    /// Rules in order; the first that holds wins.
    pub rules: Vec<RouteRule>,
    /// Queue id when no rule holds.
    pub default: String,
    /// The Marketo lead field holding the owner's email (`leadOwnerEmail` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_field: Option<String>,
}

/// The authored form of [`Route`]: exactly one of `queue`, `agent` or `rules` (+ `default`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteForm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rules: Option<Vec<RouteRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner_field: Option<String>,
}

impl TryFrom<RouteForm> for Route {
    type Error = String;

    fn try_from(f: RouteForm) -> Result<Route, String> {
        match f {
            RouteForm {
                queue: Some(q),
                agent: None,
                rules: None,
                default: None,
                owner_field: None,
            } => Ok(Route::Queue(q)),
            RouteForm {
                queue: None,
                agent: Some(a),
                rules: None,
                default: None,
                owner_field: None,
            } => Ok(Route::Agent(a)),
            RouteForm {
                queue: None,
                agent: None,
                rules: Some(rules),
                default: Some(default),
                owner_field,
            } => Ok(Route::Rules(std::sync::Arc::new(RouteRules {
                rules,
                default,
                owner_field,
            }))),
            RouteForm {
                queue: None,
                agent: None,
                rules: Some(_),
                default: None,
                ..
            } => Err("routing rules need a `default` queue".into()),
            _ => Err(
                "route is one of {\"queue\": id}, {\"agent\": id} or {\"rules\": [...], \"default\": id}"
                    .into(),
            ),
        }
    }
}

impl From<Route> for RouteForm {
    fn from(r: Route) -> RouteForm {
        match r {
            Route::Queue(q) => RouteForm {
                queue: Some(q),
                ..RouteForm::default()
            },
            Route::Agent(a) => RouteForm {
                agent: Some(a),
                ..RouteForm::default()
            },
            Route::Rules(r) => {
                let r = std::sync::Arc::unwrap_or_clone(r);
                RouteForm {
                    rules: Some(r.rules),
                    default: Some(r.default),
                    owner_field: r.owner_field,
                    ..RouteForm::default()
                }
            }
        }
    }
}

/// A queue: round robin over its agents.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct QueueRoute {
    /// Round robin over a queue, by queue id.
    queue: String,
}

/// One named agent.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AgentRoute {
    /// One named agent, by agent id.
    agent: String,
}

/// Who a meeting is booked with: a queue (round robin), one agent, or routing rules that choose
/// the queue when the visitor books.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RouteSchema {
    Queue(QueueRoute),
    Agent(AgentRoute),
    Rules(RouteRules),
}

impl JsonSchema for Route {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Route".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        RouteSchema::json_schema(generator)
    }
}

/// `when` holds → go to `next`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchRule {
    /// Conditions on `answer.<card>`, `lead.<field>`, `company.<field>` or page fields.
    pub when: Audience,
    /// Card to go to.
    pub next: String,
}

impl Card {
    /// The card's id.
    pub fn id(&self) -> &str {
        match self {
            Card::Message(MessageCard { id, .. })
            | Card::Question(QuestionCard { id, .. })
            | Card::Capture(CaptureCard { id, .. })
            | Card::Meeting(MeetingCard { id, .. })
            | Card::Goal(GoalCard { id, .. })
            | Card::Branch(BranchCard { id, .. })
            | Card::Document(DocumentCard { id, .. })
            | Card::End(EndCard { id, .. }) => id,
        }
    }
}

/// The JSON Schema of the dialogue format, generated from the types above.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Dialogue);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
