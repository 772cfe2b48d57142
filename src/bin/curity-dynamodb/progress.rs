//! Progress of long CLI work on stderr: a bar on a terminal, a plain line
//! every few seconds otherwise (a log, a CI job, `kubectl logs`).

use std::{
    io::IsTerminal,
    sync::Mutex,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const LINE_EVERY: Duration = Duration::from_secs(5);

pub struct Reporter {
    verb: &'static str,
    bar: Option<ProgressBar>,
    last_line: Mutex<Option<Instant>>,
}

impl Reporter {
    /// A bar of items done of a total.
    pub fn new(verb: &'static str) -> Self {
        Self::styled(verb, "{msg} {wide_bar} {pos}/{len} ({per_sec}, {eta})")
    }

    /// A spinner and the last line `say` gave (no total to measure by).
    pub fn spinner(verb: &'static str) -> Self {
        Self::styled(verb, "{spinner} {msg}")
    }

    fn styled(verb: &'static str, template: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            verb,
            bar,
            last_line: Mutex::new(None),
        }
    }

    /// `done` of `total` (when known) for `what`.
    pub fn update(&self, what: &str, done: u64, total: Option<u64>) {
        if let Some(bar) = &self.bar {
            bar.set_length(total.unwrap_or(done));
            bar.set_position(done);
            bar.set_message(format!("{} {what}", self.verb));
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < LINE_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        match total {
            Some(total) => eprintln!("{}: {what}: {done} of {total}", self.verb),
            None => eprintln!("{}: {what}: {done}", self.verb),
        }
    }

    /// A line of its own: the bar's message on a terminal, printed
    /// otherwise (each one: the caller decides how often).
    pub fn say(&self, line: String) {
        match &self.bar {
            Some(bar) => {
                bar.set_message(line);
                bar.tick();
            }
            None => eprintln!("{line}"),
        }
    }

    /// Ends the current bar (a plain line is printed by the caller).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            bar.reset();
        }
    }
}
