//! Progress of long-running commands: a bar on a terminal, plain lines otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Reports `done` out of `total` per named stage.
pub struct Progress {
    bar: Option<ProgressBar>,
    stage: String,
    last_tenth: u64,
}

impl Progress {
    pub fn new() -> Self {
        Progress { bar: None, stage: String::new(), last_tenth: u64::MAX }
    }

    /// Records progress of `stage`.
    pub fn update(&mut self, stage: &str, done: u64, total: u64) {
        if stage != self.stage {
            if let Some(bar) = self.bar.take() {
                bar.finish();
            }
            self.stage = stage.to_string();
            self.last_tenth = u64::MAX;
            if std::io::stderr().is_terminal() {
                let bar = ProgressBar::new(total);
                let style = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                bar.set_style(style);
                bar.set_message(stage.to_string());
                self.bar = Some(bar);
            }
        }
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None => {
                let tenth = (done * 10).checked_div(total).unwrap_or(10);
                if tenth != self.last_tenth {
                    self.last_tenth = tenth;
                    eprintln!("{stage}: {done}/{total} ({}%)", tenth * 10);
                }
            }
        }
    }

    /// Closes the bar, if any.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}
