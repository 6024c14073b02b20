//! `perfgate baseline save|list|show`: the named baselines in `baselines/`.

use std::path::PathBuf;

use crate::baseline as store;
use crate::commands::failure::{Failure, Outcome};

#[derive(Debug, Clone)]
pub enum BaselineCommand {
    /// Store the result(s) at `results` as baseline `name` (atomically; never an incomplete
    /// one): several results are kept as the baseline's runs.
    Save {
        name: String,
        results: Vec<PathBuf>,
        dir: PathBuf,
    },
    List {
        dir: PathBuf,
    },
    Show {
        name: String,
        dir: PathBuf,
    },
}

pub fn baseline(cmd: BaselineCommand) -> Result<Outcome, Failure> {
    match cmd {
        BaselineCommand::Save { name, results, dir } => {
            let p = store::save_runs(&dir, &name, &results)?;
            let shown: Vec<String> = results.iter().map(|r| r.display().to_string()).collect();
            let runs = if results.len() > 1 {
                format!(", {} runs", results.len())
            } else {
                String::new()
            };
            println!(
                "saved {} as baseline \"{name}\" ({}{runs})",
                shown.join(", "),
                p.display()
            );
        }
        BaselineCommand::List { dir } => {
            let names = store::names(&dir);
            if names.is_empty() {
                eprintln!("no baselines in {}", dir.display());
            }
            for n in names {
                match store::load(&dir, &n) {
                    Ok((r, _)) => println!("{n}\t{}", store::summary_line(&r)),
                    Err(e) => println!("{n}\tunreadable: {e}"),
                }
            }
        }
        BaselineCommand::Show { name, dir } => {
            let (r, p) = store::load(&dir, &name)?;
            println!("{}: {}", p.display(), store::summary_line(&r));
            print!("{}", crate::report::summary::render(&r)?);
        }
    }
    Ok(Outcome::Done)
}
