//! The gateway's refusal of an access key, remembered: after it said the key does not exist, or
//! locked it, no signed request with that key is sent (for 5 minutes after a lock).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::credentials::Auth;
use crate::error::{AuthFailure, Error};
use crate::gateway::Said;

/// How long the gateway keeps an access key locked after five failed signatures.
const LOCK_TIME: Duration = Duration::from_secs(5 * 60);

/// The gateway's refusal of an access key: which key, why, and when.
#[derive(Clone)]
struct Refusal {
    access_key: String,
    failure: AuthFailure,
    at: Instant,
}

/// The last refusal a client met.
#[derive(Default)]
pub(crate) struct Refusals(Mutex<Option<Refusal>>);

impl Refusals {
    /// Refuses a signed request with a refused key; temporary credentials renewed with another key
    /// are sent.
    pub(crate) fn check(&self, auth: &Auth) -> Result<(), Error> {
        let Auth::AkSk(credentials) = auth else {
            return Ok(());
        };
        let refused = crate::sync::lock(&self.0).clone();
        let Some(Refusal { access_key, failure, at }) = refused else {
            return Ok(());
        };
        if access_key != credentials.access_key() {
            return Ok(());
        }
        let lock_over = failure == AuthFailure::AccessKeyLocked && at.elapsed() > LOCK_TIME;
        if lock_over {
            return Ok(());
        }
        Err(Error::refused(failure, at.elapsed()))
    }

    pub(crate) fn remember(&self, auth: &Auth, said: &Said) {
        if let Some(failure @ (AuthFailure::UnknownAccessKey | AuthFailure::AccessKeyLocked)) =
            said.auth_failure
            && let Auth::AkSk(credentials) = auth
        {
            *crate::sync::lock(&self.0) = Some(Refusal {
                access_key: credentials.access_key().to_string(),
                failure,
                at: Instant::now(),
            });
        }
    }
}
