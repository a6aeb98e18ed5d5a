//! The README's keys table is the keymap's own (one source of truth), and its
//! config names are accepted by `[ui.keys]`.

use gitops_tui::app::Keymap;
use std::collections::BTreeMap;

#[test]
fn readme_keys_table_matches_the_keymap() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let table = Keymap::default().markdown_table();
    assert!(
        readme.contains(&table),
        "README.md's keys table is out of date; it should be:\n{table}"
    );
    // Every config name in the table remaps.
    for line in table.lines().skip(2) {
        let name = line.rsplit('`').nth(1).expect("config name column");
        let mut keys = BTreeMap::new();
        keys.insert(name.to_string(), "F2".to_string());
        assert!(
            Keymap::from_config(&keys).is_ok(),
            "{name} is not a config action name"
        );
    }
}
