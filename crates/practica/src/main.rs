//! `practica`: the attempts engine of practice platforms — the service and its command line.

mod diagnose;
mod mastery_cli;
mod ocr_cli;
mod solve_cli;

// glibc's allocator spends a sixth of a loaded server's time in malloc/free across threads;
// mimalloc's thread-local heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use practica::app::{self, App};
use practica::auth;
use practica::config::Config;
use practica::storage::{self, Profile, Role};
use serde_json::json;

#[derive(Parser)]
#[command(name = "practica", version, about = "The attempts engine of practice platforms")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the service keeps its state (shared by the commands that touch it).
#[derive(clap::Args, Clone)]
struct Place {
    /// Data directory: embedded database, signing secret, uploads.
    #[arg(long, env = "PRACTICA_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL instead of the embedded SQLite (`postgres://…`).
    #[arg(long, env = "PRACTICA_DATABASE_URL")]
    database_url: Option<String>,
    /// A TOML configuration file (default: `<data dir>/practica.toml` if present).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (embedded SQLite and in-process events by default).
    Serve {
        #[command(flatten)]
        place: Place,
        /// Address to listen on.
        #[arg(long, env = "PRACTICA_ADDR")]
        addr: Option<String>,
        /// NATS with JetStream for events (`nats://…`).
        #[arg(long, env = "PRACTICA_NATS_URL")]
        nats_url: Option<String>,
        /// JWKS URL of an identity provider whose RS256/ES256 tokens are accepted.
        #[arg(long, env = "PRACTICA_JWKS_URL")]
        jwks_url: Option<String>,
    },
    /// Run job workers (asynchronous classification…) without the HTTP API. Any number may
    /// share one PostgreSQL with the serving processes.
    Worker {
        #[command(flatten)]
        place: Place,
        /// NATS with JetStream, when events go there (this process then helps relay them).
        #[arg(long, env = "PRACTICA_NATS_URL")]
        nats_url: Option<String>,
        /// Jobs run at once (default: the `workers` setting).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Also answer /healthz, /readyz and /metrics on this address (the worker's own
        /// counters; a liveness probe). None: no port.
        #[arg(long, env = "PRACTICA_WORKER_ADDR")]
        addr: Option<std::net::SocketAddr>,
    },
    /// Print a JWT the service with this data dir accepts.
    Token {
        #[command(flatten)]
        place: Place,
        /// The caller's id (a profile id; the API's studentId for a student).
        #[arg(long)]
        sub: String,
        /// student, teacher or admin.
        #[arg(long, default_value = "student")]
        role: String,
        /// Lifetime in hours.
        #[arg(long, default_value_t = 24 * 30)]
        ttl_hours: u64,
    },
    /// Load a content bundle (JSON or YAML; CONTENT.md): all of it in one transaction, or
    /// nothing, with the path of the first problem. Prints the ids it created or updated.
    Import {
        #[command(flatten)]
        place: Place,
        /// The bundle file.
        file: PathBuf,
    },
    /// Apply the database's migrations (forward only; `serve` and `worker` also apply them at
    /// start) and list what is applied.
    Migrate {
        #[command(flatten)]
        place: Place,
    },
    /// Manage API keys (`X-Api-Key`).
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Diagnose answers: which misconception produced them (one attempt from flags, or a JSONL
    /// batch of `POST /attempts` bodies).
    Diagnose(diagnose::Args),
    /// Solve an ad-hoc problem exactly, with its steps; check a student's answer by
    /// equivalence.
    Solve(solve_cli::Args),
    /// Read handwritten work from a photo (JPEG or PNG) with the built-in reader; prints the
    /// `POST /attempts/ocr-extract` response body's exercises.
    Ocr(ocr_cli::Args),
    /// Bayesian Knowledge Tracing parameters.
    Mastery {
        #[command(subcommand)]
        command: MasteryCommand,
    },
}

#[derive(Subcommand)]
enum MasteryCommand {
    /// Fit BKT parameters (EM with restarts, bounded slip and guess) per skill from a response
    /// log in pyBKT's CSV columns; prints them as JSON.
    Fit(mastery_cli::FitArgs),
    /// Fit on most students of a response log and report log-likelihood, AUC and RMSE on the
    /// students held out.
    Evaluate(mastery_cli::EvaluateArgs),
    /// Refit every topic's parameters from the stored attempts and store them (with when and
    /// on how many responses); prints what changed.
    Refit {
        #[command(flatten)]
        place: Place,
        /// Fit and print, store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Topics with fewer responses keep their parameters (default: the config's).
        #[arg(long)]
        min_responses: Option<i64>,
        /// EM restarts per topic.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
        restarts: u32,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print it (shown once; only its hash is stored).
    Create {
        #[command(flatten)]
        place: Place,
        #[arg(long)]
        name: String,
        /// student, teacher, admin or agent.
        #[arg(long)]
        role: String,
        /// The profile the key acts as (default: `key:<name>`).
        #[arg(long)]
        owner: Option<String>,
    },
    /// List the keys (never their secrets), oldest first: id, name, role, owner, created,
    /// revoked; tab-separated under a header line.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Revoke a key: from the next request it is refused (every process reads keys from the
    /// database on each request). Revoking a revoked key changes nothing.
    Revoke {
        #[command(flatten)]
        place: Place,
        /// The key's id as `list` shows it, or the key itself (`pk_<id>.<secret>`).
        key: String,
    },
}

fn config_for(place: &Place, extra: serde_json::Value) -> anyhow::Result<Config> {
    let mut overrides = extra;
    if let Some(d) = &place.data_dir {
        overrides["data_dir"] = json!(d);
    }
    if let Some(u) = &place.database_url {
        overrides["database_url"] = json!(u);
    }
    Config::load(place.config.as_deref(), &overrides)
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "text" {
        builder.init();
    } else {
        builder.json().flatten_event(true).with_current_span(true).init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Diagnose(args) => diagnose::run(args),
        Command::Solve(args) => solve_cli::run(args),
        Command::Ocr(args) => ocr_cli::run(args),
        Command::Mastery {
            command: MasteryCommand::Fit(args),
        } => mastery_cli::fit(args),
        Command::Mastery {
            command: MasteryCommand::Evaluate(args),
        } => mastery_cli::evaluate(args),
        command => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(run(command))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve {
            place,
            addr,
            nats_url,
            jwks_url,
        } => {
            let mut extra = json!({});
            if let Some(a) = addr {
                extra["addr"] = json!(a);
            }
            if let Some(n) = nats_url {
                extra["nats_url"] = json!(n);
            }
            if let Some(j) = jwks_url {
                extra["jwks_url"] = json!(j);
            }
            let config = config_for(&place, extra)?;
            init_logs(&config.log_format);
            let data_dir = config.data_dir.display().to_string();
            let addr = config.addr;
            let backend = if config.database_url.is_some() {
                "PostgreSQL"
            } else {
                "embedded SQLite"
            };
            let _store_lock = app::lock_embedded_store(&config)?;
            let app = App::build(config).await?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening on {addr}"))?;
            let local = listener.local_addr()?;
            eprintln!("practica listening on http://{local} ({backend}, data dir {data_dir})");
            eprintln!("API docs: http://{local}/docs");
            eprintln!("Get a token: practica token --sub stu_abc123 --role student --data-dir {data_dir}");
            tracing::info!(%local, backend, "serving");
            app.run(listener, app::shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker {
            place,
            nats_url,
            concurrency,
            addr,
        } => {
            let mut extra = json!({});
            if let Some(n) = nats_url {
                extra["nats_url"] = json!(n);
            }
            if let Some(c) = concurrency {
                extra["workers"] = json!(c);
            }
            let config = config_for(&place, extra)?;
            init_logs(&config.log_format);
            anyhow::ensure!(config.workers > 0, "a worker needs a concurrency of at least 1");
            let _store_lock = app::lock_embedded_store(&config)?;
            let app = App::build(config).await?;
            let ops = match addr {
                Some(addr) => {
                    let listener = tokio::net::TcpListener::bind(addr)
                        .await
                        .with_context(|| format!("listening on {addr}"))?;
                    eprintln!(
                        "practica worker: health and metrics on http://{}",
                        listener.local_addr()?
                    );
                    Some(listener)
                }
                None => None,
            };
            app.run_worker(ops, app::shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            place,
            sub,
            role,
            ttl_hours,
        } => {
            let config = config_for(&place, json!({}))?;
            let role = Role::parse(&role)
                .filter(|r| *r != Role::Agent)
                .context("--role must be student, teacher or admin")?;
            anyhow::ensure!(
                !sub.trim().is_empty() && sub.len() <= 128,
                "--sub must be 1 to 128 characters"
            );
            let secret = auth::load_secret(&config)?;
            println!(
                "{}",
                auth::issue_token(&secret, &sub, role, Duration::from_secs(ttl_hours * 3600))?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::ApiKey {
            command:
                ApiKeyCommand::Create {
                    place,
                    name,
                    role,
                    owner,
                },
        } => {
            let config = config_for(&place, json!({}))?;
            let role = Role::parse(&role).context("--role must be student, teacher, admin or agent")?;
            let owner = owner.unwrap_or_else(|| format!("key:{name}"));
            std::fs::create_dir_all(&config.data_dir)?;
            let store = storage::open(&config.database()).await?;
            if role != Role::Agent && store.profile(&owner).await?.is_none() {
                store
                    .upsert_profile(&Profile {
                        id: owner.clone(),
                        name: name.clone(),
                        role,
                    })
                    .await?;
            }
            let (key, record) = auth::new_api_key(&name, role, &owner);
            store.create_api_key(&record).await?;
            println!("{key}");
            Ok(ExitCode::SUCCESS)
        }
        Command::ApiKey {
            command: ApiKeyCommand::List { place },
        } => {
            let config = config_for(&place, json!({}))?;
            let store = storage::open(&config.database()).await?;
            let when = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339);
            println!("id\tname\trole\towner\tcreated\trevoked");
            for k in store.api_keys().await? {
                let revoked = k.revoked_at.map(when).transpose()?.unwrap_or_else(|| "-".into());
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{revoked}",
                    k.id,
                    k.name,
                    k.role.as_str(),
                    k.owner_id,
                    when(k.created_at)?
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ApiKey {
            command: ApiKeyCommand::Revoke { place, key },
        } => {
            let config = config_for(&place, json!({}))?;
            let store = storage::open(&config.database()).await?;
            // `pk_<id>.<secret>` or `pk_<id>` or `<id>`: the id is what is stored.
            let id = key.trim();
            let id = id.strip_prefix("pk_").unwrap_or(id);
            let id = id.split_once('.').map_or(id, |(id, _)| id);
            if store.revoke_api_key(id, time::OffsetDateTime::now_utc()).await? {
                println!("revoked {id}");
            } else if store.api_key(id).await?.is_some() {
                println!("{id} was revoked already");
            } else {
                anyhow::bail!("no API key {id} (practica api-key list shows them)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { place } => {
            let config = config_for(&place, json!({}))?;
            std::fs::create_dir_all(&config.data_dir)?;
            let store = storage::open(&config.database()).await?;
            for (version, description) in store.migrations().await? {
                println!("{version:04} {description}");
            }
            println!("{}: up to date", store.backend());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { place, file } => {
            let config = config_for(&place, json!({}))?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            std::fs::create_dir_all(&config.data_dir)?;
            let store = storage::open(&config.database()).await?;
            match practica::content::import(store.as_ref(), &text).await {
                Ok(summary) => {
                    println!("{}", serde_json::to_string_pretty(&summary)?);
                    Ok(ExitCode::SUCCESS)
                }
                Err(practica::content::ImportError::Bundle(e)) => {
                    eprintln!("{}: {e}", file.display());
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Mastery {
            command:
                MasteryCommand::Refit {
                    place,
                    dry_run,
                    min_responses,
                    restarts,
                },
        } => {
            let config = config_for(&place, json!({}))?;
            std::fs::create_dir_all(&config.data_dir)?;
            let store = storage::open(&config.database()).await?;
            let catalog = practica::catalog::Catalog::load(store.as_ref()).await?;
            let options = practica::refit::RefitOptions {
                fit: mastery::FitOptions {
                    restarts: restarts as usize,
                    ..mastery::FitOptions::default()
                },
                min_responses: min_responses.unwrap_or(config.mastery_refit_min_responses),
                dry_run,
            };
            let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {pos} topics fitted ({elapsed})").expect("template"),
            );
            let ticker = bar.clone();
            let report = practica::refit::refit(
                store.as_ref(),
                &catalog,
                &options,
                std::sync::Arc::new(move |_| ticker.inc(1)),
            )
            .await?;
            bar.finish_and_clear();
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Diagnose(_)
        | Command::Solve(_)
        | Command::Ocr(_)
        | Command::Mastery {
            command: MasteryCommand::Fit(_) | MasteryCommand::Evaluate(_),
        } => unreachable!("handled without a runtime"),
    }
}
