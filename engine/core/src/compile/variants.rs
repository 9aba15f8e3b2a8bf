//! A dialogue's experiment compiled: every variant checked with its JSON path and resolved to a
//! start card and text overrides; the flow each variant's visitors run, and the dialogue that
//! ending the experiment with one variant publishes.

use super::flow::{CCard, CExperiment, CVariant, CardIx, CompiledFlow};
use super::resolve::Ctx;
use crate::diag::Diagnostic;
use crate::experiment::Variant;
use crate::model::{Card, Dialogue, Experiment, ExperimentVariant};
use crate::rules::valid_id;
use crate::tokens::Template;
use std::collections::HashSet;

/// At most this many variants in one experiment.
pub const MAX_VARIANTS: usize = 8;
/// The largest weight of one variant.
pub const MAX_WEIGHT: u32 = 10_000;

/// Checks and resolves the experiment; problems go to `cx.diags` with their JSON paths.
pub(super) fn compile_experiment(x: &Experiment, d: &Dialogue, cx: &mut Ctx<'_>) -> CExperiment {
    let p = "$.experiment";
    let cards = &d.cards;
    if !valid_id(&x.id) {
        cx.diags.push(Diagnostic::error(
            format!("{p}.id"),
            "bad_id",
            "experiment id must be 1-64 letters, digits, `-` or `_`",
        ));
    }
    if x.variants.len() < 2 {
        cx.diags.push(Diagnostic::error(
            format!("{p}.variants"),
            "too_few",
            "an experiment needs at least 2 variants",
        ));
    } else if x.variants.len() > MAX_VARIANTS {
        cx.diags.push(Diagnostic::error(
            format!("{p}.variants"),
            "too_large",
            format!("{} variants; the limit is {MAX_VARIANTS}", x.variants.len()),
        ));
    }
    if !x.variants.is_empty() && x.variants.iter().all(|v| v.weight == 0) {
        cx.diags.push(Diagnostic::error(
            format!("{p}.variants"),
            "no_weight",
            "every variant has weight 0: nobody would see this dialogue",
        ));
    }
    let mut seen = HashSet::new();
    let mut variants = Vec::with_capacity(x.variants.len());
    for (i, v) in x.variants.iter().enumerate() {
        let vp = format!("{p}.variants[{i}]");
        if !valid_id(&v.id) {
            cx.diags.push(Diagnostic::error(
                format!("{vp}.id"),
                "bad_id",
                "variant id must be 1-64 letters, digits, `-` or `_`",
            ));
        } else if !seen.insert(v.id.as_str()) {
            cx.diags.push(Diagnostic::error(
                format!("{vp}.id"),
                "duplicate_id",
                format!("variant id `{}` is used more than once", v.id),
            ));
        }
        if v.weight > MAX_WEIGHT {
            cx.diags.push(Diagnostic::error(
                format!("{vp}.weight"),
                "too_large",
                format!("weight {}; the limit is {MAX_WEIGHT}", v.weight),
            ));
        }
        let start = cx.target(v.start.as_ref(), format!("{vp}.start"));
        let mut texts = Vec::new();
        let mut translations = Vec::new();
        for (card, text) in &v.texts {
            let tp = format!("{vp}.texts.{card}");
            let Some(ix) = cx.ids.get(card.as_str()).copied() else {
                cx.diags.push(Diagnostic::error(
                    tp,
                    "unknown_card",
                    format!("no card has id `{card}`"),
                ));
                continue;
            };
            if matches!(
                cards.get(usize::from(ix)),
                Some(Card::Goal(_) | Card::Branch(_))
            ) {
                cx.diags.push(Diagnostic::error(
                    tp,
                    "no_text",
                    format!("card `{card}` has no text to replace"),
                ));
                continue;
            }
            texts.push((ix, cx.template(text, tp.clone())));
            translated_texts(v, d, card, ix, &tp, &mut translations, cx);
        }
        unknown_translations(v, d, &vp, cx);
        variants.push(CVariant {
            id: v.id.clone(),
            weight: v.weight,
            start,
            texts,
            translations,
        });
    }
    CExperiment {
        id: x.id.clone(),
        variants,
    }
}

/// The languages after the dialogue's first, each once.
fn other_languages(d: &Dialogue) -> impl Iterator<Item = &String> {
    d.languages
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(i, l)| !d.languages[..*i].contains(l))
        .map(|(_, l)| l)
}

/// A variant's `texts.<card>` in every other language of the dialogue: a missing one is a
/// `missing_translation` at the variant text's path (its visitors in that language would
/// otherwise see the control's text while counted in the variant).
fn translated_texts(
    v: &ExperimentVariant,
    d: &Dialogue,
    card: &str,
    ix: CardIx,
    tp: &str,
    out: &mut Vec<(String, CardIx, Template)>,
    cx: &mut Ctx<'_>,
) {
    for lang in other_languages(d) {
        match v.translations.get(lang).and_then(|m| m.get(card)) {
            Some(t) => {
                let path = tp.replacen(".texts.", &format!(".translations.{lang}."), 1);
                out.push((lang.clone(), ix, cx.template(t, path)));
            }
            None => cx.diags.push(Diagnostic::error(
                tp.to_string(),
                "missing_translation",
                format!("the variant's text of card `{card}` has no `{lang}` translation"),
            )),
        }
    }
}

/// Variant translations of a language the dialogue does not have, or of a card the variant
/// does not replace.
fn unknown_translations(v: &ExperimentVariant, d: &Dialogue, vp: &str, cx: &mut Ctx<'_>) {
    for (lang, cards) in &v.translations {
        let lp = format!("{vp}.translations.{lang}");
        if !other_languages(d).any(|l| l == lang) {
            cx.diags.push(Diagnostic::error(
                lp,
                "unknown_language",
                format!("`{lang}` is not one of the dialogue's `languages` after the first"),
            ));
            continue;
        }
        for card in cards.keys().filter(|c| !v.texts.contains_key(*c)) {
            cx.diags.push(Diagnostic::error(
                format!("{lp}.{card}"),
                "unexpected_translation",
                format!("the variant has no `texts.{card}` to translate"),
            ));
        }
    }
}

impl CompiledFlow {
    /// The experiment's id and variants as [`crate::experiment::assign`] takes them.
    pub fn experiment_arms(&self) -> Option<(&str, Vec<Variant>)> {
        let x = self.experiment.as_ref()?;
        let arms = x
            .variants
            .iter()
            .map(|v| Variant {
                id: v.id.clone(),
                weight: v.weight,
            })
            .collect();
        Some((x.id.as_str(), arms))
    }

    /// The flow a visitor of `variant` runs: the same version (hash), cards and ids, with the
    /// variant's start card and texts, and no experiment. `None` for an unknown variant.
    pub fn variant_flow(&self, variant: &str) -> Option<CompiledFlow> {
        let v = self
            .experiment
            .as_ref()?
            .variants
            .iter()
            .find(|v| v.id == variant)?;
        let mut f = self.clone();
        f.experiment = None;
        if let Some(s) = v.start {
            f.start = s;
        }
        for (ix, t) in &v.texts {
            match f.cards.get_mut(usize::from(*ix)) {
                Some(
                    CCard::Message { text, .. }
                    | CCard::Question { text, .. }
                    | CCard::Capture { text, .. }
                    | CCard::Meeting { text, .. }
                    | CCard::Document { text, .. },
                ) => *text = t.clone(),
                Some(CCard::End { text }) => *text = Some(t.clone()),
                _ => {}
            }
        }
        for (lang, ix, t) in &v.translations {
            let card = f
                .translations
                .iter_mut()
                .find(|l| l.lang == *lang)
                .and_then(|l| l.cards.get_mut(usize::from(*ix)));
            if let Some(c) = card {
                c.text = Some(t.clone());
            }
        }
        Some(f)
    }

    /// Ending the experiment with `variant`: the dialogue as that variant shows it, without an
    /// experiment, keeping only the cards its flow reaches. `None` for an unknown variant or a
    /// flow read from its wire form (which has no source).
    pub fn conclude(&self, variant: &str) -> Option<Dialogue> {
        let flow = self.variant_flow(variant)?;
        let chosen = self
            .source
            .experiment
            .as_ref()?
            .variants
            .iter()
            .find(|v| v.id == variant)?;
        let n = flow.cards.len();
        if self.source.cards.len() != n {
            return None;
        }
        let mut reached = vec![false; n];
        let mut stack = vec![usize::from(flow.start)];
        while let Some(i) = stack.pop() {
            if i < n && !reached[i] {
                reached[i] = true;
                stack.extend(flow.cards[i].successors().into_iter().map(usize::from));
            }
        }
        let mut d = self.source.clone();
        d.experiment = None;
        if chosen.start.is_some() || d.start.is_some() {
            d.start = Some(flow.card_ids[usize::from(flow.start)].clone());
        }
        for card in d.cards.iter_mut() {
            let Some(t) = chosen.texts.get(card.id()) else {
                continue;
            };
            match card {
                Card::Message(c) => c.text = t.clone(),
                Card::Question(c) => c.text = t.clone(),
                Card::Capture(c) => c.text = t.clone(),
                Card::Meeting(c) => c.text = t.clone(),
                Card::Document(c) => c.text = t.clone(),
                Card::End(c) => c.text = Some(t.clone()),
                Card::Goal(_) | Card::Branch(_) => {}
            }
        }
        // Translations follow: the chosen variant's texts, and none for a card it drops.
        let kept: HashSet<&str> = (0..n)
            .filter(|i| reached[*i])
            .map(|i| flow.card_ids[i].as_str())
            .collect();
        for (lang, cards) in d.translations.iter_mut() {
            cards.retain(|id, _| kept.contains(id.as_str()));
            for (id, t) in chosen.translations.get(lang).into_iter().flatten() {
                if let Some(c) = cards.get_mut(id) {
                    c.text = Some(t.clone());
                }
            }
        }
        let mut i = 0;
        d.cards.retain(|_| {
            i += 1;
            reached[i - 1]
        });
        Some(d)
    }
}
