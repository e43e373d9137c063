//! The command line, as clap definitions only (and the parser of duration flags).
//! Nothing here does work.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Provision and operate fleets of OpenClaw agents on Kubernetes.
#[derive(Debug, Parser)]
#[command(
    name = "clawctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print only data and errors: no progress, no summaries.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a fleet file: precise errors, touches no cluster (exit 0 valid, 2 invalid).
    ///
    /// Agents made on request (self-service claims in the cluster) are not seen: the
    /// file's own agents are checked.
    Validate(ValidateArgs),
    /// Print (or write with -o DIR) every manifest of the fleet, in apply order.
    ///
    /// Touches no cluster, so agents made on request (self-service claims) are not
    /// rendered: apply, diff and status add them from the cluster.
    Render(RenderArgs),
    /// Show what apply would change on the cluster, secrets masked.
    Diff(DiffArgs),
    /// Converge the cluster to the fleet: plan, confirm, apply, wait.
    Apply(ApplyArgs),
    /// One table: every agent, its image, health, restarts, volume.
    Status(StatusArgs),
    /// Move agents to a new image tag: canary first, then waves.
    Rollout(RolloutArgs),
    /// Return agents to a recorded revision (config and image together).
    Rollback(RollbackArgs),
    /// List the revisions of each agent.
    History(HistoryArgs),
    /// Scale agents to zero, keeping their volumes and Services, until `resume`.
    Suspend(SuspendArgs),
    /// Start agents suspended by `clawctl suspend` again.
    Resume(SuspendArgs),
    /// Snapshot agents' brains (their volumes, secrets left out) to their knowledge bucket.
    Backup(BackupArgs),
    /// Replace an agent's brain with one of its snapshots (asks you to type its name).
    Restore(RestoreArgs),
    /// Copy one agent's brain into another agent of the fleet.
    Clone(CloneArgs),
    /// Print shell completions (also committed under completions/).
    Completions(CompletionsArgs),
    /// Print the JSON Schema of the fleet file, for editors and yaml-language-server.
    Schema,
    /// Write a small starter fleet (fleet.yaml and a soul) into a folder.
    Init(InitArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Human-readable lines.
    Table,
    /// A JSON list of {file, line, column, path, message}.
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The fleet file.
    pub fleet: PathBuf,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = ReportFormat::Table)]
    pub output: ReportFormat,
    /// A folder of *.yaml.j2 files overriding built-in templates one file at a time.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The fleet file.
    pub fleet: PathBuf,
    /// Write one file per object into DIR (<namespace>/<order>-<kind>-<name>.yaml)
    /// instead of printing one stream.
    #[arg(long = "output-dir", short = 'o', value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Only this agent's objects (repeatable).
    #[arg(long = "agent", value_name = "NAME")]
    pub agents: Vec<String>,
    /// Only this team's objects and agents (repeatable).
    #[arg(long = "team", value_name = "NAME")]
    pub teams: Vec<String>,
    /// A folder of *.yaml.j2 files overriding built-in templates one file at a time.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

/// How to reach the cluster.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the
    /// in-cluster service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables and text for people.
    Table,
    /// One JSON document (documented in the README).
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The fleet file.
    pub fleet: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Exit 3 when there are changes, 0 when there are none.
    #[arg(long)]
    pub exit_code: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// A folder of *.yaml.j2 files overriding built-in templates one file at a time.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["fleet", "fleet_name"]))]
pub struct StatusArgs {
    /// The fleet file: agents it lists but the cluster lacks show as Missing, agents
    /// that differ from it as Drifted.
    pub fleet: Option<PathBuf>,
    /// The fleet's name, to show it from the cluster's labels alone (no file needed).
    #[arg(long = "fleet", value_name = "NAME")]
    pub fleet_name: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Keep showing the table, refreshed whenever an agent changes (Ctrl-C stops).
    #[arg(long, short)]
    pub watch: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// A folder of *.yaml.j2 files overriding built-in templates one file at a time.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// The fleet file.
    pub fleet: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The image tag to move to (default: the tag of spec.image).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Update and gate only the canary agents, record "canary passed", and stop.
    #[arg(long, conflicts_with_all = ["promote", "resume", "abort"])]
    pub canary: bool,
    /// Continue a rollout whose canary passed with its waves.
    #[arg(long, conflicts_with_all = ["resume", "abort"])]
    pub promote: bool,
    /// Continue an interrupted rollout where it stopped.
    #[arg(long, conflicts_with = "abort")]
    pub resume: bool,
    /// Roll back every agent the unfinished rollout touched, and end it.
    #[arg(long)]
    pub abort: bool,
    /// Canary agents by name (comma-separated or repeated).
    #[arg(long, value_name = "NAME", value_delimiter = ',', conflicts_with_all = ["canary_count", "canary_percent"])]
    pub canary_agents: Vec<String>,
    /// This many canary agents (the first by name).
    #[arg(long, value_name = "N", conflicts_with = "canary_percent")]
    pub canary_count: Option<u32>,
    /// This percentage of the agents as canaries (rounded up).
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub canary_percent: Option<u32>,
    /// Waves after the canary, as cumulative percentages of the remaining agents.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub waves: Vec<String>,
    /// How long an updated agent must stay healthy (e.g. 60s).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub soak: Option<Duration>,
    /// Time limit per wave (e.g. 10m).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub timeout: Option<Duration>,
    /// Agents updated at once within a wave.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_parallel: u16,
    /// Do not roll back when a gate fails (the failed agents stay as they are).
    #[arg(long)]
    pub no_auto_rollback: bool,
    /// Move images without first snapshotting each moved agent's brain to its knowledge
    /// bucket (agents without a bucket never get one).
    #[arg(long)]
    pub no_snapshot: bool,
    /// Revisions kept per agent.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub history_max: u16,
    /// Go ahead without asking (needed when there is no terminal to ask on).
    #[arg(long, short)]
    pub yes: bool,
    /// Show the plan (target image, canary and waves, or what --abort returns) and change
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format (json: one report at the end; with --dry-run, the plan).
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// A folder of *.yaml.j2 files overriding built-in templates one file at a time.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["fleet", "fleet_name"]))]
#[command(group = clap::ArgGroup::new("whom").required(true).args(["agents", "all"]))]
pub struct RollbackArgs {
    /// The fleet file (not needed: --fleet NAME works from the recorded history).
    pub fleet: Option<PathBuf>,
    /// The fleet's name, when the file is not at hand.
    #[arg(long = "fleet", value_name = "NAME")]
    pub fleet_name: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The agent to roll back (repeatable).
    #[arg(long = "agent", value_name = "NAME")]
    pub agents: Vec<String>,
    /// Every agent of the fleet.
    #[arg(long)]
    pub all: bool,
    /// The revision to return to (default: the newest earlier revision that passed its
    /// health gate and differs from what runs now).
    #[arg(long, value_name = "N")]
    pub to_revision: Option<i64>,
    /// How long to wait for readiness (e.g. 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration)]
    pub timeout: Duration,
    /// Do not wait for the agents to become ready.
    #[arg(long)]
    pub no_wait: bool,
    /// Move images back without first snapshotting each moved agent's brain to its
    /// knowledge bucket.
    #[arg(long)]
    pub no_snapshot: bool,
    /// Revisions kept per agent.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub history_max: u16,
    /// Go ahead without asking (needed when there is no terminal to ask on).
    #[arg(long, short)]
    pub yes: bool,
    /// Show each agent's current revision and the one it would return to; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format (with --dry-run, json prints the plan).
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("whom").required(true).multiple(true).args(["agents", "teams"]))]
pub struct SuspendArgs {
    /// The fleet file.
    pub fleet: PathBuf,
    /// The agents, by name.
    #[arg(value_name = "AGENT")]
    pub agents: Vec<String>,
    /// Every agent of this team (repeatable).
    #[arg(long = "team", value_name = "NAME")]
    pub teams: Vec<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// How long to wait for the agents' pods to stop (suspend) or be ready (resume).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration)]
    pub timeout: Duration,
    /// Do not wait for the pods.
    #[arg(long)]
    pub no_wait: bool,
    /// Go ahead without asking (needed when there is no terminal to ask on).
    #[arg(long, short)]
    pub yes: bool,
    /// Show what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format (with --dry-run, json prints the plan).
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The fleet file.
    pub fleet: PathBuf,
    /// The agents to snapshot, by name.
    #[arg(value_name = "AGENT", required = true)]
    pub agents: Vec<String>,
    /// Write one agent's snapshot to this local .tar.gz (streamed out of the cluster)
    /// instead of its bucket; never overwrites a file.
    #[arg(long, value_name = "FILE")]
    pub to: Option<PathBuf>,
    #[command(flatten)]
    pub job: SnapshotJobArgs,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("from").required(true).args(["snapshot", "from_file"]))]
pub struct RestoreArgs {
    /// The fleet file.
    pub fleet: PathBuf,
    /// The agent to restore.
    #[arg(value_name = "AGENT")]
    pub agent: String,
    /// The snapshot in the agent's bucket to return to (the id `clawctl backup` printed).
    #[arg(long, value_name = "ID")]
    pub snapshot: Option<String>,
    /// A local archive written by `clawctl backup --to` (any agent's) instead.
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    #[command(flatten)]
    pub replace: ReplaceArgs,
}

#[derive(Debug, Args)]
pub struct CloneArgs {
    /// The fleet file.
    pub fleet: PathBuf,
    /// The agent whose brain is copied.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// The agent that receives it (deployed, and in the fleet file).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Copy this snapshot of SOURCE instead of taking a new one.
    #[arg(long, value_name = "ID")]
    pub snapshot: Option<String>,
    #[command(flatten)]
    pub replace: ReplaceArgs,
}

/// What `restore` and `clone` share.
#[derive(Debug, Args)]
pub struct ReplaceArgs {
    /// Do not snapshot the volume being replaced first.
    #[arg(long)]
    pub no_snapshot: bool,
    /// Do not wait for the agent to be ready again.
    #[arg(long)]
    pub no_wait: bool,
    /// Replace the agent's brain without asking you to type its name (needed when there
    /// is no terminal to ask on).
    #[arg(long, short)]
    pub yes: bool,
    #[command(flatten)]
    pub job: SnapshotJobArgs,
}

/// What every snapshot command shares.
#[derive(Debug, Args)]
pub struct SnapshotJobArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// How long one copy (a Job) may run, and how long to wait for readiness after a
    /// restore (e.g. 30m).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = duration)]
    pub timeout: Duration,
    /// Show what would be copied where; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format (with --dry-run, json prints the plan).
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["fleet", "fleet_name"]))]
pub struct HistoryArgs {
    /// The fleet file.
    pub fleet: Option<PathBuf>,
    /// The fleet's name, when the file is not at hand.
    #[arg(long = "fleet", value_name = "NAME")]
    pub fleet_name: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only this agent's revisions.
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Send every change as a server-side dry run and report the server's verdict.
    Server,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The fleet file.
    pub fleet: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Apply without asking (needed when there is no terminal to ask on).
    #[arg(long, short)]
    pub yes: bool,
    /// Take back fields another field manager changed (server-side apply force).
    #[arg(long)]
    pub force_conflicts: bool,
    /// Delete the fleet's objects that left the fleet file (never volumes, unless
    /// --delete-volumes).
    #[arg(long)]
    pub prune: bool,
    /// With --prune: also delete removed agents' PersistentVolumeClaims (their memory).
    /// Asks you to type the fleet name, unless --yes.
    #[arg(long, requires = "prune")]
    pub delete_volumes: bool,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Do not wait for the agents to become ready.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for readiness (e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration)]
    pub timeout: Duration,
    /// `server`: ask the API server to check every change without storing anything.
    #[arg(long, value_enum, value_name = "MODE")]
    pub dry_run: Option<DryRun>,
    /// Move every agent to a new image at once instead of canary and waves.
    #[arg(long)]
    pub all_at_once: bool,
    /// Revisions kept per agent.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub history_max: u16,
    /// A folder of *.yaml.j2 files overriding built-in templates one file at a time.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to write into (created when missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The fleet's name.
    #[arg(long, default_value = "my-fleet")]
    pub name: String,
}

/// A duration flag (`90s`, `5m`, `1h30m`), parsed as the fleet file's durations are.
fn duration(text: &str) -> Result<Duration, String> {
    crate::fleet::Duration::parse(text).map(|d| d.get())
}
