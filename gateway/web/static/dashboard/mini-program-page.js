/**
 * A mini program's page, reached from its target app's list (`#/apps/<app>/mini-programs/<id>`)
 * and counted in that app only: the four performance cards whose trend is charted when
 * clicked, retention, the audience portrait (users by platform and region), and the top pages,
 * sortable by each PageOrder field.
 */

import {Answered, hiddenNote, moreNote, performanceSection} from './cards.js';
import {h, section, table} from './dom.js';
import {enumLabel, formatValue} from './format.js';
import {PAGE_COLUMNS} from './queries.js';
import {portraitSection} from './breakdowns.js';
import {retentionSection} from './retention.js';

const ARIA_SORT = {ASC: 'ascending', DESC: 'descending'};

/** A column header: a button that sorts by the column when the API can (PageOrder). */
function pageHeader(column, order, onSort) {
  if (!column.order) return h('th', {scope: 'col'}, column.label);
  const sorted = order.field === column.order;
  const arrow = sorted ? (order.direction === 'ASC' ? ' ▲' : ' ▼') : '';
  return h('th', {scope: 'col', 'aria-sort': sorted ? ARIA_SORT[order.direction] : null},
    h('button', {type: 'button', class: 'link', dataset: {order: column.order},
      onclick: () => onSort(column.order)}, column.label, h('span', {'aria-hidden': 'true'}, arrow)));
}

function pageRow(page) {
  const [path, ...numbers] = PAGE_COLUMNS;
  return h('tr', {dataset: {path: page[path.field]}},
    h('th', {scope: 'row'}, h('code', {}, page[path.field])),
    numbers.map((column) => h('td', {dataset: {field: column.field}},
      h('span', {class: 'num', dataset: {value: String(page[column.field])}},
        formatValue(column.unit, page[column.field])))));
}

function topPages(connection, order, onSort) {
  const rows = connection.nodes.map(pageRow);
  const body = rows.length
    ? table('Top pages with page views, visitors and time on page',
      PAGE_COLUMNS.map((column) => pageHeader(column, order, onSort)), rows, {class: 'pages'})
    : h('p', {class: 'empty'}, 'No page views in this range.');
  return section('top-pages', `Top pages (${connection.totalCount})`,
    h('p', {class: 'hint'}, 'Page views in the selected range; choose a column to sort by it.'),
    body, moreNote(rows.length, connection.totalCount));
}

/**
 * Render a mini program (the MiniProgramDetails answer) into `root`.
 * @param {HTMLElement} root
 * @param {Object} app data.targetApp, whose `miniProgram` is the page's.
 * @param {Set<string>} hidden Paths answered FORBIDDEN or NOT_FOUND.
 * @param {Object} filters The view's filters (`metric`, `granularity`, `cohort`, `pageOrder`).
 * @param {{back: Function, openApp: Function, selectMetric: Function, setRetention: Function,
 *   sortPages: Function}} actions
 */
export function renderMiniProgram(root, app, hidden, filters, actions) {
  const program = app.miniProgram;
  const answer = new Answered(program, hidden, 'targetApp.miniProgram');
  const parts = [
    h('nav', {'aria-label': 'Breadcrumb', class: 'crumbs'},
      h('button', {type: 'button', class: 'link', onclick: actions.back},
        app.workspace?.name ?? 'Dashboard'), ' › ',
      h('button', {type: 'button', class: 'link', onclick: () => actions.openApp(app.id)},
        app.name)),
    h('h2', {class: 'view-title', id: 'view-title'}, program.name),
    h('p', {class: 'hint', id: 'program-facts'},
      `${enumLabel(program.type)} · ${enumLabel(program.category)} · ${enumLabel(program.status)} `
      + `in ${app.name}. Every number counts this app's traffic only.`),
    performanceSection(answer, filters.metric, actions.selectMetric),
    answer.part('retention', 'Retention',
      (retention) => retentionSection(retention, filters, actions.setRetention)),
    portraitSection(answer),
    answer.part('pages', 'Top pages', (pages) => topPages(pages, filters.pageOrder, actions.sortPages)),
  ];
  parts.splice(3, 0, hiddenNote(answer.missing));
  root.replaceChildren(...parts.filter(Boolean));
}
