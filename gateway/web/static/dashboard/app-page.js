/**
 * A target app's details page (seed "Dashboard", target app details): real-time status counts,
 * the four performance cards whose trend is charted when clicked, retention, the four
 * breakdowns and the portrait (users by platform and region) as distribution charts with share
 * and change, and the app's mini programs (each opens its page).
 */

import {breakdownSection} from './breakdowns.js';
import {Answered, hiddenNote, metricCard, metricCell, moreNote, performanceSection,
  viewButton} from './cards.js';
import {h, section, table} from './dom.js';
import {enumLabel} from './format.js';
import {BREAKDOWNS, PORTRAIT, STATUS_COUNTS} from './queries.js';
import {retentionSection} from './retention.js';

function statusCounts(counts) {
  return section('status-counts', 'Real-time mini program statistics',
    h('p', {class: 'hint'}, 'Current statuses: not affected by the time range.'),
    h('div', {class: 'cards compact'}, STATUS_COUNTS.map((status) =>
      metricCard({field: status.field, label: status.label, unit: 'count'}, {value: counts[status.field]}))));
}

function breakdowns(answer) {
  return breakdownSection(answer, [...BREAKDOWNS, ...PORTRAIT], 'breakdowns', 'Proportion breakdown');
}

function miniProgramRow(program, users, onOpen) {
  return h('tr', {dataset: {program: program.id}},
    h('th', {scope: 'row'}, program.name),
    h('td', {}, enumLabel(program.type)),
    h('td', {}, enumLabel(program.category)),
    h('td', {}, enumLabel(program.status)),
    users ? h('td', {class: 'users'}, metricCell(program.activeUsers, 'users')) : null,
    h('td', {}, viewButton(program.name, () => onOpen(program.id))));
}

function miniPrograms(connection, onOpen) {
  const users = connection.nodes.some((program) => 'activeUsers' in program);
  const headers = ['Mini program', 'Type', 'Category', 'Status in this app',
    ...(users ? ['Users'] : []), ''];
  const rows = connection.nodes.map((program) => miniProgramRow(program, users, onOpen));
  return section('mini-programs', `Mini programs (${connection.totalCount})`,
    table('Mini programs of the app with type, category, status and users', headers, rows,
      {class: 'programs'}),
    moreNote(rows.length, connection.totalCount));
}

/**
 * Render a target app (the TargetAppDetails answer) into `root`.
 * @param {HTMLElement} root
 * @param {Object} app data.targetApp
 * @param {Set<string>} hidden Paths answered FORBIDDEN or NOT_FOUND.
 * @param {Object} filters The view's filters (`metric`: the charted performance metric;
 *   `granularity`, `cohort`: retention's).
 * @param {{back: Function, selectMetric: Function, setRetention: Function,
 *   openProgram: Function}} actions
 */
export function renderApp(root, app, hidden, filters, actions) {
  const answer = new Answered(app, hidden, 'targetApp');
  const parts = [
    h('nav', {'aria-label': 'Breadcrumb', class: 'crumbs'},
      h('button', {type: 'button', class: 'link', onclick: actions.back},
        `← ${app.workspace?.name ?? 'Dashboard'}`)),
    h('h2', {class: 'view-title', id: 'view-title'}, app.name),
    answer.part('miniProgramStatusCounts', 'Mini program statistics', statusCounts),
    performanceSection(answer, filters.metric, actions.selectMetric),
    answer.part('retention', 'Retention',
      (retention) => retentionSection(retention, filters, actions.setRetention)),
    breakdowns(answer),
    answer.part('miniPrograms', 'Mini programs', (list) => miniPrograms(list, actions.openProgram)),
  ];
  parts.splice(2, 0, hiddenNote(answer.missing));
  root.replaceChildren(...parts.filter(Boolean));
}

/**
 * The category slugs known from the app's mini programs by category (for the category filter).
 * @param {Object} app data.targetApp
 * @returns {string[]}
 */
export function categoriesOf(app) {
  return (app?.miniProgramsByCategory?.items ?? []).map((item) => item.key);
}
