//! Ctrl-C, SIGTERM, SIGHUP and panics: no child outlives abibench. A command that can stop
//! gracefully (`compare`: finish up, save what is done) asks for `graceful()`, and the first
//! signal only raises its flag; any other signal, or a signal to any other command, kills every
//! child with its group (`child::kill_all`) and leaves with 130.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};

use crate::model::child;

static GRACEFUL: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);

/// Installs the handlers, once per process, before any child starts.
pub fn install() -> Result<()> {
    ctrlc::set_handler(|| {
        if GRACEFUL.load(Ordering::SeqCst) && !STOP.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted: finishing up and saving what is done (Ctrl-C again to leave at once)");
            return;
        }
        child::kill_all();
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
