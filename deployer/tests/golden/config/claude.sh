claude mcp add --transport http cfgdemo https://abc123defg.execute-api.us-east-1.amazonaws.com/mcp --header "x-api-key: ${MCPCTL_API_KEY:?set MCPCTL_API_KEY first}"
