//! The command line, as clap definitions only. Nothing here does work.

use std::path::PathBuf;

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
    Validate(ValidateArgs),
    /// Print (or write with -o DIR) every manifest of the fleet, in apply order.
    Render(RenderArgs),
    /// Show what apply would change on the cluster, secrets masked.
    Diff(DiffArgs),
    /// Converge the cluster to the fleet: plan, confirm, apply, wait.
    Apply(ApplyArgs),
    /// One table: every agent, its image, health, restarts, volume.
    Status(StatusArgs),
    /// Move agents to a new image tag: canary first, then waves.
    Rollout(ClusterArgs),
    /// Return agents to their previous revision.
    Rollback(ClusterArgs),
    /// List the revisions of each agent.
    History(ClusterArgs),
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

#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// The fleet file.
    pub fleet: PathBuf,
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
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
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub timeout: String,
    /// `server`: ask the API server to check every change without storing anything.
    #[arg(long, value_enum, value_name = "MODE")]
    pub dry_run: Option<DryRun>,
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
