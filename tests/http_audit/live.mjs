// Drives the gateway's live subscriptions (graphql-transport-ws over WebSocket at /graphql)
// with the real `graphql-ws` client and prints what each scenario observed, as JSON on stdout.
//
//   LIVE_AUTHORIZATION='Bearer <JWT>' node live.mjs ws://127.0.0.1:8000/graphql
//
// Scenarios a-f, j and k run one after the other, each on its own connection. Then g, h and i
// subscribe and take their first answer, and the script prints one line
// {"awaiting": "refresh", "snapshot": <id>} on stdout and waits for one line on stdin: the
// controller ran `gateway refresh` and writes the new snapshot's id. The script then collects
// what arrived after the refresh and prints the report, {"a": {...}, ..., "refreshed": id}, as
// its last line. Every wait is bounded (LIVE_WAIT_MS); a scenario that times out says so in
// the report instead of hanging. Used by tests/http/test_live_graphql_ws.py.
import { createInterface } from 'node:readline';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url] = process.argv.slice(2);
const authorization = process.env.LIVE_AUTHORIZATION;
if (!url || !authorization) {
  console.error('usage: LIVE_AUTHORIZATION=... node live.mjs ws://HOST:PORT/graphql');
  process.exit(2);
}
const WAIT_MS = Number(process.env.LIVE_WAIT_MS ?? 30000);
// After the refresh's pushes arrived: how long a completed subscription is watched for a push.
const SETTLE_MS = Number(process.env.LIVE_SETTLE_MS ?? 1500);

const LIVE =
  'subscription { live { snapshot { id takenAt } workspaces(first: 2) { totalCount nodes { id name } } } }';
const SNAPSHOTS = 'subscription { snapshots { id takenAt } }';
const QUERY = 'query Names { workspaces(first: 2) { totalCount nodes { id name } } }';
const INVALID = 'subscription { live { noSuchField } }';
const MUTATION = 'mutation { __typename }';
// 100 workspaces x 2 metrics of 30 daily points: more than GATEWAY_MAX_QUERY_COST (5000).
const COSTLY =
  'subscription { live { workspaces(first: 100) { nodes { ' +
  'a: activeUsers(timeRange: {preset: LAST_30_DAYS}) { series { value } } ' +
  'n: newUsers(timeRange: {preset: LAST_30_DAYS}) { series { value } } } } } }';
const WALL =
  'subscription Wall($first: Int!) { wall: live { snapshot { id } workspaces(first: $first) { totalCount } } }';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

function withTimeout(promise, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What a sink's error was: a close event, a list of GraphQL errors, or an exception. */
function described(error) {
  if (Array.isArray(error)) return { graphqlErrors: error };
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return { closeCode: error.code, reason: String(error.reason) };
  }
  return { message: String(error?.message ?? error) };
}

/** A client that does not retry (a refusal is observed, not hidden: graphql-ws retries a 4403
 * by default) and records its closes; `options` replace or add createClient's options. */
function connect(connectionParams, options = { retryAttempts: 0 }) {
  const closes = [];
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams,
    on: { closed: (event) => closes.push({ code: event.code, reason: String(event.reason) }) },
    ...options,
  });
  return { client, closes };
}

/** Subscribe with a sink that records every next, the error and the completion. */
function watch(client, payload) {
  const seen = { nexts: [], error: null, completed: false };
  const dispose = client.subscribe(payload, {
    next: (value) => seen.nexts.push(value),
    error: (error) => {
      seen.error = described(error);
    },
    complete: () => {
      seen.completed = true;
    },
  });
  return { seen, dispose };
}

const ended = (seen) => seen.completed || seen.error !== null;
const credential = { Authorization: authorization };
const report = {};

async function scenario(name, run) {
  try {
    report[name] = await run();
  } catch (error) {
    report[name] = { failure: String(error?.stack ?? error) };
  }
}

/** One operation on its own connection: wait until `done(seen)`, then unsubscribe and close. */
async function once(connectionParams, payload, done, settle = 0, options = undefined) {
  const { client, closes } = connect(connectionParams, options);
  const { seen, dispose } = watch(client, payload);
  const timedOut = !(await until(() => done(seen)));
  await sleep(settle); // anything else that would arrive (a refused operation: nothing)
  dispose();
  await client.dispose();
  await sleep(50); // the close event
  return { ...seen, closes, timedOut };
}

// a: a live subscription answers at once.
await scenario('a', () => once(credential, { query: LIVE }, (s) => s.nexts.length > 0 || ended(s)));
// b: `snapshots` answers the current snapshot at once.
await scenario('b', () =>
  once(credential, { query: SNAPSHOTS }, (s) => s.nexts.length > 0 || ended(s)),
);
// c: a query over the socket: one next, then complete.
await scenario('c', () => once(credential, { query: QUERY, operationName: 'Names' }, ended, 200));
// d: a bad token closes the connection with 4403 before any result.
await scenario('d', () =>
  once({ Authorization: 'Bearer not-a-token' }, { query: LIVE }, ended, 300),
);
// e: no credential at all (connection_init without payload): 4403 too. Default retries, but
// README's `shouldRetry` gives up on 4403 at once: one close.
await scenario('e', () =>
  once(undefined, { query: LIVE }, ended, 300, { shouldRetry: (event) => event?.code !== 4403 }),
);
// f: a validation error is an `error` message: the sink's error, no next.
await scenario('f', () => once(credential, { query: INVALID }, ended, 300));
// j: a mutation is refused with an `error` message.
await scenario('j', () => once(credential, { query: MUTATION }, ended, 300));
// k: a limit (the query cost) is an `error` message too.
await scenario('k', () => once(credential, { query: COSTLY }, ended, 300));

// g, h, i span a refresh.
const g = connect(credential);
const gLive = watch(g.client, { query: LIVE });
const h = connect(credential);
const hKept = watch(h.client, { query: SNAPSHOTS });
const hGone = watch(h.client, { query: LIVE });
const i = connect(credential);
const iQuery = [];
const iLive = { values: [], returned: null };
let wall = null;

await scenario('i-before', async () => {
  // The iterate API: a query's iterator yields once and ends; a subscription's yields on.
  for await (const result of i.client.iterate({ query: QUERY })) iQuery.push(result);
  wall = i.client.iterate({ query: WALL, variables: { first: 1 } });
  iLive.values.push((await withTimeout(wall.next())).value);
  return { ok: true };
});
const firsts = await until(
  () => gLive.seen.nexts.length > 0 && hKept.seen.nexts.length > 0 && hGone.seen.nexts.length > 0,
);
hGone.dispose(); // `complete` from the client: no more pushes for it, the connection stays
const before = gLive.seen.nexts[0]?.extensions?.snapshot?.id ?? null;
process.stdout.write(JSON.stringify({ awaiting: 'refresh', snapshot: before }) + '\n');

const lines = createInterface({ input: process.stdin });
const answer = await new Promise((resolve) => {
  lines.once('line', resolve);
  lines.once('close', () => resolve(null));
});
lines.close();
report.refreshed = answer === null ? null : Number(answer.trim());

const pushed = await until(() => gLive.seen.nexts.length > 1 && hKept.seen.nexts.length > 1);
await scenario('i', async () => {
  const start = report['i-before'];
  if (start.failure) return { failure: start.failure, query: iQuery, live: iLive };
  const second = await withTimeout(wall.next());
  iLive.values.push(second.value);
  iLive.returned = await wall.return(); // `break` out of a for-await does the same
  return { query: iQuery, live: iLive };
});
await sleep(SETTLE_MS); // a push to the completed subscription would have come with the others
report.g = { ...gLive.seen, closes: g.closes, firstsInTime: firsts, pushedInTime: pushed };
report.h = {
  kept: hKept.seen,
  gone: hGone.seen,
  closes: h.closes,
};
gLive.dispose();
hKept.dispose();
await Promise.all([g.client.dispose(), h.client.dispose(), i.client.dispose()]);
delete report['i-before'];

process.stdout.write(JSON.stringify(report) + '\n');
process.exit(0);
