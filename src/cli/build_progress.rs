//! The progress display of a build: on a terminal, one line per image (go build, layers, push)
//! under a line for the whole build; elsewhere (a pipe, CI logs, `-q`, `--json`) nothing.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use gopack::pipeline::Progress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The display; inert when stderr is not a terminal or when asked to be quiet.
pub struct Display {
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    main: ProgressBar,
    targets: Mutex<BTreeMap<String, ProgressBar>>,
}

impl Display {
    /// A display that shows when `talk` and stderr is a terminal.
    pub fn new(talk: bool) -> Display {
        let bars = (talk && std::io::stderr().is_terminal()).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let main = multi.add(ProgressBar::new_spinner());
            main.enable_steady_tick(Duration::from_millis(120));
            Bars {
                multi,
                main,
                targets: Mutex::new(BTreeMap::new()),
            }
        });
        Display { bars }
    }

    /// Removes every line the display drew.
    pub fn finish(&self) {
        if let Some(b) = &self.bars {
            for bar in b.targets.lock().unwrap_or_else(|e| e.into_inner()).values() {
                bar.finish_and_clear();
            }
            b.main.finish_and_clear();
            let _ = b.multi.clear();
        }
    }
}

impl Progress for Display {
    fn step(&self, message: &str) {
        if let Some(b) = &self.bars {
            b.main.set_message(message.to_string());
        }
    }

    fn target(&self, image: &str, status: &str) {
        let Some(b) = &self.bars else {
            return;
        };
        let mut targets = b.targets.lock().unwrap_or_else(|e| e.into_inner());
        let bar = targets.entry(image.to_string()).or_insert_with(|| {
            let bar = b.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("  {prefix:<20} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(image.to_string());
            bar
        });
        bar.set_message(status.to_string());
    }
}
