//! Content bundles (`POST /admin/import`, `practica import FILE`): YAML or JSON text into the
//! reader and the checks the service runs before it touches the store, with the built-in topics
//! as the service has them. Beyond not panicking: every error names where it is (the contract
//! admins rely on to fix a bundle), and so does every reference left for the store to answer.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Where an error may point: a section, or nowhere for a document that is not a mapping.
const SECTIONS: &[&str] = &[
    "departments",
    "cohorts",
    "profiles",
    "courses",
    "topics",
    "exercises",
    "error_tags",
    "personas",
    "rubrics",
    "simulations",
    "homes",
    "practices",
];

fn in_a_section(path: &str) -> bool {
    SECTIONS.iter().any(|s| {
        path.strip_prefix(s)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('['))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let bundle = match content::parse(text) {
        Ok(bundle) => bundle,
        Err(e) => {
            assert!(
                !e.message.is_empty(),
                "{text:?}: an error without a message at {:?}",
                e.path
            );
            return;
        }
    };
    match bundle.validate(|code| diagnosis::catalog::topic(code).is_some()) {
        Ok(refs) => {
            for r in refs {
                assert!(in_a_section(&r.path), "{text:?}: reference at {:?}", r.path);
            }
        }
        Err(e) => {
            assert!(in_a_section(&e.path), "{text:?}: error {e} names no section");
            assert!(
                !e.message.is_empty(),
                "{text:?}: an error without a message at {:?}",
                e.path
            );
        }
    }
});
