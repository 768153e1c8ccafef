//! The credential chain of the official SDKs, in the order the builder's docs list; the metadata
//! service is asked later, by the client.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::profile::{Profile, profile_path, read_profile};
use crate::api::validate_project_id;
use crate::credentials::{Auth, Credentials};
use crate::endpoint::Endpoint;
use crate::env::{Environment, Var};
use crate::error::Error;
use crate::source::Source;

/// What the chain found, and where.
pub(crate) struct Resolved {
    pub(crate) auth: AuthSource,
    /// The step that gave the credentials (`HUAWEICLOUD_SDK_AK`, `ClientBuilder::auth`).
    pub(crate) credentials_from: Source,
    /// The project id configured (checked), with where it came from.
    pub(crate) project_id: Option<(String, Source)>,
    /// The IAM endpoint configured, with where it came from.
    pub(crate) iam_endpoint: Option<(String, Source)>,
}

/// Where the client's credentials come from.
#[derive(Debug)]
pub(crate) enum AuthSource {
    Fixed(Arc<Auth>),
    /// The ECS metadata service; `tried` names the steps before it, for the error.
    Metadata {
        endpoint: Endpoint,
        tried: Vec<String>,
    },
}

/// Settings of the builder that the chain reads.
pub(crate) struct ChainSettings<'a> {
    pub(crate) explicit: Option<Auth>,
    pub(crate) explicit_project_id: Option<(String, Source)>,
    pub(crate) explicit_iam_endpoint: Option<(String, Source)>,
    pub(crate) profile_file: Option<&'a PathBuf>,
    /// How a profile file was named to the builder, in the user's words.
    pub(crate) profile_given_by: Source,
    pub(crate) metadata: bool,
    /// The metadata service, when not the ECS default.
    pub(crate) metadata_endpoint: Option<Endpoint>,
    pub(crate) environment: &'a Environment,
}

pub(crate) fn resolve(settings: ChainSettings<'_>) -> Result<Resolved, Error> {
    let env = settings.environment;
    let mut tried = Vec::new();
    let found = first_credentials(&settings, &mut tried)?;
    // A setting given to the builder, else the variable's value, with where it came from.
    let given_or_set = |given: Option<(String, Source)>, var| {
        given.or_else(|| env.get(var).map(|value| (value, Source::var(var))))
    };
    let mut project_id = given_or_set(settings.explicit_project_id, Var::ProjectId);
    let mut iam_endpoint = given_or_set(settings.explicit_iam_endpoint, Var::IamEndpoint);
    let metadata = settings.metadata && metadata_allowed_by(env)?;
    let (auth, credentials_from) = match found {
        Some(Found { auth, profile, from }) => {
            if let Some((path, profile)) = profile {
                let named_by = settings.profile_file.map(|_| &settings.profile_given_by);
                let with_line = |(value, line)| (value, profile_line(&path, line, named_by));
                project_id = project_id.or(profile.project_id.map(with_line));
                iam_endpoint = iam_endpoint.or(profile.iam_endpoint.map(with_line));
            }
            (AuthSource::Fixed(Arc::new(auth)), from)
        }
        None if metadata => {
            // The metadata service of every ECS, unless another was named.
            let endpoint = match settings.metadata_endpoint {
                Some(endpoint) => endpoint,
                None => Endpoint::parse_metadata("http://169.254.169.254")?,
            };
            let from = format!("from the ECS metadata service at {}", endpoint.base);
            let from = Source::Fallback(from);
            (AuthSource::Metadata { endpoint, tried }, from)
        }
        None => {
            let by = settings.metadata.then(|| format!(" by {}", Var::EcsMetadata.name()));
            let by = by.unwrap_or_default();
            tried.push(format!("ECS metadata (turned off{by})"));
            return Err(Error::invalid_input(format!(
                "no credentials found; tried {}",
                tried.join("; ")
            ))
            .no_credentials_found());
        }
    };
    if let Some((project_id, source)) = &project_id {
        validate_project_id(project_id).map_err(|error| error.named_by(source))?;
    }
    Ok(Resolved { auth, credentials_from, project_id, iam_endpoint })
}

/// Credentials a step of the chain found, with the profile they came from (and its path), if any.
struct Found {
    auth: Auth,
    profile: Option<(PathBuf, Profile)>,
    /// The step.
    from: Source,
}

/// The first step that has credentials, in the order the module doc gives.
fn first_credentials(
    settings: &ChainSettings<'_>,
    tried: &mut Vec<String>,
) -> Result<Option<Found>, Error> {
    let env = settings.environment;
    if let Some(auth) = &settings.explicit {
        let from = auth
            .variable()
            .map_or(Source::Method("ClientBuilder::auth"), |name| Source::Var(name.into()));
        return Ok(Some(Found { auth: auth.clone(), profile: None, from }));
    }
    if let Some(path) = settings.profile_file {
        let found = from_profile(Some((path, &settings.profile_given_by)), env, tried)?;
        if found.is_none() {
            let tried = tried.join("; ");
            let message = format!("the profile file given has no credentials; tried {tried}");
            return Err(Error::invalid_input(message));
        }
        return Ok(found);
    }
    if let Some(credentials) = Credentials::from_environment(env)? {
        let from = Source::var(Var::AccessKey);
        return Ok(Some(Found { auth: Auth::AkSk(credentials), profile: None, from }));
    }
    let (ak, sk) = (Var::AccessKey.name(), Var::SecretKey.name());
    tried.push(format!("environment ({ak}/{sk} not set)"));
    from_profile(None, env, tried)
}

/// Whether `DBSS_JOBS_ECS_METADATA` (the process's, or the client's own) leaves the step on.
fn metadata_allowed_by(env: &Environment) -> Result<bool, Error> {
    let process = crate::env::ecs_metadata_switch(&Environment::Process)?;
    let own = match env {
        Environment::Fixed(_) => crate::env::ecs_metadata_switch(env)?,
        Environment::Process => None,
    };
    Ok(process != Some(false) && own != Some(false))
}

/// The profile's credentials, with the profile for its other keys; `None` (and a note in
/// `tried`) when there is no file or it has no AK/SK. `named` is a file named to the builder.
fn from_profile(
    named: Option<(&PathBuf, &Source)>,
    env: &Environment,
    tried: &mut Vec<String>,
) -> Result<Option<Found>, Error> {
    let Some((path, required)) = profile_path(named.map(|(path, _)| path.as_path()), env) else {
        tried.push("profile file (no home directory)".to_string());
        return Ok(None);
    };
    // The file a setting named (the builder's, or the variable's) is named by it everywhere.
    let variable = Source::var(Var::CredentialsFile);
    let by = named.map(|(_, source)| source).or(required.then_some(&variable));
    let Some(profile) = read_profile(&path, required, by)? else {
        tried.push(format!("profile file {} (not found)", path.display()));
        return Ok(None);
    };
    let line = |line: usize| profile_line(&path, line, by);
    let (credentials, ak_line) = match (&profile.ak, &profile.sk) {
        (Some((ak, ak_line)), Some((sk, sk_line))) => {
            (Credentials::checked(ak, sk, &line(*ak_line), &line(*sk_line))?, *ak_line)
        }
        (None, None) => {
            tried.push(format!("profile file {} (no ak/sk in [basic])", path.display()));
            return Ok(None);
        }
        _ => {
            return Err(Error::invalid_input(format!(
                "profile file {}: [basic] has only one of ak and sk",
                path.display()
            )));
        }
    };
    let credentials = match &profile.security_token {
        Some((token, at)) => credentials.with_token_from(token.clone(), &line(*at))?,
        None => credentials,
    };
    let from = line(ak_line);
    Ok(Some(Found { auth: Auth::AkSk(credentials), from, profile: Some((path, profile)) }))
}

/// A line of the profile file, named through the setting that named the file, if one did.
fn profile_line(path: &Path, line: usize, named_by: Option<&Source>) -> Source {
    let at = Source::Line(path.to_path_buf(), line);
    match named_by {
        Some(setting) => Source::Via(Box::new(setting.clone()), Box::new(at)),
        None => at,
    }
}
