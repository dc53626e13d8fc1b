//! The HTTP layer: thin axum handlers that extract a [`Request`], run the service function
//! on a blocking thread (the database is synchronous), and answer. Long polls wait here.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use canopy_ds_api::{ErrorCode, routes};
use canopy_store::ds::DsTx;

use crate::ApiError;
use crate::auth::SignedHeaders;
use crate::live::Live;
use crate::pool::Pool;
use crate::service::{self, Ctx, Reply, Request, Service, hex_segment};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The service layer.
    pub service: Arc<Service>,
    /// The long polls' wakers.
    pub live: Arc<Live>,
    /// The threads that run the service functions.
    pub pool: Arc<Pool>,
}

/// Worker threads for the service functions (each holds a database connection while it
/// runs one request).
const WORKERS: usize = 32;

impl AppState {
    /// A state over `service`.
    pub fn new(service: Service) -> Self {
        Self {
            service: Arc::new(service),
            live: Arc::new(Live::default()),
            pool: Arc::new(Pool::new(WORKERS)),
        }
    }
}

/// The OpenAPI document of the API.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// The router of every route of [`canopy_ds_api::routes`].
pub fn router(state: AppState) -> Router {
    let max_body = state.service.limits().max_body;
    Router::new()
        .route(routes::OPENAPI, get(openapi))
        .route(routes::USERS, post(register))
        .route(routes::USER_DEVICES, post(add_device).get(list_devices))
        .route(routes::KEY_PACKAGES, post(publish))
        .route(routes::KEY_PACKAGE_COUNT, get(count))
        .route(routes::CLAIM_KEY_PACKAGES, post(claim))
        .route(routes::GROUPS, post(create_group))
        .route(routes::GROUP, get(group_status))
        .route(routes::GROUP_MESSAGES, post(post_message))
        .route(routes::GROUP_MESSAGE, get(get_message))
        .route(routes::GROUP_INFO, get(group_info).post(put_group_info))
        .route(routes::INBOX, get(inbox).post(inbox))
        .route(routes::INBOX_ACK, post(ack))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

async fn not_found() -> Response {
    ApiError::new(ErrorCode::BadRequest, "no such route").into_response()
}

/// The parts of an HTTP request the service layer needs.
fn request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Request, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::TooLarge, "the body is over the server's limit")
        } else {
            ApiError::new(ErrorCode::BadRequest, format!("the body: {e}"))
        }
    })?;
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (signed, signed_error) = match SignedHeaders::parse(get) {
        Ok(s) => (Some(s), None),
        Err(e) => (None, Some(e.message)),
    };
    let query: HashMap<String, String> = uri
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Request {
        method: method.as_str().to_owned(),
        path_and_query: uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        signed,
        signed_error,
        query,
        removes: get(canopy_ds_api::types::REMOVES_HEADER).map(str::to_owned),
        body: body.to_vec(),
        verified_key: None,
    })
}

fn respond(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    if status == StatusCode::NO_CONTENT {
        return status.into_response();
    }
    (
        status,
        [(header::CONTENT_TYPE, reply.content_type)],
        reply.body,
    )
        .into_response()
}

/// Runs `f` on a blocking thread in one transaction, wakes who must be woken, answers.
async fn run<F>(state: &AppState, req: Result<Request, ApiError>, f: F) -> Response
where
    F: FnOnce(&mut dyn DsTx, &Ctx<'_>, &Request) -> Result<Reply, ApiError> + Send + 'static,
{
    let mut req = match req {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    state.service.check_signature_early(&mut req);
    let done = exec(state, move |tx, ctx| f(tx, ctx, &req)).await;
    match done {
        Some(Ok(mut reply)) => {
            state.service.remember(&mut reply);
            for g in &reply.wake_groups {
                state.live.wake_group(g);
            }
            for d in &reply.wake_devices {
                state.live.wake_device(d);
            }
            respond(reply)
        }
        Some(Err(e)) => e.into_response(),
        None => {
            tracing::error!("a request's worker failed");
            ApiError::new(ErrorCode::Internal, "the request failed").into_response()
        }
    }
}

/// Runs `f` in a transaction: queued for the group-commit writer from this task, or on a
/// worker thread of the pool (PostgreSQL). `None` if the worker failed.
async fn exec<R: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut dyn DsTx, &Ctx<'_>) -> Result<R, ApiError> + Send + 'static,
) -> Option<Result<R, ApiError>> {
    let service = Arc::clone(&state.service);
    if service.group_commits() {
        Some(service.run_queued(f).await)
    } else {
        state.pool.run(move || service.run_with(f)).await
    }
}

macro_rules! handler {
    ($name:ident, $f:expr) => {
        async fn $name(
            State(state): State<AppState>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Result<Bytes, BytesRejection>,
        ) -> Response {
            let req = request(&method, &uri, &headers, body);
            run(&state, req, $f).await
        }
    };
    ($name:ident, $param:ty, $f:expr) => {
        async fn $name(
            State(state): State<AppState>,
            param: Result<Path<$param>, PathRejection>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Result<Bytes, BytesRejection>,
        ) -> Response {
            let Path(param) = match param {
                Ok(p) => p,
                Err(e) => {
                    return ApiError::new(
                        ErrorCode::BadRequest,
                        format!("the path: {}", e.body_text()),
                    )
                    .into_response();
                }
            };
            let req = request(&method, &uri, &headers, body);
            let f = $f;
            run(&state, req, move |tx, ctx, req| f(tx, ctx, req, param)).await
        }
    };
}

handler!(register, service::register);
handler!(publish, service::publish_key_packages);
handler!(count, service::count_key_packages);
handler!(create_group, service::create_group);
handler!(ack, service::ack);
handler!(
    add_device,
    String,
    |tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request, user: String| service::add_device(
        tx, ctx, req, &user
    )
);
handler!(
    list_devices,
    String,
    |tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request, user: String| service::list_devices(
        tx, ctx, req, &user
    )
);
handler!(claim, String, |tx: &mut dyn DsTx,
                         ctx: &Ctx<'_>,
                         req: &Request,
                         user: String| {
    service::claim_key_packages(tx, ctx, req, &user)
});
handler!(
    group_status,
    String,
    |tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request, group: String| {
        service::group_status(tx, ctx, req, &hex_segment(&group, "the group id")?)
    }
);
handler!(
    post_message,
    String,
    |tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request, group: String| {
        service::post_message(tx, ctx, req, &hex_segment(&group, "the group id")?)
    }
);
handler!(
    group_info,
    String,
    |tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request, group: String| {
        service::get_group_info(tx, ctx, req, &hex_segment(&group, "the group id")?)
    }
);
handler!(
    put_group_info,
    String,
    |tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request, group: String| {
        service::put_group_info(tx, ctx, req, &hex_segment(&group, "the group id")?)
    }
);
handler!(
    get_message,
    (String, u64),
    |tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request, (group, seq): (String, u64)| {
        service::get_message(tx, ctx, req, &hex_segment(&group, "the group id")?, seq)
    }
);

/// `GET /v1/inbox?wait=S&max=N`: reads; if nothing is there and `wait` is given, waits (up
/// to the server's limit) for a message of one of the device's groups or a Welcome, then
/// reads once more. `POST /v1/inbox` (same query) acknowledges its JSON body's cursors first.
async fn inbox(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut req = match request(&method, &uri, &headers, body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let max_wait = state.service.limits().max_wait;
    let coalesce = state.service.limits().coalesce;
    let wait = match req.query("wait").map(str::parse::<u64>) {
        None => Duration::ZERO,
        Some(Ok(w)) => Duration::from_secs(w).min(max_wait),
        Some(Err(_)) => {
            return ApiError::new(ErrorCode::BadRequest, "wait is a number of seconds")
                .into_response();
        }
    };
    state.service.check_signature_early(&mut req);
    if !wait.is_zero() {
        tokio::time::sleep(coalesce).await;
    }
    let first = exec(&state, move |tx, ctx| service::read_inbox(tx, ctx, &req)).await;
    let read = match first {
        Some(Ok(read)) => read,
        Some(Err(e)) => return e.into_response(),
        None => return ApiError::new(ErrorCode::Internal, "the request failed").into_response(),
    };
    if read.count > 0 || wait.is_zero() {
        return respond(read.reply);
    }
    let wakers: Vec<_> = read
        .groups
        .iter()
        .map(|g| state.live.group(g))
        .chain(std::iter::once(state.live.device(&read.device)))
        .collect();
    let (device, max) = (read.device, read.max);
    let reread = || {
        let device = device.clone();
        exec(&state, move |tx, _| {
            service::read_inbox_of(tx, &device, max)
        })
    };
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Armed before reading, so that nothing accepted in between is missed.
        let mut waits: Vec<Pin<Box<tokio::sync::futures::Notified<'_>>>> = wakers
            .iter()
            .map(|n| {
                let mut f = Box::pin(n.notified());
                f.as_mut().enable();
                f
            })
            .collect();
        match reread().await {
            Some(Ok((reply, n))) if n > 0 || tokio::time::Instant::now() >= deadline => {
                return respond(reply);
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return e.into_response(),
            None => {
                return ApiError::new(ErrorCode::Internal, "the request failed").into_response();
            }
        }
        let any = std::future::poll_fn(|cx| {
            if waits.iter_mut().any(|w| w.as_mut().poll(cx).is_ready()) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        });
        // A wake-up may be for something this device does not read (its own application
        // message, another device's change): then read again and wait for the rest.
        if tokio::time::timeout_at(deadline, any).await.is_ok() && !coalesce.is_zero() {
            tokio::time::sleep(
                coalesce.min(deadline.saturating_duration_since(tokio::time::Instant::now())),
            )
            .await;
        }
    }
}
