//! Where configuration variables are read from: the process environment, or a fixed set given to
//! the builder (so that tests and tools can isolate themselves from the process environment).
//!
//! Reads only; never writes variables.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::variables::Var;

#[derive(Clone, Default)]
pub(crate) enum Environment {
    #[default]
    Process,
    Fixed(Arc<HashMap<String, String>>),
}

impl Environment {
    /// The variable's value, if set and not empty.
    pub(crate) fn get(&self, var: Var) -> Option<String> {
        self.get_named(var.name())
    }

    /// A variable whose name is made at run time (the region's endpoint override); every other
    /// read goes through [`Environment::get`] and the table in `variables`.
    pub(crate) fn get_named(&self, name: &str) -> Option<String> {
        let value = match self {
            Environment::Process => std::env::var(name).ok(),
            Environment::Fixed(vars) => vars.get(name).cloned(),
        };
        value.filter(|value| !value.trim().is_empty())
    }

    /// Whether the variable is set to nothing but white space (which [`Environment::get`] treats
    /// as unset), to tell "empty" from "not set" in messages.
    pub(crate) fn is_blank(&self, var: Var) -> bool {
        let value = match self {
            Environment::Process => std::env::var(var.name()).ok(),
            Environment::Fixed(vars) => vars.get(var.name()).cloned(),
        };
        value.is_some_and(|value| value.trim().is_empty())
    }

    /// The user's home directory: `HOME`, else `USERPROFILE` (Windows).
    pub(crate) fn home(&self) -> Option<PathBuf> {
        self.get(Var::Home)
            .or_else(|| self.get(Var::UserProfile))
            .map(PathBuf::from)
    }
}

/// Names only: values may be secrets.
impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Environment::Process => f.write_str("Process"),
            Environment::Fixed(vars) => {
                let mut names: Vec<&String> = vars.keys().collect();
                names.sort();
                f.debug_tuple("Fixed").field(&names).finish()
            }
        }
    }
}
