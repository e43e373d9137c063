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
    Diff(ClusterArgs),
    /// Converge the cluster to the fleet: plan, confirm, apply, wait.
    Apply(ClusterArgs),
    /// One table: every agent, its image, health, restarts, volume.
    Status(ClusterArgs),
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
