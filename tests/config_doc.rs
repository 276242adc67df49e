//! `docs/CONFIGURATION.md` is generated from the property table; this test fails when it is stale.
//! Regenerate with `UPDATE_DOCS=1 cargo test --test config_doc`.

use kafka::config::{PropertyType, Scope, PROPERTIES};

fn render() -> String {
    let mut out = String::from(
        "# Configuration properties\n\n\
         librskafka accepts every property name of librdkafka 2.12 with librdkafka's types, ranges, \
         defaults and aliases (`rd_kafka_conf_set` semantics, including its error messages). \
         The table says which ones the engine acts on today; the others are accepted and ignored.\n\n\
         Generated from `src/config/properties.rs` by `tests/config_doc.rs`.\n\n\
         | property | scope | acted on | default |\n|---|---|---|---|\n",
    );
    let mut rows: Vec<_> = PROPERTIES
        .iter()
        .filter(|p| {
            !p.hidden
                && !matches!(
                    p.ty,
                    PropertyType::Alias(_) | PropertyType::Internal | PropertyType::Invalid(_)
                )
        })
        .collect();
    rows.sort_by_key(|p| (p.scope == Scope::Topic, p.name));
    for p in rows {
        let scope = if p.scope == Scope::Topic {
            "topic"
        } else {
            "global"
        };
        let acted = if p.acted_on { "yes" } else { "" };
        let default = p.default.unwrap_or("").replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | {} | {} | `{}` |\n",
            p.name, scope, acted, default
        ));
    }
    out
}

#[test]
fn configuration_doc_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/CONFIGURATION.md");
    let want = render();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/CONFIGURATION.md is stale: run UPDATE_DOCS=1 cargo test --test config_doc"
    );
}
