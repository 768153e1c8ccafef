//! Locks that outlive a panic: every state this crate keeps behind a lock is consistent after each
//! assignment, so a poisoned one is used as it is instead of spreading the panic.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, recovering it if another thread panicked while holding it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
