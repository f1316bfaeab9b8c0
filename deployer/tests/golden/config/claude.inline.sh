claude mcp add --transport http cfgdemo https://abc123defg.execute-api.us-east-1.amazonaws.com/mcp --header "x-api-key: local-test-key-0123456789"
