// Boots GraphiQL for the analytics gateway. Served by the gateway itself (no CDN), so the page
// works with the network cut. The server passes its settings in the JSON block
// #gateway-graphiql-config: {endpoint, defaultQuery, defaultHeaders}.
//
// Queries go over HTTP (POST endpoint); subscriptions (`subscription { live { ... } }`,
// `subscription { snapshots { id takenAt } }`) over a WebSocket to the same endpoint
// (graphql-transport-ws, the vendored graphql-ws client: window.graphqlWs), whose
// connection_init payload is the credential of the headers editor (`Authorization` or
// `X-API-Key`) as it is when the subscription starts: edited headers open a new socket.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("gateway-graphiql-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href);
  var socketUrl = new URL(endpoint.href);
  socketUrl.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  var FORBIDDEN = 4403; // the gateway's close code for a refused or expired credential

  // The headers the gateway authenticates a socket with, out of the headers editor's.
  function credentialOf(headers) {
    var found = {};
    Object.keys(headers || {}).forEach(function (name) {
      var lower = name.toLowerCase();
      if (lower === "authorization" || lower === "x-api-key") found[name] = String(headers[name]);
    });
    return found;
  }

  // One socket at a time, for one credential; another credential closes it and opens another.
  var socket = null;

  function clientFor(headers) {
    var credential = credentialOf(headers);
    var key = JSON.stringify(credential);
    if (socket && socket.key === key) return socket.client;
    if (socket) {
      Promise.resolve(socket.client.dispose()).catch(function () {});
    }
    var client = graphqlWs.createClient({
      url: socketUrl.href,
      connectionParams: function () {
        return credential;
      },
      lazy: true, // opened by a subscription, closed when none is left
      // Retry a lost socket, but not a refused credential: GraphiQL shows the 4403 at once.
      shouldRetry: function (event) {
        return typeof event.code === "number" && event.code !== FORBIDDEN;
      },
    });
    socket = { key: key, client: client };
    return client;
  }

  // A subscription's failure as a GraphQL result: an `error` message's errors, or why the
  // socket closed (a refused credential: 4403 and the gateway's reason).
  function failure(error) {
    if (Array.isArray(error)) return { errors: error };
    var message = error && typeof error.code === "number"
      ? ("Socket closed with event " + error.code + " " + (error.reason || "")).trim()
      : String((error && error.message) || error);
    return { errors: [{ message: message }] };
  }

  // GraphiQL passes the headers editor's headers with each run: a subscription gets a
  // graphql-ws client for their credential (createFetcher's wsClient needs only subscribe()).
  // A failure is shown as a result then completed: GraphiQL 3.8.3's own error path leaves a
  // promise rejection unhandled (its async iterator's throw()), an error in the page.
  function fetcher(params, options) {
    var headers = (options && options.headers) || {};
    var wsClient = {
      subscribe: function (payload, sink) {
        return clientFor(headers).subscribe(payload, {
          next: function (value) {
            sink.next(value);
          },
          error: function (error) {
            sink.next(failure(error));
            sink.complete();
          },
          complete: function () {
            sink.complete();
          },
        });
      },
    };
    return GraphiQL.createFetcher({ url: endpoint.href, wsClient: wsClient })(params, options);
  }

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
