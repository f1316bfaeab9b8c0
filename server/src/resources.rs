//! Resources as annotated functions, the way rmcp's `#[tool]` and `#[prompt]` make tools and
//! prompts: one `async fn` per resource inside [`resources!`](crate::resources!), and one
//! [`resource_handler!`](crate::resource_handler!) line in `impl ServerHandler`.
//!
//! ```
//! use mcpctl_server::prelude::*;
//! use mcpctl_server::resources::ResourceRequest;
//!
//! #[derive(Clone)]
//! struct Notes;
//!
//! mcpctl_server::resources! {
//!     impl Notes {
//!         /// Today's note.
//!         #[resource(uri = "notes://today", mime_type = "text/markdown")]
//!         async fn today(&self) -> String {
//!             "# Today\n\nNothing yet.".into()
//!         }
//!
//!         /// A note by day, e.g. notes://day/monday.
//!         #[resource(template = "notes://day/{day}", name = "day_note")]
//!         async fn day(&self, request: ResourceRequest) -> Result<String, ErrorData> {
//!             let day = request.var("day").unwrap_or_default();
//!             Ok(format!("# {day}"))
//!         }
//!     }
//! }
//!
//! impl ServerHandler for Notes {
//!     mcpctl_server::resource_handler!();
//!
//!     fn get_info(&self) -> ServerConfig {
//!         ServerConfig::new(ServerCapabilities::builder().enable_resources().build())
//!     }
//! }
//! ```
//!
//! `#[resource(...)]` takes, in this order: `uri = "..."` (a fixed resource, in
//! `resources/list`) or `template = "scheme://path/{var}"` (an RFC 6570 level-1 template, in
//! `resources/templates/list`; each `{var}` matches one non-empty path segment), then any of
//! `name` (default: the function's name), `title`, `description` (default: the doc comment)
//! and `mime_type`. The function takes `&self` and optionally one [`ResourceRequest`] (the URI,
//! the template's variables, the request's context), and returns anything [`IntoContents`]:
//! a `String` or `&str` (text, of `mime_type`, default `text/plain`), `Json<T>` (JSON text,
//! `application/json`), `ResourceContents`, a `Vec` of them, a `ReadResourceResult`, an
//! `InputRequiredResult` (see [`crate::input`]), or a `Result<_, ErrorData>` of any of these.
//! A URI no resource matches is a JSON-RPC "resource not found" error naming it.

use std::future::Future;
use std::ops::Add;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::handler::server::wrapper::Json;
use rmcp::model::{
    CacheScope, ErrorData, InputRequiredResult, ListResourceTemplatesResult, ListResourcesResult,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use rmcp::service::RequestContext;
use rmcp::RoleServer;

use crate::input::Input;

/// One `resources/read` request, as a resource function sees it.
#[derive(Debug)]
pub struct ResourceRequest {
    /// The request's parameters (`uri`, and `requestState`/`inputResponses` on a later round).
    pub params: ReadResourceRequestParams,
    /// The request's context (protocol version, `_meta`, the HTTP request parts).
    pub context: RequestContext<RoleServer>,
    vars: Vec<(String, String)>,
    mime_type: Option<String>,
}

impl ResourceRequest {
    /// The URI being read.
    pub fn uri(&self) -> &str {
        &self.params.uri
    }

    /// The value of `{name}` in the resource's template.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The MIME type the resource was declared with.
    pub fn mime_type(&self) -> Option<&str> {
        self.mime_type.as_deref()
    }

    /// This round's [`Input`], for a resource that asks the client for input first.
    pub fn input(&self) -> Result<Input, ErrorData> {
        Input::for_resource(&self.params, &self.context)
    }
}

/// What a resource is listed as. Built by [`resources!`](crate::resources!) from the
/// `#[resource(...)]` keys: [`ResourceSpec::uri`] or [`ResourceSpec::template`], then one method
/// per further key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpec {
    target: Target,
    name: String,
    title: Option<String>,
    description: Option<String>,
    mime_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Fixed(String),
    Template(Template),
}

impl ResourceSpec {
    fn new(target: Target, name: &str, doc: &[&str]) -> Self {
        let description = doc
            .iter()
            .map(|line| line.trim())
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_owned();
        Self {
            target,
            name: name.to_owned(),
            title: None,
            description: (!description.is_empty()).then_some(description),
            mime_type: None,
        }
    }

    /// A fixed resource at `uri`, named `name`, described by the doc comment lines `doc`.
    pub fn uri(uri: &str, name: &str, doc: &[&str]) -> Self {
        Self::new(Target::Fixed(uri.to_owned()), name, doc)
    }

    /// Resources matching the URI template `template` (`{var}` = one path segment).
    pub fn template(template: &str, name: &str, doc: &[&str]) -> Self {
        Self::new(Target::Template(Template::parse(template)), name, doc)
    }

    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    pub fn title(mut self, title: &str) -> Self {
        self.title = Some(title.to_owned());
        self
    }

    pub fn description(mut self, description: &str) -> Self {
        self.description = Some(description.to_owned());
        self
    }

    pub fn mime_type(mut self, mime_type: &str) -> Self {
        self.mime_type = Some(mime_type.to_owned());
        self
    }
}

/// A URI template of literal text and `{var}`s.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var(String),
}

impl Template {
    fn parse(text: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            parts.push(Part::Var(rest[open + 1..close].to_owned()));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Self {
            text: text.to_owned(),
            parts,
        }
    }

    /// The variables, if `uri` matches: each is a non-empty run without `/`, `?` or `#`, up to
    /// the literal that follows it.
    fn matches(&self, uri: &str) -> Option<Vec<(String, String)>> {
        let mut vars = Vec::new();
        let mut rest = uri;
        let mut parts = self.parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                Part::Literal(text) => rest = rest.strip_prefix(text.as_str())?,
                Part::Var(name) => {
                    let segment_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                    let end = match parts.peek() {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        _ => segment_end,
                    };
                    if end == 0 || end > segment_end {
                        return None;
                    }
                    vars.push((name.clone(), rest[..end].to_owned()));
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(vars)
    }
}

/// The future a resource route returns.
pub type ReadFuture<'a> =
    Pin<Box<dyn Future<Output = Result<ReadResourceResponse, ErrorData>> + Send + 'a>>;

type ReadFn<S> = dyn for<'a> Fn(&'a S, ResourceRequest) -> ReadFuture<'a> + Send + Sync;

/// One resource: how it is listed and the function that reads it.
pub struct ResourceRoute<S> {
    spec: ResourceSpec,
    read: Arc<ReadFn<S>>,
}

impl<S> Clone for ResourceRoute<S> {
    fn clone(&self) -> Self {
        Self {
            spec: self.spec.clone(),
            read: self.read.clone(),
        }
    }
}

impl<S> std::fmt::Debug for ResourceRoute<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceRoute")
            .field("spec", &self.spec)
            .finish()
    }
}

impl<S> ResourceRoute<S> {
    pub fn new<F>(spec: ResourceSpec, read: F) -> Self
    where
        F: for<'a> Fn(&'a S, ResourceRequest) -> ReadFuture<'a> + Send + Sync + 'static,
    {
        Self {
            spec,
            read: Arc::new(read),
        }
    }

    pub fn spec(&self) -> &ResourceSpec {
        &self.spec
    }
}

/// Every resource of a server: what `resources/list`, `resources/templates/list` and
/// `resources/read` answer from.
pub struct ResourceRouter<S> {
    routes: Vec<ResourceRoute<S>>,
}

impl<S> Default for ResourceRouter<S> {
    fn default() -> Self {
        Self { routes: Vec::new() }
    }
}

impl<S> Clone for ResourceRouter<S> {
    fn clone(&self) -> Self {
        Self {
            routes: self.routes.clone(),
        }
    }
}

impl<S> std::fmt::Debug for ResourceRouter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.routes).finish()
    }
}

impl<S> Add for ResourceRouter<S> {
    type Output = Self;

    fn add(mut self, other: Self) -> Self {
        self.routes.extend(other.routes);
        self
    }
}

/// 2026-07-28 list results carry cache hints (SEP-2549); the list is fixed for the process.
fn with_cache_hints<T>(
    result: T,
    context: &RequestContext<RoleServer>,
    set: impl FnOnce(T) -> T,
) -> T {
    let hints = context
        .protocol_version()
        .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
    if hints {
        set(result)
    } else {
        result
    }
}

impl<S> ResourceRouter<S> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_route(mut self, route: ResourceRoute<S>) -> Self {
        self.routes.push(route);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub fn routes(&self) -> &[ResourceRoute<S>] {
        &self.routes
    }

    /// The fixed resources (`resources/list`).
    pub fn list_resources(&self, context: &RequestContext<RoleServer>) -> ListResourcesResult {
        let resources = self
            .routes
            .iter()
            .filter_map(|route| {
                let spec = &route.spec;
                let Target::Fixed(uri) = &spec.target else {
                    return None;
                };
                let mut resource = Resource::new(uri, &spec.name);
                if let Some(title) = &spec.title {
                    resource = resource.with_title(title);
                }
                if let Some(description) = &spec.description {
                    resource = resource.with_description(description);
                }
                if let Some(mime_type) = &spec.mime_type {
                    resource = resource.with_mime_type(mime_type);
                }
                Some(resource)
            })
            .collect();
        with_cache_hints(
            ListResourcesResult::with_all_items(resources),
            context,
            |r| r.with_ttl_ms(0).with_cache_scope(CacheScope::Public),
        )
    }

    /// The templates (`resources/templates/list`).
    pub fn list_resource_templates(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> ListResourceTemplatesResult {
        let templates = self
            .routes
            .iter()
            .filter_map(|route| {
                let spec = &route.spec;
                let Target::Template(template) = &spec.target else {
                    return None;
                };
                let mut t = ResourceTemplate::new(&template.text, &spec.name);
                if let Some(title) = &spec.title {
                    t = t.with_title(title);
                }
                if let Some(description) = &spec.description {
                    t = t.with_description(description);
                }
                if let Some(mime_type) = &spec.mime_type {
                    t = t.with_mime_type(mime_type);
                }
                Some(t)
            })
            .collect();
        with_cache_hints(
            ListResourceTemplatesResult::with_all_items(templates),
            context,
            |r| r.with_ttl_ms(0).with_cache_scope(CacheScope::Public),
        )
    }

    /// `resources/read`: the fixed resource at the URI, else the first template matching it.
    pub async fn read(
        &self,
        server: &S,
        params: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let fixed = self
            .routes
            .iter()
            .find_map(|route| match &route.spec.target {
                Target::Fixed(uri) if *uri == params.uri => Some((route, Vec::new())),
                _ => None,
            });
        let found = fixed.or_else(|| {
            self.routes
                .iter()
                .find_map(|route| match &route.spec.target {
                    Target::Template(t) => t.matches(&params.uri).map(|vars| (route, vars)),
                    Target::Fixed(_) => None,
                })
        });
        let Some((route, vars)) = found else {
            // SEP-2164: an unknown URI is an error naming it, never empty contents.
            return Err(ErrorData::resource_not_found(
                "Resource not found",
                Some(serde_json::json!({ "uri": params.uri })),
            ));
        };
        let request = ResourceRequest {
            params,
            context,
            vars,
            mime_type: route.spec.mime_type.clone(),
        };
        (route.read)(server, request).await
    }
}

/// What a resource function may return.
pub trait IntoContents {
    /// The answer to a read of `uri`, declared with `mime_type`.
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResponse, ErrorData>;
}

fn one(contents: ResourceContents) -> Result<ReadResourceResponse, ErrorData> {
    Ok(ReadResourceResult::new(vec![contents]).into())
}

impl IntoContents for String {
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        one(ResourceContents::text(self, uri).with_mime_type(mime_type.unwrap_or("text/plain")))
    }
}

impl IntoContents for &str {
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        self.to_owned().into_contents(uri, mime_type)
    }
}

impl<T: serde::Serialize> IntoContents for Json<T> {
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let text = serde_json::to_string(&self.0).map_err(|e| {
            ErrorData::internal_error(format!("resource {uri} is not JSON: {e}"), None)
        })?;
        one(ResourceContents::text(text, uri)
            .with_mime_type(mime_type.unwrap_or("application/json")))
    }
}

impl IntoContents for ResourceContents {
    fn into_contents(self, _: &str, _: Option<&str>) -> Result<ReadResourceResponse, ErrorData> {
        one(self)
    }
}

impl IntoContents for Vec<ResourceContents> {
    fn into_contents(self, _: &str, _: Option<&str>) -> Result<ReadResourceResponse, ErrorData> {
        Ok(ReadResourceResult::new(self).into())
    }
}

impl IntoContents for ReadResourceResult {
    fn into_contents(self, _: &str, _: Option<&str>) -> Result<ReadResourceResponse, ErrorData> {
        Ok(self.into())
    }
}

impl IntoContents for ReadResourceResponse {
    fn into_contents(self, _: &str, _: Option<&str>) -> Result<ReadResourceResponse, ErrorData> {
        Ok(self)
    }
}

impl IntoContents for InputRequiredResult {
    fn into_contents(self, _: &str, _: Option<&str>) -> Result<ReadResourceResponse, ErrorData> {
        Ok(self.into())
    }
}

impl<T: IntoContents> IntoContents for Result<T, ErrorData> {
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        self?.into_contents(uri, mime_type)
    }
}

/// Calls a resource function and turns what it returns into the read's answer (used by
/// [`resources!`](crate::resources!)).
#[doc(hidden)]
pub async fn answer<T: IntoContents>(
    uri: String,
    mime_type: Option<String>,
    value: impl Future<Output = T>,
) -> Result<ReadResourceResponse, ErrorData> {
    value.await.into_contents(&uri, mime_type.as_deref())
}

/// Declares resources as `async fn`s with `#[resource(...)]` (see [`crate::resources`]) and
/// adds `fn resource_router() -> &'static ResourceRouter<Self>` to the type, built once. Several
/// blocks for one type name their routers (`router = status_resources;` before `impl`) and are
/// combined with `+` (on clones).
#[macro_export]
macro_rules! resources {
    (
        router = $router:ident;
        impl $ty:ty {
            $(
                $(#[doc = $doc:literal])*
                #[resource($kind:ident = $target:expr $(, $key:ident = $value:expr)* $(,)?)]
                $vis:vis async fn $fn:ident (&$this:ident $(, $arg:ident : $arg_ty:ty)? $(,)?) -> $ret:ty $body:block
            )*
        }
    ) => {
        impl $ty {
            $(
                $(#[doc = $doc])*
                // `self` comes from the caller's tokens, so the body's `self` is the same.
                $vis async fn $fn(&$this $(, $arg: $arg_ty)?) -> $ret $body
            )*

            /// The resources declared in this `resources!` block, built once.
            pub fn $router() -> &'static $crate::resources::ResourceRouter<$ty> {
                static ROUTER: ::std::sync::OnceLock<$crate::resources::ResourceRouter<$ty>> =
                    ::std::sync::OnceLock::new();
                ROUTER.get_or_init(|| {
                    $crate::resources::ResourceRouter::new()
                    $(
                        .with_route($crate::resources::ResourceRoute::new(
                            $crate::resources::ResourceSpec::$kind(
                                $target,
                                stringify!($fn),
                                &[$($doc),*],
                            )
                            $(.$key($value))*,
                            |this: &$ty, request: $crate::resources::ResourceRequest| {
                                let uri = request.uri().to_owned();
                                let mime_type = request.mime_type().map(str::to_owned);
                                #[allow(unused_variables)]
                                let request = request;
                                ::std::boxed::Box::pin($crate::resources::answer(
                                    uri,
                                    mime_type,
                                    this.$fn($({ let $arg = request; $arg })?),
                                )) as $crate::resources::ReadFuture<'_>
                            },
                        ))
                    )*
                })
            }
        }
    };
    (impl $ty:ty { $($items:tt)* }) => {
        $crate::resources! { router = resource_router; impl $ty { $($items)* } }
    };
}

/// Inside `impl ServerHandler for T`: answers `resources/list`, `resources/templates/list` and
/// `resources/read` from `T::resource_router()` (or the router expression given). Advertise
/// the capability in `get_info` with `ServerCapabilities::builder().enable_resources()`.
#[macro_export]
macro_rules! resource_handler {
    () => {
        $crate::resource_handler!(Self::resource_router());
    };
    ($router:expr) => {
        async fn list_resources(
            &self,
            _request: ::std::option::Option<$crate::rmcp::model::PaginatedRequestParams>,
            context: $crate::rmcp::service::RequestContext<$crate::rmcp::RoleServer>,
        ) -> ::std::result::Result<$crate::rmcp::model::ListResourcesResult, $crate::rmcp::ErrorData>
        {
            ::std::result::Result::Ok($router.list_resources(&context))
        }

        async fn list_resource_templates(
            &self,
            _request: ::std::option::Option<$crate::rmcp::model::PaginatedRequestParams>,
            context: $crate::rmcp::service::RequestContext<$crate::rmcp::RoleServer>,
        ) -> ::std::result::Result<
            $crate::rmcp::model::ListResourceTemplatesResult,
            $crate::rmcp::ErrorData,
        > {
            ::std::result::Result::Ok($router.list_resource_templates(&context))
        }

        async fn read_resource(
            &self,
            request: $crate::rmcp::model::ReadResourceRequestParams,
            context: $crate::rmcp::service::RequestContext<$crate::rmcp::RoleServer>,
        ) -> ::std::result::Result<
            $crate::rmcp::model::ReadResourceResponse,
            $crate::rmcp::ErrorData,
        > {
            $router.read(self, request, context).await
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
        Template::parse(template).matches(uri)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn templates_match_one_segment_per_variable() {
        assert_eq!(
            vars("mcp://users/{id}", "mcp://users/42"),
            Some(pairs(&[("id", "42")]))
        );
        assert_eq!(vars("mcp://users/{id}", "mcp://users/"), None);
        assert_eq!(vars("mcp://users/{id}", "mcp://users/4/2"), None);
        assert_eq!(vars("mcp://users/{id}", "mcp://other/4"), None);
        assert_eq!(
            vars("t://{a}/x/{b}.json", "t://1/x/two.json"),
            Some(pairs(&[("a", "1"), ("b", "two")]))
        );
        assert_eq!(vars("t://{a}/x/{b}.json", "t://1/x/two.txt"), None);
        assert_eq!(vars("t://fixed", "t://fixed"), Some(Vec::new()));
    }

    #[test]
    fn spec_takes_the_doc_comment_and_keys() {
        let spec = ResourceSpec::uri("a://b", "fn_name", &[" First line.", " Second."])
            .mime_type("text/markdown");
        assert_eq!(spec.name, "fn_name");
        assert_eq!(spec.description.as_deref(), Some("First line.\nSecond."));
        assert_eq!(spec.mime_type.as_deref(), Some("text/markdown"));
        let spec = ResourceSpec::template("a://{x}", "f", &[]).name("n");
        assert_eq!(spec.name, "n");
        assert_eq!(spec.description, None);
    }
}
