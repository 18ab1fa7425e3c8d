/**
 * The reference dashboard: sign-in, filters, routing between the three views, loading and
 * errors. A view is followed live (live.js: one subscription over WebSocket, the view updated
 * in place after each new snapshot); without WebSocket it is fetched by POST graphql. Sign-in
 * is POST graphql, and the Download button POST export.
 *
 * Routes: #/ is the workspace's data overview; #/apps/<id> is a target app's page;
 * #/apps/<id>/mini-programs/<id> is a mini program's page in that app (ids URI-encoded).
 */

import {AuthError, downloadSpreadsheet, forgetCredential, graphql, saveCredential,
  savedCredential} from './api.js';
import {categoriesOf, renderApp} from './app-page.js';
import {sortErrors} from './cards.js';
import {destroyCharts, pruneCharts} from './charts.js';
import {byId, h} from './dom.js';
import {slugLabel} from './format.js';
import {LiveUnavailable, closeLive, follow, liveAvailable, stopFollowing} from './live.js';
import {renderMiniProgram} from './mini-program-page.js';
import {morph} from './morph.js';
import {renderOverview} from './overview.js';
import {Access, appView, isoDay, miniProgramView, overviewView, rangeEnd} from './queries.js';

const VIEWER_QUERY = {
  operationName: 'DashboardViewer',
  query: 'query DashboardViewer {\n  viewer { subject grants { role workspaceId merchantId } readableFields }\n'
    + '  workspaces(first: 100) { nodes { id name } }\n}',
  variables: {},
};

const state = {
  access: new Access([]),
  filters: {workspace: null, range: 'LAST_7_DAYS', from: '', to: '', type: 'ALL',
    dataType: 'PRODUCTION', order: 'USER_COUNT', category: '', metric: 'activeUsers',
    granularity: 'DAY', cohort: 'NEW_USERS', pageOrder: {field: 'PAGE_VIEWS', direction: 'DESC'}},
  view: null,
  drawn: null,
  request: 0,
};

const status = (text) => { byId('status').textContent = text; };

function showError(message) {
  const box = byId('error');
  box.replaceChildren(...(message ? [h('strong', {}, 'Error: '), message] : []));
  box.hidden = !message;
}

function showSignIn(message = '') {
  destroyCharts();
  byId('dashboard').hidden = true;
  byId('who').hidden = true;
  byId('sign-in').hidden = false;
  byId('sign-in-message').textContent = message;
  showError('');
  byId('snapshot').textContent = '';
  status(message ? 'Signed out.' : '');
  byId('credential').focus();
}

/** What to tell a user whose credential the gateway refused (expired, revoked, malformed). */
function refusal(error) {
  return `The gateway refused the credential (${error.message.replace(/\.$/, '')}). Sign in again.`;
}

function signOut(message = '') {
  closeLive();
  forgetCredential();
  state.view = null;
  byId('credential').value = '';
  showSignIn(message);
}

/** "Data as of …" from the answer's snapshot (rollups refresh every 30 minutes by default;
 * a live view follows each new one, so the time is to the second). */
function showSnapshot(snapshot) {
  const time = (iso, length) => iso ? `${iso.slice(0, length).replace('T', ' ')} UTC` : null;
  const taken = time(snapshot?.takenAt, 19);
  const next = time(snapshot?.nextRefreshAt, 16);
  const line = byId('snapshot');
  line.textContent = taken
    ? `Data as of ${taken}${next ? `; next refresh ${next}` : ''}. Days are UTC days.`
    : 'No snapshot yet: the first refresh has not run.';
  line.dataset.takenAt = snapshot?.takenAt ?? '';
}

function route() {
  const match = /^#\/apps\/([^/]+)(?:\/mini-programs\/([^/]+))?$/.exec(window.location.hash);
  if (!match) return {name: 'overview'};
  const app = decodeURIComponent(match[1]);
  return match[2] ? {name: 'program', app, program: decodeURIComponent(match[2])} : {name: 'app', app};
}

function currentView() {
  const {filters, access} = state;
  const where = route();
  if (where.name === 'program') return miniProgramView(access, {...filters, ...where});
  if (where.name === 'app') return appView(access, {...filters, app: where.app});
  // The month of the MAU card is the one the range ends in.
  return overviewView(access, {...filters, month: (rangeEnd(filters) || '').slice(0, 7)});
}

/** Ask the view again, then give the focus back to the control the user changed. */
async function refreshAndFocus(selector) {
  await refresh();
  byId('view').querySelector(selector)?.focus();
}

const actions = {
  openApp: (id) => { window.location.hash = `#/apps/${encodeURIComponent(id)}`; },
  openProgram: (id) => {
    const app = encodeURIComponent(route().app);
    window.location.hash = `#/apps/${app}/mini-programs/${encodeURIComponent(id)}`;
  },
  back: () => { window.location.hash = '#/'; },
  sortApps: (order) => { state.filters.order = order; refresh(); },
  setRetention: (key, value) => {
    state.filters[key] = value;  // 'granularity' or 'cohort'
    refreshAndFocus(`#retention input[value="${value}"]`);
  },
  sortPages: (field) => {
    // The sorted column turns round; another starts A to Z (path) or largest first (numbers).
    const {pageOrder} = state.filters;
    const turned = pageOrder.direction === 'ASC' ? 'DESC' : 'ASC';
    const natural = field === 'PATH' ? 'ASC' : 'DESC';
    state.filters.pageOrder = {field, direction: pageOrder.field === field ? turned : natural};
    refreshAndFocus(`#top-pages button[data-order="${field}"]`);
  },
  selectMetric: (metric) => {
    state.filters.metric = metric;
    if (state.drawn) render(...state.drawn);  // the four series are in the answer already
    byId('view').querySelector(`[data-field="${metric}"]`)?.focus();
  },
};

function fillCategories(app) {
  const select = byId('category');
  const known = new Set([...select.options].map((o) => o.value));
  for (const key of categoriesOf(app)) {
    if (!known.has(key)) select.append(h('option', {value: key}, slugLabel(key)));
  }
}

/**
 * Draw a view's answer: anew, or (`inPlace`, a live answer of the view on screen) as a new
 * drawing that the view on screen is morphed into, keeping the nodes and charts that match.
 */
function render(where, data, hidden, inPlace = false) {
  const shown = byId('view');
  const root = inPlace ? h('div') : shown;
  if (!inPlace) destroyCharts();
  byId('category-field').hidden = where.name !== 'app';
  byId('type-field').hidden = where.name === 'program';  // one mini program: its own type
  byId('workspace-field').hidden = where.name !== 'overview' || byId('workspace').options.length < 2;
  if (where.name === 'program') {
    if (!data.targetApp) throw new Error('This target app does not exist or is not yours to see.');
    if (!data.targetApp.miniProgram) {
      throw new Error('This mini program is not in this target app, or not yours to see.');
    }
    renderMiniProgram(root, data.targetApp, hidden, state.filters, actions);
  } else if (where.name === 'app') {
    if (!data.targetApp) throw new Error('This target app does not exist or is not yours to see.');
    fillCategories(data.targetApp);
    renderApp(root, data.targetApp, hidden, state.filters, actions);
  } else {
    if (!data.workspace) throw new Error('This workspace does not exist or is not yours to see.');
    renderOverview(root, data.workspace, hidden, state.filters, actions);
  }
  if (inPlace) {
    morph(shown, root);
    pruneCharts();
  }
}

/** Draw an answer of the view `view` at `where`; `inPlace`: a live update of the view shown. */
function draw(where, view, {data, errors}, inPlace = false) {
  const {hidden, shown} = sortErrors(errors);
  state.view = view;
  state.drawn = [where, data, hidden];
  render(where, data, hidden, inPlace);
  showSnapshot(data.snapshot);
  showError([...new Set(shown.map((e) => e.message))].join('; '));
  status(`Updated: ${document.getElementById('view-title')?.textContent ?? ''}`);
}

/** The view could not be drawn: say why (a refused credential signs out). */
function fail(error) {
  if (error instanceof AuthError) return signOut(refusal(error));
  stopFollowing();
  state.view = null;
  state.drawn = null;
  destroyCharts();
  byId('view').replaceChildren();
  showError(error.message);
  status('Failed to load.');
}

/** A later live answer of request `request` (an Error when that snapshot's answer failed). */
function update(request, where, view, answer) {
  if (request !== state.request) return;
  if (answer instanceof Error) {
    showError(`${answer.message} (the numbers shown are the last answered)`);
    return;
  }
  try {
    draw(where, view, answer, true);
  } catch (error) {
    fail(error);
  }
}

/**
 * The first answer of `view`: followed live when the WebSocket works (later answers go to
 * update()), else over HTTP.
 */
async function firstAnswer(request, where, view) {
  if (liveAvailable()) {
    try {
      return await follow(view, {
        update: (answer) => update(request, where, view, answer),
        failed: (error) => {
          if (request !== state.request) return;
          if (!(error instanceof LiveUnavailable)) return fail(error);
          // The socket is gone or refused: ask over HTTP, whose answer also says whether the
          // credential still holds (401: sign in again).
          graphql(view).then((answer) => update(request, where, view, answer),
            (refused) => { if (request === state.request) fail(refused); });
        },
        paused: () => {
          if (request === state.request) status('Live updates interrupted: reconnecting…');
        },
      });
    } catch (error) {
      if (request !== state.request || !(error instanceof LiveUnavailable)) throw error;
    }
  } else {
    stopFollowing();
  }
  return graphql(view);
}

/** Ask for the current view and draw it (a newer request wins over an older one). */
async function refresh() {
  const root = byId('view');
  const where = route();
  const view = currentView();
  const request = ++state.request;
  root.setAttribute('aria-busy', 'true');
  status('Loading…');
  try {
    const answer = await firstAnswer(request, where, view);
    if (request !== state.request) return;
    draw(where, view, answer);
  } catch (error) {
    if (request !== state.request) return;
    fail(error);
  } finally {
    if (request === state.request) root.setAttribute('aria-busy', 'false');
  }
}

async function signIn() {
  status('Signing in…');
  try {
    const {data} = await graphql(VIEWER_QUERY);
    state.access = new Access(data.viewer.readableFields);
    const workspaces = data.workspaces?.nodes ?? [];
    const grant = data.viewer.grants.find((g) => g.workspaceId);
    byId('workspace').replaceChildren(...workspaces.map((w) => h('option', {value: w.id}, w.name)));
    state.filters.workspace = grant?.workspaceId ?? workspaces[0]?.id ?? null;
    byId('workspace').value = state.filters.workspace ?? '';
    const roles = data.viewer.grants.map((g) => g.role.toLowerCase().replace(/_/g, ' '));
    byId('who-name').textContent = `${data.viewer.subject} (${roles.join(', ')})`;
    byId('sign-in').hidden = true;
    byId('who').hidden = false;
    byId('dashboard').hidden = false;
    if (!state.filters.workspace && route().name === 'overview') {
      showError('This credential sees no workspace (a mini-program team role sees only its '
        + 'merchant\'s mini programs), and the dashboard shows workspace and target app analytics.');
      status('Signed in.');
      return;
    }
    await refresh();
  } catch (error) {
    if (error instanceof AuthError) return signOut(refusal(error));
    showError(error.message);
    status('Failed to sign in.');
  }
}

/** A custom range starts as the last 7 complete days; no day after today (UTC) is offered. */
function prefillCustomRange(form) {
  form.from.max = form.to.max = isoDay(0);
  if (!form.from.value) form.from.value = isoDay(7);
  if (!form.to.value) form.to.value = isoDay(1);
}

function readFilters() {
  const form = byId('filters');
  const f = state.filters;
  if (form.range.value === 'CUSTOM') prefillCustomRange(form);
  f.workspace = form.workspace.value || f.workspace;
  f.range = form.range.value;
  f.from = form.from.value;
  f.to = form.to.value;
  f.type = form.type.value;
  f.dataType = form.dataType.value;
  f.category = form.category.value;
  for (const field of form.querySelectorAll('.custom')) field.hidden = f.range !== 'CUSTOM';
  return f.range !== 'CUSTOM' || (f.from && f.to);
}

async function download() {
  if (!state.view) return showError('Nothing to download yet.');
  const button = byId('download');
  button.disabled = true;
  status('Preparing the spreadsheet…');
  try {
    const name = await downloadSpreadsheet(state.view, `${state.view.operationName}.xlsx`);
    status(`Downloaded ${name}.`);
  } catch (error) {
    if (error instanceof AuthError) return signOut(refusal(error));
    showError(error.message);
    status('Download failed.');
  } finally {
    button.disabled = false;
  }
}

function start() {
  byId('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    try {
      saveCredential(byId('credential').value);
    } catch (error) {
      byId('sign-in-message').textContent = error.message;
      return;
    }
    signIn();
  });
  byId('sign-out').addEventListener('click', () => signOut('You signed out.'));
  byId('filters').addEventListener('change', () => { if (readFilters()) refresh(); });
  byId('filters').addEventListener('submit', (event) => event.preventDefault());
  byId('download').addEventListener('click', download);
  window.addEventListener('hashchange', () => { if (savedCredential()) refresh(); });
  if (savedCredential()) signIn();
  else showSignIn();
}

start();
