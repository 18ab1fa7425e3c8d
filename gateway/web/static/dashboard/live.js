/**
 * Live answers over WebSocket: the view on screen is one `subscription { live { ... } }` at
 * /graphql (graphql-transport-ws, through the vendored graphql-ws client the page loads as
 * window.graphqlWs). The gateway answers it at once, then again after each new snapshot that
 * changes the answer; the view updates in place.
 *
 * One socket per credential (sent as the connection_init payload, read at every connect),
 * one subscription on it at a time: following a new view completes the old one first. When
 * the socket cannot be used (no WebSocket, a proxy that refuses it, a close code 4403) the
 * caller answers over HTTP instead (LiveUnavailable), and so do the next views for a minute; the
 * HTTP answer tells whether the credential itself was refused (401: sign in again). A caller past
 * GATEWAY_LIVE_CONNECTIONS_PER_PRINCIPAL is closed with 1013 (try again later). A socket lost
 * after answering reconnects by itself and subscribes again.
 *
 * Example: follow(overviewView(access, filters), {update, failed, paused}) resolves with the
 * overview's first {data, errors}; update(answer) gets every later one.
 */

import {AuthError, RequestError, authHeaders, isUnauthenticated, messages, savedCredential} from './api.js';
import {liveOperation} from './queries.js';

/** The close code of a refused, expired or revoked credential. */
const FORBIDDEN = 4403;
/** After the socket could not be used, views are fetched over HTTP for this long. */
const HTTP_FOR_MS = 60_000;
/** An idle socket stays open this long, so that the next view subscribes on it. */
const IDLE_MS = 30_000;
/** A socket whose connection_init is not acknowledged within this is given up (4504). */
const ACK_WAIT_MS = 10_000;
/** Reconnection waits double from 1 s up to this (plus up to a second at random). */
const MAX_RETRY_WAIT_MS = 30_000;
/** The subscription field, whose value is the view's data (errors' paths start with it). */
const FIELD = 'live';

/** The WebSocket cannot be used (now): ask over HTTP. */
export class LiveUnavailable extends Error {}

/** The socket of the credential: {client, credential}. */
let socket = null;
/** The subscription of the view on screen (see follow). */
let following = null;
/** Until then (ms since the epoch) views are fetched over HTTP. */
let httpUntil = 0;

/** @returns {boolean} True when a view may be followed live (else use HTTP). */
export function liveAvailable() {
  return typeof window.WebSocket === 'function'
    && typeof window.graphqlWs?.createClient === 'function' && Date.now() >= httpUntil;
}

/** ws(s)://host/<root>/graphql: the page's own origin and path prefix (/dashboard's sibling). */
function socketUrl() {
  const url = new URL('graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  return url.href;
}

async function retryWait(retries) {
  const wait = Math.min(MAX_RETRY_WAIT_MS, 1000 * 2 ** retries) + Math.random() * 1000;
  await new Promise((resolve) => setTimeout(resolve, wait));
}

const isCloseEvent = (value) => typeof value?.code === 'number' && 'reason' in value;

/** The socket of the current credential (a new one when it changed). */
function connection() {
  const credential = JSON.stringify(savedCredential());
  if (socket?.credential === credential) return socket;
  closeSocket();
  const made = {credential, client: null};
  made.client = window.graphqlWs.createClient({
    url: socketUrl(),
    connectionParams: authHeaders,
    lazy: true,
    lazyCloseTimeout: IDLE_MS,
    connectionAckWaitTimeout: ACK_WAIT_MS,
    retryAttempts: Infinity,
    retryWait,
    shouldRetry: (event) => isCloseEvent(event) && event.code !== FORBIDDEN,
    on: {closed: (event) => closed(made, event)},
  });
  socket = made;
  return made;
}

function closeSocket() {
  const old = socket;
  socket = null;
  if (!old) return;
  try {
    Promise.resolve(old.client.dispose()).catch(() => {});  // closes the socket, stops retrying
  } catch {
    // already closed
  }
}

/** The socket closed: refused (4403), or before it answered the view, the view goes to
 * HTTP; else it reconnects (graphql-ws retries and subscribes again). */
function closed(made, event) {
  if (socket !== made || !following) return;
  if (event?.code === FORBIDDEN || !following.answered) {
    closeSocket();
    const why = [event?.code ?? 'error', event?.reason].filter(Boolean).join(' ');
    following.fail(new LiveUnavailable(`The live connection closed (${why}).`));
  } else {
    following.paused();
  }
}

/** A `next` payload as the HTTP answer's {data, errors} (the paths without `live`). */
function answerOf(payload) {
  const errors = (Array.isArray(payload?.errors) ? payload.errors : []).map((error) => (
    error?.path?.[0] === FIELD ? {...error, path: error.path.slice(1)} : error));
  if (isUnauthenticated(0, errors)) throw new AuthError(messages(errors, 'The gateway refused the credential.'));
  const data = payload?.data?.[FIELD];
  if (!data) throw new RequestError(messages(errors, 'The gateway answered without data.'));
  return {data, errors};
}

/** What a subscription's failure means: an `error` message lists GraphQL errors. */
function failureOf(error) {
  if (Array.isArray(error)) {
    if (isUnauthenticated(0, error)) return new AuthError(messages(error, 'The gateway refused the credential.'));
    return new RequestError(messages(error, 'The gateway refused the view.'));
  }
  const why = isCloseEvent(error) ? `closed ${error.code}` : error?.message ?? 'failed';
  return new LiveUnavailable(`The live connection ${why}.`);
}

/** Complete the view's subscription, if any (a new view replaces it). */
export function stopFollowing() {
  following?.stop();
  following = null;
}

/** Stop following and close the socket (sign-out, or another credential). */
export function closeLive() {
  stopFollowing();
  closeSocket();
}

/**
 * Follow `view` live, in place of the view followed so far (whose subscription completes).
 * @param {{query: string, variables: Object, operationName: string}} view The view's query.
 * @param {{update: function({data: Object, errors: Array}|Error), failed: function(Error),
 *   paused: function()}} on update: each later answer (an Error when one came without data);
 *   failed: the subscription ended after its first answer (LiveUnavailable: ask over HTTP);
 *   paused: the socket was lost and is being reopened.
 * @returns {Promise<{data: Object, errors: Array<Object>}>} The first answer.
 * @throws {LiveUnavailable} the socket could not be used: ask over HTTP.
 * @throws {AuthError} the answer says the credential was refused.
 * @throws {RequestError} the gateway refused the operation (validation, limits).
 */
export function follow(view, on) {
  stopFollowing();
  const {client} = connection();
  return new Promise((resolve, reject) => {
    const me = {answered: false, done: false, dispose: () => {}};
    const end = () => {
      me.done = true;
      me.dispose();
      if (following === me) following = null;
    };
    me.stop = () => {
      if (me.done) return;
      end();
      if (!me.answered) reject(new LiveUnavailable('A newer view replaced this one.'));
    };
    me.fail = (error) => {
      if (me.done) return;
      end();
      if (error instanceof LiveUnavailable) httpUntil = Date.now() + HTTP_FOR_MS;
      if (me.answered) on.failed(error);
      else reject(error);
    };
    me.paused = () => on.paused();
    following = me;
    me.dispose = client.subscribe(liveOperation(view), {
      next: (payload) => {
        if (me.done) return;
        let answer;
        try {
          answer = answerOf(payload);
        } catch (error) {
          if (!me.answered || error instanceof AuthError) return me.fail(error);
          return on.update(error);  // this snapshot's answer failed; the next may not
        }
        if (me.answered) return on.update(answer);
        me.answered = true;
        resolve(answer);
      },
      error: (error) => me.fail(failureOf(error)),
      complete: () => me.fail(new LiveUnavailable('The gateway ended the live view.')),
    });
  });
}
