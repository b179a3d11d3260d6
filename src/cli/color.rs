//! When gopack colours its text: `--color auto|always|never` (a global flag), else `NO_COLOR`
//! (no-color.org: set and not empty means no colour), else colour only on a terminal whose
//! `TERM` is not `dumb`. Decided once, in `main`, before any verb runs; every verb asks here.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// The `--color` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// Colour on a terminal, unless NO_COLOR is set or TERM is dumb.
    Auto,
    /// Always colour, even into a pipe or a file (and despite NO_COLOR).
    Always,
    /// Never colour.
    Never,
}

static CHOICE: OnceLock<ColorWhen> = OnceLock::new();

/// The choice from the flag (when given) and the environment; `Auto` means "ask the stream".
pub fn resolve(flag: Option<ColorWhen>, no_color: Option<&std::ffi::OsStr>) -> ColorWhen {
    match flag {
        Some(ColorWhen::Always) => ColorWhen::Always,
        Some(ColorWhen::Never) => ColorWhen::Never,
        _ if no_color.is_some_and(|v| !v.is_empty()) => ColorWhen::Never,
        _ => ColorWhen::Auto,
    }
}

/// Records the choice for this process (the first call wins).
pub fn init(flag: Option<ColorWhen>) {
    let _ = CHOICE.set(resolve(flag, std::env::var_os("NO_COLOR").as_deref()));
}

/// The `--color` value written anywhere on the command line before `--`, read ahead of clap so
/// that clap's own help and usage errors follow it too. The last occurrence wins, as in clap.
pub fn prescan(args: &[std::ffi::OsString]) -> Option<ColorWhen> {
    use clap::ValueEnum;
    let mut found = None;
    let mut args = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        let value = match arg.as_ref() {
            "--" => break,
            "--color" => args.next().map(|v| v.into_owned()),
            a => a.strip_prefix("--color=").map(str::to_string),
        };
        if let Some(v) = value.and_then(|v| ColorWhen::from_str(&v, true).ok()) {
            found = Some(v);
        }
    }
    found
}

/// The choice as clap takes it, for clap's own output.
pub fn for_clap(when: ColorWhen) -> clap::ColorChoice {
    match when {
        ColorWhen::Auto => clap::ColorChoice::Auto,
        ColorWhen::Always => clap::ColorChoice::Always,
        ColorWhen::Never => clap::ColorChoice::Never,
    }
}

fn enabled(is_terminal: bool) -> bool {
    match CHOICE.get().copied().unwrap_or(ColorWhen::Auto) {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && is_terminal
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Whether text written to stdout may carry colour.
pub fn stdout() -> bool {
    enabled(std::io::stdout().is_terminal())
}

/// Whether text written to stderr may carry colour.
pub fn stderr() -> bool {
    enabled(std::io::stderr().is_terminal())
}

/// `text` in bold red when `on`.
pub fn error_style(text: &str, on: bool) -> String {
    if on {
        format!("\u{1b}[1;31m{text}\u{1b}[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::{OsStr, OsString};

    #[test]
    fn the_flag_beats_no_color_and_no_color_beats_auto() {
        let set = Some(OsStr::new("1"));
        assert_eq!(resolve(Some(ColorWhen::Always), set), ColorWhen::Always);
        assert_eq!(resolve(Some(ColorWhen::Auto), set), ColorWhen::Never);
        assert_eq!(resolve(None, set), ColorWhen::Never);
        assert_eq!(resolve(None, Some(OsStr::new(""))), ColorWhen::Auto);
        assert_eq!(resolve(Some(ColorWhen::Never), None), ColorWhen::Never);
    }

    #[test]
    fn prescan_reads_both_spellings_and_stops_at_double_dash() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            prescan(&args(&["gopack", "build", "--color", "never"])),
            Some(ColorWhen::Never)
        );
        assert_eq!(
            prescan(&args(&["gopack", "--color=always", "lint"])),
            Some(ColorWhen::Always)
        );
        assert_eq!(
            prescan(&args(&["gopack", "run", ".", "--", "--color=always"])),
            None
        );
        assert_eq!(prescan(&args(&["gopack", "--color=purple"])), None);
    }
}
