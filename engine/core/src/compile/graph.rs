//! Graph checks on compiled cards: unreachable cards and loops that never wait for the visitor.

use super::flow::*;
use crate::diag::Diagnostic;

/// Unreachable cards (from every start: the dialogue's and its variants') and cycles that would
/// loop without visitor input.
pub(super) fn graph_checks(cards: &[CCard], starts: &[CardIx], diags: &mut Vec<Diagnostic>) {
    let n = cards.len();
    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = starts.iter().map(|s| usize::from(*s)).collect();
    while let Some(i) = stack.pop() {
        if i >= n || seen[i] {
            continue;
        }
        seen[i] = true;
        stack.extend(cards[i].successors().into_iter().map(usize::from));
    }
    for (i, s) in seen.iter().enumerate() {
        if !s {
            diags.push(Diagnostic::error(
                format!("$.cards[{i}]"),
                "unreachable_card",
                "no path from the start card leads here",
            ));
        }
    }
    // Cycle among cards that may pass without input (a `skip_if_known` capture may): iterative
    // DFS with colours. Rejecting these is what lets `step` bound its auto-steps by the card count.
    let mut colour = vec![0u8; n];
    for root in 0..n {
        if colour[root] != 0 || cards[root].always_waits() {
            continue;
        }
        let mut path: Vec<(usize, Vec<CardIx>)> = vec![(root, cards[root].successors())];
        colour[root] = 1;
        while let Some((node, succ)) = path.last_mut() {
            let node = *node;
            match succ.pop() {
                Some(s) => {
                    let s = usize::from(s);
                    if s >= n || cards[s].always_waits() {
                        continue;
                    }
                    if colour[s] == 1 {
                        diags.push(Diagnostic::error(format!("$.cards[{s}]"), "cycle", "these cards can loop without waiting for the visitor (a capture with `skip_if_known` does not wait once the field is known); add a question, a meeting or a capture that always asks, or an end"));
                        return;
                    }
                    if colour[s] == 0 {
                        colour[s] = 1;
                        path.push((s, cards[s].successors()));
                    }
                }
                None => {
                    colour[node] = 2;
                    path.pop();
                }
            }
        }
    }
}
