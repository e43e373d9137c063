//! Benchmark: load + validate + render (and YAML output) of generated fleets with 10 to
//! 10,000 agents, single-threaded. Prints wall time and peak memory per size.
//!
//!     cargo run --release --example bench_render            # all sizes
//!     cargo run --release --example bench_render -- 1000    # one size
//!
//! Each size runs in its own process, so peak memory (VmHWM) is that size's alone.

use std::process::Command;
use std::time::Instant;

use clawctl::render::{self, Filter};

mod support;
use support::{peak_rss_mb, write_fleet};

const SIZES: &[usize] = &[10, 100, 1_000, 10_000];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) = args.get(1).and_then(|a| a.parse::<usize>().ok()) {
        return run_one(n);
    }
    println!(
        "{:>7}  {:>9}  {:>9}  {:>9}  {:>8}  {:>9}",
        "agents", "load+val", "render", "total", "objects", "peak RSS"
    );
    for n in SIZES {
        let out = Command::new(&args[0]).arg(n.to_string()).output()?;
        if !out.status.success() {
            anyhow::bail!("size {n} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    Ok(())
}

fn run_one(n: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = write_fleet(dir.path(), n, false)?;
    let start = Instant::now();
    let (_, fleet) = clawctl::ops::load(&path)?;
    let loaded = start.elapsed();
    // What `clawctl render` does: render, check, keep each object's text, write the stream.
    let manifests = render::render_yaml(&fleet, &render::Templates::builtin(), &Filter::default())?;
    render::write_stream(&mut std::io::sink(), &manifests)?;
    let total = start.elapsed();
    println!(
        "{n:>7}  {:>7.1}ms  {:>7.1}ms  {:>7.1}ms  {:>8}  {:>6.1} MB",
        loaded.as_secs_f64() * 1e3,
        (total - loaded).as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        manifests.len(),
        peak_rss_mb()
    );
    Ok(())
}
