//! The catalog clients and the diagnosis use: topics (family, BKT parameters) and error tags.
//! The built-in catalog is compiled in (crates/diagnosis); topics from content bundles override
//! it. Held in memory: every attempt looks its topic up.

use std::collections::BTreeMap;
use std::sync::RwLock;

use axum::Json;
use axum::extract::State;
use diagnosis::catalog::{ERROR_TAGS, TOPICS};
use mastery::BktParams;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::storage::{ErrorTagRecord, Store, StoreError, TopicRecord};

#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Topic {
    pub code: String,
    /// Diagnosis family (`ARITH_SUB`, …; broad ones like `DEC` are resolved from the steps).
    pub family: String,
    pub name_es: String,
    pub name_en: String,
    #[schema(value_type = Object)]
    pub bkt: BktParams,
}

#[derive(Default)]
pub struct Catalog {
    topics: RwLock<BTreeMap<String, Topic>>,
    /// Error tags added by content bundles, beside the built-in ones.
    extra_tags: RwLock<BTreeMap<String, ErrorTagRecord>>,
}

impl Catalog {
    /// The built-in topics, overridden by the stored ones.
    pub async fn load(store: &dyn Store) -> Result<Catalog, StoreError> {
        let catalog = Catalog::default();
        {
            let mut topics = catalog.topics.write().unwrap_or_else(|e| e.into_inner());
            for t in TOPICS {
                topics.insert(
                    t.code.to_string(),
                    Topic {
                        code: t.code.to_string(),
                        family: t.family.to_string(),
                        name_es: t.name_es.to_string(),
                        name_en: t.name_en.to_string(),
                        bkt: BktParams::default(),
                    },
                );
            }
        }
        for t in store.topics().await? {
            catalog.put_topic(&t);
        }
        for t in store.error_tags().await? {
            catalog.put_error_tag(t);
        }
        Ok(catalog)
    }

    pub fn put_error_tag(&self, t: ErrorTagRecord) {
        self.extra_tags
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(t.code.clone(), t);
    }

    /// Reloads what a content import may have changed.
    pub async fn refresh(&self, store: &dyn Store) -> Result<(), StoreError> {
        for t in store.topics().await? {
            self.put_topic(&t);
        }
        for t in store.error_tags().await? {
            self.put_error_tag(t);
        }
        Ok(())
    }

    pub fn put_topic(&self, t: &TopicRecord) {
        let mut topics = self.topics.write().unwrap_or_else(|e| e.into_inner());
        let names = topics.get(&t.code).map(|o| (o.name_es.clone(), o.name_en.clone()));
        let (name_es, name_en) = names.unwrap_or_else(|| (t.name.clone(), t.name.clone()));
        topics.insert(
            t.code.clone(),
            Topic {
                code: t.code.clone(),
                family: t.family.clone(),
                name_es: if t.name.is_empty() { name_es } else { t.name.clone() },
                name_en,
                bkt: t.bkt,
            },
        );
    }

    pub fn topic(&self, code: &str) -> Option<Topic> {
        self.topics.read().unwrap_or_else(|e| e.into_inner()).get(code).cloned()
    }

    pub fn topics(&self) -> Vec<Topic> {
        self.topics
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    pub fn has_error_tag(&self, code: &str) -> bool {
        diagnosis::catalog::error_tag(code).is_some()
            || self
                .extra_tags
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .contains_key(code)
    }

    /// The tags a wrong answer in `family` may be given: the family's own (for a broad family
    /// like `DEC`, those of its operations), the transversal arithmetic slips, and bundle tags
    /// of the family. The LLM classifier chooses among these.
    pub fn tags_for_family(&self, family: &str) -> Vec<ErrorTagRecord> {
        let prefix = format!("{family}_");
        let arithmetic = !["ALGEBRA", "POW", "RATIO"].iter().any(|p| family.starts_with(p));
        let fits = |f: &str| f == family || f.starts_with(&prefix) || (arithmetic && f == "ARITH");
        let mut tags: Vec<ErrorTagRecord> = ERROR_TAGS
            .iter()
            .filter(|t| !t.family.is_empty() && fits(t.family))
            .map(|t| ErrorTagRecord {
                code: t.code.to_string(),
                family: t.family.to_string(),
                name_es: t.name_es.to_string(),
                name_en: t.name_en.to_string(),
                severity: format!("{:?}", t.severity).to_uppercase(),
                description: t.description.to_string(),
                remediation: t.remediation.to_string(),
            })
            .collect();
        for t in self.extra_tags.read().unwrap_or_else(|e| e.into_inner()).values() {
            if fits(&t.family) && !tags.iter().any(|x| x.code == t.code) {
                tags.push(t.clone());
            }
        }
        tags
    }

    /// The tag's Spanish name (the name the platform shows).
    pub fn error_tag_name(&self, code: &str) -> Option<String> {
        if let Some(t) = diagnosis::catalog::error_tag(code) {
            return Some(t.name_es.to_string());
        }
        self.extra_tags
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(code)
            .map(|t| t.name_es.clone())
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_topics))
        .routes(routes!(list_error_tags))
}

/// Topics: code, diagnosis family, names, BKT parameters.
#[utoipa::path(get, path = "/catalog/topics", tag = "catalog",
    responses((status = 200, description = "Every topic", body = [Topic]),
              (status = 401, description = "No credentials", body = crate::error::ErrorBody)))]
async fn list_topics(_caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<Topic>>> {
    Ok(Json(state.catalog.topics()))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTagView {
    code: String,
    family: String,
    name_es: String,
    name_en: String,
    /// LOW, MED or HIGH.
    severity: String,
    grade: Option<u8>,
    description: String,
    remediation: String,
    parent: Option<String>,
}

/// Error tags the diagnosis can report: what each means and how to remedy it.
#[utoipa::path(get, path = "/catalog/error-tags", tag = "catalog",
    responses((status = 200, description = "Every error tag", body = [ErrorTagView]),
              (status = 401, description = "No credentials", body = crate::error::ErrorBody)))]
async fn list_error_tags(_caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<ErrorTagView>>> {
    let mut tags: Vec<ErrorTagView> = ERROR_TAGS
        .iter()
        .map(|t| ErrorTagView {
            code: t.code.to_string(),
            family: t.family.to_string(),
            name_es: t.name_es.to_string(),
            name_en: t.name_en.to_string(),
            severity: match t.severity {
                diagnosis::catalog::Severity::Low => "LOW",
                diagnosis::catalog::Severity::Med => "MED",
                diagnosis::catalog::Severity::High => "HIGH",
            }
            .to_string(),
            grade: t.grade,
            description: t.description.to_string(),
            remediation: t.remediation.to_string(),
            parent: t.parent.map(str::to_string),
        })
        .collect();
    let extra = state
        .catalog
        .extra_tags
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for t in extra
        .into_values()
        .filter(|t| diagnosis::catalog::error_tag(&t.code).is_none())
    {
        tags.push(ErrorTagView {
            grade: t.code.rsplit_once("_G").and_then(|(_, g)| g.parse().ok()),
            code: t.code,
            family: t.family,
            name_es: t.name_es,
            name_en: t.name_en,
            severity: t.severity,
            description: t.description,
            remediation: t.remediation,
            parent: None,
        });
    }
    Ok(Json(tags))
}
