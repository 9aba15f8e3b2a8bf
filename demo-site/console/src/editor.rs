//! The dialogue editor: a form for every card type and for audience rules, bound to the draft
//! JSON by path; every change recompiles the draft with `dynchat_engine::compile_with` (inside
//! this wasm) and puts each diagnostic next to the field its JSON path names.

// Layers, top down: this file -> actions / input -> view / draft -> cards / diagnostics -> form.
mod actions;
mod cards;
mod diagnostics;
mod draft;
mod form;
mod input;
mod view;

pub use actions::{action, handles};
pub use diagnostics::show_diagnostics;
pub use draft::load;
pub use input::on_input;
pub use view::view;
