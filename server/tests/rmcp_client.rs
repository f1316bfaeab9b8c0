//! The official Rust MCP client (rmcp) against the real server binary: what an MCP host does.

mod common;

use common::LocalServer;
use mcpctl_testkit::mcp::{call, connect};
use rmcp::model::CallToolRequestParams;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rmcp_client_lists_and_calls_every_tool() {
    let server = LocalServer::start();
    let client = connect(&server.url(), None).await;

    let info = client.peer_info().expect("server info after initialize");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("mcpctl-server")
    );

    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    // The conformance build also lists the suite's fixtures.
    if cfg!(feature = "conformance") {
        names.retain(|n| !n.starts_with("test_") && *n != "json_schema_2020_12_tool");
    }
    assert_eq!(
        names,
        [
            "calculate",
            "get_server_status",
            "get_weather",
            "lookup_user"
        ]
    );
    for tool in &tools {
        assert!(
            tool.description.as_deref().is_some_and(|d| !d.is_empty()),
            "{} has no description",
            tool.name
        );
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")));
    }
    let calc = tools
        .iter()
        .find(|t| t.name == "calculate")
        .expect("calculate");
    let schema = Value::Object((*calc.input_schema).clone()).to_string();
    for word in ["add", "subtract", "multiply", "divide"] {
        assert!(
            schema.contains(word),
            "calculate schema lacks {word}: {schema}"
        );
    }

    let weather = call(&client, "get_weather", json!({"city": "Kyiv"})).await;
    assert_eq!(weather.is_error, Some(false));
    let w = weather.structured_content.expect("structured weather");
    assert_eq!(w["city"], "Kyiv");
    let again = call(&client, "get_weather", json!({"city": "Kyiv"})).await;
    assert_eq!(
        again.structured_content.expect("structured")["temperature_c"],
        w["temperature_c"]
    );

    let sum = call(
        &client,
        "calculate",
        json!({"operation": "multiply", "a": 6, "b": 7}),
    )
    .await;
    assert_eq!(sum.structured_content.expect("structured")["result"], 42.0);
    let div0 = call(
        &client,
        "calculate",
        json!({"operation": "divide", "a": 1, "b": 0}),
    )
    .await;
    assert_eq!(div0.is_error, Some(true));

    let status = call(&client, "get_server_status", json!({})).await;
    let st = status.structured_content.expect("structured status");
    assert_eq!(st["status"], "healthy");
    assert_eq!(st["region"], "local");
    assert!(
        st["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 24),
        "{st}"
    );

    let user = call(&client, "lookup_user", json!({"user_id": "2"})).await;
    assert_eq!(
        user.structured_content.expect("structured user")["name"],
        "Bob Smith"
    );
    let missing = call(&client, "lookup_user", json!({"user_id": "404"})).await;
    assert_eq!(missing.is_error, Some(true));

    let unknown = {
        let mut p = CallToolRequestParams::new("no_such_tool");
        p.arguments = Some(Default::default());
        client.call_tool(p).await
    };
    assert!(unknown.is_err(), "an unknown tool is a protocol error");

    client.cancel().await.expect("client closes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_comes_from_aws_region() {
    let server = LocalServer::start_with(&[("AWS_REGION", "eu-central-1")]);
    let client = connect(&server.url(), None).await;
    let status = call(&client, "get_server_status", json!({})).await;
    assert_eq!(
        status.structured_content.expect("structured")["region"],
        "eu-central-1"
    );
    client.cancel().await.expect("client closes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rmcp_client_lists_and_reads_resources_and_prompts() {
    use rmcp::model::{GetPromptRequestParams, ReadResourceRequestParams, ResourceContents};

    let server = LocalServer::start();
    let client = connect(&server.url(), None).await;

    // Every tool has structured output.
    for tool in client.list_all_tools().await.expect("tools/list") {
        let schema = tool.output_schema.as_ref().expect("outputSchema");
        assert_eq!(schema.get("type"), Some(&json!("object")), "{}", tool.name);
    }

    let resources = client.list_all_resources().await.expect("resources/list");
    let status = resources
        .iter()
        .find(|r| r.uri == "mcp://server/status")
        .expect("status resource");
    assert_eq!(status.mime_type.as_deref(), Some("application/json"));
    assert!(status.description.as_deref().is_some_and(|d| !d.is_empty()));
    let read = client
        .read_resource(ReadResourceRequestParams::new("mcp://server/status"))
        .await
        .expect("resources/read");
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("text contents: {read:?}");
    };
    let value: Value = serde_json::from_str(text).expect("JSON status");
    assert_eq!(value["status"], "healthy");

    let templates = client
        .list_all_resource_templates()
        .await
        .expect("resources/templates/list");
    assert!(templates
        .iter()
        .any(|t| t.uri_template == "mcp://users/{id}"));
    let user = client
        .read_resource(ReadResourceRequestParams::new("mcp://users/3"))
        .await
        .expect("read a user");
    let ResourceContents::TextResourceContents { text, .. } = &user.contents[0] else {
        panic!("text contents: {user:?}");
    };
    assert_eq!(
        serde_json::from_str::<Value>(text).expect("JSON user")["name"],
        "Carol Williams"
    );
    let missing = client
        .read_resource(ReadResourceRequestParams::new("mcp://users/404"))
        .await;
    assert!(missing.is_err(), "an unknown user is a resource error");

    let prompts = client.list_all_prompts().await.expect("prompts/list");
    let report = prompts
        .iter()
        .find(|p| p.name == "weather_report")
        .expect("weather_report prompt");
    let arguments = report.arguments.as_deref().expect("arguments");
    assert_eq!(arguments[0].name, "city");
    assert_eq!(arguments[0].required, Some(true));
    let mut params = GetPromptRequestParams::new("weather_report");
    params.arguments = Some(
        json!({"city": "Lisbon"})
            .as_object()
            .cloned()
            .expect("object"),
    );
    let got = client.get_prompt(params).await.expect("prompts/get");
    let text = serde_json::to_value(&got.messages[0]).expect("message");
    assert!(
        text["content"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Lisbon") && t.contains("get_weather")),
        "{text}"
    );
    assert!(client
        .get_prompt(GetPromptRequestParams::new("weather_report"))
        .await
        .is_err());

    client.cancel().await.expect("client closes");
}
