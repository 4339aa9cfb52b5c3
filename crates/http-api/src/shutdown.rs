//! Telling long-lived connections (the assistant's WebSocket streams) that the server is
//! stopping, so they close with 1001 "going away" instead of holding the shutdown.

use tokio::sync::watch;

/// Fired once when the server begins to stop.
#[derive(Debug, Clone)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// What a connection waits on.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl ShutdownTrigger {
    /// Tells every [`Shutdown`] that the server is stopping.
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// A trigger and the signal it fires.
    pub fn channel() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (ShutdownTrigger(tx), Shutdown(rx))
    }

    /// Whether the server has begun to stop.
    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the server is stopping (at once when it already is).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}
