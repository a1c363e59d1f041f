//! The page as a Lambda function behind the API's REST (payload 1.0) proxy integration.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue};
use lambda_runtime::{LambdaEvent, service_fn};
use shared::Ports;
use shared::config::Settings;
use shared::telemetry::{self, LogFormat};

use crate::{Page, answer};

/// Serves the page: init once (the properties secret, the single-use table), then each post.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    telemetry::init(LogFormat::Json);
    let ports = Settings::from_env()?.ports().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<ApiGatewayProxyRequest>| {
        let ports = &ports;
        async move { Ok::<_, lambda_runtime::Error>(respond(ports, event.payload).await) }
    }))
    .await
}

/// One proxy event to its proxy response.
pub async fn respond(ports: &Ports, request: ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
    let page = match shared::lambda::decode_body(request.body, request.is_base64_encoded) {
        Ok(form) => {
            // The URL the browser posted to, as API Gateway saw it (its own domain or the custom
            // one, with the stage or base path): what a request's return URL named, if genuine.
            let context = &request.request_context;
            let page_url = format!(
                "https://{}{}",
                context.domain_name.as_deref().unwrap_or_default(),
                context.path.as_deref().unwrap_or_default()
            );
            let state = request.query_string_parameters.first("state");
            answer(ports, &page_url, state, &form).await
        }
        Err(error) => Page::error(&error.body(&uuid::Uuid::new_v4().to_string())),
    };
    proxy_response(&page)
}

fn proxy_response(page: &Page) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = page.status.into();
    response.headers = page
        .headers()
        .into_iter()
        .filter_map(|(name, value)| {
            Some((
                HeaderName::from_static(name),
                HeaderValue::from_str(&value).ok()?,
            ))
        })
        .collect::<HeaderMap>();
    response.body = Some(Body::Text(page.html.clone()));
    response
}
