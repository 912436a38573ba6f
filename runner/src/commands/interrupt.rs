//! Ctrl-C, SIGTERM, SIGHUP and panics: no child outlives abibench. A command that can stop
//! gracefully (`compare`: finish up, save what is done) asks for `graceful()`, and the first
//! signal only raises its flag; any other signal, or a signal to any other command, kills every
//! child with its group (`child::kill_all`) and leaves with 130 — once the graceful command has
//! saved what it finished (`saved`), or after `SAVE_GRACE` if it cannot.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::model::child;

static GRACEFUL: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);
static SAVED: Mutex<bool> = Mutex::new(false);
static SAVED_CHANGED: Condvar = Condvar::new();

/// How long a second signal waits for the results of a graceful stop to be saved: with the
/// workers killed, that takes milliseconds; a stuck save must not keep abibench from leaving.
const SAVE_GRACE: Duration = Duration::from_secs(2);

/// Installs the handlers, once per process, before any child starts.
pub fn install() -> Result<()> {
    ctrlc::set_handler(|| {
        if GRACEFUL.load(Ordering::SeqCst) && !STOP.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted: finishing up and saving what is done (Ctrl-C again to leave at once)");
            return;
        }
        child::kill_all();
        if GRACEFUL.load(Ordering::SeqCst) {
            let done = SAVED.lock().unwrap_or_else(|e| e.into_inner());
            let _ = SAVED_CHANGED.wait_timeout_while(done, SAVE_GRACE, |saved| !*saved);
        }
        std::process::exit(130);
    })
    .context("cannot install the Ctrl-C/SIGTERM handler")?;
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        child::kill_all();
    }));
    Ok(())
}

/// The flag the first signal raises, for a command that stops gracefully by polling it.
pub fn graceful() -> &'static AtomicBool {
    GRACEFUL.store(true, Ordering::SeqCst);
    &STOP
}

/// Tells a second signal that what the graceful command finished is saved: it may leave now.
/// From here on there is nothing to finish gracefully, so any signal leaves at once.
pub fn saved() {
    GRACEFUL.store(false, Ordering::SeqCst);
    *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = true;
    SAVED_CHANGED.notify_all();
}
