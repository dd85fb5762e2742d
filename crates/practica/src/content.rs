//! Content bundles into the store: the `content` crate reads and checks a bundle; this module
//! looks up what it references but does not define and applies it, all or nothing (CONTENT.md).

use serde::Serialize;

// The bundle's types keep their paths here (`crate::content::Simulation`), where the rest of
// the service names them.
pub use ::content::*;

/// What an import created or updated, by kind.
#[derive(Debug, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ImportSummary {
    pub departments: Vec<String>,
    pub cohorts: Vec<String>,
    pub profiles: Vec<String>,
    pub courses: Vec<String>,
    pub topics: Vec<String>,
    pub exercises: Vec<String>,
    pub error_tags: Vec<String>,
    pub personas: Vec<String>,
    pub rubrics: Vec<String>,
    pub simulations: Vec<String>,
    pub homes: Vec<String>,
    pub practices: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Store(#[from] crate::storage::StoreError),
}

/// Reads, checks and applies a bundle: nothing is written unless all of it is valid.
pub async fn import(store: &dyn crate::storage::Store, text: &str) -> Result<ImportSummary, ImportError> {
    let bundle = parse(text)?;
    let refs = bundle.validate(|code| diagnosis::catalog::topic(code).is_some())?;
    if let Some(r) = store.missing(&refs).await?.into_iter().next() {
        return Err(BundleError::new(r.path, format!("no {} {:?}", r.kind.noun(), r.id)).into());
    }
    Ok(store.import(&bundle).await?)
}

#[cfg(test)]
mod tests {
    use crate::storage::Role;

    #[test]
    fn every_bundle_role_is_a_stored_role_and_agents_are_not_imported() {
        for role in super::PROFILE_ROLES {
            assert_eq!(Role::parse(role).map(Role::as_str), Some(role));
        }
        assert!(!super::PROFILE_ROLES.contains(&Role::Agent.as_str()));
    }
}
