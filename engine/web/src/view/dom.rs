//! The view's everyday DOM calls, bound without `catch`: with the arguments the view passes they cannot throw.
//!
//! web-sys binds `setAttribute`, `appendChild`, `querySelector`... with `catch` (each may throw
//! for some argument: an invalid attribute name or selector, a node that cannot go there), so
//! every call got a `try`/`catch` wrapper in the glue and a `Result` to unpack in the wasm. The
//! view only passes names and selectors from its own specs and appends new elements to its
//! own tree, so these calls cannot throw; they are bound here on a type of our own
//! (`Dom`, any node, by an unchecked reference) without it. `View::new`'s one-off calls
//! (shadow root, stylesheet) keep web-sys's checked bindings.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, Node};

#[wasm_bindgen]
extern "C" {
    /// Any DOM node or document.
    type Dom;
    #[wasm_bindgen(method, js_name = setAttribute)]
    fn set_attribute(this: &Dom, name: &str, value: &str);
    #[wasm_bindgen(method, js_name = removeAttribute)]
    fn remove_attribute(this: &Dom, name: &str);
    #[wasm_bindgen(method, js_name = appendChild)]
    fn append_child(this: &Dom, child: &Node);
    #[wasm_bindgen(method, js_name = insertBefore)]
    fn insert_before(this: &Dom, child: &Node, before: &Node);
    #[wasm_bindgen(method, js_name = createElement)]
    fn create_element(this: &Dom, tag: &str) -> Element;
    #[wasm_bindgen(method, js_name = createElementNS)]
    fn create_element_ns(this: &Dom, ns: &str, tag: &str) -> Element;
    #[wasm_bindgen(method, js_name = querySelector)]
    fn query_selector(this: &Dom, selector: &str) -> Option<Element>;
    #[wasm_bindgen(method)]
    fn closest(this: &Dom, selector: &str) -> Option<Element>;
    #[wasm_bindgen(method)]
    fn focus(this: &Dom);
    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_event_listener(this: &Dom, kind: &str, listener: &JsValue);
}

fn dom(x: &JsValue) -> &Dom {
    x.unchecked_ref()
}

/// `el.setAttribute(name, value)`.
pub fn set_attr(el: &JsValue, name: &str, value: &str) {
    dom(el).set_attribute(name, value);
}

/// `el.removeAttribute(name)`.
pub fn remove_attr(el: &JsValue, name: &str) {
    dom(el).remove_attribute(name);
}

/// `parent.appendChild(child)`.
pub fn append(parent: &JsValue, child: &Node) {
    dom(parent).append_child(child);
}

/// `parent.insertBefore(child, before)`.
pub fn insert(parent: &JsValue, child: &Node, before: &Node) {
    dom(parent).insert_before(child, before);
}

/// `doc.createElement(tag)`, or in the namespace `ns` (`createElementNS`).
pub fn create(doc: &JsValue, ns: Option<&str>, tag: &str) -> Element {
    match ns {
        Some(ns) => dom(doc).create_element_ns(ns, tag),
        None => dom(doc).create_element(tag),
    }
}

/// `el.querySelector(selector)`.
pub fn find(el: &JsValue, selector: &str) -> Option<Element> {
    dom(el).query_selector(selector)
}

/// `el.closest(selector)`.
pub fn closest(el: &JsValue, selector: &str) -> Option<Element> {
    dom(el).closest(selector)
}

/// `el.focus()`.
pub fn focus(el: &JsValue) {
    dom(el).focus();
}

/// `target.addEventListener(kind, listener)`.
pub fn listen(target: &JsValue, kind: &str, listener: &JsValue) {
    dom(target).add_event_listener(kind, listener);
}
