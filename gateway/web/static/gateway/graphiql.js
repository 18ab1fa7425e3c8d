// Boots GraphiQL for the analytics gateway. Served by the gateway itself (no CDN), so the page
// works with the network cut. The server passes its settings in the JSON block
// #gateway-graphiql-config: {endpoint, defaultQuery, defaultHeaders}.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("gateway-graphiql-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).toString();

  // No subscriptionUrl: the gateway has no subscriptions, so GraphiQL never opens a websocket.
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  function GatewayGraphiQL() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultQuery: config.defaultQuery,
      defaultHeaders: config.defaultHeaders,
      // The headers editor is where an `Authorization: Bearer <token>` or `X-API-Key` goes.
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      // Bearer tokens and API keys are secrets: keep them out of localStorage.
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GatewayGraphiQL)
  );
})();
