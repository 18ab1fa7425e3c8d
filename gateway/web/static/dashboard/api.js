/**
 * The dashboard's ways to the gateway over HTTP: POST graphql and POST export, with the
 * credential the user pasted (kept in sessionStorage: this tab only, gone when it closes).
 * The views' live answers come over WebSocket (live.js), with the same credential.
 *
 * Every URL is relative to the page (/dashboard), so the gateway may sit under a path prefix.
 */

import {h} from './dom.js';

const STORAGE_KEY = 'gateway.dashboard.credential';
const GRAPHQL_ACCEPT = 'application/graphql-response+json, application/json;q=0.9';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The credential is missing, expired or refused: the user must sign in again. */
export class AuthError extends Error {}

/** The gateway answered with errors and no usable data (or could not be reached). */
export class RequestError extends Error {}

/**
 * Keep a pasted credential: an API key (gw_…) or a JWT (a leading "Bearer " is dropped).
 * @param {string} text What the user pasted.
 * @returns {{kind: 'apikey'|'jwt', value: string}}
 */
export function saveCredential(text) {
  const value = text.trim().replace(/^(Authorization:\s*)?Bearer\s+/i, '').replace(/^X-API-Key:\s*/i, '');
  if (!value) throw new AuthError('Paste a token or an API key first.');
  if (/\s/.test(value)) throw new AuthError('A token or API key has no spaces: paste it alone.');
  const credential = {kind: value.startsWith('gw_') ? 'apikey' : 'jwt', value};
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
  return credential;
}

/** @returns {?{kind: 'apikey'|'jwt', value: string}} The credential of this tab, if any. */
export function savedCredential() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
  } catch {
    return null;
  }
}

/** Forget the credential (sign out). */
export function forgetCredential() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * The credential as request headers, which is also the WebSocket's connection_init payload.
 * @returns {{Authorization: string}|{'X-API-Key': string}}
 * @throws {AuthError} no credential is kept (signed out).
 */
export function authHeaders() {
  const credential = savedCredential();
  if (!credential) throw new AuthError('Sign in to see the dashboard.');
  return credential.kind === 'apikey'
    ? {'X-API-Key': credential.value}
    : {Authorization: `Bearer ${credential.value}`};
}

async function post(path, body, accept) {
  const headers = {...authHeaders(), 'Content-Type': 'application/json', Accept: accept};
  try {
    return await fetch(path, {method: 'POST', headers, body: JSON.stringify(body)});
  } catch (error) {
    throw new RequestError(`The gateway could not be reached (${error.message}).`);
  }
}

/** @returns {boolean} True when the answer says the credential was refused. */
export function isUnauthenticated(status, errors) {
  return status === 401 || errors.some((e) => e?.extensions?.code === 'UNAUTHENTICATED');
}

/** @returns {string} The errors' messages, or `fallback` when they have none. */
export function messages(errors, fallback) {
  const text = errors.map((e) => e?.message).filter(Boolean).join('; ');
  return text || fallback;
}

/**
 * Run a GraphQL operation.
 * @param {{query: string, variables: Object, operationName: string}} view
 * @returns {Promise<{data: Object, errors: Array<Object>}>} data (possibly partial: fields the
 *   caller may not read are null) and the errors that came with it.
 * @throws {AuthError} the credential was refused (expired, revoked, malformed).
 * @throws {RequestError} no data came back.
 */
export async function graphql(view) {
  const response = await post('graphql', view, GRAPHQL_ACCEPT);
  let body;
  try {
    body = await response.json();
  } catch {
    throw new RequestError(`The gateway answered HTTP ${response.status} without a GraphQL response.`);
  }
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  if (isUnauthenticated(response.status, errors)) {
    throw new AuthError(messages(errors, 'The gateway refused the credential.'));
  }
  if (!body?.data) throw new RequestError(messages(errors, `HTTP ${response.status}`));
  return {data: body.data, errors};
}

function filenameOf(disposition) {
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? '');
  return match ? decodeURIComponent(match[1]) : null;
}

async function exportError(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: report the status below
  }
  const errors = Array.isArray(body?.errors) ? body.errors : body?.error ? [body.error] : [];
  if (isUnauthenticated(response.status, errors)) {
    return new AuthError(messages(errors, 'The gateway refused the credential.'));
  }
  return new RequestError(`Download failed: ${messages(errors, body?.message ?? `HTTP ${response.status}`)}`);
}

/**
 * Export exactly the operation of the current view as a spreadsheet, and save it.
 * @param {{query: string, variables: Object, operationName: string}} view
 * @param {string} fallbackName File name when the gateway names none.
 * @returns {Promise<string>} The saved file's name.
 */
export async function downloadSpreadsheet(view, fallbackName) {
  const response = await post('export', {...view, format: 'xlsx'}, `${XLSX}, application/json;q=0.5`);
  const type = response.headers.get('Content-Type') ?? '';
  if (!response.ok || type.includes('json')) throw await exportError(response);
  const blob = await response.blob();
  const name = filenameOf(response.headers.get('Content-Disposition')) ?? fallbackName;
  const url = URL.createObjectURL(blob);
  const link = h('a', {href: url, download: name, hidden: true});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}
