//! The operations: credential verify (POST JSON / POST form / GET query)
//! and update (PUT JSON), attribute lookup, bucket get / store / clear.
//! Bodies of errors are generic codes; a wrong password, an unknown user
//! and an inactive account answer alike, in the same time class.

use http::{Method, Request, StatusCode, header};
use hyper::body::Incoming;
use serde_json::{Map, Value, json};

use super::{
    JsonDs, Reply, error,
    params::{self, BadRequest, Params},
    passwords,
};
use crate::{
    config::url_path::{Var, Vars},
    store::{StoreError, accounts::Lookup, buckets::Bucket, keys::Tenant},
};

const INVALID_CREDENTIALS: &str = "invalid_credentials";

pub(super) fn bad(e: &BadRequest) -> Reply {
    (
        StatusCode::BAD_REQUEST,
        Some(json!({ "error": "invalid_request", "error_description": e.0 })),
    )
}

/// A store failure, as the error table says it surfaces over HTTP: the
/// caller's mistake (4xx, the message naming the field), what may pass
/// (503, `Retry-After`), or ours (500); the cause of anything not the
/// caller's doing goes to the server log only.
fn failed(e: &StoreError) -> Reply {
    let class = e.class();
    let status =
        StatusCode::from_u16(class.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if class.caller_fault {
        tracing::debug!(target: "curity_dynamodb::json_ds", outcome = class.outcome, "refused");
        (
            status,
            Some(json!({ "error": class.http_error(), "error_description": e.to_string() })),
        )
    } else {
        tracing::warn!(target: "curity_dynamodb::json_ds", outcome = class.outcome, error = %e.full(), "store failed");
        error(status, class.http_error())
    }
}

impl JsonDs {
    /// Parameters as `submit-as` sent them: a JSON or form body for POST,
    /// the query for GET.
    async fn credential_params(&self, req: Request<Incoming>) -> Result<Params, Reply> {
        if *req.method() == Method::GET {
            let query = req.uri().query().unwrap_or("");
            return params::form(query.as_bytes()).map_err(|e| bad(&e));
        }
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| {
                t.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        let body = self.body(req).await?;
        if form {
            params::form(&body).map_err(|e| bad(&e))
        } else {
            params::json(&body).map_err(|e| bad(&e))
        }
    }

    /// The tenant: the `:tenantId` placeholder, else the configured tenant
    /// parameter, else the default tenant.
    fn tenant<'p>(&self, p: &'p Params, vars: &'p Vars) -> Result<Tenant<'p>, Reply> {
        let id = vars.get(&Var::TenantId).map(String::as_str).or_else(|| {
            self.config
                .tenant_id_parameter
                .as_ref()
                .and_then(|name| p.get(name))
                .map(String::as_str)
        });
        Tenant::parse(id).map_err(|e| failed(&e))
    }

    /// A parameter that must be present and not empty.
    fn required<'p>(&self, p: &'p Params, name: &str) -> Result<&'p str, Reply> {
        p.get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(&BadRequest(format!("{name} is required"))))
    }

    /// The subject: the `:subject` placeholder, else the username
    /// parameter; both given, they must agree.
    fn subject<'p>(&self, p: &'p Params, vars: &'p Vars) -> Result<&'p str, Reply> {
        let name = &self.config.username_parameter;
        match (
            vars.get(&Var::Subject),
            p.get(name).filter(|s| !s.is_empty()),
        ) {
            (Some(path), Some(param)) if path != param => Err(bad(&BadRequest(format!(
                "the subject in the path and {name} differ"
            )))),
            (Some(path), _) if !path.is_empty() => Ok(path),
            _ => self.required(p, name),
        }
    }

    fn password(&self, p: &Params, vars: &Vars) -> Result<String, Reply> {
        if let Some(pw) = vars.get(&Var::Password).filter(|s| !s.is_empty()) {
            return Ok(pw.clone());
        }
        self.required(p, &self.config.password_parameter)
            .map(str::to_string)
    }

    /// Runs `f` (password hashing work) on the blocking pool, at most
    /// `json_ds.max_concurrent_verifications` at once.
    async fn hashing<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Reply> {
        let _permit = self
            .verifications
            .acquire()
            .await
            .map_err(|_| error(StatusCode::SERVICE_UNAVAILABLE, "unavailable"))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "server_error"))
    }

    pub(super) async fn verify(&self, req: Request<Incoming>, vars: Vars) -> Reply {
        // The password in the URL: a query string, or a placeholder.
        let in_url = *req.method() == Method::GET || vars.contains_key(&Var::Password);
        let p = match self.credential_params(req).await {
            Ok(p) => p,
            Err(r) => return r,
        };
        match self.verify_params(&p, &vars, in_url).await {
            Ok(r) | Err(r) => r,
        }
    }

    async fn verify_params(&self, p: &Params, vars: &Vars, in_url: bool) -> Result<Reply, Reply> {
        let subject = self.subject(p, vars)?;
        let tenant = self.tenant(p, vars)?;
        let credentials = self.store.credentials();
        if !self.config.backend_verifies_password {
            // Curity verifies: answer the stored hash (missing, inactive
            // or without a password: the same 401).
            return Ok(match credentials.get(tenant, subject).await {
                Ok(Some(c)) => (
                    StatusCode::OK,
                    Some(json!({
                        "userName": c.user_name,
                        "accountId": c.account_id,
                        "active": true,
                        "password": c.password_hash,
                    })),
                ),
                Ok(None) => error(StatusCode::UNAUTHORIZED, INVALID_CREDENTIALS),
                Err(e) => failed(&e),
            });
        }
        if in_url && !self.config.allow_password_in_query {
            // The password would be in the URL (access logs, proxies).
            return Err(bad(&BadRequest(
                "a password may not be sent in the URL; use submit-as post-as-json, \
                 or set json_ds.allow_password_in_query = true"
                    .into(),
            )));
        }
        let password = self.password(p, vars)?;
        let found = credentials
            .get(tenant, subject)
            .await
            .map_err(|e| failed(&e))?;
        let account = match found {
            Some(c) => {
                let hash = c.password_hash.clone();
                let ok = self
                    .hashing(move || passwords::verify(&hash, &password))
                    .await?;
                ok.then_some(c)
            }
            None => {
                self.hashing(move || passwords::verify_dummy(&password))
                    .await?;
                None
            }
        };
        Ok(match account {
            Some(c) => (
                StatusCode::OK,
                Some(json!({
                    "userName": c.user_name,
                    "accountId": c.account_id,
                    "active": true,
                })),
            ),
            None => error(StatusCode::UNAUTHORIZED, INVALID_CREDENTIALS),
        })
    }

    /// PUT: always a JSON body, whatever `submit-as` says.
    pub(super) async fn update_password(&self, req: Request<Incoming>, vars: Vars) -> Reply {
        let body = match self.body(req).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        let p = match params::json(&body) {
            Ok(p) => p,
            Err(e) => return bad(&e),
        };
        match self.update_params(&p, &vars).await {
            Ok(r) | Err(r) => r,
        }
    }

    async fn update_params(&self, p: &Params, vars: &Vars) -> Result<Reply, Reply> {
        let subject = self.subject(p, vars)?;
        let tenant = self.tenant(p, vars)?;
        let given = self.password(p, vars)?;
        // Curity verifies: it sends what its credential manager stores
        // (the hash), kept verbatim. The backend verifies: it sends the
        // password in clear, hashed here.
        let stored = if self.config.backend_verifies_password {
            let cost = self.config.bcrypt_cost;
            self.hashing(move || passwords::hash(&given, cost))
                .await?
                .map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "server_error"))?
        } else {
            given
        };
        Ok(
            match self
                .store
                .credentials()
                .store(tenant, subject, Some(&stored), None)
                .await
            {
                Ok(true) => (StatusCode::NO_CONTENT, None),
                Ok(false) => error(StatusCode::NOT_FOUND, "not_found"),
                Err(e) => failed(&e),
            },
        )
    }

    /// `GET` of the attributes template: the subject from `:subject`, or in
    /// the configured header (base64) or query parameter.
    pub(super) async fn attributes(
        &self,
        req: Request<Incoming>,
        query: Params,
        vars: Vars,
    ) -> Reply {
        match self.attributes_of(&req, &query, &vars).await {
            Ok(r) | Err(r) => r,
        }
    }

    async fn attributes_of(
        &self,
        req: &Request<Incoming>,
        query: &Params,
        vars: &Vars,
    ) -> Result<Reply, Reply> {
        let subject = match vars.get(&Var::Subject) {
            Some(s) => s.clone(),
            None => {
                let Some(name) = &self.config.attributes_subject_parameter else {
                    return Err(error(StatusCode::NOT_FOUND, "not_found"));
                };
                match (req.headers().get(name.as_str()), query.get(name)) {
                    (Some(h), _) => params::base64_header(h.as_bytes()).map_err(|e| bad(&e))?,
                    (None, Some(q)) => q.clone(),
                    (None, None) => {
                        return Err(bad(&BadRequest(format!("{name} is required"))));
                    }
                }
            }
        };
        let tenant = self.tenant(query, vars)?;
        let account = self
            .store
            .accounts()
            .get_by(tenant, Lookup::UserName, &subject)
            .await
            .map_err(|e| failed(&e))?;
        let Some(a) = account else {
            return Ok(error(StatusCode::NOT_FOUND, "not_found"));
        };
        let a = std::sync::Arc::unwrap_or_clone(a);
        let mut out: Map<String, Value> = a.attributes;
        out.insert("subject".into(), Value::String(subject));
        out.insert("userName".into(), Value::String(a.user_name));
        out.insert("accountId".into(), Value::String(a.id));
        out.insert("active".into(), Value::Bool(a.active));
        Ok((StatusCode::OK, Some(Value::Object(out))))
    }

    /// The buckets template (`:subject`, `:purpose`): GET the attributes
    /// (404 when absent or expired), PUT a JSON object to store, DELETE to
    /// clear.
    pub(super) async fn bucket(&self, req: Request<Incoming>, query: Params, vars: Vars) -> Reply {
        match self.bucket_op(req, &query, &vars).await {
            Ok(r) | Err(r) => r,
        }
    }

    async fn bucket_op(
        &self,
        req: Request<Incoming>,
        query: &Params,
        vars: &Vars,
    ) -> Result<Reply, Reply> {
        let (Some(subject), Some(purpose)) = (vars.get(&Var::Subject), vars.get(&Var::Purpose))
        else {
            return Err(error(StatusCode::NOT_FOUND, "not_found"));
        };
        let (subject, purpose) = (subject.clone(), purpose.clone());
        let tenant = self.tenant(query, vars)?;
        let buckets = self.store.buckets();
        Ok(match *req.method() {
            Method::GET => match buckets.get(tenant, &subject, &purpose).await {
                Ok(Bucket::Found { attributes, .. }) => {
                    (StatusCode::OK, Some(Value::Object(attributes)))
                }
                Ok(Bucket::NotFound | Bucket::Expired { .. }) => {
                    error(StatusCode::NOT_FOUND, "not_found")
                }
                Err(e) => failed(&e),
            },
            Method::PUT | Method::POST => {
                let body = self.body(req).await?;
                let Ok(Value::Object(attributes)) = serde_json::from_slice::<Value>(&body) else {
                    return Err(bad(&BadRequest("the body is not a JSON object".into())));
                };
                match buckets
                    .store(tenant, &subject, &purpose, &attributes, None)
                    .await
                {
                    Ok(()) => (StatusCode::OK, Some(Value::Object(attributes))),
                    Err(e) => failed(&e),
                }
            }
            Method::DELETE => match buckets.clear(tenant, &subject, &purpose).await {
                Ok(true) => (StatusCode::NO_CONTENT, None),
                Ok(false) => error(StatusCode::NOT_FOUND, "not_found"),
                Err(e) => failed(&e),
            },
            _ => error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        })
    }
}
