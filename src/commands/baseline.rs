//! `perfgate baseline save|list|show`: the named baselines in `baselines/`.

use std::path::PathBuf;

use crate::baseline as store;
use crate::commands::failure::{Failure, Outcome};

#[derive(Debug, Clone)]
pub enum BaselineCommand {
    /// Store the result at `result` as baseline `name` (atomically; never an incomplete one).
    Save {
        name: String,
        result: PathBuf,
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
        BaselineCommand::Save { name, result, dir } => {
            let p = store::save(&dir, &name, &result)?;
            println!(
                "saved {} as baseline \"{name}\" ({})",
                result.display(),
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
