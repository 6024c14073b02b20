//! `perfgate completions SHELL`: the script real bash loads, and completes subcommands and
//! formats from it; every shell clap_complete knows gets a script naming perfgate.

mod common;

use common::*;

fn script(work: &Work, shell: &str) -> String {
    let out = work
        .perfgate()
        .args(["completions", shell])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What bash's completion offers after `words` (the last one being completed).
fn complete(file: &std::path::Path, words: &str) -> String {
    let n = words.split(' ').count() - 1;
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={n}; _perfgate perfgate \"${{COMP_WORDS[{n}]}}\" \"${{COMP_WORDS[{}]}}\"; echo \"${{COMPREPLY[@]}}\"",
            file.display(),
            n - 1
        ))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn bash_completes_subcommands_and_values_from_the_script() {
    let work = Work::new();
    let file = work.write("perfgate.bash", &script(&work, "bash"));
    assert_eq!(complete(&file, "perfgate imp"), "import");
    let formats = complete(&file, "perfgate import k6");
    assert!(
        formats.contains("k6-json") && formats.contains("k6-summary"),
        "{formats}"
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        assert!(script(&work, shell).contains("perfgate"), "{shell}");
    }
    let bad = work
        .perfgate()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
