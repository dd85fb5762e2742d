//! The service: state, router, and the run loop (HTTP server plus outbox relay, with graceful
//! shutdown that drains both).

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::sync::{Notify, broadcast, watch};
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::auth::{self, Authenticator};
use crate::catalog::Catalog;
use crate::classify::{Classifier, StoredBudget};
use crate::config::Config;
use crate::error::ApiError;
use crate::events::{self, Event, Relay, Sink};
use crate::feedback::{LearnedRules, LearningPolicy};
use crate::jobs::Workers;
use crate::llm::{ChatModel, OpenAiCompatible, OpenAiConfig};
use crate::storage::{self, Store};
use crate::{adhoc, admin, attempts, catalog, mastery_api, ops, trace};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub catalog: Arc<Catalog>,
    pub auth: Arc<Authenticator>,
    /// Wakes the relay after a commit.
    pub outbox: Arc<Notify>,
    /// In-process subscribers of the embedded event stream.
    pub events: broadcast::Sender<Arc<Event>>,
    pub nats: Option<async_nats::Client>,
    pub metrics: PrometheusHandle,
    pub openapi: Arc<String>,
    /// Tags learned from teachers' reports, by signature.
    pub learned: Arc<LearnedRules>,
    pub learning: LearningPolicy,
    /// Wakes this process's job workers when a request enqueues work.
    pub jobs_wake: Arc<Notify>,
    /// The LLM for the classifier, when one is configured.
    pub llm: Option<Arc<dyn ChatModel>>,
    /// Where photos are kept, and their links.
    pub uploads: Arc<crate::uploads::Uploads>,
    /// The photo readers: built in, and a vision model when configured.
    pub readers: Arc<crate::ocr::Readers>,
    /// Simulation attempts' run-time state (replies being generated, cached docs).
    pub sim: Arc<crate::sim::Runtime>,
    /// Speech to text for audio turns, when configured.
    pub transcriber: Option<Arc<crate::llm::Transcriber>>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "practica", description = "The attempts engine of practice platforms: exercise attempts diagnosed, mastery tracked, events emitted."),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("apiKey" = [])),
    tags((name = "attempts", description = "Exercise attempts"), (name = "catalog", description = "Topics and error tags"),
         (name = "admin", description = "Content bundles, the review queue, jobs"),
         (name = "mastery", description = "Knowledge tracing: per student, per course, at risk"),
         (name = "simulation-attempts", description = "Role-play simulation attempts: start, chat with the AI persona, grade, search, archive, export"),
         (name = "uploads", description = "Files: audio frames, exports"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    }
}

/// A built service, ready to run.
pub struct App {
    pub state: AppState,
    router: Router,
    relay: Relay,
}

impl App {
    /// Opens the store (creating and migrating it), loads the catalog, connects the event sink.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        crate::install_tls_provider();
        std::fs::create_dir_all(&config.data_dir)?;
        let store = storage::open(&config.database()).await?;
        let secret = auth::load_secret(&config)?;
        let catalog = Arc::new(Catalog::load(store.as_ref()).await?);
        let auth = Arc::new(Authenticator::new(
            secret.clone(),
            store.clone(),
            config.jwks_url.clone(),
            config.jwt_audience.clone(),
            config.jwt_issuer.clone(),
        ));
        let (events_tx, _) = broadcast::channel(4096);
        anyhow::ensure!(
            config.nats_url.is_none() || config.sqs_queue_url.is_none(),
            "nats_url and sqs_queue_url are both set: events go to one sink, choose one"
        );
        let (nats, sink) = match &config.nats_url {
            Some(url) => {
                let (client, js) = events::connect_nats(
                    url,
                    config.nats_credentials_file.as_deref(),
                    &config.nats_stream,
                    &config.nats_subject_prefix,
                )
                .await?;
                let sink = Sink::Nats {
                    js: Box::new(js),
                    subject_prefix: config.nats_subject_prefix.clone(),
                };
                (Some(client), sink)
            }
            None => match &config.sqs_queue_url {
                Some(url) => (
                    None,
                    events::connect_sqs(url, config.sqs_endpoint_url.as_deref()).await?,
                ),
                None => (None, Sink::Embedded(events_tx.clone())),
            },
        };
        let outbox = Arc::new(Notify::new());
        let learned = Arc::new(LearnedRules::default());
        learned.reload(store.as_ref()).await?;
        let llm: Option<Arc<dyn ChatModel>> = match &config.llm_base_url {
            Some(url) => Some(Arc::new(OpenAiCompatible::new(
                OpenAiConfig {
                    base_url: url.clone(),
                    api_key: config.llm_api_key.clone(),
                    model: config.llm_model.clone(),
                    timeout: std::time::Duration::from_secs(config.llm_timeout_secs),
                    max_retries: config.llm_max_retries,
                    max_backoff: std::time::Duration::from_secs(30),
                },
                Arc::new(StoredBudget {
                    store: store.clone(),
                    model: config.llm_model.clone(),
                    limit: config.llm_daily_token_budget,
                }),
            )?)),
            None => None,
        };
        let uploads = Arc::new(crate::uploads::Uploads::open(
            config.uploads_url.as_deref(),
            &config.data_dir,
            &secret,
            std::time::Duration::from_secs(config.upload_link_secs),
        )?);
        let vision: Option<Arc<dyn crate::ocr::OcrEngine>> = match &config.vision_model {
            Some(model) => {
                let base_url = config
                    .vision_base_url
                    .clone()
                    .or_else(|| config.llm_base_url.clone())
                    .unwrap_or_default();
                let chat = OpenAiCompatible::new(
                    OpenAiConfig {
                        base_url,
                        api_key: config.vision_api_key.clone().or_else(|| config.llm_api_key.clone()),
                        model: model.clone(),
                        timeout: std::time::Duration::from_secs(config.llm_timeout_secs),
                        max_retries: config.llm_max_retries,
                        max_backoff: std::time::Duration::from_secs(30),
                    },
                    // One daily budget for every model call of the deployment.
                    Arc::new(StoredBudget {
                        store: store.clone(),
                        model: model.clone(),
                        limit: config.llm_daily_token_budget,
                    }),
                )?;
                Some(Arc::new(crate::ocr::Vision { model: Arc::new(chat) }))
            }
            None => None,
        };
        let readers = Arc::new(crate::ocr::Readers {
            builtin: Arc::new(crate::ocr::Builtin::new(ocr::Limits {
                max_pixels: config.ocr_max_pixels,
                ..ocr::Limits::default()
            })),
            vision,
            vision_always: config.vision_mode == "always",
            vision_below: config.vision_below,
        });
        let transcriber = match &config.transcription_model {
            Some(model) => Some(Arc::new(crate::llm::Transcriber::new(
                config
                    .transcription_base_url
                    .clone()
                    .or_else(|| config.llm_base_url.clone())
                    .unwrap_or_default(),
                config
                    .transcription_api_key
                    .clone()
                    .or_else(|| config.llm_api_key.clone()),
                model.clone(),
                std::time::Duration::from_secs(config.llm_timeout_secs),
            )?)),
            None => None,
        };
        let learning = LearningPolicy {
            min_reports: config.learn_min_reports,
            min_reporters: config.learn_min_reporters,
            min_agreement: config.learn_min_agreement,
        };
        let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
            .merge(attempts::router())
            .merge(adhoc::router())
            .merge(crate::ocr::router().layer(DefaultBodyLimit::max(crate::ocr::MAX_IMAGE_BYTES + 64 * 1024)))
            .merge(crate::uploads::router())
            .merge(crate::sim::router())
            .merge(catalog::router())
            .merge(mastery_api::router())
            .merge(admin::router().layer(DefaultBodyLimit::max(admin::MAX_BUNDLE_BYTES)))
            .split_for_parts();
        let state = AppState {
            config: Arc::new(config),
            store: store.clone(),
            catalog,
            auth,
            outbox: outbox.clone(),
            events: events_tx,
            nats,
            metrics: ops::metrics_handle(),
            openapi: Arc::new(openapi.to_json()?),
            learned,
            learning,
            jobs_wake: Arc::new(Notify::new()),
            llm,
            uploads,
            readers,
            sim: Arc::new(crate::sim::Runtime::default()),
            transcriber,
        };
        let router = router(api, state.clone());
        Ok(App {
            state,
            router,
            relay: Relay {
                store,
                sink,
                wake: outbox,
            },
        })
    }

    /// The job workers of this process (classification, mastery refits, ad-hoc solving; later
    /// kinds add theirs).
    pub fn workers(&self) -> Workers {
        let state = &self.state;
        let classifier = Classifier {
            store: state.store.clone(),
            catalog: state.catalog.clone(),
            learned: state.learned.clone(),
            llm: state.llm.clone(),
            threshold: state.config.diagnosis_threshold,
            deadline: std::time::Duration::from_secs(state.config.classification_deadline_secs),
        };
        let refit = crate::refit::RefitJob {
            store: state.store.clone(),
            catalog: state.catalog.clone(),
            every: (state.config.mastery_refit_hours > 0)
                .then(|| std::time::Duration::from_secs(state.config.mastery_refit_hours * 3600)),
            min_responses: state.config.mastery_refit_min_responses,
            enqueued: std::sync::atomic::AtomicI64::new(i64::MIN),
        };
        let solver = adhoc::AdhocSolver {
            store: state.store.clone(),
            catalog: state.catalog.clone(),
            llm: state.llm.clone(),
        };
        let sim_grader = crate::sim::GradeJob { state: state.clone() };
        let sim_exporter = crate::sim::ExportJob { state: state.clone() };
        Workers::new(
            state.store.clone(),
            vec![
                Arc::new(classifier),
                Arc::new(refit),
                Arc::new(solver),
                Arc::new(sim_grader),
                Arc::new(sim_exporter),
            ],
            state.config.worker_options(),
            state.jobs_wake.clone(),
        )
    }

    /// Serves until `shutdown` completes, then stops taking requests, lets in-flight ones
    /// finish, lets running jobs finish, and publishes what is left in the outbox.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let workers = tokio::spawn(self.workers().run(stop_rx.clone()));
        let refresher = tokio::spawn(refresh_catalog(self.state.clone(), stop_rx.clone()));
        let relay = self
            .state
            .config
            .relay_enabled
            .then(|| tokio::spawn(self.relay.run(stop_rx)));
        // The peer address is the per-IP rate limit's client (`ConnectInfo`).
        let service = self
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(listener, service).with_graceful_shutdown(shutdown).await;
        let _ = stop_tx.send(true);
        workers.await?;
        refresher.await?;
        if let Some(relay) = relay {
            relay.await?;
        }
        Ok(served?)
    }

    /// `practica worker`: job workers without the HTTP API, until `shutdown`. Relays the
    /// outbox too when events go to NATS or SQS (relays elect one leader); with the embedded sink
    /// the events belong to the serving process's subscribers, so it leaves them to it.
    ///
    /// With `ops`, it also answers `/healthz`, `/readyz` and `/metrics` there: a worker's own
    /// job, LLM and transcription counters exist only in its process, and an orchestrator
    /// needs a liveness probe for it as for `serve`.
    pub async fn run_worker(
        self,
        ops: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let workers = self.workers();
        tracing::info!(owner = workers.owner(), "worker running");
        eprintln!("practica worker {} running", workers.owner());
        let ops = ops.map(|listener| {
            let router = Router::new()
                .route("/healthz", get(ops::healthz))
                .route("/readyz", get(ops::readyz))
                .route("/metrics", get(ops::metrics))
                .with_state(self.state.clone());
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|stopped| *stopped).await;
                    })
                    .await
            })
        });
        let workers = tokio::spawn(workers.run(stop_rx.clone()));
        let refresher = tokio::spawn(refresh_catalog(self.state.clone(), stop_rx.clone()));
        let relay = (self.state.config.relay_enabled && !self.relay.sink.is_embedded())
            .then(|| tokio::spawn(self.relay.run(stop_rx)));
        shutdown.await;
        let _ = stop_tx.send(true);
        workers.await?;
        refresher.await?;
        if let Some(relay) = relay {
            relay.await?;
        }
        if let Some(ops) = ops {
            ops.await??;
        }
        Ok(())
    }
}

/// How often a process re-reads the catalog: a content import in one process reaches the
/// others sharing the database within this time.
const CATALOG_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

async fn refresh_catalog(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(CATALOG_REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = state.catalog.refresh(state.store.as_ref()).await {
            tracing::warn!(error = %e, "refreshing the catalog failed");
        }
    }
}

fn router(api: Router<AppState>, state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    api.route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/docs", get(ops::docs))
        .nest_service("/mcp", crate::mcp::service(state.clone()))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed("method not allowed on this route".into()) })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            crate::ratelimit::RateLimits::new(&state.config),
            crate::ratelimit::middleware,
        ))
        // Inside `track`, so that a request cut by it is counted with its 503.
        .layer(axum::middleware::from_fn_with_state(
            state.config.request_timeout(),
            ops::deadline,
        ))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(CatchPanicLayer::custom(|_| {
            // A panic is a bug; the client still gets the JSON error shape.
            ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(axum::middleware::from_fn(trace::middleware))
        .with_state(state)
}

/// On SQLite, an exclusive lock on `<database file>.lock`, held for as long as the returned file
/// lives (the kernel drops it when the process ends, however it ends). Two `serve` or `worker`
/// processes on one SQLite file would each run a relay and publish the outbox twice over, out of
/// order; the second is refused instead. `None` on PostgreSQL, where processes coordinate in the
/// database. Other commands (`token`, `import`, `api-key`…) take no lock: they may run beside.
pub fn lock_embedded_store(config: &Config) -> anyhow::Result<Option<std::fs::File>> {
    let Some(db) = config.sqlite_file() else {
        return Ok(None);
    };
    let mut name = db.clone().into_os_string();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another practica process is serving {} (it holds {}): run one serve per SQLite file, \
             or PostgreSQL for several processes",
            db.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
