//! The part of the site bundle that is widget code: the `launcher` member (stylesheet head and the
//! launcher's markup, engine `launcher`), counted in the widget's size totals.

use std::path::Path;

/// The fixture site whose config the sizes use (the bench's and the browser tests' `acme`).
const FIXTURES: &str = "tests/browser/fixtures/sites.json";

/// The bundle's `launcher` member for the fixture site `acme`, as the worker serves it
/// (`"launcher":{...}`), written to `target/widget-launcher.json` for brotli to measure.
pub fn launcher_member(root: &Path) -> Result<std::path::PathBuf, String> {
    let text = std::fs::read_to_string(root.join(FIXTURES))
        .map_err(|e| format!("cannot read {FIXTURES}: {e}"))?;
    let sites: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{FIXTURES}: {e}"))?;
    let config = sites
        .pointer("/acme/config")
        .ok_or_else(|| format!("{FIXTURES} has no acme.config"))?;
    let member = format!(
        "\"launcher\":{}",
        dynchat_engine::launcher::launcher(&config.to_string())
    );
    let path = root.join("target/widget-launcher.json");
    std::fs::write(&path, member).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
