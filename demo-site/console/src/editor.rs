//! The dialogue editor: a form for every card type (a meeting card's routing rules too) and for
//! audience rules, bound to the draft JSON by path; every change recompiles the draft with
//! `dynchat_engine::compile_with` (inside this wasm) and puts each diagnostic next to the field
//! its JSON path names, as it does with the worker's refusal of a publish.

// Layers, top down: this file -> actions / input -> view / draft -> cards -> route ->
// conditions / diagnostics -> form.
mod actions;
mod cards;
mod conditions;
mod diagnostics;
mod draft;
mod form;
mod input;
mod route;
mod view;

pub use actions::{action, handles};
pub use diagnostics::show_diagnostics;
pub use draft::load;
pub use input::on_input;
pub use view::view;
